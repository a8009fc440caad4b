;; call_indirect-heavy dispatch loop: eight (i32, i32) -> i32 operations in a table,
;; selected by (acc ^ i) & 7.
;; run(n): acc = 1; for i in [0, n): acc = table[(acc ^ i) & 7](acc, i).
(module
  (type $op (func (param i32 i32) (result i32)))
  (table 8 funcref)
  (elem (i32.const 0) $add $sub $mul $xor $rotl $shr $andnot $mix)
  (func $add (type $op) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $op) (i32.sub (local.get 0) (local.get 1)))
  (func $mul (type $op) (i32.mul (local.get 0) (i32.or (local.get 1) (i32.const 1))))
  (func $xor (type $op) (i32.xor (local.get 0) (i32.const 0x5bd1e995)))
  (func $rotl (type $op) (i32.rotl (local.get 0) (local.get 1)))
  (func $shr (type $op) (i32.add (i32.shr_u (local.get 0) (i32.const 3)) (local.get 1)))
  (func $andnot (type $op)
    (i32.and (local.get 0) (i32.xor (local.get 1) (i32.const -1))))
  (func $mix (type $op)
    (i32.xor (i32.mul (local.get 0) (i32.const 0x01000193)) (local.get 1)))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (local.set $acc (i32.const 1))
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc
          (call_indirect (type $op)
            (local.get $acc) (local.get $i)
            (i32.and (i32.xor (local.get $acc) (local.get $i)) (i32.const 7))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.get $acc)))

;; 64-bit and multi-memory accesses: memory $a has an i64 index type, memory $b is a 32-bit
;; second memory; both are cleared first (memory.fill, one with i64 operands).
;; Iteration i: p = (8i) & 65528 (i64); a[p] += i (i64 load/store in $a);
;; q = (12i) & 65532; b[q] ^= wrap(a[p]) (i32 load/store in $b);
;; acc = acc * 31 + b[q + 1] (load8_u with an offset in $b). run(n) = acc.
(module
  (memory $a i64 1)
  (memory $b 1)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $p i64) (local $q i32) (local $w i64) (local $acc i32)
    (memory.fill $a (i64.const 0) (i32.const 0) (i64.const 65536))
    (memory.fill $b (i32.const 0) (i32.const 0) (i32.const 65536))
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p
          (i64.extend_i32_u (i32.and (i32.mul (local.get $i) (i32.const 8)) (i32.const 65528))))
        (local.set $w (i64.add (i64.load $a (local.get $p)) (i64.extend_i32_u (local.get $i))))
        (i64.store $a (local.get $p) (local.get $w))
        (local.set $q (i32.and (i32.mul (local.get $i) (i32.const 12)) (i32.const 65532)))
        (i32.store $b (local.get $q)
          (i32.xor (i32.load $b (local.get $q)) (i32.wrap_i64 (local.get $w))))
        (local.set $acc
          (i32.add (i32.mul (local.get $acc) (i32.const 31))
            (i32.load8_u $b offset=1 (local.get $q))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.get $acc)))

;; Tight integer loop: locals, i32 arithmetic and a backward branch.
;; run(n): acc = ((acc * 1103515245 + i) mod 2^32) ^ (acc >>u 13) for i in [0, n).
(module
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (local.set $acc (i32.const 1))
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc
          (i32.xor
            (i32.add (i32.mul (local.get $acc) (i32.const 1103515245)) (local.get $i))
            (i32.shr_u (local.get $acc) (i32.const 13))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.get $acc)))

;; array-sum kernel (GC arrays): run(n) allocates an i32 array of n elements, stores
;; i*3 at index i, then sums it with array.get; returns the sum (mod 2**32).
(module
  (type $arr (array (mut i32)))

  (func (export "run") (param $n i32) (result i32)
    (local $a (ref null $arr)) (local $i i32) (local $sum i32)
    (local.set $a (array.new_default $arr (local.get $n)))
    (block $done
      (loop $fill
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (array.set $arr (local.get $a) (local.get $i) (i32.mul (local.get $i) (i32.const 3)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $sum
        (br_if $done (i32.ge_u (local.get $i) (array.len (local.get $a))))
        (local.set $sum (i32.add (local.get $sum) (array.get $arr (local.get $a) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sum)))
    (local.get $sum))
)

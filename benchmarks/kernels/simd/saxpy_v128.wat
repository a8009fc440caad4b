;; y[i] = a * x[i] + y[i] over n f32 values (n a multiple of 4), x at 0, y at 32768;
;; then the sum of y. Four lanes per iteration.
(module
  (memory (export "memory") 1)
  (func (export "saxpy") (param $n i32) (param $a f32)
    (local $i i32) (local $end i32) (local $va v128)
    (local.set $va (f32x4.splat (local.get $a)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store offset=32768 (local.get $i)
          (f32x4.add (f32x4.mul (local.get $va) (v128.load (local.get $i)))
                     (v128.load offset=32768 (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $loop))))
  (func (export "sum_i32") (param $n i32) (result i32)
    (local $i i32) (local $end i32) (local $acc v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $acc (i32x4.add (local.get $acc) (v128.load (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $loop)))
    (i32.add (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
             (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc))))))

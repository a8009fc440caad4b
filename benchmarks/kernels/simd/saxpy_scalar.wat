;; The same work as saxpy_v128.wat, one f32 / i32 value per iteration.
(module
  (memory (export "memory") 1)
  (func (export "saxpy") (param $n i32) (param $a f32)
    (local $i i32) (local $end i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (f32.store offset=32768 (local.get $i)
          (f32.add (f32.mul (local.get $a) (f32.load (local.get $i)))
                   (f32.load offset=32768 (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loop))))
  (func (export "sum_i32") (param $n i32) (result i32)
    (local $i i32) (local $end i32) (local $acc i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $acc (i32.add (local.get $acc) (i32.load (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loop)))
    (local.get $acc)))

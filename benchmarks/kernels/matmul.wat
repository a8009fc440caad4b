;; f64 matrix multiply C = A * B of n x n row-major matrices in linear memory:
;; A at 0, B at 8*n*n, C at 16*n*n. A[i][j] = ((7i + 3j) mod 11) / 3, B[i][j] = ((5i + j) mod 13) / 7.
;; run(n) = sum of C's elements in row-major order (f64).
(module
  (memory 1)
  (func (export "run") (param $n i32) (result f64)
    (local $nn i32) (local $b i32) (local $c i32) (local $pages i32)
    (local $i i32) (local $j i32) (local $k i32) (local $acc f64) (local $sum f64)
    (local.set $nn (i32.mul (local.get $n) (local.get $n)))
    (local.set $b (i32.shl (local.get $nn) (i32.const 3)))
    (local.set $c (i32.shl (local.get $nn) (i32.const 4)))
    (local.set $pages
      (i32.shr_u (i32.add (i32.mul (local.get $nn) (i32.const 24)) (i32.const 65535))
                 (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $pages) (memory.size))))))
    ;; initialise A and B
    (local.set $i (i32.const 0))
    (block $init_i_done
      (loop $init_i
        (br_if $init_i_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $init_j_done
          (loop $init_j
            (br_if $init_j_done (i32.ge_u (local.get $j) (local.get $n)))
            (f64.store
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j))
                       (i32.const 3))
              (f64.div
                (f64.convert_i32_u
                  (i32.rem_u (i32.add (i32.mul (local.get $i) (i32.const 7))
                                      (i32.mul (local.get $j) (i32.const 3)))
                             (i32.const 11)))
                (f64.const 3)))
            (f64.store
              (i32.add (local.get $b)
                (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j))
                         (i32.const 3)))
              (f64.div
                (f64.convert_i32_u
                  (i32.rem_u (i32.add (i32.mul (local.get $i) (i32.const 5)) (local.get $j))
                             (i32.const 13)))
                (f64.const 7)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $init_j)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $init_i)))
    ;; C = A * B, summing C as we go
    (local.set $i (i32.const 0))
    (block $i_done
      (loop $i_loop
        (br_if $i_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $j_done
          (loop $j_loop
            (br_if $j_done (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $acc (f64.const 0))
            (local.set $k (i32.const 0))
            (block $k_done
              (loop $k_loop
                (br_if $k_done (i32.ge_u (local.get $k) (local.get $n)))
                (local.set $acc
                  (f64.add (local.get $acc)
                    (f64.mul
                      (f64.load
                        (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $k))
                                 (i32.const 3)))
                      (f64.load
                        (i32.add (local.get $b)
                          (i32.shl (i32.add (i32.mul (local.get $k) (local.get $n)) (local.get $j))
                                   (i32.const 3)))))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $k_loop)))
            (f64.store
              (i32.add (local.get $c)
                (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j))
                         (i32.const 3)))
              (local.get $acc))
            (local.set $sum (f64.add (local.get $sum) (local.get $acc)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $j_loop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $i_loop)))
    (local.get $sum)))

;; CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), table-driven, over a buffer.
;; The 256-entry table lives at 0, the buffer at 1024. The buffer is filled with the top
;; byte of an LCG (seed = seed * 1664525 + 1013904223, starting from n).
;; run(n) = CRC-32 of the n-byte buffer (equals zlib.crc32 of the same bytes).
(module
  (memory 1)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $k i32) (local $c i32) (local $seed i32) (local $pages i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $n) (i32.const 1024)))
    (local.set $pages (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $pages) (memory.size))))))
    ;; table
    (block $t_done
      (loop $t_loop
        (br_if $t_done (i32.ge_u (local.get $i) (i32.const 256)))
        (local.set $c (local.get $i))
        (local.set $k (i32.const 0))
        (block $k_done
          (loop $k_loop
            (br_if $k_done (i32.ge_u (local.get $k) (i32.const 8)))
            (local.set $c
              (if (result i32) (i32.and (local.get $c) (i32.const 1))
                (then (i32.xor (i32.const 0xEDB88320) (i32.shr_u (local.get $c) (i32.const 1))))
                (else (i32.shr_u (local.get $c) (i32.const 1)))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $k_loop)))
        (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $c))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $t_loop)))
    ;; buffer
    (local.set $seed (local.get $n))
    (local.set $i (i32.const 1024))
    (block $f_done
      (loop $f_loop
        (br_if $f_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $seed
          (i32.add (i32.mul (local.get $seed) (i32.const 1664525)) (i32.const 1013904223)))
        (i32.store8 (local.get $i) (i32.shr_u (local.get $seed) (i32.const 24)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $f_loop)))
    ;; crc
    (local.set $c (i32.const -1))
    (local.set $i (i32.const 1024))
    (block $c_done
      (loop $c_loop
        (br_if $c_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c
          (i32.xor
            (i32.load
              (i32.shl
                (i32.and (i32.xor (local.get $c) (i32.load8_u (local.get $i))) (i32.const 255))
                (i32.const 2)))
            (i32.shr_u (local.get $c) (i32.const 8))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $c_loop)))
    (i32.xor (local.get $c) (i32.const -1))))

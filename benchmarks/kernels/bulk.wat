;; Bulk memory: memory.fill and (possibly overlapping) memory.copy over one 64 KiB page.
;; Iteration i: len = 256 + (97i & 4095), dst = 7919i & 32767, src = (104729i + 12345) & 32767;
;; fill(dst, i & 255, len); copy(src -> dst + len/2, len);
;; acc = acc * 31 + mem[(31337i) & 65535].
;; run(n) = acc ^ (sum of every 1024th byte of the page, shifted left 8); memory is cleared first.
(module
  (memory 1)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $len i32) (local $dst i32) (local $src i32) (local $acc i32)
    (local $sum i32)
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 65536))
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $len
          (i32.add (i32.const 256) (i32.and (i32.mul (local.get $i) (i32.const 97)) (i32.const 4095))))
        (local.set $dst (i32.and (i32.mul (local.get $i) (i32.const 7919)) (i32.const 32767)))
        (local.set $src
          (i32.and (i32.add (i32.mul (local.get $i) (i32.const 104729)) (i32.const 12345))
                   (i32.const 32767)))
        (memory.fill (local.get $dst) (i32.and (local.get $i) (i32.const 255)) (local.get $len))
        (memory.copy
          (i32.add (local.get $dst) (i32.shr_u (local.get $len) (i32.const 1)))
          (local.get $src)
          (local.get $len))
        (local.set $acc
          (i32.add (i32.mul (local.get $acc) (i32.const 31))
            (i32.load8_u (i32.and (i32.mul (local.get $i) (i32.const 31337)) (i32.const 65535)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.set $i (i32.const 0))
    (block $s_done
      (loop $s_loop
        (br_if $s_done (i32.ge_u (local.get $i) (i32.const 65536)))
        (local.set $sum (i32.add (local.get $sum) (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1024)))
        (br $s_loop)))
    (i32.xor (local.get $acc) (i32.shl (local.get $sum) (i32.const 8)))))

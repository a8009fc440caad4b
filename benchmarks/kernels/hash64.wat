;; A 64-bit hashing chain in the manner of xxhash / blake2b's G: multiply, rotate, xor and
;; add over i64 values that mostly lie above 2**63 (the case where an unsigned-int value
;; representation leaves a JIT's machine-word fast path).
;; run(n) = the 64-bit state after n rounds, folded to i32.
(module
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $h i64) (local $x i64)
    (local.set $h (i64.const 0x27D4EB2F165667C5))
    (local.set $x (i64.extend_i32_u (local.get $n)))
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x
          (i64.add (i64.mul (local.get $x) (i64.const 0x9E3779B185EBCA87))
                   (i64.extend_i32_u (local.get $i))))
        (local.set $h
          (i64.mul (i64.rotl (i64.xor (local.get $h) (local.get $x)) (i64.const 31))
                   (i64.const 0xC2B2AE3D27D4EB4F)))
        (local.set $h (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29))))
        (local.set $h (i64.add (local.get $h) (i64.rotr (local.get $x) (i64.const 17))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (i32.wrap_i64 (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 32))))))

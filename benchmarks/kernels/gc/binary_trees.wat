;; binary-trees allocation kernel (GC structs): run(depth) builds 4 complete trees of the
;; given depth bottom-up and returns the total node count found by walking them.
;; (No reference-typed block results or ref.null of a defined type: the benchmark can also
;; run these bodies through the translator directly, before the decoder has them.)
(module
  (type $node (struct (field $left (ref null $node)) (field $right (ref null $node))))

  (func $make (param $d i32) (result (ref $node))
    (local $null (ref null $node))
    (if (i32.eqz (local.get $d))
      (then (return (struct.new $node (local.get $null) (local.get $null)))))
    (struct.new $node
      (call $make (i32.sub (local.get $d) (i32.const 1)))
      (call $make (i32.sub (local.get $d) (i32.const 1)))))

  (func $check (param $t (ref null $node)) (result i32)
    (local $l (ref null $node))
    (local.set $l (struct.get $node $left (local.get $t)))
    (if (result i32) (ref.is_null (local.get $l))
      (then (i32.const 1))
      (else
        (i32.add (i32.const 1)
          (i32.add (call $check (local.get $l))
                   (call $check (struct.get $node $right (local.get $t))))))))

  (func (export "run") (param $depth i32) (result i32)
    (local $i i32) (local $sum i32)
    (loop $next
      (local.set $sum (i32.add (local.get $sum) (call $check (call $make (local.get $depth)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 4))))
    (local.get $sum))
)

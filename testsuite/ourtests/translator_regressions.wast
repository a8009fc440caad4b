;; Shapes that once broke the translator, found by differential testing against wasmtime
;; (tests/differential). Each must behave as the specification says in every mode.

;; A loop whose end is unreachable (it ends in `br 0`), left by a branch to the enclosing
;; block: the values dead code left on the stack must not be read after the loop.
(module
  (func $g (result i32) i32.const 9)
  (func (export "call-then-loop-back") (result i32)
    (block (loop i32.const 1 br_if 1 call $g br 0 drop))
    i32.const 42)
  (func (export "div-then-loop-back") (param i32) (result i32)
    (block (loop i32.const 1 br_if 1 i32.const 1 local.get 0 i32.div_u br 0 drop))
    i32.const 42)
  (func (export "nested") (param i32) (result i32)
    (block $out
      (block
        (loop
          (br_if $out (local.get 0))
          i32.const 5
          call $g
          br 0
          drop
          drop)))
    i32.const 7)
)
(assert_return (invoke "call-then-loop-back") (i32.const 42))
(assert_return (invoke "div-then-loop-back" (i32.const 3)) (i32.const 42))
(assert_return (invoke "div-then-loop-back" (i32.const 0)) (i32.const 42))
(assert_return (invoke "nested" (i32.const 1)) (i32.const 7))

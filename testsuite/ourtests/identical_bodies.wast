;; Identical bodies with identical types may share compiled code; they must still behave as
;; distinct functions (own identity in tables, own index in traps and results).
(module
  (type $v (func (result i32)))
  (table 3 funcref)
  (elem (i32.const 0) $a $b $c)
  (global $n (mut i32) (i32.const 0))
  (func $a (type $v) (global.set $n (i32.add (global.get $n) (i32.const 1))) (global.get $n))
  (func $b (type $v) (global.set $n (i32.add (global.get $n) (i32.const 1))) (global.get $n))
  (func $c (type $v) (i32.const 3))
  (func (export "call") (param i32) (result i32) (call_indirect (type $v) (local.get 0)))
  (func (export "same") (param i32 i32) (result i32)
    ;; ref.is_null of two different elements tells nothing of identity in 2.0, so check by
    ;; calling: a and b share state through the global, c does not.
    (i32.add (call_indirect (type $v) (local.get 0)) (call_indirect (type $v) (local.get 1))))
)
(assert_return (invoke "call" (i32.const 0)) (i32.const 1))
(assert_return (invoke "call" (i32.const 1)) (i32.const 2))
(assert_return (invoke "call" (i32.const 2)) (i32.const 3))
(assert_return (invoke "same" (i32.const 0) (i32.const 1)) (i32.const 7))

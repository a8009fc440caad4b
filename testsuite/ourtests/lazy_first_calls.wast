;; First calls of functions in every way a lazily compiled function can be reached.
;; Written for this project: each path must compile the callee on first use and
;; behave exactly as in eager mode.

;; Through an export, and recursion into the function being compiled.
(module
  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "fac-again") (param i64) (result i64) (call $fac (local.get 0)))
)
(assert_return (invoke "fac" (i64.const 20)) (i64.const 2432902008176640000))
(assert_return (invoke "fac-again" (i64.const 5)) (i64.const 120))

;; Through the start function: the start function's callee is compiled during instantiation.
(module
  (global $g (mut i32) (i32.const 0))
  (func $set (param i32) (global.set $g (local.get 0)))
  (func $start (call $set (i32.const 42)))
  (start $start)
  (func (export "get") (result i32) (global.get $g))
)
(assert_return (invoke "get") (i32.const 42))

;; Through a table: call_indirect and table.get of functions never called directly.
(module
  (type $ii (func (param i32) (result i32)))
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $double $square $never)
  (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $square (type $ii) (i32.mul (local.get 0) (local.get 0)))
  (func $never (param i64) (result i64) (local.get 0))
  (func (export "dispatch") (param i32 i32) (result i32)
    (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
  (func (export "is-null") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0))))
)
(assert_return (invoke "dispatch" (i32.const 0) (i32.const 21)) (i32.const 42))
(assert_return (invoke "dispatch" (i32.const 1) (i32.const 9)) (i32.const 81))
(assert_trap (invoke "dispatch" (i32.const 2) (i32.const 9)) "indirect call type mismatch")
(assert_trap (invoke "dispatch" (i32.const 3) (i32.const 9)) "uninitialized element")
(assert_return (invoke "is-null" (i32.const 1)) (i32.const 0))
(assert_return (invoke "is-null" (i32.const 3)) (i32.const 1))

;; A trap during a first call, then the same function called again.
(module
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
)
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_return (invoke "div" (i32.const 7) (i32.const 2)) (i32.const 3))
(assert_trap (invoke "div" (i32.const 0x80000000) (i32.const -1)) "integer overflow")

;; A function compiled through one instance and called through another: $Lib's export is
;; first reached through $User's import, then directly, then through $User's table.
(module $Lib
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "twice") (param i32) (result i32) (i32.shl (local.get 0) (i32.const 1)))
)
(register "lib" $Lib)
(module $User
  (import "lib" "add" (func $add (param i32 i32) (result i32)))
  (import "lib" "twice" (func $twice (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $twice)
  (func (export "use-add") (param i32) (result i32) (call $add (local.get 0) (i32.const 1)))
  (func (export "use-twice") (param i32) (result i32)
    (call_indirect (param i32) (result i32) (local.get 0) (i32.const 0)))
)
(assert_return (invoke $User "use-add" (i32.const 41)) (i32.const 42))
(assert_return (invoke $Lib "add" (i32.const 2) (i32.const 3)) (i32.const 5))
(assert_return (invoke $User "use-twice" (i32.const 21)) (i32.const 42))
(assert_return (invoke $Lib "twice" (i32.const 4)) (i32.const 8))

;; Mutual recursion across two uncompiled functions.
(module
  (func $even (export "even") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
      (else (call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (call $even (i32.sub (local.get 0) (i32.const 1))))))
)
(assert_return (invoke "even" (i32.const 100)) (i32.const 1))
(assert_return (invoke "even" (i32.const 77)) (i32.const 0))

;; Unbounded recursion on a first call exhausts the stack; the module stays usable.
(module
  (func $runaway (export "runaway") (call $runaway))
  (func (export "ok") (result i32) (i32.const 7))
)
(assert_exhaustion (invoke "runaway") "call stack exhausted")
(assert_return (invoke "ok") (i32.const 7))
(assert_exhaustion (invoke "runaway") "call stack exhausted")

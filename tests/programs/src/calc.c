/* calc: a library module without WASI, for `lazywasm run --invoke NAME ARGS...`. */
#include <stdint.h>

__attribute__((export_name("fib"))) int32_t fib(int32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
__attribute__((export_name("mul64"))) int64_t mul64(int64_t a, int64_t b) { return a * b; }
__attribute__((export_name("half"))) double half(double x) { return x / 2; }
__attribute__((export_name("divide"))) int32_t divide(int32_t a, int32_t b) { return a / b; }
__attribute__((export_name("pair"))) void pair(void) {}

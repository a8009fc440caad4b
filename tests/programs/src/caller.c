/* caller: a library module whose imports (module "env") are host functions that read and
 * write its memory through the caller (Func(..., access_caller=True)). */
#include <stdint.h>

__attribute__((import_module("env"), import_name("sum_bytes")))
int32_t sum_bytes(const char *p, int32_t n);
__attribute__((import_module("env"), import_name("fill")))
void fill(char *p, int32_t n, int32_t value);

static const char text[] = "caller";
static char buffer[16];

__attribute__((export_name("run"))) int32_t run(void) { return sum_bytes(text, 6); }
__attribute__((export_name("fill_and_sum"))) int32_t fill_and_sum(int32_t v) {
    fill(buffer, 16, v);
    int32_t s = 0;
    for (int i = 0; i < 16; i++) s += (unsigned char)buffer[i];
    return s;
}

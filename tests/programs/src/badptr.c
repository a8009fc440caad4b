/* badptr N: makes WASI call N with a guest pointer outside memory; the engine must trap
 * (as wasmtime does) and never touch host memory or crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))
IMPORT("fd_write") int32_t raw_fd_write(int32_t fd, int32_t iovs, int32_t n, int32_t nwritten);
IMPORT("args_sizes_get") int32_t raw_args_sizes_get(int32_t a, int32_t b);
IMPORT("random_get") int32_t raw_random_get(int32_t buf, int32_t len);
IMPORT("fd_prestat_get") int32_t raw_fd_prestat_get(int32_t fd, int32_t buf);
IMPORT("path_open") int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path,
    int32_t path_len, int32_t oflags, int64_t base, int64_t inheriting, int32_t fdflags,
    int32_t fd_ptr);
IMPORT("fd_read") int32_t raw_fd_read(int32_t fd, int32_t iovs, int32_t n, int32_t nread);

int main(int argc, char **argv) {
    int which = argc > 1 ? atoi(argv[1]) : 0;
    int32_t iov[2] = {0x7ffffff0, 64}; /* a buffer past the end of memory */
    int32_t n;
    printf("call %d\n", which);
    fflush(stdout);
    switch (which) {
    case 0: return raw_fd_write(1, 0x7ffffff0, 1, (int32_t)(intptr_t)&n);
    case 1: return raw_fd_write(1, (int32_t)(intptr_t)iov, 1, (int32_t)(intptr_t)&n);
    case 2: return raw_args_sizes_get((int32_t)0xfffffff0, (int32_t)0xfffffff8);
    case 3: return raw_random_get((int32_t)0xffffff00, 0x1000);
    case 4: return raw_fd_prestat_get(3, (int32_t)0xfffffffc);
    case 5: return raw_path_open(3, 0, 0x7fffff00, 0x1000, 0, 0, 0, 0, (int32_t)(intptr_t)&n);
    case 6: return raw_fd_read(0, (int32_t)(intptr_t)iov, 1, (int32_t)(intptr_t)&n);
    }
    return 0;
}

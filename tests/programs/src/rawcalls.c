/* rawcalls: calls the WASI functions directly and prints each errno: the socket calls,
 * proc_raise, fd_renumber, fd_prestat_*, poll_oneoff on stdio and
 * clocks, and errors for bad fds. */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
__wasi_errno_t raw_proc_raise(int32_t sig);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_write")))
int32_t raw_fd_write(int32_t fd, int32_t iovs, int32_t n, int32_t nwritten);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("args_sizes_get")))
int32_t raw_args_sizes_get(int32_t a, int32_t b);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("random_get")))
int32_t raw_random_get(int32_t buf, int32_t len);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_read")))
int32_t raw_fd_read(int32_t fd, int32_t iovs, int32_t n, int32_t nread);

#define SHOW(expr) printf("%-36s %d\n", #expr, (int)(expr))

int main(void) {
    __wasi_fd_t fd;
    __wasi_size_t n;
    __wasi_iovec_t iov = {(uint8_t *)&n, 4};
    __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
    SHOW(__wasi_sock_accept(0, 0, &fd));
    SHOW(__wasi_sock_accept(99, 0, &fd));
    __wasi_roflags_t ro;
    SHOW(__wasi_sock_recv(0, &iov, 1, 0, &n, &ro));
    SHOW(__wasi_sock_send(1, &ciov, 1, 0, &n));
    SHOW(__wasi_sock_shutdown(1, __WASI_SDFLAGS_RD));
    SHOW(__wasi_sock_shutdown(99, __WASI_SDFLAGS_RD));
    SHOW(raw_proc_raise(0));
    /* preopens */
    __wasi_prestat_t pre;
    SHOW(__wasi_fd_prestat_get(3, &pre));
    printf("prestat tag %d len %d\n", pre.tag, (int)pre.u.dir.pr_name_len);
    char name[64] = {0};
    SHOW(__wasi_fd_prestat_dir_name(3, (uint8_t *)name, pre.u.dir.pr_name_len));
    printf("preopen name %s\n", name);
    SHOW(__wasi_fd_prestat_get(0, &pre));
    SHOW(__wasi_fd_prestat_get(42, &pre));
    /* renumber: open a file, move it onto another open fd */
    __wasi_fd_t a, b;
    SHOW(__wasi_path_open(3, 0, "r1.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC,
         __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK |
         __WASI_RIGHTS_FD_TELL, 0, 0, &a));
    SHOW(__wasi_path_open(3, 0, "r2.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC,
         __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_READ, 0, 0, &b));
    __wasi_filesize_t pos = 99;
    SHOW(__wasi_fd_write(a, &ciov, 1, &n));
    SHOW(__wasi_fd_tell(a, &pos));
    printf("tell %d\n", (int)pos);
    SHOW(__wasi_fd_renumber(a, b));
    SHOW(__wasi_fd_write(b, &ciov, 1, &n));
    SHOW(__wasi_fd_write(a, &ciov, 1, &n));
    SHOW(__wasi_fd_renumber(b, 77));
    SHOW(__wasi_fd_close(b));
    SHOW(__wasi_fd_close(b));
    /* poll_oneoff: a clock alone, then stdout writable together with a long clock */
    __wasi_subscription_t subs[2];
    __wasi_event_t ev[2];
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 7;
    subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[0].u.u.clock.timeout = 1000000;
    SHOW(__wasi_poll_oneoff(subs, ev, 1, &n));
    printf("events %d userdata %d type %d error %d\n", (int)n, (int)ev[0].userdata,
           ev[0].type, ev[0].error);
    subs[0].u.u.clock.timeout = 5000000000ULL;
    subs[1].userdata = 8;
    subs[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
    subs[1].u.u.fd_write.file_descriptor = 1;
    SHOW(__wasi_poll_oneoff(subs, ev, 2, &n));
    printf("events %d userdata %d type %d\n", (int)n, (int)ev[0].userdata, ev[0].type);
    subs[1].u.u.fd_write.file_descriptor = 99;
    SHOW(__wasi_poll_oneoff(subs, ev, 2, &n));
    printf("events %d userdata %d error %d\n", (int)n, (int)ev[0].userdata, ev[0].error);
    SHOW(__wasi_poll_oneoff(subs, ev, 0, &n));
    SHOW(__wasi_fd_seek(42, 0, __WASI_WHENCE_SET, (__wasi_filesize_t *)&n));
    SHOW(__wasi_fd_readdir(0, (uint8_t *)name, sizeof name, 0, &n));
    SHOW(__wasi_path_open(0, 0, "x", 0, 0, 0, 0, &fd));
    return 0;
}

/* rights: fd_fdstat_set_rights drops rights for good, and every call checks them
 * (wasmtime no longer implements rights, so this runs under this engine only). */
#include <stdio.h>
#include <wasi/api.h>

#define SHOW(expr) printf("%-28s %d\n", #expr, (int)(expr))

int main(void) {
    __wasi_fd_t f, d;
    __wasi_size_t n;
    __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
    __wasi_filesize_t pos;
    __wasi_fdstat_t st;
    SHOW(__wasi_path_open(3, 0, "f.txt", __WASI_OFLAGS_CREAT,
         __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL, 0, 0, &f));
    SHOW(__wasi_fd_write(f, &ciov, 1, &n));
    SHOW(__wasi_fd_read(f, (__wasi_iovec_t *)&ciov, 1, &n));
    SHOW(__wasi_fd_fdstat_set_rights(f, __WASI_RIGHTS_FD_TELL, 0));
    SHOW(__wasi_fd_write(f, &ciov, 1, &n));
    SHOW(__wasi_fd_seek(f, 0, __WASI_WHENCE_SET, &pos));
    SHOW(__wasi_fd_tell(f, &pos));
    SHOW(__wasi_fd_fdstat_set_rights(f, __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_WRITE, 0));
    SHOW(__wasi_fd_fdstat_get(f, &st));
    printf("rights %llx\n", (unsigned long long)st.fs_rights_base);
    /* a directory fd that may open files but not create them */
    SHOW(__wasi_path_open(3, 0, ".", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_PATH_OPEN |
         __WASI_RIGHTS_FD_READDIR, __WASI_RIGHTS_FD_READ, 0, &d));
    SHOW(__wasi_path_open(d, 0, "g.txt", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_READ, 0, 0, &f));
    SHOW(__wasi_path_open(d, 0, "f.txt", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE,
         0, 0, &f));
    SHOW(__wasi_fd_fdstat_get(f, &st));
    printf("rights %llx\n", (unsigned long long)st.fs_rights_base);
    SHOW(__wasi_fd_write(f, &ciov, 1, &n));
    SHOW(__wasi_path_create_directory(d, "sub"));
    SHOW(__wasi_path_unlink_file(d, "f.txt"));
    return 0;
}

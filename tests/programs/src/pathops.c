/* pathops DIR: exercises the path_* calls and the fd_* metadata calls inside DIR
 * (path_create_directory, path_open, path_rename, path_link, path_symlink, path_readlink,
 * path_unlink_file, path_remove_directory, path_filestat_get/set_times, fd_pread/pwrite,
 * fd_filestat_set_size/set_times, fd_sync/datasync, fd_advise, fd_allocate,
 * fd_fdstat_get/set_flags). Prints one line per step; leaves a known tree behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static char path[512];
static const char *P(const char *dir, const char *name) {
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void report(const char *what, int rc) {
    if (rc == 0) printf("%s: ok\n", what);
    else printf("%s: error %s\n", what, strerror(errno));
}

int main(int argc, char **argv) {
    const char *d = argc > 1 ? argv[1] : ".";
    char a[512], b[512];
    report("mkdir sub", mkdir(P(d, "sub"), 0755));
    report("mkdir sub again", mkdir(P(d, "sub"), 0755));
    int fd = open(P(d, "sub/file.txt"), O_CREAT | O_RDWR | O_TRUNC, 0644);
    report("open create", fd < 0 ? -1 : 0);
    report("write", write(fd, "hello world\n", 12) == 12 ? 0 : -1);
    report("pwrite", pwrite(fd, "HELLO", 5, 0) == 5 ? 0 : -1);
    char buf[32] = {0};
    report("pread", pread(fd, buf, 11, 0) == 11 ? 0 : -1);
    printf("pread got: %s\n", buf);
    report("fsync", fsync(fd));
    report("fdatasync", fdatasync(fd));
    report("fadvise", posix_fadvise(fd, 0, 12, POSIX_FADV_SEQUENTIAL) == 0 ? 0 : -1);
    report("fallocate", posix_fallocate(fd, 0, 100) == 0 ? 0 : -1);
    struct stat st;
    fstat(fd, &st);
    printf("size after fallocate: %lld\n", (long long)st.st_size);
    report("ftruncate", ftruncate(fd, 12));
    fstat(fd, &st);
    printf("size after ftruncate: %lld\n", (long long)st.st_size);
    struct timespec times[2] = {{1000000, 0}, {2000000, 500}};
    report("futimens", futimens(fd, times));
    fstat(fd, &st);
    printf("mtime: %lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    int fl = fcntl(fd, F_GETFL);
    printf("append before: %d\n", (fl & O_APPEND) != 0);
    report("set append", fcntl(fd, F_SETFL, fl | O_APPEND));
    printf("append after: %d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    write(fd, "tail\n", 5);
    close(fd);
    report("read closed fd", read(fd, buf, 1) < 0 && errno == EBADF ? 0 : -1);

    strcpy(a, P(d, "sub/file.txt"));
    strcpy(b, P(d, "sub/renamed.txt"));
    report("rename", rename(a, b));
    report("stat old name", stat(a, &st));
    strcpy(a, P(d, "sub/hard.txt"));
    report("link", link(b, a));
    stat(a, &st);
    printf("nlink: %ld size: %lld\n", (long)st.st_nlink, (long long)st.st_size);
    report("symlink", symlink("renamed.txt", P(d, "sub/soft")));
    char target[64] = {0};
    ssize_t n = readlink(P(d, "sub/soft"), target, sizeof target - 1);
    printf("readlink: %zd %s\n", n, n > 0 ? target : "");
    n = readlink(P(d, "sub/soft"), target, 3);
    printf("readlink truncated: %zd\n", n);
    report("lstat link", lstat(P(d, "sub/soft"), &st));
    printf("lstat is link: %d\n", S_ISLNK(st.st_mode));
    report("stat through link", stat(P(d, "sub/soft"), &st));
    printf("stat size: %lld\n", (long long)st.st_size);
    report("readlink on file", readlink(b, target, sizeof target) < 0 ? -1 : 0);
    struct timeval tv[2] = {{3000000, 0}, {4000000, 0}};
    report("utimes", utimes(P(d, "sub/hard.txt"), tv));
    stat(P(d, "sub/renamed.txt"), &st);
    printf("mtime via other link: %lld\n", (long long)st.st_mtim.tv_sec);
    report("rmdir non-empty", rmdir(P(d, "sub")));
    report("unlink hard", unlink(P(d, "sub/hard.txt")));
    report("unlink dir", unlink(P(d, "sub")));
    report("mkdir nested", mkdir(P(d, "sub/inner"), 0755));
    report("rmdir nested", rmdir(P(d, "sub/inner")));
    report("rmdir missing", rmdir(P(d, "sub/inner")));
    report("open missing", open(P(d, "nope/x"), O_RDONLY) < 0 ? -1 : 0);
    report("open excl existing", open(P(d, "sub/renamed.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644) < 0 ? -1 : 0);
    report("open dir as file for writing", open(P(d, "sub"), O_WRONLY) < 0 ? -1 : 0);
    report("open file as dir", open(P(d, "sub/renamed.txt"), O_RDONLY | O_DIRECTORY) < 0 ? -1 : 0);
    fd = open(P(d, "sub/renamed.txt"), O_RDONLY);
    report("write to read-only fd", write(fd, "x", 1) < 0 ? -1 : 0);
    report("lseek end", lseek(fd, 0, SEEK_END) == 17 ? 0 : -1);
    close(fd);
    FILE *f = fopen(P(d, "sub/renamed.txt"), "r");
    char line[64];
    while (fgets(line, sizeof line, f)) printf("content: %s", line);
    fclose(f);
    return 0;
}

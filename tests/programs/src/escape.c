/* escape: tries to leave the preopened directory "/sandbox" in every way the WASI calls
 * allow; prints "blocked" or "ESCAPED" per attempt (the host side checks the effects too).
 * The sandbox holds inside.txt; the host puts secret.txt next to the sandbox. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static int escapes = 0;

static void check(const char *what, int escaped) {
    printf("%-40s %s\n", what, escaped ? "ESCAPED" : "blocked");
    escapes += escaped;
}

static int opens(const char *p) {
    int fd = open(p, O_RDONLY);
    if (fd >= 0) { close(fd); return 1; }
    return 0;
}

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

int main(void) {
    check("open ../secret.txt", opens("/sandbox/../secret.txt"));
    check("open sub/../../secret.txt", opens("/sandbox/sub/../../secret.txt"));
    check("stat ../secret.txt", exists("/sandbox/../secret.txt"));
    check("open /etc/passwd", opens("/etc/passwd"));
    /* raw calls relative to the preopen fd 3, where libc does not normalise paths first */
    __wasi_fd_t fd;
    check("raw open ../secret.txt", __wasi_path_open(3, 0, "../secret.txt", 0,
          __WASI_RIGHTS_FD_READ, 0, 0, &fd) == 0);
    check("raw open sub/../../secret.txt", __wasi_path_open(3, 0, "sub/../../secret.txt", 0,
          __WASI_RIGHTS_FD_READ, 0, 0, &fd) == 0);
    check("raw open /etc/passwd", __wasi_path_open(3, 0, "/etc/passwd", 0,
          __WASI_RIGHTS_FD_READ, 0, 0, &fd) == 0);
    check("raw open ..", __wasi_path_open(3, 0, "..", __WASI_OFLAGS_DIRECTORY,
          __WASI_RIGHTS_FD_READDIR, 0, 0, &fd) == 0);
    /* symlinks made by the program */
    symlink("..", "/sandbox/up");
    symlink("/etc", "/sandbox/etc");
    symlink("../secret.txt", "/sandbox/sec");
    symlink("sub/../..", "/sandbox/up2");
    symlink("loop", "/sandbox/loop");
    check("open up/secret.txt", opens("/sandbox/up/secret.txt"));
    check("open sec (link to ../secret.txt)", opens("/sandbox/sec"));
    check("stat sec (follows)", exists("/sandbox/sec"));
    check("open up2/secret.txt", opens("/sandbox/up2/secret.txt"));
    check("raw open up/secret.txt follow", __wasi_path_open(3, 1, "up/secret.txt", 0,
          __WASI_RIGHTS_FD_READ, 0, 0, &fd) == 0);
    check("raw open sec follow", __wasi_path_open(3, 1, "sec", 0,
          __WASI_RIGHTS_FD_READ, 0, 0, &fd) == 0);
    check("raw open etc/passwd follow", __wasi_path_open(3, 1, "etc/passwd", 0,
          __WASI_RIGHTS_FD_READ, 0, 0, &fd) == 0);
    check("raw open loop", __wasi_path_open(3, 1, "loop", 0,
          __WASI_RIGHTS_FD_READ, 0, 0, &fd) == 0);
    check("opendir up", opendir("/sandbox/up") != NULL);
    /* writes outside */
    check("create ../created.txt", open("/sandbox/../created.txt", O_CREAT | O_WRONLY, 0644) >= 0);
    check("create up/created.txt", open("/sandbox/up/created.txt", O_CREAT | O_WRONLY, 0644) >= 0);
    check("mkdir up/newdir", mkdir("/sandbox/up/newdir", 0755) == 0);
    check("raw mkdir ../newdir", __wasi_path_create_directory(3, "../newdir") == 0);
    check("rename inside.txt -> ../moved", __wasi_path_rename(3, "inside.txt", 3, "../moved") == 0);
    check("rename inside.txt -> up/moved", __wasi_path_rename(3, "inside.txt", 3, "up/moved") == 0);
    check("link ../secret.txt -> stolen", __wasi_path_link(3, 0, "../secret.txt", 3, "stolen") == 0);
    check("link sec -> stolen2 (follow)", __wasi_path_link(3, 1, "sec", 3, "stolen2") == 0);
    check("unlink ../secret.txt", __wasi_path_unlink_file(3, "../secret.txt") == 0);
    check("unlink up/secret.txt", __wasi_path_unlink_file(3, "up/secret.txt") == 0);
    check("symlink then write through it", (symlink("../secret.txt", "/sandbox/w") == 0 &&
          open("/sandbox/w", O_WRONLY | O_TRUNC) >= 0));
    check("readlink ../x", __wasi_path_readlink(3, "../x", (uint8_t *)"", 0, (size_t *)&fd) == 0);
    check("stat sandbox contents still there", !exists("/sandbox/inside.txt"));
    printf("escapes: %d\n", escapes);
    return escapes;
}

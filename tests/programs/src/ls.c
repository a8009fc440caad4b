/* ls DIR...: lists directories recursively, sorted (fd_readdir, path_filestat_get with and
 * without following links, path_readlink, fd_prestat_get/dir_name via the preopen lookup). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d) { printf("%*s%s: cannot open\n", depth * 2, "", dir); return; }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (lstat(path, &st) != 0) { printf("%*s%s ?\n", depth * 2, "", names[i]); continue; }
        if (S_ISLNK(st.st_mode)) {
            char target[256];
            ssize_t len = readlink(path, target, sizeof target - 1);
            target[len < 0 ? 0 : len] = 0;
            printf("%*s%s -> %s\n", depth * 2, "", names[i], target);
        } else if (S_ISDIR(st.st_mode)) {
            printf("%*s%s/\n", depth * 2, "", names[i]);
            list(path, depth + 1);
        } else {
            printf("%*s%s %lld\n", depth * 2, "", names[i], (long long)st.st_size);
        }
        free(names[i]);
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        printf("%s:\n", argv[i]);
        list(argv[i], 1);
    }
    return 0;
}

/* copy SRC DST: copies a file inside the preopened directories with stdio (path_open with
 * create/trunc, fd_read, fd_write, fd_seek, fd_tell, fd_close, fd_filestat_get). */
#include <stdio.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: copy SRC DST\n"); return 2; }
    FILE *in = fopen(argv[1], "rb");
    if (!in) { perror(argv[1]); return 1; }
    FILE *out = fopen(argv[2], "wb");
    if (!out) { perror(argv[2]); return 1; }
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    fseek(in, 0, SEEK_SET);
    char buf[4096];
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        fwrite(buf, 1, n, out);
        total += n;
    }
    fclose(in);
    if (fclose(out) != 0) { perror("close"); return 1; }
    struct stat st;
    if (stat(argv[2], &st) != 0) { perror("stat"); return 1; }
    printf("copied %zu bytes (source %ld, copy %lld)\n", total, size, (long long)st.st_size);
    return total == (size_t)st.st_size ? 0 : 1;
}

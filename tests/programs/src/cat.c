/* cat: copies stdin to stdout in upper case (fd_read on stdin, fd_write), counts bytes. */
#include <ctype.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
    char buf[64];
    long total = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) buf[i] = (char)toupper((unsigned char)buf[i]);
        write(1, buf, (size_t)n);
        total += n;
    }
    fprintf(stderr, "%ld bytes\n", total);
    return n < 0 ? 1 : 0;
}

/* hello: fd_write to stdout and stderr, args_sizes_get; exits 0. */
#include <stdio.h>

int main(void) {
    printf("hello, world\n");
    fprintf(stderr, "hello, stderr\n");
    return 0;
}

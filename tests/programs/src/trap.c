/* trap: prints a line, then traps (unreachable) three calls deep, for the CLI's backtrace. */
#include <stdio.h>

__attribute__((noinline)) static void innermost(int x) {
    if (x > 0) __builtin_trap();
}
__attribute__((noinline)) static void middle(int x) { innermost(x + 1); }
__attribute__((noinline)) void outer_function(int x) { middle(x * 2); }

int main(int argc, char **argv) {
    printf("about to trap\n");
    fflush(stdout);
    outer_function(argc);
    return 0;
}

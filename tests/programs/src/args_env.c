/* args_env: prints its arguments and environment (args_get, environ_get and their sizes),
 * then exits with the status given by --exit=N (proc_exit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
    int status = 0;
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) {
        printf("argv[%d]=%s\n", i, argv[i]);
        if (strncmp(argv[i], "--exit=", 7) == 0) status = atoi(argv[i] + 7);
    }
    for (char **e = environ; *e; e++) printf("env %s\n", *e);
    const char *greeting = getenv("GREETING");
    printf("GREETING=%s\n", greeting ? greeting : "(unset)");
    fflush(stdout);
    if (status) exit(status);
    return 0;
}

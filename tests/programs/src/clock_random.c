/* clock_random: clock_time_get and clock_res_get on every clock, poll_oneoff through
 * nanosleep (relative and absolute), random_get, sched_yield. Prints only checks, so the
 * output is the same on every run. */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <wasi/api.h>

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
    clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                       CLOCK_THREAD_CPUTIME_ID};
    const char *names[] = {"realtime", "monotonic", "process", "thread"};
    for (int i = 0; i < 4; i++) {
        struct timespec t, r;
        int a = clock_gettime(ids[i], &t), b = clock_getres(ids[i], &r);
        printf("%s: gettime %s, res %s\n", names[i], a == 0 ? "ok" : "fail",
               b == 0 && ns(r) > 0 ? "ok" : "fail");
    }
    struct timespec t0, t1, req = {0, 20 * 1000000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nanosleep(&req, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("slept >= 20ms: %s\n", ns(t1) - ns(t0) >= 20000000 ? "yes" : "no");
    struct timespec abs;
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_nsec += 10 * 1000000;
    if (abs.tv_nsec >= 1000000000) { abs.tv_sec++; abs.tv_nsec -= 1000000000; }
    int rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL);
    struct timespec after;
    clock_gettime(CLOCK_REALTIME, &after);
    printf("absolute sleep: %s\n", rc == 0 && ns(after) >= ns(abs) ? "ok" : "fail");
    unsigned char buf[64], buf2[64];
    memset(buf, 0, sizeof buf);
    memset(buf2, 0, sizeof buf2);
    getentropy(buf, sizeof buf);
    getentropy(buf2, sizeof buf2);
    int zeros = 0;
    for (int i = 0; i < 64; i++) zeros += buf[i] == 0;
    printf("random: %s\n", memcmp(buf, buf2, sizeof buf) != 0 && zeros < 16 ? "ok" : "fail");
    printf("sched_yield: %d\n", sched_yield());
    return 0;
}

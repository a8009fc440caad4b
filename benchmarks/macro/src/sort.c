/* sort: quicksort and heap sort of 128 LCG integers, n times (unit: one round).
 * Quicksort is median-of-three with an explicit stack and insertion sort for
 * short ranges; heap sort sorts a second copy; both results are checked equal
 * and sorted. Returns an i32 checksum (-1 if a sort is wrong). */
#include "common.h"

#define LEN 128
static i32 a[LEN];
static i32 b[LEN];

static void insertion(i32 *v, i32 lo, i32 hi) {
    for (i32 i = lo + 1; i <= hi; i++) {
        i32 x = v[i], j = i - 1;
        while (j >= lo && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

static inline void swap(i32 *v, i32 i, i32 j) {
    i32 t = v[i];
    v[i] = v[j];
    v[j] = t;
}

static void quicksort(i32 *v, i32 len) {
    i32 stack[64];
    i32 sp = 0;
    stack[sp++] = 0;
    stack[sp++] = len - 1;
    while (sp) {
        i32 hi = stack[--sp], lo = stack[--sp];
        while (hi - lo > 12) {
            i32 mid = lo + (hi - lo) / 2;
            if (v[mid] < v[lo]) swap(v, mid, lo);
            if (v[hi] < v[lo]) swap(v, hi, lo);
            if (v[hi] < v[mid]) swap(v, hi, mid);
            i32 pivot = v[mid], i = lo, j = hi;
            while (i <= j) {
                while (v[i] < pivot) i++;
                while (v[j] > pivot) j--;
                if (i <= j) swap(v, i++, j--);
            }
            /* recurse into the smaller side later, loop on the larger one */
            if (j - lo < hi - i) {
                stack[sp++] = i;
                stack[sp++] = hi;
                hi = j;
            } else {
                stack[sp++] = lo;
                stack[sp++] = j;
                lo = i;
            }
        }
        insertion(v, lo, hi);
    }
}

static void sift_down(i32 *v, i32 root, i32 end) {
    while (2 * root + 1 < end) {
        i32 child = 2 * root + 1;
        if (child + 1 < end && v[child] < v[child + 1]) child++;
        if (v[root] >= v[child]) return;
        swap(v, root, child);
        root = child;
    }
}

static void heapsort(i32 *v, i32 len) {
    for (i32 i = len / 2 - 1; i >= 0; i--) sift_down(v, i, len);
    for (i32 end = len - 1; end > 0; end--) {
        swap(v, 0, end);
        sift_down(v, 0, end);
    }
}

EXPORT(run) i32 run(i32 n) {
    u32 acc = 0;
    lcg_seed(42);
    for (i32 r = 0; r < n; r++) {
        for (i32 i = 0; i < LEN; i++) {
            a[i] = (i32)(lcg_next() >> 8) - (1 << 23);
            b[i] = a[i];
        }
        quicksort(a, LEN);
        heapsort(b, LEN);
        for (i32 i = 0; i < LEN; i++) {
            if (a[i] != b[i] || (i && a[i - 1] > a[i])) return -1;
            acc += (u32)a[i] * (u32)(i + 1);
        }
        acc = rotl32(acc, 3);
    }
    return (i32)acc;
}

/* Shared helpers for the freestanding macro benchmarks (no libc, no imports).
 *
 * Each program is one translation unit that includes this header and exports
 * run(n) -> checksum. clang may lower loops and struct copies to calls to
 * memcpy/memset/memmove, so the three are defined here; LLVM does not turn the
 * loop inside a function named memset/memcpy back into a call to itself. */
#ifndef MACRO_COMMON_H
#define MACRO_COMMON_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef int i32;
typedef unsigned long long u64;
typedef long long i64;
typedef __SIZE_TYPE__ size_t;

#define EXPORT(name) __attribute__((export_name(#name)))

void *memcpy(void *dst, const void *src, size_t n) {
    u8 *d = (u8 *)dst;
    const u8 *s = (const u8 *)src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    u8 *d = (u8 *)dst;
    const u8 *s = (const u8 *)src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    u8 *d = (u8 *)dst;
    while (n--) *d++ = (u8)c;
    return dst;
}

/* A 32-bit linear congruential generator (Numerical Recipes constants). */
static u32 lcg_state;

static inline void lcg_seed(u32 s) { lcg_state = s; }

static inline u32 lcg_next(void) {
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state;
}

static inline u64 rotl64(u64 x, int r) { return (x << r) | (x >> (64 - r)); }
static inline u32 rotl32(u32 x, int r) { return (x << r) | (x >> (32 - r)); }

/* Fold a 64-bit value into a running 64-bit checksum. */
static inline u64 mix64(u64 acc, u64 v) {
    acc ^= v + 0x9E3779B97F4A7C15ULL + (acc << 6) + (acc >> 2);
    return acc;
}

#endif

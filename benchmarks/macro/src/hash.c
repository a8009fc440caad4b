/* hash: 64-bit hashing of a 1 KiB buffer, n times (the unit of work is one pass over the block).
 * Two hashes per pass: an xxhash64-style stripe hash (multiply/rotate/add chains
 * over four accumulators) and a SipHash-2-4-style keyed hash (add/rotate/xor
 * rounds). Each pass mutates the buffer from the previous hashes, so no pass
 * can be skipped. Returns an i64 checksum. */
#include "common.h"

#define BUF 1024
static u8 buf[BUF];

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline u64 read64(const u8 *p) {
    u64 v;
    __builtin_memcpy(&v, p, 8);
    return v;
}

static inline u64 xround(u64 acc, u64 in) {
    acc += in * P2;
    acc = rotl64(acc, 31);
    return acc * P1;
}

static inline u64 xmerge(u64 acc, u64 val) {
    acc ^= xround(0, val);
    return acc * P1 + P4;
}

static u64 stripe_hash(const u8 *p, u32 len, u64 seed) {
    const u8 *end = p + len;
    u64 v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
    while (p + 32 <= end) {
        v1 = xround(v1, read64(p));
        v2 = xround(v2, read64(p + 8));
        v3 = xround(v3, read64(p + 16));
        v4 = xround(v4, read64(p + 24));
        p += 32;
    }
    u64 h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
    h = xmerge(h, v1);
    h = xmerge(h, v2);
    h = xmerge(h, v3);
    h = xmerge(h, v4);
    h += len;
    while (p + 8 <= end) {
        h ^= xround(0, read64(p));
        h = rotl64(h, 27) * P1 + P4;
        p += 8;
    }
    while (p < end) {
        h ^= (*p++) * P5;
        h = rotl64(h, 11) * P1;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

#define SIPROUND                                                    \
    do {                                                            \
        v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32); \
        v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                    \
        v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                    \
        v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32); \
    } while (0)

static u64 sip_hash(const u8 *p, u32 len, u64 k0, u64 k1) {
    u64 v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    u64 v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    u32 i;
    for (i = 0; i + 8 <= len; i += 8) {
        u64 m = read64(p + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    u64 last = (u64)len << 56;
    for (u32 j = 0; i + j < len; j++) last |= (u64)p[i + j] << (8 * j);
    v3 ^= last;
    SIPROUND;
    SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

EXPORT(run) i64 run(i32 n) {
    lcg_seed(12345);
    for (u32 i = 0; i < BUF; i++) buf[i] = (u8)(lcg_next() >> 24);
    u64 acc = 0, seed = 1;
    for (i32 k = 0; k < n; k++) {
        u64 a = stripe_hash(buf, BUF - (k & 7), seed);
        u64 b = sip_hash(buf, BUF - (k & 3), a, seed);
        acc = mix64(acc, a);
        acc = mix64(acc, b);
        seed = a ^ b;
        /* perturb a few bytes so every pass hashes new data */
        u32 at = (u32)(seed % (BUF - 8));
        buf[at] ^= (u8)seed;
        buf[(at * 7) % BUF] += (u8)(seed >> 8);
    }
    return (i64)acc;
}

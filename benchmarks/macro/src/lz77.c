/* lz77: compress and decompress 1 KiB of pseudo-text, n times (unit: one round).
 * Greedy LZ77 with a 3-byte hash head table and a chain of previous positions
 * (depth 4), a byte-oriented token format (literal runs and length/distance
 * matches), a decompressor, and a check that the round trip is exact. Each round
 * generates new text from the LCG. Returns an i32 checksum (-1 on a mismatch). */
#include "common.h"

#define N 1024
#define HBITS 10
#define HSIZE (1 << HBITS)
#define WINDOW 1024
#define MIN_MATCH 3
#define MAX_MATCH 130
#define MAX_LIT 128
#define DEPTH 4

static u8 text[N];
static u8 packed[N + N / MAX_LIT + 16];
static u8 unpacked[N];
static i32 head[HSIZE];
static i32 prev[N];

static const char *const words[16] = {
    "the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dog ",
    "and ", "then ", "runs ", "far ", "away ", "from ", "it, ", "again. ",
};

static void make_text(u32 seed) {
    lcg_seed(seed);
    u32 i = 0;
    while (i < N) {
        u32 r = lcg_next();
        const char *w = words[(r >> 16) & 15];
        if ((r & 0xff) < 12) {          /* a little noise */
            text[i++] = (u8)('A' + ((r >> 8) % 26));
            continue;
        }
        while (*w && i < N) text[i++] = (u8)*w++;
    }
}

static inline u32 hash3(const u8 *p) {
    u32 v = (u32)p[0] | ((u32)p[1] << 8) | ((u32)p[2] << 16);
    return (v * 2654435761u) >> (32 - HBITS);
}

static u32 flush_literals(u8 *out, u32 o, const u8 *lit, u32 count) {
    while (count) {
        u32 c = count > MAX_LIT ? MAX_LIT : count;
        out[o++] = (u8)(c - 1);          /* 0..127: literal run */
        for (u32 j = 0; j < c; j++) out[o++] = lit[j];
        lit += c;
        count -= c;
    }
    return o;
}

static u32 compress(void) {
    for (u32 i = 0; i < HSIZE; i++) head[i] = -1;
    u32 o = 0, i = 0, lit_start = 0;
    while (i + MIN_MATCH <= N) {
        u32 h = hash3(text + i);
        i32 cand = head[h];
        u32 best_len = 0, best_dist = 0;
        for (u32 d = 0; cand >= 0 && d < DEPTH; d++) {
            u32 dist = i - (u32)cand;
            if (dist > WINDOW) break;
            u32 len = 0;
            while (len < MAX_MATCH && i + len < N && text[cand + len] == text[i + len]) len++;
            if (len > best_len) {
                best_len = len;
                best_dist = dist;
            }
            cand = prev[cand];
        }
        prev[i] = head[h];
        head[h] = (i32)i;
        if (best_len >= MIN_MATCH) {
            o = flush_literals(packed, o, text + lit_start, i - lit_start);
            packed[o++] = (u8)(0x80 | (best_len - MIN_MATCH));   /* match token */
            packed[o++] = (u8)(best_dist - 1);
            packed[o++] = (u8)((best_dist - 1) >> 8);
            for (u32 k = 1; k < best_len && i + k + MIN_MATCH <= N; k++) {
                u32 h2 = hash3(text + i + k);
                prev[i + k] = head[h2];
                head[h2] = (i32)(i + k);
            }
            i += best_len;
            lit_start = i;
        } else {
            i++;
        }
    }
    return flush_literals(packed, o, text + lit_start, N - lit_start);
}

static u32 decompress(u32 size) {
    u32 i = 0, o = 0;
    while (i < size) {
        u32 t = packed[i++];
        if (t & 0x80) {
            u32 len = (t & 0x7f) + MIN_MATCH;
            u32 dist = (u32)packed[i] + ((u32)packed[i + 1] << 8) + 1;
            i += 2;
            for (u32 k = 0; k < len; k++, o++) unpacked[o] = unpacked[o - dist];
        } else {
            u32 c = t + 1;
            for (u32 k = 0; k < c; k++) unpacked[o++] = packed[i++];
        }
    }
    return o;
}

EXPORT(run) i32 run(i32 n) {
    u32 acc = 0;
    for (i32 r = 0; r < n; r++) {
        make_text(1000u + (u32)r);
        u32 size = compress();
        if (decompress(size) != N) return -1;
        for (u32 k = 0; k < N; k++)
            if (unpacked[k] != text[k]) return -1;
        u32 h = 2166136261u;                    /* FNV-1a of the compressed stream */
        for (u32 k = 0; k < size; k++) h = (h ^ packed[k]) * 16777619u;
        acc = rotl32(acc, 5) ^ h ^ size;
    }
    return (i32)acc;
}

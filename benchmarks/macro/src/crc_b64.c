/* crc_b64: CRC-32 (reflected, polynomial 0xEDB88320, table built per call) and
 * base64 encode/decode of 384 LCG bytes, n times (unit: one round). Each round
 * checks the decoded bytes equal the input. Returns an i32 checksum (-1 on a
 * round-trip mismatch). */
#include "common.h"

#define LEN 384
static u32 crc_table[256];
static u8 raw[LEN];
static u8 enc[LEN / 3 * 4];
static u8 dec[LEN];
static u8 rev[256];

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void make_tables(void) {
    for (u32 i = 0; i < 256; i++) {
        u32 c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    for (u32 i = 0; i < 256; i++) rev[i] = 0xff;
    for (u32 i = 0; i < 64; i++) rev[(u8)b64[i]] = (u8)i;
}

static u32 crc32(const u8 *p, u32 len) {
    u32 c = 0xffffffffu;
    for (u32 i = 0; i < len; i++) c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static u32 encode(void) {
    u32 o = 0;
    for (u32 i = 0; i < LEN; i += 3) {
        u32 v = ((u32)raw[i] << 16) | ((u32)raw[i + 1] << 8) | raw[i + 2];
        enc[o++] = (u8)b64[v >> 18];
        enc[o++] = (u8)b64[(v >> 12) & 63];
        enc[o++] = (u8)b64[(v >> 6) & 63];
        enc[o++] = (u8)b64[v & 63];
    }
    return o;
}

static int decode(u32 len) {
    u32 o = 0;
    for (u32 i = 0; i < len; i += 4) {
        u32 a = rev[enc[i]], b = rev[enc[i + 1]], c = rev[enc[i + 2]], d = rev[enc[i + 3]];
        if ((a | b | c | d) & 0x80) return -1;
        u32 v = (a << 18) | (b << 12) | (c << 6) | d;
        dec[o++] = (u8)(v >> 16);
        dec[o++] = (u8)(v >> 8);
        dec[o++] = (u8)v;
    }
    return (int)o;
}

EXPORT(run) i32 run(i32 n) {
    make_tables();
    lcg_seed(2024);
    u32 acc = 0;
    for (i32 r = 0; r < n; r++) {
        for (u32 i = 0; i < LEN; i++) raw[i] = (u8)(lcg_next() >> 13);
        u32 c1 = crc32(raw, LEN);
        u32 len = encode();
        if (decode(len) != LEN) return -1;
        for (u32 i = 0; i < LEN; i++)
            if (dec[i] != raw[i]) return -1;
        acc = rotl32(acc ^ c1, 9) + crc32(enc, len);
    }
    return (i32)acc;
}

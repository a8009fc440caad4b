/* lz [SIZE] [FILE]: an LZ77 compressor with hash chains, then its decompressor, on SIZE
 * bytes of generated text (or on FILE). Prints sizes and a checksum; exit 1 if the round
 * trip differs. The workload of benchmarks/wasi_program.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 4096
#define MIN_MATCH 3
#define MAX_MATCH 130
#define HASH_BITS 12
#define CHAIN 16

static unsigned lcg = 12345;
static unsigned next_rand(void) { lcg = lcg * 1103515245u + 12345u; return lcg >> 16; }

static const char *words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy",
    "dog", "wasm", "engine", "python", "compiles", "functions", "lazily", "and", "runs",
    "programs", "with", "preopened", "directories"};

static size_t generate(unsigned char *buf, size_t size) {
    size_t n = 0;
    while (n < size) {
        const char *w = words[next_rand() % 20];
        size_t len = strlen(w);
        for (size_t i = 0; i < len && n < size; i++) buf[n++] = (unsigned char)w[i];
        if (n < size) buf[n++] = (next_rand() % 9 == 0) ? '\n' : ' ';
    }
    return n;
}

static unsigned hash3(const unsigned char *p) {
    return ((p[0] << 8) ^ (p[1] << 4) ^ p[2]) & ((1 << HASH_BITS) - 1);
}

/* Output: a flag byte per 8 items; literal = 1 byte, match = 2 bytes (offset 12 bits,
 * length - MIN_MATCH in 7 bits... packed as 16 bits: 12 offset + 4 length nibble) + extra. */
static size_t compress(const unsigned char *in, size_t n, unsigned char *out) {
    static int head[1 << HASH_BITS];
    static int prev[WINDOW];
    for (int i = 0; i < (1 << HASH_BITS); i++) head[i] = -1;
    size_t o = 0, i = 0;
    while (i < n) {
        size_t flag_pos = o++;
        unsigned char flags = 0;
        for (int bit = 0; bit < 8 && i < n; bit++) {
            size_t best_len = 0, best_off = 0;
            if (i + MIN_MATCH <= n) {
                unsigned h = hash3(in + i);
                int cand = head[h];
                for (int c = 0; c < CHAIN && cand >= 0 && i - cand < WINDOW; c++) {
                    size_t len = 0;
                    while (len < MAX_MATCH && i + len < n && in[cand + len] == in[i + len]) len++;
                    if (len > best_len) { best_len = len; best_off = i - cand; }
                    int p = prev[cand % WINDOW];
                    if (p >= cand) break;
                    cand = p;
                }
            }
            size_t step = best_len >= MIN_MATCH ? best_len : 1;
            for (size_t k = 0; k < step; k++) {
                if (i + k + MIN_MATCH <= n) {
                    unsigned h = hash3(in + i + k);
                    prev[(i + k) % WINDOW] = head[h];
                    head[h] = (int)(i + k);
                }
            }
            if (best_len >= MIN_MATCH) {
                flags |= (unsigned char)(1 << bit);
                out[o++] = (unsigned char)(best_off & 0xff);
                out[o++] = (unsigned char)(((best_off >> 8) & 0x0f) << 4 |
                                           ((best_len - MIN_MATCH) >> 4 & 0x0f));
                out[o++] = (unsigned char)((best_len - MIN_MATCH) & 0x0f);
            } else {
                out[o++] = in[i];
            }
            i += step;
        }
        out[flag_pos] = flags;
    }
    return o;
}

static size_t decompress(const unsigned char *in, size_t n, unsigned char *out) {
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned char flags = in[i++];
        for (int bit = 0; bit < 8 && i < n; bit++) {
            if (flags & (1 << bit)) {
                size_t off = in[i] | ((size_t)(in[i + 1] >> 4) << 8);
                size_t len = ((size_t)(in[i + 1] & 0x0f) << 4 | in[i + 2]) + MIN_MATCH;
                i += 3;
                for (size_t k = 0; k < len; k++, o++) out[o] = out[o - off];
            } else {
                out[o++] = in[i++];
            }
        }
    }
    return o;
}

int main(int argc, char **argv) {
    size_t size = argc > 1 ? (size_t)atol(argv[1]) : 20000;
    unsigned char *in = malloc(size + 1), *packed = malloc(size * 2 + 16), *back = malloc(size + 1);
    size_t n;
    if (argc > 2) {
        FILE *f = fopen(argv[2], "rb");
        if (!f) { perror(argv[2]); return 2; }
        n = fread(in, 1, size, f);
        fclose(f);
    } else {
        n = generate(in, size);
    }
    size_t packed_n = compress(in, n, packed);
    size_t back_n = decompress(packed, packed_n, back);
    unsigned sum = 0;
    for (size_t i = 0; i < packed_n; i++) sum = sum * 31 + packed[i];
    printf("input %zu bytes, compressed %zu bytes, checksum %08x\n", n, packed_n, sum);
    int ok = back_n == n && memcmp(in, back, n) == 0;
    printf("round trip: %s\n", ok ? "ok" : "MISMATCH");
    return ok ? 0 : 1;
}

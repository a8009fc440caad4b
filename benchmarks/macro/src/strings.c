/* strings: tokenize, count and search 512 bytes of generated text, n times (unit: one
 * round). Tokenizing splits on non-letters and counts each distinct word in an
 * open-addressing table (string compares); substring search looks for four
 * patterns with a naive scan and with Boyer-Moore-Horspool and checks they
 * agree; a final pass upper-cases the text in place. Returns an i32 checksum. */
#include "common.h"

#define N 512
#define TSIZE 128
static u8 text[N + 1];

static const char *const vocab[12] = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta",
    "eta", "theta", "iota", "kappa", "lambda", "mu",
};

struct entry {
    const u8 *word;
    u32 len;
    u32 count;
};
static struct entry table[TSIZE];

static void make_text(void) {
    u32 i = 0;
    while (i < N) {
        u32 r = lcg_next();
        const char *w = vocab[(r >> 16) % 12];
        while (*w && i < N) text[i++] = (u8)*w++;
        if (i < N) text[i++] = (r & 7) == 0 ? ',' : ((r & 31) == 1 ? '\n' : ' ');
    }
    text[N] = 0;
}

static inline int is_letter(u8 c) { return (u8)((c | 32) - 'a') < 26; }

static int same(const u8 *a, const u8 *b, u32 len) {
    for (u32 i = 0; i < len; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static u32 tokenize(void) {
    memset(table, 0, sizeof table);
    u32 distinct = 0, i = 0;
    while (i < N) {
        while (i < N && !is_letter(text[i])) i++;
        u32 start = i;
        u32 h = 5381;
        while (i < N && is_letter(text[i])) h = h * 33 + text[i++];
        u32 len = i - start;
        if (!len) break;
        u32 slot = h & (TSIZE - 1);
        for (;;) {
            struct entry *e = &table[slot];
            if (!e->word) {
                e->word = text + start;
                e->len = len;
                e->count = 1;
                distinct++;
                break;
            }
            if (e->len == len && same(e->word, text + start, len)) {
                e->count++;
                break;
            }
            slot = (slot + 1) & (TSIZE - 1);
        }
    }
    u32 acc = distinct;
    for (u32 s = 0; s < TSIZE; s++) acc = acc * 31 + table[s].count * (s + 1);
    return acc;
}

static u32 count_naive(const u8 *pat, u32 m) {
    u32 found = 0;
    for (u32 i = 0; i + m <= N; i++) {
        u32 j = 0;
        while (j < m && text[i + j] == pat[j]) j++;
        if (j == m) found++;
    }
    return found;
}

static u32 count_horspool(const u8 *pat, u32 m) {
    u32 shift[256];
    for (u32 c = 0; c < 256; c++) shift[c] = m;
    for (u32 j = 0; j + 1 < m; j++) shift[pat[j]] = m - 1 - j;
    u32 found = 0, i = 0;
    while (i + m <= N) {
        u8 last = text[i + m - 1];
        if (last == pat[m - 1] && same(text + i, pat, m - 1)) found++;
        i += shift[last];
    }
    return found;
}

static u32 cstrlen(const char *s) {
    u32 n = 0;
    while (s[n]) n++;
    return n;
}

EXPORT(run) i32 run(i32 n) {
    static const char *const pats[4] = {"eta", "gamma delta", "a, ", "mu\nal"};
    u32 acc = 0;
    lcg_seed(99);
    for (i32 r = 0; r < n; r++) {
        make_text();
        acc = rotl32(acc, 7) ^ tokenize();
        for (u32 p = 0; p < 4; p++) {
            const u8 *pat = (const u8 *)pats[p];
            u32 m = cstrlen(pats[p]);
            u32 a = count_naive(pat, m), b = count_horspool(pat, m);
            if (a != b) return -1;
            acc += a * (p + 1);
        }
        for (u32 i = 0; i < N; i++)
            if ((u8)(text[i] - 'a') < 26) text[i] -= 32;
        acc ^= text[r & (N - 1)];
    }
    return (i32)acc;
}

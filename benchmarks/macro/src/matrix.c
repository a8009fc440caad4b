/* matrix: 12x12 matrix products in f64 and i32, n times (unit: one round).
 * Each round fills A and B from the LCG, computes C = A*B (f64, i-k-j order so a
 * vectoriser finds contiguous rows), D = A'*B' (i32, wrapping), and a transpose
 * plus a row-sum pass. Returns an i64 checksum that folds the f64 results by
 * their bit patterns (exact: every build computes the same IEEE operations). */
#include "common.h"

#define M 12
static double fa[M][M], fb[M][M], fc[M][M];
static i32 ia[M][M], ib[M][M], ic[M][M], it[M][M];

static u64 bits(double x) {
    u64 v;
    __builtin_memcpy(&v, &x, 8);
    return v;
}

static void fill(void) {
    for (u32 i = 0; i < M; i++)
        for (u32 j = 0; j < M; j++) {
            u32 r = lcg_next();
            fa[i][j] = (double)(r >> 8) * (1.0 / 16777216.0) - 0.5;
            fb[i][j] = (double)(r & 0xffff) * (1.0 / 65536.0);
            ia[i][j] = (i32)(r >> 20) - 2048;
            ib[i][j] = (i32)(r & 0xfff) - 2048;
        }
}

static void matmul_f64(void) {
    for (u32 i = 0; i < M; i++) {
        for (u32 j = 0; j < M; j++) fc[i][j] = 0.0;
        for (u32 k = 0; k < M; k++) {
            double x = fa[i][k];
            for (u32 j = 0; j < M; j++) fc[i][j] += x * fb[k][j];
        }
    }
}

static void matmul_i32(void) {
    for (u32 i = 0; i < M; i++) {
        for (u32 j = 0; j < M; j++) ic[i][j] = 0;
        for (u32 k = 0; k < M; k++) {
            i32 x = ia[i][k];
            for (u32 j = 0; j < M; j++) ic[i][j] += x * ib[k][j];
        }
    }
}

EXPORT(run) i64 run(i32 n) {
    u64 acc = 0;
    lcg_seed(7);
    for (i32 r = 0; r < n; r++) {
        fill();
        matmul_f64();
        matmul_i32();
        for (u32 i = 0; i < M; i++)
            for (u32 j = 0; j < M; j++) it[j][i] = ic[i][j];
        double trace = 0.0;
        for (u32 i = 0; i < M; i++) trace += fc[i][i];
        i64 rows = 0;
        for (u32 i = 0; i < M; i++)
            for (u32 j = 0; j < M; j++) rows += (i64)it[i][j] * (i64)(j + 1);
        acc = mix64(acc, bits(trace));
        acc = mix64(acc, bits(fc[(u32)r % M][((u32)r / M) % M]));
        acc = mix64(acc, (u64)rows);
    }
    return (i64)acc;
}

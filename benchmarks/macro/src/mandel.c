/* mandel: Mandelbrot set escape counts in f64, n rows of 24 pixels (unit: one
 * row, up to 64 iterations per pixel). Rows cycle over 8 rows of the plane around
 * the set, so sizes that are multiples of 8 do equal work per row. Returns the i32
 * sum of iteration counts mixed per row. */
#include "common.h"

#define W 24
#define H 8
#define MAXIT 64

static u32 row(u32 y) {
    double ci = -1.0 + 2.0 * (double)y / H;
    u32 total = 0;
    for (u32 x = 0; x < W; x++) {
        double cr = -2.1 + 2.8 * (double)x / W;
        double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
        u32 it = 0;
        while (it < MAXIT && zr2 + zi2 <= 4.0) {
            zi = 2.0 * zr * zi + ci;
            zr = zr2 - zi2 + cr;
            zr2 = zr * zr;
            zi2 = zi * zi;
            it++;
        }
        total = total * 3 + it;
    }
    return total;
}

EXPORT(run) i32 run(i32 n) {
    u32 acc = 0;
    for (i32 r = 0; r < n; r++) acc = rotl32(acc, 1) + row((u32)r % H);
    return (i32)acc;
}

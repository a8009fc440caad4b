/* vm [N]: a small bytecode interpreter (a register machine with a dispatch loop) running a
 * program that counts the primes below N by trial division. The second workload of
 * benchmarks/wasi_program.py: an interpreter compiled from C. */
#include <stdio.h>
#include <stdlib.h>

enum { SET, ADD, MUL, REM, JGE, JNZ, JMP, INC, HALT };
typedef struct { unsigned char op, a, b, c; int imm; } Ins;

/* r0 = n, r1 = candidate, r2 = divisor, r3 = count, r4 = scratch, r5 = divisor^2 */
static const Ins program[] = {
    {SET, 1, 0, 0, 2},       /* 0: cand = 2 */
    {SET, 3, 0, 0, 0},       /* 1: count = 0 */
    {JGE, 1, 0, 0, 13},      /* 2: if cand >= n goto 13 */
    {SET, 2, 0, 0, 2},       /* 3: div = 2 */
    {MUL, 5, 2, 2, 0},       /* 4: sq = div * div */
    {JGE, 1, 5, 1, 7},       /* 5: if cand >= sq (c=1: strict compare reversed) goto 7 */
    {JMP, 0, 0, 0, 11},      /* 6: div^2 > cand: prime */
    {REM, 4, 1, 2, 0},       /* 7: r4 = cand % div */
    {JNZ, 4, 0, 0, 10},      /* 8: if r4 != 0 goto 10 */
    {JMP, 0, 0, 0, 12},      /* 9: divisible: not prime */
    {INC, 2, 0, 0, 1},       /* 10: div++ ; goto 4 */
    {INC, 3, 0, 0, 0},       /* 11: count++ (imm 0: fall through) */
    {INC, 1, 0, 0, 2},       /* 12: cand++ ; goto 2 */
    {HALT, 0, 0, 0, 0},      /* 13 */
};

static long run(long n, long *steps) {
    long r[8] = {n};
    int pc = 0;
    long count = 0;
    for (;;) {
        const Ins *i = &program[pc];
        count++;
        switch (i->op) {
        case SET: r[i->a] = i->imm; pc++; break;
        case ADD: r[i->a] = r[i->b] + r[i->c]; pc++; break;
        case MUL: r[i->a] = r[i->b] * r[i->c]; pc++; break;
        case REM: r[i->a] = r[i->b] % r[i->c]; pc++; break;
        case JGE:
            if (i->c ? r[i->a] >= r[i->b] : r[i->a] >= r[0]) pc = i->imm; else pc++;
            break;
        case JNZ: pc = r[i->a] ? i->imm : pc + 1; break;
        case JMP: pc = i->imm; break;
        case INC:
            r[i->a]++;
            pc = i->imm == 1 ? 4 : i->imm == 2 ? 2 : pc + 1;
            break;
        case HALT: *steps = count; return r[3];
        }
    }
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000, steps = 0;
    long primes = run(n, &steps);
    printf("primes below %ld: %ld (%ld instructions)\n", n, primes, steps);
    return 0;
}

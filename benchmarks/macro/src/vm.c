/* vm: a tiny stack-based bytecode interpreter (a switch in a loop, which clang
 * compiles to a br_table dispatch) running a program with n outer iterations
 * (unit: one outer iteration, about 90 bytecodes: an inner loop of 8 steps, a
 * hash mix and a conditional). Returns the program's i32 result. */
#include "common.h"

enum {
    OP_HALT, OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_AND, OP_XOR,
    OP_SHL, OP_SHR, OP_LT, OP_JMP, OP_JZ, OP_JNZ, OP_DUP, OP_POP, OP_INC,
};

/* locals: 0 = i, 1 = n, 2 = acc, 3 = x, 4 = j */
static const i32 program[] = {
    /*  0 */ OP_PUSH, 0, OP_STORE, 0,
    /*  4 */ OP_LOAD, 0, OP_LOAD, 1, OP_LT, OP_JZ, 66,             /* while i < n */
    /* 11 */ OP_LOAD, 0, OP_PUSH, (i32)2654435761u, OP_MUL, OP_LOAD, 2, OP_XOR, OP_STORE, 3,
    /* 21 */ OP_LOAD, 3, OP_PUSH, 7, OP_SHR, OP_LOAD, 3, OP_PUSH, 3, OP_SHL, OP_XOR,
    /* 32 */ OP_LOAD, 2, OP_ADD, OP_STORE, 2,
    /* 37 */ OP_PUSH, 8, OP_STORE, 4,
    /* 41 */ OP_LOAD, 2, OP_PUSH, 31, OP_MUL, OP_LOAD, 4, OP_ADD, OP_STORE, 2, /* acc=acc*31+j */
    /* 51 */ OP_LOAD, 4, OP_PUSH, 1, OP_SUB, OP_DUP, OP_STORE, 4, OP_JNZ, 41,
    /* 61 */ OP_INC, 0, OP_JMP, 4, OP_HALT,
    /* 66 */ OP_LOAD, 2, OP_HALT,
};

static i32 execute(const i32 *code, i32 n) {
    i32 stack[32];
    i32 locals[8] = {0};
    i32 sp = 0, pc = 0;
    locals[1] = n;
    for (;;) {
        i32 op = code[pc++];
        switch (op) {
        case OP_HALT:
            return sp ? stack[sp - 1] : 0;
        case OP_PUSH: stack[sp++] = code[pc++]; break;
        case OP_LOAD: stack[sp++] = locals[code[pc++]]; break;
        case OP_STORE: locals[code[pc++]] = stack[--sp]; break;
        case OP_ADD: sp--; stack[sp - 1] = (i32)((u32)stack[sp - 1] + (u32)stack[sp]); break;
        case OP_SUB: sp--; stack[sp - 1] = (i32)((u32)stack[sp - 1] - (u32)stack[sp]); break;
        case OP_MUL: sp--; stack[sp - 1] = (i32)((u32)stack[sp - 1] * (u32)stack[sp]); break;
        case OP_AND: sp--; stack[sp - 1] &= stack[sp]; break;
        case OP_XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case OP_SHL: sp--; stack[sp - 1] = (i32)((u32)stack[sp - 1] << (stack[sp] & 31)); break;
        case OP_SHR: sp--; stack[sp - 1] = (i32)((u32)stack[sp - 1] >> (stack[sp] & 31)); break;
        case OP_LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case OP_JMP: pc = code[pc]; break;
        case OP_JZ: pc = stack[--sp] ? pc + 1 : code[pc]; break;
        case OP_JNZ: pc = stack[--sp] ? code[pc] : pc + 1; break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_POP: sp--; break;
        case OP_INC: locals[code[pc]]++; pc++; break;
        default: return -1;
        }
    }
}

EXPORT(run) i32 run(i32 n) { return execute(program, n); }

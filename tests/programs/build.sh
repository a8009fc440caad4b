#!/bin/sh
# Builds the WASI test programs (tests/programs/src/*.c -> tests/programs/*.wasm).
# Needs clang, lld and wasi-libc (Debian: apt-get install clang lld wasi-libc
# libclang-rt-dev-wasm32). The built .wasm files are committed, so tests need no compiler.
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang}
FLAGS="--target=wasm32-wasi -O2 -Wall -Wl,--strip-debug"
for src in src/*.c; do
    name=$(basename "$src" .c)
    case "$name" in
        calc|caller) $CC --target=wasm32-wasi -O2 -nostdlib -Wl,--no-entry -Wl,--strip-debug \
                  -o "$name.wasm" "$src" ;;
        trap) $CC $FLAGS -Wl,--export=outer_function -o "$name.wasm" "$src" ;;
        *) $CC $FLAGS -o "$name.wasm" "$src" ;;
    esac
    echo "built $name.wasm"
done

"""The translator's integer arithmetic shortcuts against exact expected values (and wasmtime).

``visit_numeric`` leaves masks out where they are provably redundant and picks the cheaper
of equal forms: an add/sub of a small negative literal becomes a sub/add of its negation
(``x + -1`` -> ``x - 1``, reduced mod 2**w), ring chains stay unmasked up to 160 bits
(``x * P + y`` masks once), two unbounded i64 operands reduce with ``&``, and a rotation by a
literal offers its unmasked form ``x << k | x >> (w - k)`` to ring consumers. Each case below
sits on a boundary of one of them (wrap-around, 2**31, 2**63, 2**64 - 1, the negation limit,
a rotation by 0, by the width, by -1, results used as addresses, stored bytes, masks, shifts)
and runs in every compilation mode, structured and flat. Expected values come from a plain
Python model of the spec; where wasmtime is installed it checks the model too. The
generated source is checked so each case is known to reach its shortcut.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

import pytest

M32 = (1 << 32) - 1
M64 = (1 << 64) - 1
P1 = 0x9E3779B185EBCA87
P2 = 0xC2B2AE3D27D4EB4F
DATA = bytes(range(1, 17))  # memory bytes 0..15
# memory bytes 128..223 (a signalling NaN f64 at 192); the rest of the one page is zero
DATA2 = bytes((i * 37 + 11) & 0xFF for i in range(64)) + (0x7FF4000000000001).to_bytes(
    8, "little") + bytes((i * 91 + 5) & 0xFF for i in range(24))
MODES = ("eager", "lazy-translation", "lazy")

WAT = r"""
(module
  (memory 1)
  (global $g (mut i32) (i32.const 5))
  (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
  (data (i32.const 128) "@DATA2@")
  (func (export "add_neg") (param i32) (result i32)
    local.get 0 i32.const -44 i32.add)
  (func (export "neg_first") (param i32) (result i32)
    i32.const -1 local.get 0 i32.add)
  (func (export "sub_neg") (param i32) (result i32)
    local.get 0 i32.const -5 i32.sub)
  (func (export "add_min") (param i32) (result i32)
    local.get 0 i32.const 0x80000000 i32.add)
  (func (export "add_below") (param i32) (result i32)
    local.get 0 i32.const 0x7FFFFFFF i32.add)
  (func (export "sub_min") (param i32) (result i32)
    local.get 0 i32.const 0x80000000 i32.sub)
  (func (export "neg_chain") (param i32) (result i32)
    local.get 0 i32.const -1 i32.add i32.const 3 i32.mul i32.const -7 i32.add)
  (func (export "neg_and") (param i32) (result i32)
    local.get 0 i32.const -1 i32.add i32.const 0xFF i32.and)
  (func (export "neg_shr") (param i32) (result i32)
    local.get 0 i32.const -1 i32.add i32.const 28 i32.shr_u)
  (func (export "neg_store8") (param i32) (result i32)
    i32.const 64 local.get 0 i32.const -1 i32.add i32.store8
    i32.const 64 local.get 0 i32.const -3 i32.add i32.store16 offset=2
    i32.const 64 i32.load)
  (func (export "neg_addr") (param i32) (result i32)
    local.get 0 i32.const -4 i32.add i32.load offset=8)
  (func (export "neg_addr8") (param i32) (result i32)
    local.get 0 i32.const -1 i32.add i32.load8_u)
  (func (export "const_addr") (param i32) (result i32)
    i32.const 0 i32.const -4 i32.add i32.load)
  (func (export "neg_neg") (param i32) (result i32)
    i32.const -2 i32.const -3 i32.add local.get 0 i32.add)
  (func (export "add_neg64") (param i64) (result i64)
    local.get 0 i64.const -1 i64.add)
  (func (export "add_limit64") (param i64) (result i64)
    local.get 0 i64.const -2147483648 i64.add)
  (func (export "add_past64") (param i64) (result i64)
    local.get 0 i64.const -2147483649 i64.add)
  (func (export "add_half64") (param i64) (result i64)
    local.get 0 i64.const 0x8000000000000000 i64.add)
  (func (export "sub_neg64") (param i64) (result i64)
    local.get 0 i64.const -3 i64.sub)
  (func (export "neg_wrap64") (param i64) (result i32)
    local.get 0 i64.const -1 i64.add i32.wrap_i64)
  (func (export "mul_add64") (param i64 i64) (result i64)
    local.get 0 i64.const 0xC2B2AE3D27D4EB4F i64.mul local.get 1 i64.add)
  (func (export "mul_add_mul64") (param i64 i64) (result i64)
    local.get 0 i64.const 0xC2B2AE3D27D4EB4F i64.mul local.get 1 i64.add
    i64.const 0x9E3779B185EBCA87 i64.mul local.get 0 i64.add)
  (func (export "mul_sub64") (param i64 i64) (result i64)
    local.get 1 local.get 0 i64.const 0xC2B2AE3D27D4EB4F i64.mul i64.sub
    i64.const -9 i64.add)
  (func (export "add2_64") (param i64 i64) (result i64)
    local.get 0 local.get 1 i64.add)
  (func (export "sub2_64") (param i64 i64) (result i64)
    local.get 0 local.get 1 i64.sub)
  (func (export "mixed64") (param i64 i64) (result i64)
    local.get 0 local.get 1 i64.sub local.get 1 i64.const -1 i64.add i64.add
    local.get 0 i64.add)
  (func (export "rot_mul64") (param i64) (result i64)
    local.get 0 i64.const 31 i64.rotl i64.const 0x9E3779B185EBCA87 i64.mul)
  (func (export "rot_add64") (param i64 i64) (result i64)
    local.get 0 i64.const 1 i64.rotl local.get 1 i64.const 7 i64.rotl i64.add
    local.get 0 i64.const 12 i64.rotr i64.add)
  (func (export "rot_sub64") (param i64 i64) (result i64)
    local.get 0 i64.const 17 i64.rotl local.get 1 i64.const 3 i64.rotl i64.sub)
  (func (export "rotr_addc64") (param i64) (result i64)
    local.get 0 i64.const 13 i64.rotr i64.const 5 i64.add)
  (func (export "rot_and64") (param i64) (result i64)
    local.get 0 i64.const 8 i64.rotl i64.const 0xFF i64.and)
  (func (export "rot_xor_mul64") (param i64 i64) (result i64)
    local.get 0 local.get 1 i64.xor i64.const 13 i64.rotl
    i64.const 0x9E3779B185EBCA87 i64.mul)
  (func (export "rot_store8") (param i64) (result i64)
    i32.const 80 local.get 0 i64.const 8 i64.rotl i64.store8
    i32.const 80 local.get 0 i64.const 20 i64.rotl i64.const 1 i64.add i64.store32 offset=4
    i32.const 80 i64.load)
  (func (export "rot_shr64") (param i64) (result i64)
    local.get 0 i64.const 60 i64.rotl i64.const 3 i64.shr_u)
  (func (export "rot_edge64") (param i64) (result i64)
    local.get 0 i64.const 63 i64.rotl i64.const 3 i64.mul
    local.get 0 i64.const -1 i64.rotr i64.const 5 i64.mul i64.add
    local.get 0 i64.const 64 i64.rotl i64.const 7 i64.mul i64.add)
  (func (export "rot_twice64") (param i64) (result i64)
    local.get 0 i64.const 40 i64.rotl i64.const 40 i64.rotl i64.const 3 i64.mul)
  (func (export "rot_mul32") (param i32) (result i32)
    local.get 0 i32.const 5 i32.rotl i32.const 7 i32.mul
    local.get 0 i32.const 31 i32.rotr local.get 0 i32.add i32.add
    local.get 0 i32.const 1 i32.rotl i32.const -1 i32.add i32.xor)
  (func (export "rot_addr32") (param i32) (result i32)
    local.get 0 i32.const 16 i32.rotl i32.const 4 i32.add i32.load8_u)
  (func (export "mul_var32") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.mul local.get 0 i32.add)
  (func (export "mul_var_store32") (param i32 i32) (result i32)
    i32.const 96 local.get 0 local.get 1 i32.mul i32.const -1 i32.add i32.store16
    i32.const 96 i32.load)
  (func (export "xor_bits32") (param i32 i32) (result i32)
    local.get 0 i32.const 255 i32.and local.get 1 i32.load8_u offset=2 i32.xor
    i32.const 4 i32.mul i32.const 2384 i32.add)
  (func (export "or_shl32") (param i32 i32) (result i32)
    local.get 0 i32.const 0xFF i32.and local.get 1 i32.const 0xF00 i32.and i32.or
    i32.const 20 i32.shl
    local.get 0 i32.const 0xFF i32.and local.get 1 i32.const 0xF00 i32.and i32.or
    i32.const 21 i32.shl i32.xor)
  (func (export "and_shl32") (param i32 i32) (result i32)
    local.get 0 i32.load8_u local.get 1 i32.and i32.const 24 i32.shl
    local.get 1 i32.const 0xF0 i32.and i32.const 4 i32.shr_u i32.const 28 i32.shl i32.add)
  (func (export "div_rem32") (param i32 i32) (result i32)
    local.get 0 i32.const 16 i32.div_u i32.const 1 i32.add
    local.get 0 local.get 1 i32.const 1 i32.or i32.rem_u i32.const 3 i32.shl i32.add
    local.get 0 i32.clz local.get 1 i32.popcnt i32.const 26 i32.shl i32.add i32.add
    local.get 1 i32.ctz i32.const 25 i32.shl i32.add)
  (func (export "wrap_rem64") (param i64 i64) (result i32)
    local.get 0 i64.const 1016 i64.rem_u i32.wrap_i64
    local.get 0 local.get 1 i64.const 1 i64.or i64.rem_u i32.wrap_i64 i32.add
    local.get 0 i64.const 40 i64.shr_u i32.wrap_i64 i32.add
    local.get 1 i64.const 31 i64.shr_u i32.wrap_i64 i32.add)
  (func (export "extend_add64") (param i64 i64) (result i64)
    local.get 0 i32.wrap_i64 i64.extend_i32_u local.get 1 i32.wrap_i64 i64.extend_i32_u
    i64.add i64.const 31 i64.shl
    local.get 0 i32.wrap_i64 i64.extend_i32_u i32.wrap_i64 i64.extend_i32_u i64.add)
  (func (export "lb_load") (param i32) (result i32) (local i32)
    local.get 0 i32.load8_u local.set 1
    local.get 1 i32.const 24 i32.shl local.get 1 i32.const 25 i32.shl i32.xor)
  (func (export "lb_copy") (param i32 i32) (result i32) (local i32 i32 i32 i32)
    local.get 0 i32.load8_u offset=1 local.tee 2 local.set 3
    local.get 3 local.tee 4 local.get 2 i32.add drop
    local.get 4 i32.const 16777216 i32.mul local.get 4 i32.add
    local.get 1 local.tee 5 local.get 2 i32.add local.set 5
    local.get 5 i32.const 16777216 i32.mul local.get 5 i32.add i32.add)
  (func (export "lb_loop") (param i32) (result i32) (local i32)
    (loop
      local.get 1 i32.const 1 i32.add local.set 1
      local.get 1 local.get 0 i32.lt_u br_if 0)
    local.get 1 i32.const 16777216 i32.mul)
  (func (export "lb_for") (param i32) (result i32) (local i32)
    (block (loop
      local.get 1 local.get 0 i32.ge_u br_if 1
      local.get 1 i32.const 1 i32.add local.set 1 br 0))
    local.get 1 i32.const 16777216 i32.mul)
  (func (export "lb_ops") (param i32 i32) (result i32) (local i32 i32 i32 i32)
    local.get 0 i32.const 0xFF i32.and local.set 2
    local.get 0 i32.const 24 i32.shr_u local.set 3
    local.get 1 i32.const 256 i32.rem_u local.set 4
    local.get 0 local.get 1 i32.lt_u local.set 5
    local.get 2 i32.const 24 i32.shl local.get 3 i32.const 16 i32.shl i32.xor
    local.get 4 i32.const 8 i32.shl i32.xor local.get 5 i32.const 31 i32.shl i32.xor
    local.get 2 local.get 3 i32.xor local.get 4 i32.xor local.get 5 i32.xor i32.xor)
  (func (export "lb_two") (param i32) (result i32) (local i32)
    local.get 0 i32.load8_u local.tee 1 i32.const 3 i32.mul
    i32.const 0x12345678 local.set 1
    local.get 1 i32.const 8 i32.mul i32.add
    local.get 1 i32.const 16 i32.mul i32.add)
  (func (export "lb_neg") (param i32) (result i32) (local i32)
    i32.const -1 local.set 1
    local.get 1 local.get 0 i32.add i32.const 16 i32.shl)
  (func (export "lb_store8") (param i32) (result i32) (local i32 i32)
    local.get 0 i32.const 0xFF i32.and local.set 1
    i32.const 112 local.get 1 i32.store8
    i32.const 112 local.get 1 i32.store8 offset=1
    i32.const 112 local.get 0 i32.const 0x1FF i32.and local.tee 2 i32.store8 offset=2
    i32.const 112 local.get 2 i32.store8 offset=3
    i32.const 112 i32.load)
  (func (export "lb_ext64") (param i64) (result i64) (local i64)
    local.get 0 i32.wrap_i64 i64.extend_i32_u local.set 1
    local.get 1 local.get 1 i64.mul local.get 1 i64.xor)
  (func (export "big_sum") (param i32) (result i32) (local i32 i32 i32)
    i32.const -1024 local.set 1
    loop
      local.get 1 i32.const 1488 i32.add i32.const 5 i32.shr_u
      local.get 1 i32.const 65000 i32.add i32.load8_u i32.const 3408 i32.add
      i32.add
      local.get 1 i32.const 0x7FFFFFFF i32.add i32.const 1 i32.shr_u
      i32.add
      local.get 1 i32.const 1488 i32.add i32.const 3 i32.mul
      i32.add
      local.get 2 i32.add local.set 2
      local.get 0 local.set 1
      local.get 3 i32.eqz
      i32.const 1 local.set 3
      br_if 0
    end
    local.get 2)
  (func (export "big_reset") (param i32) (result i32) (local i32)
    i32.const -1600 local.set 1
    block loop
      local.get 0 i32.eqz br_if 1
      local.get 1 i32.const 1 i32.add local.set 1
      local.get 0 i32.const 1 i32.sub local.set 0
      br 0
    end end
    local.get 1 i32.const 7 i32.xor local.set 1
    local.get 1 i32.const 1488 i32.add i32.const 5 i32.shr_u)
  (func (export "big_near") (param i32) (result i32) (local i32)
    i32.const -16 local.set 1
    block loop
      local.get 0 i32.eqz br_if 1
      local.get 1 i32.const 1 i32.add local.set 1
      local.get 0 i32.const 1 i32.sub local.set 0
      br 0
    end end
    local.get 1 i32.const 8 i32.add i32.const 1 i32.shr_u)
  (func (export "big_minus1") (param i32) (result i32) (local i32)
    i32.const -1 local.set 1
    block loop
      local.get 0 i32.eqz br_if 1
      local.get 1 i32.const 1 i32.add local.set 1
      local.get 0 i32.const 1 i32.sub local.set 0
      br 0
    end end
    local.get 1 i32.const 5 i32.add i32.const 1 i32.shr_u)
  (func (export "nn_i32") (param i32 i32) (result i32) (local i32 i32)
    local.get 0 i32.const 0x7FFFFFFF i32.and local.set 2
    local.get 1 i32.const 0xFF i32.and local.set 3
    local.get 2 i32.const 3 i32.shr_s
    local.get 2 local.get 1 i32.shr_s i32.add
    local.get 2 local.get 3 i32.lt_s i32.add
    local.get 3 local.get 2 i32.ge_s i32.const 1 i32.shl i32.add
    local.get 2 f64.convert_i32_s i32.trunc_f64_s i32.add
    local.get 0 i32.const 3 i32.shr_s i32.xor
    local.get 0 local.get 3 i32.lt_s i32.const 2 i32.shl i32.xor)
  (func (export "nn_div") (param i32 i32) (result i32)
    local.get 0 i32.const 0x7FFFFFFF i32.and local.get 1 i32.const 0xFF i32.and i32.div_s
    local.get 0 i32.const 0xFFFF i32.and local.get 1 i32.const 0x7F i32.and i32.rem_s i32.add)
  (func (export "nn_i64") (param i64 i64) (result i64)
    local.get 0 i32.wrap_i64 i64.extend_i32_u local.get 1 i64.const 1 i64.shr_u i64.lt_s
    i64.extend_i32_u
    local.get 0 i64.const 1 i64.shr_u f64.convert_i64_s i64.trunc_f64_u i64.add
    local.get 0 i32.wrap_i64 i32.const 0x7FFFFFFF i32.and i64.extend_i32_s i64.add
    local.get 0 i64.const 1 i64.shr_u local.get 1 i64.const 1 i64.shr_u i64.const 3 i64.or
    i64.div_s i64.add
    local.get 0 i64.const 2 i64.shr_s i64.xor)
  (func (export "grp_i64") (param i32) (result i64)
    local.get 0 i64.load
    local.get 0 i32.const 8 i32.add i64.load i64.xor
    local.get 0 i32.const 16 i32.add i64.load i64.add
    i32.const 24 local.get 0 i32.add i64.load offset=8 i64.xor)
  (func (export "grp_f64") (param i32) (result i64)
    local.get 0 f64.load offset=192 i64.reinterpret_f64
    local.get 0 f64.load offset=200 i64.reinterpret_f64 i64.add
    local.get 0 f64.load offset=208 i64.reinterpret_f64 i64.add)
  (func (export "grp_i32") (param i32) (result i32)
    local.get 0 i32.load offset=4 local.get 0 i32.load i32.sub
    local.get 0 i32.load offset=12 i32.xor local.get 0 i32.load offset=4 i32.add)
  (func (export "grp_div") (param i32 i32) (result i32)
    local.get 0 i32.load
    i32.const 1 local.get 1 i32.div_u i32.add
    local.get 0 i32.load offset=4 i32.add
    local.get 0 i32.load offset=8 i32.add
    local.get 0 i32.load offset=12 i32.add)
  (func (export "grp_store") (param i32) (result i32) (local i32)
    i32.const 224 local.set 1
    local.get 1 local.get 0 i32.store offset=8
    local.get 1 i32.load local.get 1 i32.load offset=4 i32.add
    local.get 1 local.get 0 i32.const 1 i32.add i32.store offset=12
    local.get 1 i32.load offset=8 i32.add local.get 1 i32.load offset=12 i32.add
    local.get 1 i32.load offset=16 i32.add)
  (func (export "grp_set") (param i32) (result i32)
    local.get 0 i32.load offset=128 local.get 0 i32.load offset=132 i32.add
    local.get 0 i32.const 8 i32.add local.set 0
    local.get 0 i32.load offset=128 i32.add local.get 0 i32.load offset=132 i32.add
    local.get 0 i32.load offset=136 i32.add)
  (func (export "grp_wrap") (param i32) (result i32)
    local.get 0 i32.const 8 i32.add i32.load
    local.get 0 i32.const 16 i32.add i32.load i32.add
    local.get 0 i32.const 24 i32.add i32.load i32.add
    local.get 0 i32.const 8 i32.add i32.load offset=2 i32.add)
  (func (export "grp_overlap") (param i32) (result i64)
    local.get 0 i64.load local.get 0 i64.load offset=4 i64.add
    local.get 0 i64.load offset=8 i64.add)
  (func (export "grp_neg") (param i32) (result i64)
    local.get 0 i32.const -48 i32.add f64.load i64.reinterpret_f64
    local.get 0 i32.const -32 i32.add f64.load i64.reinterpret_f64 i64.sub
    local.get 0 i32.const -40 i32.add f64.load offset=16 i64.reinterpret_f64 i64.xor
    local.get 0 f64.load offset=16 i64.reinterpret_f64 i64.add)
  (func (export "grp_neg_only") (param i32) (result i32)
    local.get 0 i32.const -4 i32.add i32.load
    local.get 0 i32.const -8 i32.add i32.load i32.sub
    i32.const -12 local.get 0 i32.add i32.load i32.xor)
  (func (export "grp_mixed") (param i32) (result i32)
    local.get 0 i32.const 24 i32.add i32.load
    local.get 0 i32.const -8 i32.add i32.load i32.sub
    local.get 0 i32.const 8 i32.add i32.load offset=4 i32.xor)
  (func (export "mul_addr") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.mul i32.const 8 i32.add i32.load offset=2)
  (func (export "grp_global") (param i32) (result i32)
    global.get $g local.get 0 i32.load offset=128 i32.add
    local.get 0 i32.load offset=136 i32.add global.get $g i32.add
    local.get 0 i32.load offset=144 i32.add
    i32.const 5 global.set $g)
  (func (export "scmp_trap_order") (param i32 i32) (result i32)
    i32.const 1 local.get 0 i32.div_u local.get 1 i32.load i32.lt_s)
  (func (export "scmp_max_eff") (param i32) (result i32)
    local.get 0 i32.load i32.const 0x7FFFFFFF i32.le_s))
"""


def _rotl(x: int, k: int, w: int) -> int:
    k %= w
    return ((x << k) | (x >> (w - k))) & ((1 << w) - 1)


def _trap_kind(message: str) -> str:
    """Traps compared by kind where the order of two kinds is under test."""
    return "div0" if "divide by zero" in message else "trap"


def _load(addr: int, size: int) -> int | str:
    """A little-endian load from the module's initial memory (one page), or a trap."""
    if addr + size > 65536:
        return "trap"
    mem = DATA + bytes(128 - len(DATA)) + DATA2 + bytes(64)
    return int.from_bytes(mem[addr : addr + size].ljust(size, b"\0"), "little")


def _group(x: int, places: list[tuple[int, int]], size: int) -> list[int] | str:
    """The loads at ``((x + c) mod 2**32) + offset`` in program order, or a trap."""
    vals = [_load(((x + c) & M32) + off, size) for c, off in places]
    return "trap" if "trap" in vals else vals


def _grp_i64(x: int) -> int | str:
    v = _group(x, [(0, 0), (8, 0), (16, 0), (24, 8)], 8)
    return v if v == "trap" else (((v[0] ^ v[1]) + v[2]) & M64) ^ v[3]


def _grp_f64(x: int) -> int | str:
    v = _group(x, [(0, 192), (0, 200), (0, 208)], 8)
    return v if v == "trap" else sum(v) & M64


def _grp_i32(x: int) -> int | str:
    v = _group(x, [(0, 4), (0, 0), (0, 12), (0, 4)], 4)
    return v if v == "trap" else (((v[0] - v[1]) ^ v[2]) + v[3]) & M32


def _grp_div(x: int, y: int) -> int | str:
    first = _load(x, 4)
    if first == "trap":
        return "trap"
    if not y:
        return "div0"
    v = _group(x, [(0, 4), (0, 8), (0, 12)], 4)
    return v if v == "trap" else (first + 1 // y + sum(v)) & M32


def _grp_set(x: int) -> int | str:
    a = _group(x, [(0, 128), (0, 132)], 4)
    if a == "trap":
        return a
    b = _group((x + 8) & M32, [(0, 128), (0, 132), (0, 136)], 4)
    return b if b == "trap" else (sum(a) + sum(b)) & M32


def _grp_wrap(x: int) -> int | str:
    v = _group(x, [(8, 0), (16, 0), (24, 0), (8, 2)], 4)
    return v if v == "trap" else (v[0] + v[1] + v[2] + v[3]) & M32


def _grp_neg(x: int) -> int | str:
    v = _group(x, [(-48, 0), (-32, 0), (-40, 16), (0, 16)], 8)
    return v if v == "trap" else ((((v[0] - v[1]) & M64) ^ v[2]) + v[3]) & M64


def _grp_neg_only(x: int) -> int | str:
    v = _group(x, [(-4, 0), (-8, 0), (-12, 0)], 4)
    return v if v == "trap" else ((v[0] - v[1]) & M32) ^ v[2]


def _grp_mixed(x: int) -> int | str:
    v = _group(x, [(24, 0), (-8, 0), (8, 4)], 4)
    return v if v == "trap" else ((v[0] - v[1]) & M32) ^ v[2]


def _grp_global(x: int) -> int | str:
    """Reads global $g (5: a fresh instance) around grouped loads (their constants' names
    must not collide with the global's cell)."""
    v = _group(x, [(0, 128), (0, 136), (0, 144)], 4)
    return v if v == "trap" else (5 + v[0] + v[1] + 5 + v[2]) & M32


def _grp_overlap(x: int) -> int | str:
    v = _group(x, [(0, 0), (0, 4), (0, 8)], 8)
    return v if v == "trap" else (v[0] + v[1] + v[2]) & M64


def _neg_store8(x: int) -> int:
    b0 = (x - 1) & 0xFF
    h = (x - 3) & 0xFFFF  # at 66..67
    return b0 | h << 16  # byte 65 is zero


def _rot_store8(x: int) -> int:
    lo = _rotl(x, 8, 64) & 0xFF
    hi = (_rotl(x, 20, 64) + 1) & M32
    return lo | hi << 32


def _big_sums(x: int) -> int | str:
    v = _load((x + 65000) & M32, 1)
    return v if v == "trap" else (
        (((x + 1488) & M32) >> 5) + v + 3408 + (((x + 0x7FFFFFFF) & M32) >> 1)
        + (x + 1488) * 3) & M32


def _big_sum(x: int) -> int | str:
    """The sums of -1024 (a large start), then of x (written after them in the loop)."""
    first, then = _big_sums(M32 + 1 - 1024), _big_sums(x)
    return then if then == "trap" else (first + then) & M32


REF: dict[str, Callable[..., int | str]] = {
    "add_neg": lambda x: (x - 44) & M32,
    "neg_first": lambda x: (x - 1) & M32,
    "sub_neg": lambda x: (x + 5) & M32,
    "add_min": lambda x: (x + 0x80000000) & M32,
    "add_below": lambda x: (x + 0x7FFFFFFF) & M32,
    "sub_min": lambda x: (x - 0x80000000) & M32,
    "neg_chain": lambda x: (((x - 1) & M32) * 3 - 7) & M32,
    "neg_and": lambda x: (x - 1) & 0xFF,
    "neg_shr": lambda x: ((x - 1) & M32) >> 28,
    "neg_store8": _neg_store8,
    "neg_addr": lambda x: _load(((x - 4) & M32) + 8, 4),
    "neg_addr8": lambda x: _load((x - 1) & M32, 1),
    "const_addr": lambda x: "trap",
    "neg_neg": lambda x: (x - 5) & M32,
    "add_neg64": lambda x: (x - 1) & M64,
    "add_limit64": lambda x: (x - (1 << 31)) & M64,
    "add_past64": lambda x: (x - (1 << 31) - 1) & M64,
    "add_half64": lambda x: (x + (1 << 63)) & M64,
    "sub_neg64": lambda x: (x + 3) & M64,
    "neg_wrap64": lambda x: (x - 1) & M32,
    "mul_add64": lambda x, y: (x * P2 + y) & M64,
    "mul_add_mul64": lambda x, y: (((x * P2 + y) & M64) * P1 + x) & M64,
    "mul_sub64": lambda x, y: (y - x * P2 - 9) & M64,
    "add2_64": lambda x, y: (x + y) & M64,
    "sub2_64": lambda x, y: (x - y) & M64,
    "mixed64": lambda x, y: ((x - y) + (y - 1) + x) & M64,
    "rot_mul64": lambda x: (_rotl(x, 31, 64) * P1) & M64,
    "rot_add64": lambda x, y: (_rotl(x, 1, 64) + _rotl(y, 7, 64) + _rotl(x, 52, 64)) & M64,
    "rot_sub64": lambda x, y: (_rotl(x, 17, 64) - _rotl(y, 3, 64)) & M64,
    "rotr_addc64": lambda x: (_rotl(x, 51, 64) + 5) & M64,
    "rot_and64": lambda x: _rotl(x, 8, 64) & 0xFF,
    "rot_xor_mul64": lambda x, y: (_rotl(x ^ y, 13, 64) * P1) & M64,
    "rot_store8": _rot_store8,
    "rot_shr64": lambda x: _rotl(x, 60, 64) >> 3,
    "rot_edge64": lambda x: (_rotl(x, 63, 64) * 3 + _rotl(x, 1, 64) * 5 + x * 7) & M64,
    "rot_twice64": lambda x: (_rotl(x, 16, 64) * 3) & M64,
    "rot_mul32": lambda x: (((_rotl(x, 5, 32) * 7 + _rotl(x, 1, 32) + x) & M32)
                            ^ ((_rotl(x, 1, 32) - 1) & M32)),
    "rot_addr32": lambda x: _load((_rotl(x, 16, 32) + 4) & M32, 1),
    "mul_var32": lambda x, y: (x * y + x) & M32,
    "mul_var_store32": lambda x, y: (x * y - 1) & 0xFFFF,
    "xor_bits32": lambda x, y: "trap" if y + 3 > 65536 else (
        ((x & 255) ^ _load(y + 2, 1)) * 4 + 2384),
    "or_shl32": lambda x, y: ((((x & 0xFF) | (y & 0xF00)) << 20) & M32)
    ^ ((((x & 0xFF) | (y & 0xF00)) << 21) & M32),
    "and_shl32": lambda x, y: "trap" if x + 1 > 65536 else (
        ((_load(x, 1) & y) << 24) + (((y & 0xF0) >> 4) << 28)) & M32,
    "div_rem32": lambda x, y: (x // 16 + 1 + ((x % (y | 1)) << 3)
                               + (((32 - x.bit_length()) + (sum(map(int, f"{y:b}")) << 26))
                               + (((y & -y).bit_length() - 1 if y else 32) << 25))) & M32,
    "wrap_rem64": lambda x, y: (x % 1016 + (x % (y | 1)) + (x >> 40) + (y >> 31)) & M32,
    "extend_add64": lambda x, y: ((((x & M32) + (y & M32)) << 31) + (x & M32)) & M64,
    "lb_load": lambda x: "trap" if x >= 65536 else (
        ((_load(x, 1) << 24) ^ (_load(x, 1) << 25)) & M32),
    "lb_copy": lambda x, y: "trap" if x + 2 > 65536 else (
        (_load(x + 1, 1) * 16777217) + ((y + _load(x + 1, 1)) & M32) * 16777217) & M32,
    "lb_loop": lambda x: (max(x, 1) * 16777216) & M32,
    "lb_for": lambda x: (x * 16777216) & M32,
    "lb_ops": lambda x, y: ((((x & 0xFF) << 24) ^ ((x >> 24) << 16) ^ ((y % 256) << 8)
                            ^ (int(x < y) << 31)) & M32)
    ^ (x & 0xFF) ^ (x >> 24) ^ (y % 256) ^ int(x < y),
    "lb_two": lambda x: "trap" if x >= 65536 else (
        _load(x, 1) * 3 + 0x12345678 * 8 + 0x12345678 * 16) & M32,
    "lb_neg": lambda x: ((x - 1) << 16) & M32,
    "lb_store8": lambda x: (x & 0xFF) * 0x01010101,
    "lb_ext64": lambda x: ((x & M32) * (x & M32)) ^ (x & M32),
    "big_sum": _big_sum,
    "big_reset": lambda n: (((((n - 1600) & M32) ^ 7) + 1488) & M32) >> 5,
    "big_near": lambda n: ((n - 16 + 8) & M32) >> 1,
    "big_minus1": lambda n: ((n - 1 + 5) & M32) >> 1,
    "nn_i32": lambda x, y: ((((x & 0x7FFFFFFF) >> 3) + ((x & 0x7FFFFFFF) >> (y & 31))
                             + int((x & 0x7FFFFFFF) < (y & 0xFF))
                             + (int((y & 0xFF) >= (x & 0x7FFFFFFF)) << 1) + (x & 0x7FFFFFFF))
                            & M32) ^ ((_signed(x, 32) >> 3) & M32)
    ^ (int(_signed(x, 32) < (y & 0xFF)) << 2),
    "nn_div": lambda x, y: "div0" if not y & 0xFF or not y & 0x7F else (
        (x & 0x7FFFFFFF) // (y & 0xFF) + (x & 0xFFFF) % (y & 0x7F)),
    "nn_i64": lambda x, y: ((int((x & M32) < (y >> 1)) + int(float(x >> 1))
                             + (x & 0x7FFFFFFF) + (x >> 1) // ((y >> 1) | 3)) & M64)
    ^ ((_signed(x, 64) >> 2) & M64),
    "grp_i64": _grp_i64,
    "grp_f64": _grp_f64,
    "grp_i32": _grp_i32,
    "grp_div": _grp_div,
    "grp_store": lambda x: (2 * x + 1) & M32,
    "grp_set": _grp_set,
    "grp_wrap": _grp_wrap,
    "grp_overlap": _grp_overlap,
    "grp_neg": _grp_neg,
    "grp_neg_only": _grp_neg_only,
    "grp_mixed": _grp_mixed,
    "mul_addr": lambda x, y: _load(((x * y + 8) & M32) + 2, 4),
    "grp_global": _grp_global,
    "scmp_trap_order": lambda x, y: "div0" if not x else "trap" if y + 4 > 65536 else int(
        _signed(1 // x, 32) < _signed(_load(y, 4), 32)),
    "scmp_max_eff": lambda x: "trap" if x + 4 > 65536 else 1,
}


def _signed(v: int, w: int) -> int:
    return v - (1 << w) if v >> (w - 1) else v


# Signed comparisons: against each boundary literal on either side, and of two operands
# (plain locals and compound ones evaluated once), as a value and as an ``if`` condition.
_OPS = {"lt_s": lambda a, b: a < b, "gt_s": lambda a, b: a > b,
        "le_s": lambda a, b: a <= b, "ge_s": lambda a, b: a >= b}


def _cmp_func(name: str, t: str, operands: str) -> str:
    cmp = f"{operands} {t}.{name[-4:]}"
    params = f"(param {t})" if "lit" in name else f"(param {t} {t})"
    return (f'  (func (export "{name}") {params} (result i32)\n'
            f"    {cmp}\n    {cmp} if (result i32) i32.const 10 else i32.const 20 end\n"
            "    i32.add)\n")


def _cmp_ref(op, x_of, y_of, w: int) -> Callable[..., int]:
    def ref(*args: int) -> int:
        v = int(_OPS[op](_signed(x_of(*args), w), _signed(y_of(*args), w)))
        return v + (10 if v else 20)
    return ref


_CMP_WAT = []
for _t, _w in (("i32", 32), ("i64", 64)):
    _h = 1 << (_w - 1)
    for _op in _OPS:
        for _i, _c in enumerate((0, 1, 13, _h - 1, _h, _h + 1, (1 << _w) - 2, (1 << _w) - 1)):
            for _side in "rl":
                _name = f"cmp{_w}lit_{_i}{_side}_{_op}"
                _lit = f"{_t}.const {_signed(_c, _w)}"
                _ops = f"local.get 0 {_lit}" if _side == "r" else f"{_lit} local.get 0"
                _CMP_WAT.append(_cmp_func(_name, _t, _ops))
                REF[_name] = (_cmp_ref(_op, lambda x, c=_c: x, lambda x, c=_c: c, _w)
                              if _side == "r" else
                              _cmp_ref(_op, lambda x, c=_c: c, lambda x, c=_c: x, _w))
        _name = f"cmp{_w}var_{_op}"
        _CMP_WAT.append(_cmp_func(_name, _t, "local.get 0 local.get 1"))
        REF[_name] = _cmp_ref(_op, lambda x, y: x, lambda x, y: y, _w)
        _name = f"cmp{_w}mix_{_op}"
        _CMP_WAT.append(_cmp_func(
            _name, _t, f"local.get 0 {_t}.const 1 {_t}.add local.get 1 {_t}.const 3 {_t}.mul"))
        _m = (1 << _w) - 1
        REF[_name] = _cmp_ref(_op, lambda x, y, m=_m: (x + 1) & m,
                              lambda x, y, m=_m: (y * 3) & m, _w)


def _sar(v: int, k: int, w: int) -> int:
    """i32/i64.shr_s of the bit pattern ``v`` by ``k`` (mod w), as a bit pattern."""
    return (_signed(v, w) >> (k % w)) & ((1 << w) - 1)


# Sign tests through shifts (``(x << k) >>s k`` against 0 and -1, clang's sign-extended
# byte test): the sign bit of ``x << k`` is one bit of x (of its raw form: a sum past 2**w,
# a negative difference), an arithmetic shift keeps its operand's sign (by any count).
def _sign_forms(t: str, w: int) -> list[tuple[str, str, Callable[..., int]]]:
    k, m = w - 8, (1 << w) - 1
    return [
        ("ext", f"local.get 0 {t}.const {k} {t}.shl {t}.const {k} {t}.shr_s",
         lambda x: _sar((x << k) & m, k, w)),
        ("shl0", f"local.get 0 {t}.const 0 {t}.shl {t}.const 3 {t}.shr_s",
         lambda x: _sar(x, 3, w)),
        ("shlw1", f"local.get 0 {t}.const {w - 1} {t}.shl", lambda x: (x << (w - 1)) & m),
        ("shlover", f"local.get 0 {t}.const {w + 1} {t}.shl", lambda x: (x << 1) & m),
        ("sar", f"local.get 0 {t}.const 5 {t}.shr_s", lambda x: _sar(x, 5, w)),
        ("addraw", (f"local.get 0 {t}.const 128 {t}.add {t}.const {k} {t}.shl {t}.const {k} "
                    f"{t}.shr_s"), lambda x: _sar(((x + 128) << k) & m, k, w)),
        ("subraw", (f"local.get 0 {t}.const -1 {t}.add {t}.const {k} {t}.shl {t}.const 2 "
                    f"{t}.shr_s"), lambda x: _sar(((x - 1) << k) & m, 2, w)),
        ("varsar", f"local.get 0 {t}.const 3 {t}.shl local.get 1 {t}.shr_s",
         lambda x, y: _sar((x << 3) & m, y, w)),
    ]


for _t, _w in (("i32", 32), ("i64", 64)):
    for _form, _code, _val in _sign_forms(_t, _w):
        _two = _val.__code__.co_argcount == 2
        for _ci, _c in enumerate((0, -1, 1)):
            for _op in _OPS:
                for _side in "rl":
                    _name = f"cmp{_w}{'sgn' if _two else 'lit_sgn'}_{_form}{_ci}{_side}_{_op}"
                    _lit = f"{_t}.const {_c}"
                    _ops = f"{_code} {_lit}" if _side == "r" else f"{_lit} {_code}"
                    _CMP_WAT.append(_cmp_func(_name, _t, _ops))
                    _cu = _c & ((1 << _w) - 1)
                    _v = _val if _two else (lambda x, y, f=_val: f(x))
                    _l = (lambda x, y, c=_cu: c)
                    _x, _y = (_v, _l) if _side == "r" else (_l, _v)
                    REF[_name] = (_cmp_ref(_op, _x, _y, _w) if _two else
                                  _cmp_ref(_op, lambda x, f=_x: f(x, 0), lambda x, f=_y: f(x, 0),
                                           _w))
WAT = WAT.rstrip()[:-1] + "".join(_CMP_WAT) + ")"
WAT = WAT.replace("@DATA2@", "".join(f"\\{b:02x}" for b in DATA2))

_I32 = [0, 1, 3, 4, 5, 43, 44, 45, 255, 256, 65531, 65532, 65533, 0x7FFFFFFF, 0x80000000,
        0x80000001, 0xFFFFFFFB, 0xFFFFFFFC, 0xFFFFFFFF, 0x00010000, 0xFFFB0000]
_I64 = [0, 1, 2, (1 << 31) - 1, 1 << 31, (1 << 31) + 1, 1 << 32, (1 << 63) - 1, 1 << 63,
        (1 << 63) + 1, M64 - 1, M64, 0x0123456789ABCDEF, 0xFEDCBA9876543210, P1]
_I64_PAIRS = [(x, y) for x in _I64 for y in _I64[::2]] + [(y, x) for x in _I64 for y in _I64[1::3]]


_I32_PAIRS = [(x, y) for x in _I32 for y in _I32[::2]] + [
    (0, 70000), (0, 4), (9, 70000), (0x10000, 0x10000), (M32, M32), (0x80000000, 2)]


def _params64(name: str) -> bool:
    if name.startswith("grp"):
        return False
    return name.endswith("64") or name == "rot_store8" or name.startswith("cmp64")


def _result_mask(name: str) -> int:
    if name in ("grp_i64", "grp_f64", "grp_overlap", "grp_neg"):
        return M64
    i32_results = ("neg_wrap64", "wrap_rem64")
    return M64 if _params64(name) and name not in i32_results and "cmp" not in name else M32


#: Loops run their argument's count of iterations: small counts (past 255: wrapping).
_LOOP_CASES = [(0,), (1,), (2,), (255,), (256,), (257,), (300,)]


#: Grouped loads: around the end of memory and the wrap-around of ``x + c``.
_GRP_CASES = [(x,) for x in (*_I32, 65504, 65505, 65512, 65513, 65520, 65320, 65321, 65330,
                             8, 11, 12, 40, 47, 48, 49, 128, 176, 200, 65528, 65535, 65536,
                             M32 - 7, M32 - 15, M32 - 23, M32 - 24, M32 - 25, M32 - 31)]


#: Sums of a local with a large start: either side of each wrap-around (big_sum); counted
#: up from a large literal n times (the others: x itself wraps at n = 16, 1, 1600).
_BIG_CASES = [(n,) for n in (0, 1, 2, 15, 16, 17, 111, 112, 113, 1599, 1600, 1601, 1700)]
_BIG_SUM_CASES = [(x,) for x in (*_I32, *(M32 + 1 - c + d for c in (1488, 65000, 0x7FFFFFFF)
                                          for d in (-1, 0, 1)))]


def _cases(name: str) -> list[tuple[int, ...]]:
    if name in ("lb_loop", "lb_for"):
        return _LOOP_CASES
    if name.startswith("big_"):
        return _BIG_SUM_CASES if name == "big_sum" else _BIG_CASES
    if name.startswith("grp") and name != "grp_div":
        return _GRP_CASES
    # The comparison models take *args: one parameter against a literal, else two.
    nargs = REF[name].__code__.co_argcount or (1 if "lit" in name else 2)
    if not _params64(name):
        return [(x,) for x in _I32] if nargs == 1 else _I32_PAIRS
    return [(x,) for x in _I64] if nargs == 1 else _I64_PAIRS


def _wasm() -> bytes:
    from engine import wat2wasm

    return wat2wasm(WAT)


def _our_results(mode: str) -> dict[str, list[int | str]]:
    """Every case through one instance (the storing cases read back only what they wrote,
    and no loading case but the grouped loads' reads their bytes: those get their own)."""
    from engine import Config, Engine, Instance, Module, Store, Trap

    config = Config()
    config.compilation_mode = mode
    store = Store(Engine(config))
    module = Module(store.engine, _wasm())
    exports = Instance(store, module, []).exports(store)
    assert list(exports) == list(REF)  # function i is REF's i-th (see _source)
    out: dict[str, list[int | str]] = {}
    for name in REF:
        res = out[name] = []
        if name.startswith("grp"):  # reads wide areas: a memory no other case stored to
            exports = Instance(store, module, []).exports(store)
        for args in _cases(name):
            try:
                res.append(int(exports[name].call_bits(store, list(args))[0]))
            except Trap as exc:
                res.append(_trap_kind(str(exc)))
    return out


@pytest.mark.parametrize("flat", [False, True], ids=["structured", "flat"])
@pytest.mark.parametrize("mode", MODES)
def test_arith_paths_exact(mode: str, flat: bool, monkeypatch) -> None:
    """Every case in every mode and both forms gives the model's value (or trap)."""
    monkeypatch.setattr(importlib.import_module("engine.compile.translate"), "FORCE_FLAT", flat)
    ours = _our_results(mode)
    bad = [f"{name}{args}: ours {o!r} expected {REF[name](*args)!r}"
           for name in REF for args, o in zip(_cases(name), ours[name])
           if o != REF[name](*args)]
    assert not bad, "\n".join(bad[:40])
    # Guard against a vacuous run: results and traps both occur.
    kinds = {type(v) for vs in ours.values() for v in vs}
    assert kinds == {int, str}


def test_model_agrees_with_wasmtime() -> None:
    """The expected values are wasmtime's (the model is not a second copy of our bugs)."""
    wasmtime = pytest.importorskip("wasmtime")
    store = wasmtime.Store()
    inst = wasmtime.Instance(store, wasmtime.Module(store.engine, _wasm()), [])
    bad = []
    for name, ref in REF.items():
        if name.startswith("grp"):
            inst = wasmtime.Instance(store, wasmtime.Module(store.engine, _wasm()), [])
        fn = inst.exports(store)[name]
        w = 64 if _params64(name) else 32
        for args in _cases(name):
            signed = [a - (1 << w) if a >> (w - 1) else a for a in args]
            try:
                got = fn(store, *signed) & _result_mask(name)
            except wasmtime.Trap as exc:
                got = _trap_kind(str(exc))
            if got != ref(*args):
                bad.append(f"{name}{args}: wasmtime {got!r} model {ref(*args)!r}")
    assert not bad, "\n".join(bad[:40])


def _source(name: str) -> str:
    from engine.binary import decode_body, decode_module

    T = importlib.import_module("engine.compile.translate")
    info = decode_module(_wasm())
    i = list(REF).index(name)
    return T.translate_source(info, i, decode_body(info, i))


def _cpython_forms() -> None:
    """The shortcuts' forms are CPython's: PyPy keeps its machine-word forms (masks and
    offsetting xors are single machine ops there; negative intermediates, data-dependent
    branches and small bignums, such as ``u64(x) % 1016`` unmasked, cost it)."""
    from engine.compat import PYPY

    if PYPY:
        pytest.skip("CPython's forms (the exactness tests run on PyPy too)")


def test_cases_reach_the_shortcuts() -> None:
    _cpython_forms()
    from engine.compat import PYPY

    # A small negative literal is subtracted (or a subtracted one added), reduced mod 2**w.
    assert "(l0 - 44)" in _source("add_neg")
    assert "(l0 - 1)" in _source("neg_first")
    assert "(l0 + 5)" in _source("sub_neg")
    assert "(l0 - 2147483648)" in _source("add_min")
    assert "(l0 + 2147483647)" in _source("add_below")
    assert "(l0 + 2147483648)" in _source("sub_min")
    # A subtraction keeps the store's truncation (its raw value may be negative), which
    # reads the unreduced value (CPython).
    assert "& 0xFF" in _source("neg_store8") and "& 0xFFFF" in _source("neg_store8")
    if not PYPY:
        assert "M0[64] = (l0 - 1) & 0xFF" in _source("neg_store8")
        assert "(((l0 << 20) | (l0 >> 44)) + 1) & 0xFFFFFFFF" in _source("rot_store8")
        assert "((l0 * l1) - 1) & 0xFFFF)" in _source("mul_var_store32")
    # Operands below 2**(w-1): signed ops as their unsigned twins (the unbounded keep theirs).
    src = _source("nn_i32")
    assert "((l2 >> 3)" in src and "(l2 < l3)" in src and "(l3 >= l2)" in src
    assert "0x80000000) - 0x80000000) >> 3)" in src and "(l0 ^ l3) <" in src
    assert "float(l2)" in src
    assert "div_s32" not in _source("nn_div") and "rem_s32" not in _source("nn_div")
    # Loads at three or more places of one local: one struct call (guarded where x + c may
    # wrap), not across a trap, a store or a write of the local; not overlapping ones.

    if not PYPY:
        calls = {n: len(re.findall(r"\bLDG\d+\(", _source(n))) for n in REF if n[:3] == "grp"}
        # grp_store: the loads at 8 and 12 read the values just stored (forward.py), which
        # leaves no three places after the store.
        assert calls == {"grp_i64": 1, "grp_f64": 1, "grp_i32": 1, "grp_div": 1,
                         "grp_store": 0, "grp_set": 1, "grp_wrap": 1, "grp_overlap": 0,
                         "grp_neg": 1, "grp_neg_only": 1, "grp_mixed": 1, "grp_global": 1}
        assert "if 8 <= l0 and l0 < 4294967272 else LDGSLOW" in _source("grp_mixed")
        assert "(M0, l0 - 48) if 48 <= l0 else LDGSLOW" in _source("grp_neg")
        assert "(M0, l0 - 12) if 12 <= l0 else LDGSLOW" in _source("grp_neg_only")
        assert "if l0 < 4294967272 else LDGSLOW" in _source("grp_i64")
        assert "LDGSLOW" not in _source("grp_f64") and "LDGSLOW" not in _source("grp_i32")
    if PYPY:
        return  # the i64 forms below are CPython's (PyPy keeps i64 in signed form)
    assert "(l0 - 2147483648)" in _source("add_limit64")
    assert "(l0 + 18446744071562067967)" in _source("add_past64")
    assert "(l0 + 9223372036854775808)" in _source("add_half64")
    # The 64x64-bit product takes its addend before the one mask.
    src = _source("mul_add64")
    assert "((l0 * 14029467366897019727) + l1) & 0xFFFFFFFFFFFFFFFF" in src
    # Two unbounded i64 operands reduce with `&`.
    assert "((l0 + l1) & 0xFFFFFFFFFFFFFFFF)" in _source("add2_64")
    assert "((l0 - l1) & 0xFFFFFFFFFFFFFFFF)" in _source("sub2_64")
    # A rotation's unmasked form feeds the multiplication.
    assert "(((l0 << 31) | (l0 >> 33)) * 11400714785074694791)" in _source("rot_mul64")
    assert "((l0 * l1) + l0) & 0xFFFFFFFF" in _source("mul_var32")
    assert "U32(M0, (((l0 * l1) + 8) % 4294967296) + 2)" in _source("mul_addr")  # addresses
    # Bounds through bitwise ops, shifts, remainders and conversions: no reduction at all.
    assert "% 4294967296" not in _source("xor_bits32")
    assert _source("or_shl32").count("% 4294967296") == 1  # the shift by 21 may overflow
    assert "((M0[l0] & l1) * 16777216)" in _source("and_shl32")
    src = _source("wrap_rem64")
    assert "((l0 % 1016) + " in src and "(l0 >> 40)" in src and "& 0xFFFFFFFF)" in src
    assert "(((l0 & 0xFFFFFFFF) + (l1 & 0xFFFFFFFF)) * 2147483648)" in _source("extend_add64")
    # Locals whose every write is bounded: reads skip reductions (copies included) ...
    assert "((l1 * 16777216) ^ ((l1 * 33554432) % 4294967296))" in _source("lb_load")
    src = _source("lb_copy")
    assert "((l4 * 16777216) + l4)" in src  # l4 is a copy of a copy of a loaded byte
    src = _source("lb_ops")
    assert "((l2 * 16777216) ^ (l3 * 65536))" in src and "(l5 * 2147483648)" in src
    src = _source("lb_two")
    assert "t1 = (l1 * 3)\n" in src and "(l1 * 16)) %" in src  # l1 < 2**29
    assert _source("lb_store8").count("& 0xFF") == 2
    assert "return ((l1 * l1) ^ l1)" in _source("lb_ext64")
    # A local counting up from a large literal: its sums past 2**32 test and subtract ...
    src = _source("big_sum")
    assert "(l1 + 1488 if l1 < 4294965808 else l1 - 4294965808)" in src
    assert "(l1 + 65000 if l1 < 4294902296 else l1 - 4294902296)" in src
    assert "(l1 + 2147483647 if l1 < 2147483649 else l1 - 2147483649)" in src
    assert "((l1 + 1488) * 3)" in src  # a ring consumer reads the plain sum
    # ... until another write; not from -16 with + 8 (below 2**32), nor from -1 (a sentinel).
    for name in ("big_reset", "big_near", "big_minus1"):
        assert "% 4294967296" in _source(name).split("\n", 9)[-1], name
    # ... but not a counter, a literal -1 or a counted loop's counter.
    for name in ("lb_loop", "lb_for"):
        src = _source(name)
        assert "(l1 * 16777216) %" in src or "(l1 * 16777216) &" in src, name
    assert "t1 := (l0 ^ l1)) << 13) | (t1 >> 51)) * " in _source("rot_xor_mul64")


def test_signed_compares_reach_their_forms() -> None:
    _cpython_forms()
    # Against a literal: one chained unsigned interval test, no offsetting xor.
    assert "(13 <= l0 <= 0x7fffffff)" in _source("cmp32lit_2r_ge_s")
    assert "(not (13 <= l0 <= 0x7fffffff))" in _source("cmp32lit_2l_gt_s")
    # Two operands: compared as unsigned when their signs agree, compounds evaluated once.
    assert "(l0 < l1 if (l0 ^ l1) < 0x80000000 else l0 > l1)" in _source("cmp32var_lt_s")
    assert "(t1 := " in _source("cmp32mix_ge_s") and "(t2 := " in _source("cmp32mix_ge_s")
    # A sign test through shifts reads one bit of the shifted operand (its raw form too).
    assert "if (not (l0 & 0x80)):" in _source("cmp32lit_sgn_ext0r_ge_s")
    assert "if ((l0 - 1) & 0x80):" in _source("cmp64lit_sgn_subraw0r_lt_s")
    assert "if (not (l0 & 0x10000000)):" in _source("cmp32sgn_varsar0r_ge_s")
    assert "if (l0 < 0x80000000):" in _source("cmp32lit_sgn_sar1r_gt_s")
    # `x <=s MAX` is always true, but x (a load that may trap) is still evaluated.
    assert "U32(" in _source("scmp_max_eff")
    from engine.compat import PYPY

    if not PYPY:  # PyPy compares i64 in signed form (visit_signed64.py)
        src = _source("cmp64lit_7r_lt_s")
        assert "(0x8000000000000000 <= l0 < 18446744073709551615)" in src


# -- random load sequences against wasmtime --------------------------------------------------

_LOADS = (("i32.load", 4, "i64.extend_i32_u"), ("i64.load", 8, ""),
          ("f64.load", 8, "i64.reinterpret_f64"))


def _random_loads_wat(seed: int) -> str:
    """Functions of runs of loads at ``x + c + offset`` (small c of either sign, a few
    widths, overlapping or not) folded into an i64, with pure instructions, a store, a
    write of the base or a division that may trap between some of them."""
    import random

    rng = random.Random(seed)
    funcs = []
    for f in range(6):
        body = ["i64.const 0 local.set 2"]
        name, size, conv = rng.choice(_LOADS)
        for _ in range(rng.randint(2, 9)):
            if rng.random() < 0.15:
                name, size, conv = rng.choice(_LOADS)
            c = rng.choice((0, 0, size, 2 * size, -size, -2 * size, rng.randint(-64, 64)))
            off = rng.choice((0, 0, size, 3 * size, rng.randint(0, 40)))
            addr = "local.get 0" if not c else f"local.get 0 i32.const {c} i32.add"
            body.append(f"{addr} {name} offset={off} {conv} local.get 2 i64.xor local.set 2")
            r = rng.random()
            if r < 0.1:
                body.append("i32.const 300 local.get 1 i32.store")
            elif r < 0.15:
                body.append("local.get 0 i32.const 8 i32.add local.set 0")
            elif r < 0.2:
                body.append("i32.const 1 local.get 1 i32.div_u drop")
            elif r < 0.35:
                body.append("local.get 1 i32.const 3 i32.mul local.set 1")
        body.append("local.get 2")
        funcs.append(f'  (func (export "f{f}") (param i32 i32) (result i64) (local i64)\n    '
                     + "\n    ".join(body) + ")")
    data = "".join(f"\\{(i * 73 + seed) & 0xFF:02x}" for i in range(512))
    return f'(module (memory 1) (data (i32.const 0) "{data}")\n' + "\n".join(funcs) + ")"


_RANDOM_X = (0, 8, 16, 24, 60, 64, 65, 200, 1000, 65400, 65472, 65480, 65488, 65496, 65504,
             65520, 65528, 65535, 65536, M32 - 7, M32 - 15, M32 - 31, M32 - 63, 0x80000000)


@pytest.mark.parametrize("seed", range(12))
def test_random_load_runs_agree_with_wasmtime(seed: int) -> None:
    wasmtime = pytest.importorskip("wasmtime")
    from engine import Config, Engine, Instance, Module, Store, Trap, wat2wasm

    wasm = wat2wasm(_random_loads_wat(seed))
    bad = []
    for mode in MODES:
        config = Config()
        config.compilation_mode = mode
        store = Store(Engine(config))
        ours = Instance(store, Module(store.engine, wasm), []).exports(store)
        wstore = wasmtime.Store()
        theirs = wasmtime.Instance(wstore, wasmtime.Module(wstore.engine, wasm), []).exports(
            wstore)
        for f in range(6):
            for x in _RANDOM_X:
                for y in (0, 1, 0xFFFFFFFF):
                    try:
                        o = int(ours[f"f{f}"].call_bits(store, [x, y])[0])
                    except Trap as exc:
                        o = _trap_kind(str(exc))
                    try:
                        t = theirs[f"f{f}"](wstore, x - (1 << 32) if x >> 31 else x,
                                            y - (1 << 32) if y >> 31 else y) & M64
                    except wasmtime.Trap as exc:
                        t = _trap_kind(str(exc))
                    if o != t:
                        bad.append(f"seed {seed} {mode} f{f}({x}, {y}): ours {o} wasmtime {t}")
    assert not bad, "\n".join(bad[:20])


def test_random_load_runs_are_grouped() -> None:
    """Guard: the random runs do reach grouped loads."""
    from engine import wat2wasm
    from engine.binary import decode_body, decode_module
    from engine.compat import PYPY

    if PYPY:
        pytest.skip("grouped loads are CPython's (PyPy's JIT compiles struct calls)")
    T = importlib.import_module("engine.compile.translate")
    groups = slow = 0
    for seed in range(12):
        info = decode_module(wat2wasm(_random_loads_wat(seed)))
        for i in range(6):
            src = T.translate_source(info, i, decode_body(info, i))
            groups += len(re.findall(r"\bLDG\d+\(M0, l0", src))
            slow += src.count("LDGSLOW")
    assert groups >= 12 and slow >= 6, (groups, slow)

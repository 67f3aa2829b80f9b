"""Kernel emitter, error reporting: bad programs stop with a clear message from the Context (exit
code 1 of tpuc-kernel-emit) instead of producing a command buffer; malformed scripts exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from .kernel_harness import EmitError, emit

PRE = """
global g 0 0 1 32 4 16 int8
alloc a 1 32 4 16 int8
alloc b 1 32 4 16 int8
alloc y 1 32 4 16 int8
"""

CASES = {
    "lmem_overflow_single": (
        "alloc big 1 32 200 200 int8",
        "local memory overflow: int8 tensor (1, 32, 200, 200) needs 40000 bytes per lane",
    ),
    "lmem_overflow_accumulated": (
        "alloc t1 1 32 100 100 int8\nalloc t2 1 32 100 100 int8\nalloc t3 1 32 100 100 int8\n"
        "alloc t4 1 32 100 100 int8",
        "local memory overflow: int8 tensor (1, 32, 100, 100) needs 10000 bytes per lane",
    ),
    "bank_missing": ("alloc t 1 32 4 16 int8 bank=8", "bank 8 does not exist (8 banks)"),
    "conv_misaligned_ifmap": (
        "alloc big 1 32 5 16 int8\nview x big 1 32 4 16 int8 64,64,16,1 offset=8\n"
        "conv_weight w 32 32 1 1\nconv ofmap=y ifmap=x weight=w",
        "conv: ifmap must start at a multiple of 16 bytes (per-lane offset 200)",
    ),
    "conv_ifmap_layout": (
        "alloc x 1 32 4 16 int8 strides=80,80,20,1\nconv_weight w 32 32 1 1\n"
        "conv ofmap=y ifmap=x weight=w",
        "conv: ifmap must have the default EU-aligned layout",
    ),
    "conv_output_size": (
        "conv_weight w 32 32 3 3\nconv ofmap=y ifmap=a weight=w kh=3 kw=3",
        "conv: output is 4 x 16 but the window gives 2 x 14",
    ),
    "conv_pad_range": (
        "conv_weight w 32 32 1 1\nconv ofmap=y ifmap=a weight=w pt=16",
        "conv: pad top 16 is out of range (0..15)",
    ),
    "conv_weight_shape": (
        "conv_weight w 16 32 1 1\nconv ofmap=y ifmap=a weight=w",
        "conv: weight must be the (1, 32, 1, 32) tensor of allocConvWeight",
    ),
    "tiu_shape_range": (
        "alloc c1 1 5000 1 1 int8\nalloc c2 1 5000 1 1 int8\nmul c2 c1 c1",
        "mul: result shape (1, 5000, 1, 1) is out of range for the TIU",
    ),
    "shape_mismatch": (
        "alloc small 1 16 4 16 int8\nmul y a small",
        "mul: operand b shape (1, 16, 4, 16) differs from (1, 32, 4, 16)",
    ),
    "rshift_range": ("mul y a b rshift=40", "mul: rshift 40 is out of range (0..31)"),
    "result_sign": (
        "alloc u 1 32 4 16 uint8\nmul y u u",
        "mul: the result must be unsigned because both operands are unsigned",
    ),
    "relu_unsigned": (
        "alloc u 1 32 4 16 uint8\nalloc v 1 32 4 16 uint8\nmul v u u relu=1",
        "mul: ReLU needs a signed 8-bit result, not uint8",
    ),
    "add_needs_int16": ("add y a b", "add: unsupported types"),
    "short_address_lane": (
        "alloc w 1 64 4 16 int8\nslice ws w 35 16\nslice ys y 0 16\nmul ys ws ws",
        "mul: operand b starts on lane 3 but its 16-bit address field takes the upper lane bits",
    ),
    "const_range": ("mul y a #200", "mul: constant 200 does not fit int8"),
    "max_pool_insertion": (
        "alloc o 1 32 7 31 int8\nmax_pool ofmap=o ifmap=a kh=1 kw=1 ih=1 iw=1",
        "maxPool: max/min pooling does not support zero insertion",
    ),
    "free_twice": ("free a\nfree a", "free: address 0 is not the start of a live local-memory"),
    "tdma_shape": (
        "global g2 0 4096 1 32 4 8 int8\nload a g2",
        "load: source shape (1, 32, 4, 8) differs from destination shape",
    ),
    "tdma_convert_int16": (
        "alloc h 1 32 4 16 int16\nload h g",
        "load: cannot convert int8 to int16",
    ),
    "matmul_chain": (
        "matrix l 4 20 int8\nmatrix r 21 8 int8\nmatrix o 4 8 int8\nmatmul res=o left=l right=r",
        "matmul: shapes do not chain",
    ),
    "ps32_write_relu": (
        "conv_weight w 32 32 1 1\npsum ps 1 32 4 16\nconv ofmap=ps ifmap=a weight=w psum=write "
        "relu=1",
        "conv: a partial-sum write takes no bias, per-channel parameters, ReLU or shift",
    ),
    "g2g_no_conversion": (
        "global gb 1 0 1 32 4 16 bf16\ncopy gb g",
        "copy: global-to-global copies do not convert",
    ),
    "global_region": ("global bad 9 0 1 1 1 1 int8\nload a bad", "region 9 does not exist"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_context_error(emitter: Path, name: str) -> None:
    body, message = CASES[name]
    with pytest.raises(EmitError) as e:
        emit(PRE + body + "\n")
    assert e.value.code == 1, str(e.value)
    assert message in str(e.value), str(e.value)


@pytest.mark.parametrize(
    "body,message",
    [
        ("frobnicate a", "unknown command 'frobnicate'"),
        ("mul y a", "'mul' takes 3 arguments, got 2"),
        ("mul y a nothere", "unknown name 'nothere'"),
        ("mul y a b shift=3", "unknown option 'shift' for 'mul'"),
        ("alloc q 1 2 3 4 float32", "unknown dtype 'float32'"),
    ],
)
def test_script_error(emitter: Path, body: str, message: str) -> None:
    with pytest.raises(EmitError) as e:
        emit(PRE + body + "\n")
    assert e.value.code == 2
    assert message in str(e.value)


def test_error_reports_first_failure_line(emitter: Path) -> None:
    with pytest.raises(EmitError) as e:
        emit(PRE + "mul y a b rshift=40\nalloc big 1 32 200 200 int8\n")
    assert "rshift 40" in str(e.value) and "prog.kernel:6" in str(e.value)


def test_bank_placement(emitter: Path) -> None:
    _, stats = emit(PRE + "alloc t 1 32 4 16 int8 bank=3\nalloc u 1 32 4 16 int8 bank=3\n")
    assert stats["tensors"]["t"] == 3 * 4096
    assert stats["tensors"]["u"] == 3 * 4096 + 64

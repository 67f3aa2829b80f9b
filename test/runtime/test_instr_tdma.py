"""TDMA instruction conformance: random single-descriptor programs on the vendor simulator and on
tpuc's engine must leave byte-identical global memory.

Every case prefills a local-memory window with random bytes (so untouched bytes are defined), runs
the descriptor under test, and stores the whole window back to global memory.
"""

from __future__ import annotations

import numpy as np
import pytest
from vendor_sim import (
    GBASE,
    LANES,
    Harness,
    Program,
    f32_to_bf16_rne,
    make_harness,
    random_bf16,
    vlc_encode,
)

N_CASES = 40
MEM_SIZE = 1 << 20
SRC_AREA = 0x0  # random global data the descriptors read
DST_AREA = 0x10000  # global destination area (prefilled random)
PREFILL = 0x20000  # lane-major random bytes copied into the local window
DUMP = 0x60000  # the local window is stored here
WINDOW = 4096  # bytes per lane observed


@pytest.fixture(scope="module")
def h() -> Harness:
    return make_harness()


def random_mem(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, MEM_SIZE, dtype=np.uint8)


def prefill(p: Program) -> None:
    p.load_lanes(PREFILL, 0, WINDOW)


def dump(p: Program) -> None:
    p.store_lanes(0, DUMP, WINDOW)


def rand_shape(
    rng: np.random.Generator, max_n: int = 3, max_c: int = 70, max_h: int = 6, max_w: int = 20
) -> tuple[int, int, int, int]:
    return (
        int(rng.integers(1, max_n + 1)),
        int(rng.integers(1, max_c + 1)),
        int(rng.integers(1, max_h + 1)),
        int(rng.integers(1, max_w + 1)),
    )


def rand_local(
    rng: np.random.Generator, shape: tuple[int, int, int, int], es: int, window: int = WINDOW
) -> tuple[int, tuple[int, int, int]]:
    """A random non-overlapping local layout (address, (n, c, h) strides) inside the window."""
    n, c, h, w = shape
    for _ in range(100):
        lane = int(rng.integers(0, LANES))
        hs = w * es + int(rng.integers(0, 3)) * es
        cs = h * hs + int(rng.integers(0, 3)) * es
        if rng.random() < 0.5:
            cs = (cs + 15) // 16 * 16
        rounds = (lane + c + LANES - 1) // LANES
        ns = rounds * cs + int(rng.integers(0, 2)) * 16
        foot = (n - 1) * ns + (rounds - 1) * cs + (h - 1) * hs + w * es
        if foot <= window:
            off = int(rng.integers(0, window - foot + 1)) // es * es
            return lane * 32768 + off, (ns, cs, hs)
    raise RuntimeError("shape does not fit the window")


def rand_global(
    rng: np.random.Generator, shape: tuple[int, int, int, int], es: int
) -> tuple[int, int, int]:
    n, c, h, w = shape
    hs = w * es + int(rng.integers(0, 4)) * es
    cs = h * hs + int(rng.integers(0, 4)) * es
    ns = c * cs + int(rng.integers(0, 4)) * es
    return ns, cs, hs


def fits(
    shape: tuple[int, int, int, int], strides: tuple[int, int, int], es: int, limit: int = 0x10000
) -> bool:
    n, c, h, w = shape
    return (n - 1) * strides[0] + (c - 1) * strides[1] + (h - 1) * strides[2] + w * es <= limit


def tdma_tensor(
    p: Program,
    direction: int,
    src_addr: int,
    dst_addr: int,
    src: tuple[int, int, int, int],
    dst: tuple[int, int, int, int],
    ss: tuple[int, int, int],
    ds: tuple[int, int, int],
    src_fmt: int = 1,
    dst_fmt: int = 1,
    **kw: int,
) -> None:
    p.tdma(
        trans_dir=direction,
        src_base_addr=src_addr,
        dst_base_addr=dst_addr,
        src_n=src[0],
        src_c=src[1],
        src_h=src[2],
        src_w=src[3],
        dst_c=dst[1],
        dst_h=dst[2],
        dst_w=dst[3],
        src_n_stride=ss[0],
        src_c_stride=ss[1],
        src_h_stride=ss[2],
        dst_n_stride=ds[0],
        dst_c_stride=ds[1],
        dst_h_stride=ds[2],
        src_fmt=src_fmt,
        dst_fmt=dst_fmt,
        **kw,
    )


def with_global_shape(
    rng: np.random.Generator, es: int
) -> tuple[tuple[int, int, int, int], tuple[int, int, int]]:
    while True:
        shape = rand_shape(rng)
        gs = rand_global(rng, shape, es)
        if fits(shape, gs, es):
            return shape, gs


def bf16_memory(rng: np.random.Generator, mem: np.ndarray, start: int, count: int) -> None:
    vals = random_bf16(rng, (count,), -300.0, 300.0)
    specials = np.array(
        [
            0x0000,
            0x8000,
            0x3F00,
            0xBF00,
            0x3FC0,
            0xC020,
            0x4300,
            0xC300,
            0x42FF,
            0xC301,
            0x7F80,
            0xFF80,
            0x7FC0,
            0x0001,
        ],
        np.uint16,
    )
    idx = rng.integers(0, count, count // 8)
    vals[idx] = rng.choice(specials, idx.size)
    mem[start : start + 2 * count] = vals.view(np.uint8)


# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(N_CASES))
def test_g2l_tensor(h: Harness, seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    shape, gs = with_global_shape(rng, 1)
    laddr, ls = rand_local(rng, shape, 1)
    reg = int(rng.integers(0, 8))
    regs = [0] * 8
    regs[reg] = int(rng.integers(0, 64)) * 16
    mem = random_mem(rng)
    p = Program()
    prefill(p)
    tdma_tensor(
        p,
        0,
        GBASE + SRC_AREA,
        laddr,
        shape,
        shape,
        gs,
        ls,
        src_base_reg_sel=reg,
        int8_sign=int(rng.integers(0, 2)),
    )
    dump(p)
    h.check(p, mem, regs, f"g2l {shape} gs={gs} laddr={laddr:#x} ls={ls}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_l2g_tensor(h: Harness, seed: int) -> None:
    rng = np.random.default_rng(2000 + seed)
    shape, gs = with_global_shape(rng, 1)
    laddr, ls = rand_local(rng, shape, 1)
    reg = int(rng.integers(0, 8))
    mem = random_mem(rng)
    p = Program()
    prefill(p)
    tdma_tensor(p, 1, laddr, GBASE + DST_AREA, shape, shape, ls, gs, dst_base_reg_sel=reg)
    h.check(p, mem, None, f"l2g {shape} gs={gs} laddr={laddr:#x} ls={ls}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_l2l_tensor(h: Harness, seed: int) -> None:
    rng = np.random.default_rng(3000 + seed)
    shape = rand_shape(rng, max_c=40)
    a, sa = rand_local(rng, shape, 1, WINDOW // 2)
    b, sb = rand_local(rng, shape, 1, WINDOW // 2)
    b += WINDOW // 2
    mem = random_mem(rng)
    p = Program()
    prefill(p)
    tdma_tensor(p, 3, a, b, shape, shape, sa, sb)
    dump(p)
    h.check(p, mem, None, f"l2l {shape} {a:#x} {sa} -> {b:#x} {sb}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_g2g_tensor(h: Harness, seed: int) -> None:
    rng = np.random.default_rng(4000 + seed)
    shape, gs = with_global_shape(rng, 1)
    _, ds = with_global_shape(rng, 1)
    ds = rand_global(rng, shape, 1)
    mem = random_mem(rng)
    p = Program()
    tdma_tensor(
        p,
        2,
        GBASE + SRC_AREA,
        GBASE + DST_AREA,
        shape,
        shape,
        gs,
        ds,
        src_base_reg_sel=int(rng.integers(0, 8)),
        dst_base_reg_sel=int(rng.integers(0, 8)),
    )
    if fits(shape, ds, 1):
        h.check(p, mem, None, f"g2g {shape} {gs} -> {ds}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_reshape_transfer(h: Harness, seed: int) -> None:
    """Source and destination shapes differ but hold the same number of elements."""
    rng = np.random.default_rng(5000 + seed)
    mem = random_mem(rng)
    total_shapes = [
        ((1, 1, 32, 1), (1, 32, 1, 1)),
        ((1, 1, 1, 16), (1, 2, 1, 8)),
        ((1, 2, 1, 8), (1, 1, 1, 16)),
        ((2, 3, 4, 5), (2, 5, 2, 6)),
        ((1, 6, 1, 10), (1, 3, 4, 5)),
        ((1, 40, 2, 3), (1, 8, 5, 6)),
    ]
    src, dst = total_shapes[seed % len(total_shapes)]
    direction = [0, 1, 3][seed % 3]
    p = Program()
    prefill(p)
    if direction == 3:
        a, sa = rand_local(rng, src, 1, WINDOW // 2)
        b, sb = rand_local(rng, dst, 1, WINDOW // 2)
        if seed % 2:
            sa = (sa[0], sa[1], 0) if src[2] > 1 and src[3] == 1 else sa
        tdma_tensor(p, 3, a, b + WINDOW // 2, src, dst, sa, sb)
    elif direction == 0:
        gs = rand_global(rng, src, 1)
        b, sb = rand_local(rng, dst, 1)
        tdma_tensor(p, 0, GBASE + SRC_AREA, b, src, dst, gs, sb)
    else:
        a, sa = rand_local(rng, src, 1)
        ds = rand_global(rng, dst, 1)
        tdma_tensor(p, 1, a, GBASE + DST_AREA, src, dst, sa, ds)
    dump(p)
    h.check(p, mem, None, f"reshape dir={direction} {src} -> {dst}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_int8_to_bf16(h: Harness, seed: int) -> None:
    rng = np.random.default_rng(6000 + seed)
    mem = random_mem(rng)
    shape = rand_shape(rng, max_c=40, max_w=12)
    p = Program()
    prefill(p)
    sign = int(rng.integers(0, 2))
    if seed % 2 == 0:  # G2L int8 -> bf16
        gs = rand_global(rng, shape, 1)
        b, sb = rand_local(rng, shape, 2)
        tdma_tensor(
            p, 0, GBASE + SRC_AREA, b, shape, shape, gs, sb, src_fmt=1, dst_fmt=2, int8_sign=sign
        )
    else:  # L2L int8 -> bf16
        a, sa = rand_local(rng, shape, 1, WINDOW // 2)
        b, sb = rand_local(rng, shape, 2, WINDOW // 2)
        tdma_tensor(
            p, 3, a, b + WINDOW // 2, shape, shape, sa, sb, src_fmt=1, dst_fmt=2, int8_sign=sign
        )
    dump(p)
    h.check(p, mem, None, f"int8->bf16 {shape} sign={sign}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_bf16_to_int8(h: Harness, seed: int) -> None:
    rng = np.random.default_rng(7000 + seed)
    mem = random_mem(rng)
    shape = rand_shape(rng, max_c=40, max_w=12)
    sign, rnd = int(rng.integers(0, 2)), int(rng.integers(0, 2))
    p = Program()
    # Local window filled with bf16 values (lane-major) through the prefill source.
    bf16_memory(rng, mem, PREFILL, 32 * WINDOW // 2)
    prefill(p)
    a, sa = rand_local(rng, shape, 2, WINDOW // 2)
    if seed % 2 == 0:  # L2L bf16 -> int8
        b, sb = rand_local(rng, shape, 1, WINDOW // 2)
        tdma_tensor(
            p,
            3,
            a,
            b + WINDOW // 2,
            shape,
            shape,
            sa,
            sb,
            src_fmt=2,
            dst_fmt=1,
            int8_sign=sign,
            int8_rnd_mode=rnd,
        )
    else:  # L2G bf16 -> int8
        ds = rand_global(rng, shape, 1)
        tdma_tensor(
            p,
            1,
            a,
            GBASE + DST_AREA,
            shape,
            shape,
            sa,
            ds,
            src_fmt=2,
            dst_fmt=1,
            int8_sign=sign,
            int8_rnd_mode=rnd,
        )
    dump(p)
    h.check(p, mem, None, f"bf16->int8 {shape} sign={sign} rnd={rnd}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_bf16_tensor_copy(h: Harness, seed: int) -> None:
    rng = np.random.default_rng(8000 + seed)
    mem = random_mem(rng)
    shape, gs = with_global_shape(rng, 2)
    laddr, ls = rand_local(rng, shape, 2)
    p = Program()
    prefill(p)
    tdma_tensor(p, 0, GBASE + SRC_AREA, laddr, shape, shape, gs, ls, src_fmt=2, dst_fmt=2)
    ds = rand_global(rng, shape, 2)
    if fits(shape, ds, 2):
        tdma_tensor(p, 1, laddr, GBASE + DST_AREA, shape, shape, ls, ds, src_fmt=2, dst_fmt=2)
    dump(p)
    h.check(p, mem, None, f"bf16 g2l/l2g {shape}")


def rand_matrix_local(
    rng: np.random.Generator, rows: int, cols: int, es: int, window: int = WINDOW
) -> tuple[int, int, int, tuple[int, int, int]]:
    """(address, lane width W, channels C, (n, c, h) strides) of a local matrix."""
    w = int(rng.integers(1, min(cols, 40) + 1))
    c = (cols + w - 1) // w
    addr, st = rand_local(rng, (rows, c, 1, w), es, window)
    return addr, w, c, st


@pytest.mark.parametrize("seed", range(N_CASES))
def test_matrix_g2l_l2g(h: Harness, seed: int) -> None:
    rng = np.random.default_rng(9000 + seed)
    mem = random_mem(rng)
    es = 2 if seed % 4 == 3 else 1
    fmt = 2 if es == 2 else 1
    rows, cols = int(rng.integers(1, 20)), int(rng.integers(1, 300))
    row_stride = cols * es + int(rng.integers(0, 3)) * es
    addr, w, c, st = rand_matrix_local(rng, rows, cols, es)
    p = Program()
    prefill(p)
    if seed % 2 == 0:
        p.tdma(
            trans_dir=0,
            sys_dtype=1,
            src_base_addr=GBASE + SRC_AREA,
            dst_base_addr=addr,
            src_n=rows,
            src_c=rows,
            src_h=1,
            src_w=cols,
            src_c_stride=row_stride,
            dst_c=c,
            dst_h=1,
            dst_w=w,
            dst_n_stride=st[0],
            dst_c_stride=st[1],
            dst_h_stride=st[2],
            src_fmt=fmt,
            dst_fmt=fmt,
            int8_sign=1,
        )
    else:
        p.tdma(
            trans_dir=1,
            sys_dtype=1,
            src_base_addr=addr,
            dst_base_addr=GBASE + DST_AREA,
            src_n=rows,
            src_c=c,
            src_h=1,
            src_w=w,
            src_n_stride=st[0],
            src_c_stride=st[1],
            src_h_stride=st[2],
            dst_c=rows,
            dst_h=1,
            dst_w=cols,
            dst_c_stride=row_stride,
            src_fmt=fmt,
            dst_fmt=fmt,
            int8_sign=1,
        )
    dump(p)
    h.check(p, mem, None, f"matrix dir={seed % 2} rows={rows} cols={cols} w={w} c={c} es={es}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_constant_fill(h: Harness, seed: int) -> None:
    rng = np.random.default_rng(10000 + seed)
    mem = random_mem(rng)
    es = 1 + seed % 2
    shape = rand_shape(rng, max_c=40)
    value = int(rng.integers(0, 256 if es == 1 else 65536))
    p = Program()
    prefill(p)
    if seed % 4 < 2:
        addr, st = rand_local(rng, shape, es)
        p.tdma(
            trans_dir=0,
            spec_func=4,
            const_val=value,
            dst_base_addr=addr,
            src_n=shape[0],
            src_c=shape[1],
            src_h=shape[2],
            src_w=shape[3],
            dst_c=shape[1],
            dst_h=shape[2],
            dst_w=shape[3],
            dst_n_stride=st[0],
            dst_c_stride=st[1],
            dst_h_stride=st[2],
            dst_fmt=es,
            src_fmt=es,
        )
    else:
        ds = rand_global(rng, shape, es)
        p.tdma(
            trans_dir=1,
            spec_func=4,
            const_val=value,
            dst_base_addr=GBASE + DST_AREA,
            src_n=shape[0],
            src_c=shape[1],
            src_h=shape[2],
            src_w=shape[3],
            dst_c=shape[1],
            dst_h=shape[2],
            dst_w=shape[3],
            dst_n_stride=ds[0],
            dst_c_stride=ds[1],
            dst_h_stride=ds[2],
            dst_fmt=es,
            src_fmt=es,
            dst_base_reg_sel=int(rng.integers(0, 8)),
        )
    dump(p)
    h.check(p, mem, None, f"fill {shape} es={es} value={value:#x}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_general_copy(h: Harness, seed: int) -> None:
    rng = np.random.default_rng(11000 + seed)
    mem = random_mem(rng)
    count = int(rng.integers(1, 5000))
    p = Program()
    src = int(rng.integers(0, 0x8000))
    dst = int(rng.integers(0, 0x8000))
    p.tdma(
        trans_dir=2,
        trans_fmt=1,
        src_base_addr=GBASE + SRC_AREA + src,
        dst_base_addr=GBASE + DST_AREA + dst,
        src_n_stride=count,
    )
    h.check(p, mem, None, f"g2g general copy {count} bytes")


def test_bf16_special_values_roundtrip(h: Harness) -> None:
    """bf16 -> int8 conversion of every bf16 pattern, both signs and both rounding modes."""
    rng = np.random.default_rng(12)
    mem = random_mem(rng)
    allv = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    mem[PREFILL : PREFILL + allv.size * 2] = allv.view(np.uint8)
    for sign in (0, 1):
        for rnd in (0, 1):
            p = Program()
            # 65536 values = 32 lanes x 2048 values
            shape = (1, 32, 1, 2048)
            tdma_tensor(
                p,
                0,
                GBASE + PREFILL,
                0,
                shape,
                shape,
                (65536 * 2, 4096, 4096),
                (4096, 4096, 4096),
                src_fmt=2,
                dst_fmt=2,
            )
            tdma_tensor(
                p,
                1,
                0,
                GBASE + DST_AREA,
                shape,
                shape,
                (4096, 4096, 4096),
                (65536, 2048, 2048),
                src_fmt=2,
                dst_fmt=1,
                int8_sign=sign,
                int8_rnd_mode=rnd,
            )
            h.check(p, mem, None, f"bf16->int8 all patterns sign={sign} rnd={rnd}")


def test_bf16_rounding_reference() -> None:
    """Host-side check of the bf16 helper used by the generators."""
    x = np.array([1.0, 1.00390625, 1.01171875, -2.5], np.float32)
    assert list(f32_to_bf16_rne(x)) == [0x3F80, 0x3F80, 0x3F82, 0xC020]


@pytest.mark.parametrize("seed", range(N_CASES))
def test_lut_index_and_base_moves(h: Harness, seed: int) -> None:
    """bf16 local-to-local moves with mv_lut_idx (exponent index) or mv_lut_base."""
    rng = np.random.default_rng(13000 + seed)
    mem = random_mem(rng)
    idx = seed % 2 == 0
    count = 32 * WINDOW // 2
    lo = 0.0 if idx else -300.0
    vals = random_bf16(rng, (count,), lo, 300.0)
    special = np.array([0x0000, 0x0001, 0x0080, 0x7F80, 0x3F80, 0x2000, 0x7F7F], np.uint16)
    if not idx:
        special = np.concatenate([special, [0x8000, 0xFF80, 0x8001, 0xBF80]]).astype(np.uint16)
    pick = rng.integers(0, count, count // 16)
    vals[pick] = rng.choice(special, pick.size)
    mem[PREFILL : PREFILL + 2 * count] = vals.view(np.uint8)
    shape = rand_shape(rng, max_c=40, max_w=12)
    a, sa = rand_local(rng, shape, 2, WINDOW // 2)
    b, sb = rand_local(rng, shape, 2, WINDOW // 2)
    p = Program()
    prefill(p)
    tdma_tensor(
        p,
        3,
        a,
        b + WINDOW // 2,
        shape,
        shape,
        sa,
        sb,
        src_fmt=2,
        dst_fmt=2,
        mv_lut_idx=int(idx),
        mv_lut_base=int(not idx),
    )
    dump(p)
    h.check(p, mem, None, f"{'mv_lut_idx' if idx else 'mv_lut_base'} {shape}")


# ----------------------------------------------------------------------------------------------
# Transposes and special functions (spec_func = 1), general copies
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(N_CASES))
def test_nc_transpose(h: Harness, seed: int) -> None:
    """Global (n, c, h, w) <-> local (c, n, h, w)."""
    rng = np.random.default_rng(14000 + seed)
    mem = random_mem(rng)
    n, c, hh, w = (
        int(rng.integers(1, 33)),
        int(rng.integers(1, 5)),
        int(rng.integers(1, 4)),
        int(rng.integers(1, 9)),
    )
    es = 1 + int(seed % 4 == 3)
    fmt = 2 if es == 2 else 1
    gshape = (n, c, hh, w)
    gs = rand_global(rng, gshape, es)
    lshape = (c, n, hh, w)  # local tensor: n = global c, c = global n
    laddr, ls = rand_local(rng, lshape, es)
    p = Program()
    prefill(p)
    if seed % 2 == 0:
        p.tdma(
            trans_dir=0,
            spec_func=1,
            transpose_md=0,
            src_base_addr=GBASE + SRC_AREA,
            dst_base_addr=laddr,
            src_n=n,
            src_c=c,
            src_h=hh,
            src_w=w,
            dst_c=n,
            dst_h=hh,
            dst_w=w,
            src_n_stride=gs[0],
            src_c_stride=gs[1],
            src_h_stride=gs[2],
            dst_n_stride=ls[0],
            dst_c_stride=ls[1],
            dst_h_stride=ls[2],
            src_fmt=fmt,
            dst_fmt=fmt,
        )
    else:
        p.tdma(
            trans_dir=1,
            spec_func=1,
            transpose_md=0,
            src_base_addr=laddr,
            dst_base_addr=GBASE + DST_AREA,
            src_n=c,
            src_c=n,
            src_h=hh,
            src_w=w,
            dst_c=c,
            dst_h=hh,
            dst_w=w,
            src_n_stride=ls[0],
            src_c_stride=ls[1],
            src_h_stride=ls[2],
            dst_n_stride=gs[0],
            dst_c_stride=gs[1],
            dst_h_stride=gs[2],
            src_fmt=fmt,
            dst_fmt=fmt,
        )
    dump(p)
    h.check(p, mem, None, f"n/c transpose dir={seed % 2} global={gshape} es={es}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_cw_transpose_store(h: Harness, seed: int) -> None:
    """Local (n, c, h, w) -> global (n, w, h, c), 8-bit data."""
    rng = np.random.default_rng(15000 + seed)
    mem = random_mem(rng)
    shape = rand_shape(rng, max_n=2, max_c=40, max_h=4, max_w=12)
    n, c, hh, w = shape
    laddr, ls = rand_local(rng, shape, 1)
    gshape = (n, w, hh, c)
    gs = rand_global(rng, gshape, 1)
    p = Program()
    prefill(p)
    p.tdma(
        trans_dir=1,
        spec_func=1,
        transpose_md=3,
        src_base_addr=laddr,
        dst_base_addr=GBASE + DST_AREA,
        src_n=n,
        src_c=c,
        src_h=hh,
        src_w=w,
        dst_c=w,
        dst_h=hh,
        dst_w=c,
        src_n_stride=ls[0],
        src_c_stride=ls[1],
        src_h_stride=ls[2],
        dst_n_stride=gs[0],
        dst_c_stride=gs[1],
        dst_h_stride=gs[2],
    )
    h.check(p, mem, None, f"c/w transpose local={shape}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_chw_rotation_load(h: Harness, seed: int) -> None:
    """Global HWC-packed image (C = 3 or 4) -> local CHW."""
    rng = np.random.default_rng(16000 + seed)
    mem = random_mem(rng)
    c = 3 + seed % 2
    n, hh, w = int(rng.integers(1, 3)), int(rng.integers(1, 8)), int(rng.integers(1, 24))
    shape = (n, c, hh, w)
    lane = int(rng.integers(0, LANES - c + 1))
    cs = (hh * w + 15) // 16 * 16
    off = int(rng.integers(0, (WINDOW - n * cs) // 16)) * 16 if n * cs < WINDOW else 0
    p = Program()
    prefill(p)
    p.tdma(
        trans_dir=0,
        spec_func=1,
        transpose_md=1 if c == 3 else 2,
        src_base_addr=GBASE + SRC_AREA,
        dst_base_addr=lane * 32768 + off,
        src_n=n,
        src_c=c,
        src_h=hh,
        src_w=w,
        dst_c=c,
        dst_h=hh,
        dst_w=w,
        src_n_stride=hh * w * c,
        src_c_stride=1,
        src_h_stride=w * c,
        dst_n_stride=cs,
        dst_c_stride=cs,
        dst_h_stride=w,
    )
    dump(p)
    h.check(p, mem, None, f"chw rotation shape={shape}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_matrix_transpose_load(h: Harness, seed: int) -> None:
    """Global rows x cols -> local matrix with cols rows."""
    rng = np.random.default_rng(17000 + seed)
    mem = random_mem(rng)
    rows, cols = int(rng.integers(1, 60)), int(rng.integers(1, 33))
    row_stride = cols + int(rng.integers(0, 3))
    # The vendor requires 16-aligned destination, n and c strides, and h stride = w.
    w = int(rng.integers(1, min(rows, 40) + 1))
    c = (rows + w - 1) // w
    lane = int(rng.integers(0, LANES))
    cs = (w + 15) // 16 * 16 + 16 * int(rng.integers(0, 2))
    ns = (((lane + c + LANES - 1) // LANES) * cs + 15) // 16 * 16
    st = (ns, cs, w)
    foot = (cols - 1) * ns + ((lane + c - 1) // LANES) * cs + w
    addr = lane * 32768 + int(rng.integers(0, max(1, (WINDOW - foot) // 16))) * 16
    p = Program()
    prefill(p)
    p.tdma(
        trans_dir=0,
        sys_dtype=1,
        spec_func=1,
        transpose_md=0,
        src_base_addr=GBASE + SRC_AREA,
        dst_base_addr=addr,
        src_n=rows,
        src_c=rows,
        src_h=1,
        src_w=cols,
        src_c_stride=row_stride,
        dst_c=c,
        dst_h=1,
        dst_w=w,
        dst_n_stride=st[0],
        dst_c_stride=st[1],
        dst_h_stride=st[2],
    )
    dump(p)
    h.check(p, mem, None, f"matrix transpose rows={rows} cols={cols} w={w}")


@pytest.mark.parametrize("seed", range(N_CASES))
def test_general_copy_local(h: Harness, seed: int) -> None:
    """Flat byte copies between global and local memory (trans_fmt = 1)."""
    rng = np.random.default_rng(18000 + seed)
    mem = random_mem(rng)
    count = int(rng.integers(1, 3000))
    laddr = int(rng.integers(0, LANES)) * 32768 + int(rng.integers(0, WINDOW - 3000))
    p = Program()
    prefill(p)
    if seed % 2 == 0:
        p.tdma(
            trans_dir=0,
            trans_fmt=1,
            src_base_addr=GBASE + SRC_AREA,
            dst_base_addr=laddr,
            src_n_stride=count,
        )
    else:
        p.tdma(
            trans_dir=1,
            trans_fmt=1,
            src_base_addr=laddr,
            dst_base_addr=GBASE + DST_AREA,
            src_n_stride=count,
        )
    dump(p)
    h.check(p, mem, None, f"general copy dir={seed % 2} {count} bytes at {laddr:#x}")


# ----------------------------------------------------------------------------------------------
# Compressed transfers (compress_en)
# ----------------------------------------------------------------------------------------------
def compressible(rng: np.random.Generator, count: int, bf16: bool) -> np.ndarray:
    if bf16:
        vals = random_bf16(rng, (count,), -2, 2)
        vals[rng.random(count) < 0.2] = 0
        return vals.view(np.uint8)
    vals = np.round(rng.normal(0, 6, count)).clip(-128, 127).astype(np.int8)
    big = rng.random(count) < 0.03
    vals[big] = rng.integers(-128, 128, int(big.sum())).astype(np.int8)
    return vals.view(np.uint8)


@pytest.mark.parametrize("seed", range(N_CASES))
def test_decompress_load(h: Harness, seed: int) -> None:
    rng = np.random.default_rng(19000 + seed)
    mem = random_mem(rng)
    bf16 = seed % 3 == 2
    es = 2 if bf16 else 1
    fmt = 2 if bf16 else 1
    matrix = seed % 2 == 1 and not bf16
    p = Program()
    prefill(p)
    if matrix:
        rows, cols = int(rng.integers(1, 30)), int(rng.integers(1, 200))
        data = compressible(rng, rows * cols, False)
        signed = bool(rng.integers(0, 2))
        enc = vlc_encode(
            data.tobytes(),
            signed=signed,
            bias0=int(rng.integers(0, 3)) if signed else 0,
            bias1=int(rng.integers(0, 3)) if signed else 0,
        )
        mem[SRC_AREA : SRC_AREA + len(enc)] = np.frombuffer(enc, np.uint8)
        addr, w, c, st = rand_matrix_local(rng, rows, cols, 1)
        p.tdma(
            trans_dir=0,
            sys_dtype=1,
            compress_en=1,
            cmprs_fmt=int(signed),
            src_base_addr=GBASE + SRC_AREA,
            dst_base_addr=addr,
            src_n=rows,
            src_c=rows,
            src_h=1,
            src_w=cols,
            src_c_stride=cols,
            dst_c=c,
            dst_h=1,
            dst_w=w,
            dst_n_stride=st[0],
            dst_c_stride=st[1],
            dst_h_stride=st[2],
            int8_sign=1,
        )
        what = f"decompress matrix {rows}x{cols} signed={signed}"
    else:
        shape = rand_shape(rng, max_c=40, max_w=16)
        n, c, hh, w = shape
        data = compressible(rng, n * c * hh * w, bf16)
        signed = not bf16 and bool(rng.integers(0, 2))
        zg = bf16 and bool(rng.integers(0, 2))
        enc = vlc_encode(
            data.tobytes(), signed=signed, bf16=bf16, bias0=127 if bf16 else 0, zero_guard=zg
        )
        mem[SRC_AREA : SRC_AREA + len(enc)] = np.frombuffer(enc, np.uint8)
        laddr, ls = rand_local(rng, shape, es)
        tdma_tensor(
            p,
            0,
            GBASE + SRC_AREA,
            laddr,
            shape,
            shape,
            (c * hh * w * es, hh * w * es, w * es),
            ls,
            src_fmt=fmt,
            dst_fmt=fmt,
            compress_en=1,
            cmprs_fmt=int(signed),
            compress_zero_guard=int(zg),
        )
        what = f"decompress tensor {shape} bf16={bf16} signed={signed} zg={zg}"
    dump(p)
    h.check(p, mem, None, what)


def test_vlc_encoder_roundtrip_through_vendor(h: Harness) -> None:
    """The test encoder's output decompresses on the vendor simulator to the original data."""
    rng = np.random.default_rng(20)
    mem = random_mem(rng)
    data = compressible(rng, 32 * 64, False)
    enc = vlc_encode(data.tobytes(), signed=True, bias0=1, bias1=2)
    mem[SRC_AREA : SRC_AREA + len(enc)] = np.frombuffer(enc, np.uint8)
    p = Program()
    shape = (1, 32, 1, 64)
    tdma_tensor(
        p,
        0,
        GBASE + SRC_AREA,
        0,
        shape,
        shape,
        (2048, 64, 64),
        (64, 64, 64),
        compress_en=1,
        cmprs_fmt=1,
    )
    p.store_lanes(0, DUMP, 64)
    out = h.vendor.run(p.to_bytes(), mem, [0] * 8)
    assert np.array_equal(out[DUMP : DUMP + data.size], data)


@pytest.mark.parametrize("seed", range(N_CASES))
def test_compress_store(h: Harness, seed: int) -> None:
    rng = np.random.default_rng(21000 + seed)
    mem = random_mem(rng)
    bf16 = seed % 3 == 2
    es, fmt = (2, 2) if bf16 else (1, 1)
    n, c, hh, w = shape = rand_shape(rng, max_c=40, max_w=16)
    # Local window filled with compressible data.
    mem[PREFILL : PREFILL + 32 * WINDOW] = compressible(rng, 32 * WINDOW // es, bf16)
    laddr, ls = rand_local(rng, shape, es)
    signed = not bf16 and bool(rng.integers(0, 2))
    zg = bf16 and bool(rng.integers(0, 2))
    p = Program()
    prefill(p)
    tdma_tensor(
        p,
        1,
        laddr,
        GBASE + DST_AREA,
        shape,
        shape,
        ls,
        (c * hh * w * es, hh * w * es, w * es),
        src_fmt=fmt,
        dst_fmt=fmt,
        compress_en=1,
        cmprs_fmt=int(signed),
        compress_bias0=127 if bf16 else 0,
        compress_bias1=0,
        compress_zero_guard=int(zg),
    )
    h.check(p, mem, None, f"compress store {shape} bf16={bf16} signed={signed} zg={zg}")

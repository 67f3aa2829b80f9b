"""TIU instruction conformance: random single-descriptor programs of every TIU family on the vendor
simulator and on tpuc's engine must leave byte-identical global memory.

Each case fills a local-memory window with random bytes (operands live inside it; parameters such
as QDM records or LUT tables are written to controlled values), runs one TIU descriptor, and stores
the whole window back.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import pytest
from vendor_sim import LANES, Harness, Program, align, f32_to_bf16_rne, make_harness

N_CASES = 60
WINDOW = 8192  # bytes per lane observed
PREFILL = 0x0  # lane-major image of the local window
DUMP = 32 * WINDOW  # the window is stored here after the descriptor
MEM_SIZE = 2 * DUMP


@pytest.fixture(scope="module")
def h() -> Harness:
    return make_harness()


class Window:
    """Random local-memory window plus a per-lane bump allocator."""

    def __init__(self, rng: np.random.Generator, bf16_fill: bool = False):
        self.rng = rng
        self.mem = rng.integers(0, 256, MEM_SIZE, dtype=np.uint8)
        if bf16_fill:
            vals = f32_to_bf16_rne(rng.uniform(-8, 8, 32 * WINDOW // 2).astype(np.float32))
            self.mem[PREFILL : PREFILL + 32 * WINDOW] = vals.view(np.uint8)
        self.next = int(rng.integers(0, 4)) * 16

    def alloc(self, per_lane: int, align_to: int = 16) -> int:
        off = align(self.next, align_to)
        self.next = off + per_lane + int(self.rng.integers(0, 3)) * 16
        if self.next > WINDOW:
            raise OverflowError("window full")
        return off

    def put(self, lane: int, offset: int, data: bytes | np.ndarray) -> None:
        b = np.frombuffer(bytes(data), np.uint8) if not isinstance(data, np.ndarray) else data
        start = PREFILL + lane * WINDOW + offset
        self.mem[start : start + b.size] = b.view(np.uint8).ravel()

    def program(self) -> Program:
        p = Program()
        p.load_lanes(PREFILL, 0, WINDOW)
        return p

    def finish(self, p: Program) -> None:
        p.store_lanes(0, DUMP, WINDOW)


def lane_addr(lane: int, offset: int) -> int:
    return lane * 32768 + offset


def short_addr_lane(res_lane: int, lane: int) -> int:
    """Effective start lane of a 16-bit operand address (opd1/opd2): the address bits above 16
    come from res0_addr."""
    return (res_lane & ~1) + lane


def default_strides(
    shape: tuple[int, int, int, int], es: int = 1, lane: int = 0
) -> tuple[int, int, int, int]:
    """Stride mode 0: EU-aligned channel stride, n stride over the channel rounds from `lane`."""
    n, c, hh, w = shape
    cs = align(hh * w * es, 16)
    return cs * ((lane + c + LANES - 1) // LANES), cs, w * es, es


def footprint(
    shape: tuple[int, int, int, int],
    strides: tuple[int, int, int, int],
    lane: int,
    es: int = 1,
    planes: int = 1,
    bstr: int = 0,
) -> int:
    n, c, hh, w = shape
    rounds = (lane + c + LANES - 1) // LANES
    return (
        (n - 1) * strides[0]
        + (rounds - 1) * strides[1]
        + (hh - 1) * strides[2]
        + (w - 1) * strides[3]
        + es
        + (planes - 1) * bstr
    )


def explicit_strides(
    rng: np.random.Generator, shape: tuple[int, int, int, int], lane: int, es: int = 1
) -> tuple[int, int, int, int]:
    n, c, hh, w = shape
    ws = es * int(rng.choice([1, 1, 1, 2]))
    hs = w * ws + es * int(rng.integers(0, 3))
    cs = hh * hs + es * int(rng.integers(0, 3))
    if rng.random() < 0.5:
        cs = align(cs, 16)
    rounds = (lane + c + LANES - 1) // LANES
    ns = align(rounds * cs, 16) + 16 * int(rng.integers(0, 2))
    return ns, cs, hs, ws


def opd_fields(
    prefix: str, shape: tuple[int, int, int, int], strides: tuple[int, int, int, int] | None = None
) -> dict[str, int]:
    d = {f"{prefix}_{k}": v for k, v in zip("nchw", shape, strict=True)}
    if strides is not None:
        d.update({f"{prefix}_{k}_str": v for k, v in zip("nchw", strides, strict=True)})
    return d


# ----------------------------------------------------------------------------------------------
# Convolution
# ----------------------------------------------------------------------------------------------
@dataclass
class ConvGeom:
    n: int
    ic: int
    ih: int
    iw: int
    oc: int
    kh: int
    kw: int
    sy: int
    sx: int
    dy: int
    dx: int
    pads: tuple[int, int, int, int]
    ins: tuple[int, int, int, int]  # x, y, x_last, y_last

    def out_hw(self) -> tuple[int, int]:
        hu, hd, wl, wr = self.pads
        xi, yi, xl, yl = self.ins
        hext = hu + (self.ih - 1) * (yi + 1) + 1 + yl + hd
        wext = wl + (self.iw - 1) * (xi + 1) + 1 + xl + wr
        return (
            (hext - ((self.kh - 1) * self.dy + 1)) // self.sy + 1,
            (wext - ((self.kw - 1) * self.dx + 1)) // self.sx + 1,
        )

    def fields(self) -> dict[str, int]:
        hu, hd, wl, wr = self.pads
        xi, yi, xl, yl = self.ins
        return dict(
            conv_opd0_up_pad=hu,
            conv_opd0_dn_pad=hd,
            conv_opd0_lf_pad=wl,
            conv_opd0_rt_pad=wr,
            conv_opd0_x_ins0=xi,
            conv_opd0_y_ins0=yi,
            conv_opd0_x_ins0_last=xl,
            conv_opd0_y_ins0_last=yl,
            conv_op_x_str=self.sx,
            conv_op_y_str=self.sy,
            conv_opd1_x_ins0=self.dx - 1,
            conv_opd1_y_ins0=self.dy - 1,
            opd1_h=self.kh,
            opd1_w=self.kw,
        )


def rand_geom(
    rng: np.random.Generator, depthwise: bool = False, max_c: int = 40, insert: bool = True
) -> ConvGeom:
    while True:
        ic = int(rng.integers(1, max_c + 1))
        g = ConvGeom(
            n=int(rng.integers(1, 3)),
            ic=ic,
            ih=int(rng.integers(1, 11)),
            iw=int(rng.integers(1, 13)),
            oc=ic if depthwise else int(rng.integers(1, 41)),
            kh=int(rng.integers(1, 5)),
            kw=int(rng.integers(1, 5)),
            sy=int(rng.integers(1, 4)),
            sx=int(rng.integers(1, 4)),
            dy=int(rng.integers(1, 4)),
            dx=int(rng.integers(1, 4)),
            pads=tuple(int(x) for x in rng.integers(0, 4, 4)),  # type: ignore[arg-type]
            ins=(0, 0, 0, 0),
        )
        if insert and rng.random() < 0.3:
            g.ins = tuple(int(x) for x in rng.integers(0, 3, 4))  # type: ignore[assignment]
        oh, ow = g.out_hw()
        if oh >= 1 and ow >= 1 and oh * ow <= 400:
            return g


def qdm_records(rng: np.random.Generator, channels: int) -> list[bytes]:
    out = []
    for _ in range(channels):
        bias = int(rng.integers(-40000, 40000))
        mult = int(rng.integers(1 << 30, 1 << 31))
        shift = int(rng.integers(0, 16))
        out.append(struct.pack("<iIB", bias, mult, shift))
    return out


def put_per_channel(win: Window, lane0: int, offset: int, records: list[bytes]) -> None:
    """Stride mode 2 layout: record c on lane (lane0 + c) % 32, per-lane offset
    offset + (lane0 + c) // 32 * size."""
    size = len(records[0])
    for c, rec in enumerate(records):
        lane = (lane0 + c) % LANES
        win.put(lane, offset + (lane0 + c) // LANES * size, rec)


def put_bias16(win: Window, lane0: int, offset: int, bias: np.ndarray, bstr: int) -> None:
    u = bias.astype(np.int16).view(np.uint16)
    for c, v in enumerate(u):
        lane = (lane0 + c) % LANES
        off = offset + (lane0 + c) // LANES
        win.put(lane, off, bytes([int(v) & 0xFF]))
        win.put(lane, off + bstr, bytes([int(v) >> 8]))


def conv_case(rng: np.random.Generator, qdm: bool) -> tuple[Window, Program, str]:
    win = Window(rng)
    g = rand_geom(rng)
    oh, ow = g.out_hw()
    in_lane = int(rng.integers(0, LANES))
    out_lane = int(rng.integers(0, LANES))
    in_shape = (g.n, g.ic, g.ih, g.iw)
    in_str = default_strides(in_shape, 1, in_lane)
    in_off = win.alloc(footprint(in_shape, in_str, in_lane))
    k = g.kh * g.kw * g.ic
    w_lane = int(rng.integers(0, 2))
    w_eff = short_addr_lane(out_lane, w_lane)
    w_off = win.alloc(k * ((w_eff + g.oc + LANES - 1) // LANES))
    out_shape = (g.n, g.oc, oh, ow)
    out_str = explicit_strides(rng, out_shape, out_lane)
    out_off = win.alloc(footprint(out_shape, out_str, out_lane))
    has_bias = bool(rng.integers(0, 2))
    relu = int(rng.integers(0, 2))
    f = dict(
        tsk_typ=0,
        opt_relu=relu,
        opt_res0_sign=1,
        opt_opd0_sign=int(rng.integers(0, 2)),
        opt_opd1_sign=1,
        short_opd0_str=0,
        short_opd1_str=1,
        short_opd2_str=2,
        short_res0_str=3,
        res0_addr=lane_addr(out_lane, out_off),
        opd0_addr=lane_addr(in_lane, in_off),
        opd1_addr=lane_addr(w_lane, w_off),
        opd1_n=g.ic,
        opd1_c=g.oc,
        opd0_ins_val=int(rng.integers(0, 256)) if g.ins[0] or g.ins[1] else 0,
        double_conv=int(g.ic % 2 == 0 and g.ic >= 4 and rng.random() < 0.5),
        **opd_fields("opd0", in_shape),
        **opd_fields("res0", out_shape, out_str),
        **g.fields(),
    )
    p_lane = int(rng.integers(0, 2))
    p_eff = short_addr_lane(out_lane, p_lane)
    if qdm:
        size = 9 if has_bias else 5
        p_off = win.alloc(size * ((p_eff + g.oc + LANES - 1) // LANES))
        put_per_channel(win, p_eff, p_off, [r[9 - size :] for r in qdm_records(rng, g.oc)])
        f.update(
            opt_chl_quan=1,
            opt_right_shift=0,
            opt_opd2_int8=1,
            opd2_b_str=0,
            tsk_opd_num=3 if has_bias else 2,
            opd2_addr=lane_addr(p_lane, p_off),
            opd2_c=g.oc,
            opd2_h=1,
            opd2_w=1,
            opt_opd2_sign=1,
        )
    else:
        rshift = int(rng.integers(0, 14))
        f.update(opt_right_shift=rshift, tsk_opd_num=3 if has_bias else 2)
        if has_bias:
            nb = (g.oc + LANES - 1) // LANES
            p_off = win.alloc(2 * nb + 1)
            put_bias16(win, p_eff, p_off, rng.integers(-30000, 30000, g.oc), nb)
            f.update(
                opd2_addr=lane_addr(p_lane, p_off),
                opt_opd2_int8=0,
                opd2_b_str=nb,
                opd2_c=g.oc,
                opd2_h=1,
                opd2_w=1,
                opt_opd2_sign=1,
            )
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"conv {g} qdm={qdm} bias={has_bias} relu={relu}"


@pytest.mark.parametrize("seed", range(N_CASES))
def test_conv_qdm(h: Harness, seed: int) -> None:
    win, p, what = conv_case(np.random.default_rng(100 + seed), qdm=True)
    h.check(p, win.mem, None, what)


@pytest.mark.parametrize("seed", range(N_CASES))
def test_conv_per_tensor(h: Harness, seed: int) -> None:
    win, p, what = conv_case(np.random.default_rng(200 + seed), qdm=False)
    h.check(p, win.mem, None, what)


# ----------------------------------------------------------------------------------------------
# Depthwise convolution and pooling (tsk_typ 1)
# ----------------------------------------------------------------------------------------------
def window_case(rng: np.random.Generator, kind: str) -> tuple[Window, Program, str]:
    """kind: depthwise_qdm, depthwise_pt, max, avg."""
    win = Window(rng)
    g = rand_geom(rng, depthwise=True, max_c=70, insert=kind != "max")
    if kind in ("max", "avg"):
        g.dy = g.dx = 1
    oh, ow = g.out_hw()
    in_lane, out_lane = int(rng.integers(0, LANES)), int(rng.integers(0, LANES))
    in_shape, out_shape = (g.n, g.ic, g.ih, g.iw), (g.n, g.ic, oh, ow)
    explicit = kind.startswith("depthwise")
    in_str = (
        explicit_strides(rng, in_shape, in_lane)
        if explicit
        else default_strides(in_shape, 1, in_lane)
    )
    out_str = (
        explicit_strides(rng, out_shape, out_lane)
        if explicit
        else default_strides(out_shape, 1, out_lane)
    )
    in_off = win.alloc(footprint(in_shape, in_str, in_lane))
    out_off = win.alloc(footprint(out_shape, out_str, out_lane))
    sign = int(rng.integers(0, 2))
    f = dict(
        tsk_typ=1,
        opt_relu=0,
        opt_right_shift=0,
        opt_shift_typ=sign,
        opd0_addr=lane_addr(in_lane, in_off),
        res0_addr=lane_addr(out_lane, out_off),
        opt_opd0_sign=sign,
        opt_res0_sign=sign,
        short_opd0_str=3 if explicit else 0,
        short_res0_str=3 if explicit else 0,
        opd0_ins_val=int(rng.integers(0, 256)),
        **opd_fields("opd0", in_shape, in_str if explicit else None),
        **opd_fields("res0", out_shape, out_str if explicit else None),
        **g.fields(),
    )
    if kind == "max":
        f.update(tsk_eu_typ=0, tsk_opd_num=1)
    elif kind == "avg":
        f.update(
            tsk_eu_typ=1,
            tsk_opd_num=2,
            opt_opd1_const=1,
            opd1_addr=int(rng.integers(0, 256)),
            opt_opd1_sign=0,
            opt_right_shift=int(rng.integers(0, 14)),
        )
    else:
        has_bias = bool(rng.integers(0, 2))
        w_lane = int(rng.integers(0, 2))
        w_eff = short_addr_lane(out_lane, w_lane)
        w_shape = (1, g.ic, g.kh, g.kw)
        w_str = default_strides(w_shape, 1, w_eff)
        w_off = win.alloc(footprint(w_shape, w_str, w_eff))
        f.update(
            tsk_eu_typ=2,
            opt_shift_typ=1,
            opt_res0_sign=1,
            opt_opd1_sign=1,
            opt_relu=int(rng.integers(0, 2)),
            opd1_addr=lane_addr(w_lane, w_off),
            opd1_n=1,
            opd1_c=g.ic,
            short_opd1_str=0,
            short_opd2_str=2,
            tsk_opd_num=3 if has_bias else 2,
        )
        if rng.random() < 0.15:
            f.update(opt_opd1_const=1, opd1_addr=int(rng.integers(0, 256)))
        p_lane = int(rng.integers(0, 2))
        p_eff = short_addr_lane(out_lane, p_lane)
        if kind == "depthwise_qdm":
            size = 9 if has_bias else 5
            p_off = win.alloc(size * ((p_eff + g.ic + LANES - 1) // LANES))
            put_per_channel(win, p_eff, p_off, [r[9 - size :] for r in qdm_records(rng, g.ic)])
            f.update(
                opt_chl_quan=1,
                opd2_addr=lane_addr(p_lane, p_off),
                opt_opd2_int8=1,
                opd2_c=g.ic,
                opd2_h=1,
                opd2_w=1,
            )
        else:
            f.update(opt_right_shift=int(rng.integers(0, 14)))
            if has_bias:
                nb = (g.ic + LANES - 1) // LANES
                p_off = win.alloc(2 * nb + 1)
                put_bias16(win, p_eff, p_off, rng.integers(-30000, 30000, g.ic), nb)
                f.update(
                    opd2_addr=lane_addr(p_lane, p_off),
                    opt_opd2_int8=0,
                    opd2_b_str=nb,
                    opd2_c=g.ic,
                    opd2_h=1,
                    opd2_w=1,
                )
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"{kind} {g} sign={sign}"


@pytest.mark.parametrize("kind", ["depthwise_qdm", "depthwise_pt", "max", "avg"])
@pytest.mark.parametrize("seed", range(N_CASES))
def test_window_ops(h: Harness, kind: str, seed: int) -> None:
    win, p, what = window_case(np.random.default_rng(300 + seed), kind)
    h.check(p, win.mem, None, what)


# ----------------------------------------------------------------------------------------------
# Matrix multiplication (tsk_typ 2)
# ----------------------------------------------------------------------------------------------
def matmul_case(rng: np.random.Generator, qm: bool) -> tuple[Window, Program, str]:
    win = Window(rng)
    rows, k = int(rng.integers(1, 9)), int(rng.integers(1, 120))
    rc, rw = int(rng.integers(1, 10)), int(rng.integers(1, 17))
    lw = int(rng.integers(1, 17))
    lc = (k + lw - 1) // lw
    res_lane, left_lane = int(rng.integers(0, LANES)), int(rng.integers(0, LANES))
    left = (rows, lc, 1, lw)
    left_str = default_strides(left, 1, left_lane)
    left_off = win.alloc(footprint(left, left_str, left_lane))
    r_lane = int(rng.integers(0, 2))
    r_eff = short_addr_lane(res_lane, r_lane)
    right = (k, rc, 1, rw)
    right_str = default_strides(right, 1, r_eff)
    right_off = win.alloc(footprint(right, right_str, r_eff))
    res = (rows, rc, 1, rw)
    res_str = default_strides(res, 1, res_lane)
    res_off = win.alloc(footprint(res, res_str, res_lane))
    has_bias = bool(rng.integers(0, 2))
    s0, s1 = int(rng.integers(0, 2)), int(rng.integers(0, 2))
    f = dict(
        tsk_typ=2,
        opt_relu=int(rng.integers(0, 2)) & (s0 | s1 | has_bias),
        opt_res0_sign=s0 | s1 | has_bias,
        opt_opd0_sign=s0,
        opt_opd1_sign=s1,
        opt_opd2_sign=1,
        opt_left_shift=0,
        opt_shift_typ=s0 | s1 | has_bias,
        short_res0_str=0,
        short_opd0_str=0,
        short_opd1_str=0,
        short_opd2_str=0,
        res0_addr=lane_addr(res_lane, res_off),
        opd0_addr=lane_addr(left_lane, left_off),
        opd1_addr=lane_addr(r_lane, right_off),
        opd1_n=k,
        opd1_c=rc,
        opd1_h=1,
        opd1_w=k - lw * (lc - 1),
        tsk_opd_num=3 if has_bias else 2,
        opt_opd2_int8=0,
        **opd_fields("res0", res),
        **opd_fields("opd0", left),
    )
    if has_bias:
        b_lane = int(rng.integers(0, 2))
        b_eff = short_addr_lane(res_lane, b_lane)
        planes = 4 if qm else 2
        bias = (planes, rc, 1, rw)
        b_str = default_strides(bias, 1, b_eff)
        b_off = win.alloc(footprint(bias, b_str, b_eff))
        f.update(opd2_addr=lane_addr(b_lane, b_off), opd2_n=1, opd2_c=rc, opd2_h=1, opd2_w=rw)
        if qm:  # realistic 32-bit biases: write them plane by plane
            vals = rng.integers(-(1 << 20), 1 << 20, rc * rw).astype(np.int32).view(np.uint8)
            vals = vals.reshape(rc * rw, 4)
            for j in range(rc * rw):
                c, w = divmod(j, rw)
                lane = (b_eff + c) % LANES
                off = b_off + (b_eff + c) // LANES * b_str[1] + w
                for plane in range(4):
                    win.put(lane, off + plane * b_str[0], bytes([int(vals[j, plane])]))
    if qm:
        f.update(
            opt_chl_quan=1,
            quan_m=int(rng.integers(1 << 30, 1 << 31)),
            opt_right_shift=int(rng.integers(0, 12)),
        )
    else:
        f.update(opt_right_shift=int(rng.integers(0, 14)))
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"matmul rows={rows} k={k} rc={rc} rw={rw} lw={lw} qm={qm} bias={has_bias}"


@pytest.mark.parametrize("qm", [True, False], ids=["qm", "per_tensor"])
@pytest.mark.parametrize("seed", range(N_CASES))
def test_matmul(h: Harness, qm: bool, seed: int) -> None:
    win, p, what = matmul_case(np.random.default_rng(400 + seed), qm)
    h.check(p, win.mem, None, what)


# ----------------------------------------------------------------------------------------------
# Tensor arithmetic (tsk_typ 3), int8 data path
# ----------------------------------------------------------------------------------------------
ARITH_EU = dict(
    mul=0, mul_qm=0, mac=1, add=2, sub=3, max=4, min=5, shift=6, and_=7, or_=8, xor=9, copy=10
)


def arith_tensor(
    win: Window,
    rng: np.random.Generator,
    prefix: str,
    shape: tuple[int, ...],
    lane: int,
    wide: bool,
    addr_lane: int | None = None,
) -> dict[str, int]:
    """Places one explicit-stride operand (two byte planes if `wide`); returns its fields."""
    st = explicit_strides(rng, shape, lane)  # type: ignore[arg-type]
    fp = footprint(shape, st, lane)  # type: ignore[arg-type]
    bstr = align(fp, 16) if wide else 16
    off = win.alloc(fp + (bstr if wide else 0))
    a = lane_addr(lane if addr_lane is None else addr_lane, off)
    return {f"{prefix}_addr": a, f"{prefix}_b_str": bstr, **opd_fields(prefix, shape, st)}


def arith_case(rng: np.random.Generator, name: str) -> tuple[Window, Program, str]:
    win = Window(rng)
    shape = (
        int(rng.integers(1, 3)),
        int(rng.integers(1, 70)),
        int(rng.integers(1, 6)),
        int(rng.integers(1, 20)),
    )
    res_lane = int(rng.integers(0, LANES))
    a_lane = int(rng.integers(0, LANES))
    b_sel = int(rng.integers(0, 2))
    b_lane = short_addr_lane(res_lane, b_sel)
    f: dict[str, int] = dict(
        tsk_typ=3,
        tsk_eu_typ=ARITH_EU[name],
        tsk_opd_num=2,
        opt_relu=0,
        opt_right_shift=0,
        opt_shift_typ=0,
        opt_opd0_sign=0,
        opt_opd1_sign=0,
        opt_res0_sign=0,
        short_res0_str=3,
        short_opd0_str=3,
        short_opd1_str=3,
        short_opd2_str=3,
        **opd_fields("opd2", shape),
    )
    a16 = b16 = r16 = False
    b_const = False
    sa = sb = 0
    if name in ("mul", "mul_qm"):
        sa, sb = int(rng.integers(0, 2)), int(rng.integers(0, 2))
        r16 = name == "mul" and rng.random() < 0.3
        b_const = rng.random() < 0.3
        rs = sa | sb
        f.update(
            opt_opd0_sign=sa,
            opt_opd1_sign=sb,
            opt_res0_sign=rs,
            opt_shift_typ=rs,
            opt_right_shift=int(rng.integers(0, 12)),
            opt_relu=int(rng.integers(0, 2)) & rs & int(not r16),
        )
        if name == "mul_qm":
            f.update(
                opt_chl_quan=1,
                quan_m=int(rng.integers(1 << 30, 1 << 31)),
                opt_right_shift=int(rng.integers(0, 8)),
            )
    elif name == "mac":
        sa, sb = int(rng.integers(0, 2)), int(rng.integers(0, 2))
        sa |= int(not sb)
        r16 = rng.random() < 0.5
        b_const = rng.random() < 0.3
        f.update(
            opt_res_add=1,
            opt_opd0_sign=sa,
            opt_opd1_sign=sb,
            opt_res0_sign=1,
            opt_shift_typ=1,
            opt_left_shift=int(rng.integers(0, 8)),
            opt_right_shift=int(rng.integers(0, 12)),
            opt_relu=int(rng.integers(0, 2)) & int(not r16),
        )
    elif name in ("add", "sub"):
        a16 = b16 = True
        r16 = rng.random() < 0.3
        sa, sb = int(rng.integers(0, 2)), int(rng.integers(0, 2))
        if name == "sub":
            sa |= int(not sb)
        b_const = name == "add" and rng.random() < 0.3
        rs = sa | sb
        f.update(
            opt_opd0_sign=sa,
            opt_opd1_sign=sb,
            opt_res0_sign=rs,
            opt_shift_typ=rs,
            opt_right_shift=int(rng.integers(0, 8)),
            opt_relu=int(rng.integers(0, 2)) & rs & int(not r16),
        )
    elif name in ("max", "min"):
        sa = sb = int(rng.integers(0, 2))
        b_const = rng.random() < 0.3
        f.update(opt_opd0_sign=sa, opt_opd1_sign=sb, opt_res0_sign=sa, opt_shift_typ=sa)
    elif name in ("and_", "or_", "xor"):
        a16 = b16 = r16 = rng.random() < 0.4
    elif name == "shift":
        a16, r16 = True, True
        sa = sb = 1
        f.update(
            opt_opd0_sign=1, opt_opd1_sign=1, opt_res0_sign=1, opt_shift_typ=1, opt_rshift_typ=0
        )
    elif name == "copy":
        f.update(tsk_opd_num=1)
    f.update(opt_opd0_int8=int(not a16), opt_opd1_int8=int(not b16), opt_res0_int8=int(not r16))
    f.update(arith_tensor(win, rng, "res0", shape, res_lane, r16 or name == "mac"))
    f.update(arith_tensor(win, rng, "opd0", shape, a_lane, a16))
    if name != "copy":
        if b_const:
            v = int(rng.integers(0, 1 << 16 if b16 else 256))
            f.update(opt_opd1_const=1, opd1_addr=v, **opd_fields("opd1", shape))
        else:
            fb = arith_tensor(win, rng, "opd1", shape, b_lane, b16, addr_lane=b_sel)
            if name == "shift":  # realistic shift amounts: -16..16 in a signed byte per element
                amounts = rng.integers(-16, 17, 32 * WINDOW).astype(np.int8).view(np.uint8)
                st = [fb[f"opd1_{k}_str"] for k in "nchw"]
                off = fb["opd1_addr"] & 0x7FFF
                size = footprint(shape, tuple(st), b_lane)  # type: ignore[arg-type]
                for lane in range(LANES):
                    win.put(lane, off, amounts[lane * size : (lane + 1) * size])
            f.update(fb)
    else:
        f.update(opd_fields("opd1", shape))
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"{name} shape={shape} a16={a16} b16={b16} r16={r16} const={b_const} s={sa}{sb}"


@pytest.mark.parametrize("name", list(ARITH_EU))
@pytest.mark.parametrize("seed", range(N_CASES))
def test_arith(h: Harness, name: str, seed: int) -> None:
    win, p, what = arith_case(np.random.default_rng(500 + seed), name)
    h.check(p, win.mem, None, what)


def lut_case(rng: np.random.Generator) -> tuple[Window, Program, str]:
    win = Window(rng)
    shape = (
        int(rng.integers(1, 3)),
        int(rng.integers(1, 70)),
        int(rng.integers(1, 6)),
        int(rng.integers(1, 20)),
    )
    # The vendor requires equal start lanes, and the table lanes it reads must exist.
    t_sel = int(rng.integers(0, 2)) if shape[1] < LANES else 0
    top = (LANES - t_sel - min(shape[1], LANES)) // 3
    res_lane = in_lane = 2 * int(rng.integers(0, top + 1)) + int(rng.integers(0, 2))
    res_lane = min(res_lane, LANES - 1)
    in_str = default_strides(shape, 1, in_lane)
    out_str = default_strides(shape, 1, res_lane)
    in_off = win.alloc(footprint(shape, in_str, in_lane))
    out_off = win.alloc(footprint(shape, out_str, res_lane))
    t_off = win.alloc(256)
    f = dict(
        tsk_typ=3,
        tsk_eu_typ=0,
        tens_lookup=1,
        tsk_opd_num=2,
        opt_relu=0,
        opt_shift_typ=0,
        opt_right_shift=0,
        opt_opd0_sign=0,
        opt_opd1_sign=0,
        opt_res0_sign=0,
        short_res0_str=0,
        short_opd0_str=0,
        short_opd1_str=0,
        res0_addr=lane_addr(res_lane, out_off),
        opd0_addr=lane_addr(in_lane, in_off),
        opd1_addr=lane_addr(t_sel, t_off),
        **opd_fields("res0", shape),
        **opd_fields("opd0", shape),
        **opd_fields("opd1", (1, 32, 16, 16)),
    )
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"lut shape={shape} lanes in={in_lane} out={res_lane} table={t_sel}"


@pytest.mark.parametrize("seed", range(N_CASES))
def test_lut_int8(h: Harness, seed: int) -> None:
    win, p, what = lut_case(np.random.default_rng(600 + seed))
    h.check(p, win.mem, None, what)


# ----------------------------------------------------------------------------------------------
# bf16 data path: tensor arithmetic and lookup
# ----------------------------------------------------------------------------------------------
BF16_SPECIALS = np.array(
    [0x0000, 0x8000, 0x7F80, 0xFF80, 0x0001, 0x8001, 0x0080, 0x7F7F, 0xFF7F, 0x3F80, 0xBF80],
    np.uint16,
)


class Bf16Window(Window):
    """Window whose bytes are bf16 values in [-8, 8), with a few special patterns."""

    def __init__(self, rng: np.random.Generator, specials: bool = True):
        super().__init__(rng, bf16_fill=True)
        if specials:
            view = self.mem[PREFILL : PREFILL + 32 * WINDOW].view(np.uint16)
            idx = rng.integers(0, view.size, view.size // 64)
            view[idx] = rng.choice(BF16_SPECIALS, idx.size)


BF16_EU = dict(mul=0, mac=1, add=2, sub=3, max=4, min=5, copy=10)


def bf16_arith_case(rng: np.random.Generator, name: str) -> tuple[Window, Program, str]:
    win = Bf16Window(rng)
    shape = (
        int(rng.integers(1, 3)),
        int(rng.integers(1, 70)),
        int(rng.integers(1, 6)),
        int(rng.integers(1, 16)),
    )
    res_lane, a_lane = int(rng.integers(0, LANES)), int(rng.integers(0, LANES))
    b_sel = int(rng.integers(0, 2))
    b_lane = short_addr_lane(res_lane, b_sel)

    def place(prefix: str, lane: int, addr_lane: int | None = None) -> dict[str, int]:
        st = explicit_strides(rng, shape, lane, 2)
        off = win.alloc(footprint(shape, st, lane, 2), 2)
        return {
            f"{prefix}_addr": lane_addr(lane if addr_lane is None else addr_lane, off),
            **opd_fields(prefix, shape, st),
        }

    f: dict[str, int] = dict(
        tsk_typ=3,
        tsk_eu_typ=BF16_EU[name],
        opd_typ=1,
        tsk_opd_num=1 if name == "copy" else 2,
        opt_relu=int(rng.random() < 0.2),
        opt_shift_typ=0,
        opt_right_shift=0,
        opt_opd0_sign=1,
        opt_opd1_sign=1,
        opt_res0_sign=1,
        short_res0_str=3,
        short_opd0_str=3,
        short_opd1_str=3,
        short_opd2_str=3,
        opt_res_add=int(name == "mac"),
        **opd_fields("opd2", shape),
    )
    if name == "copy":
        f["opt_relu"] = 0
    f.update(place("res0", res_lane))
    f.update(place("opd0", a_lane))
    const = name != "copy" and rng.random() < 0.3
    if const:
        v = int(f32_to_bf16_rne(np.float32(rng.uniform(-4, 4))))
        f.update(opt_opd1_const=1, opd1_addr=v, **opd_fields("opd1", shape))
    elif name != "copy":
        f.update(place("opd1", b_lane, addr_lane=b_sel))
    else:
        f.update(opd_fields("opd1", shape))
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"bf16 {name} shape={shape} const={const} relu={f['opt_relu']}"


@pytest.mark.parametrize("name", list(BF16_EU))
@pytest.mark.parametrize("seed", range(N_CASES))
def test_bf16_arith(h: Harness, name: str, seed: int) -> None:
    win, p, what = bf16_arith_case(np.random.default_rng(700 + seed), name)
    h.check(p, win.mem, None, what)


def bf16_lut_case(rng: np.random.Generator) -> tuple[Window, Program, str]:
    win = Bf16Window(rng)
    shape = (
        int(rng.integers(1, 3)),
        int(rng.integers(1, 70)),
        int(rng.integers(1, 6)),
        int(rng.integers(1, 12)),
    )
    t_sel = int(rng.integers(0, 2)) if shape[1] < LANES else 0
    top = (LANES - t_sel - min(shape[1], LANES)) // 3
    lane = min(2 * int(rng.integers(0, top + 1)) + int(rng.integers(0, 2)), LANES - 1)
    st = default_strides(shape, 2, lane)
    in_off = win.alloc(footprint(shape, st, lane, 2))
    out_off = win.alloc(footprint(shape, st, lane, 2))
    t_off = win.alloc(512)
    f = dict(
        tsk_typ=3,
        tsk_eu_typ=12,
        tens_lookup=1,
        opd_typ=1,
        tsk_opd_num=2,
        opt_relu=0,
        opt_shift_typ=0,
        opt_right_shift=0,
        opt_opd0_sign=1,
        opt_opd1_sign=1,
        opt_res0_sign=1,
        opt_opd2_sign=1,
        opt_opd2_int8=1,
        short_res0_str=0,
        short_opd0_str=0,
        short_opd1_str=0,
        res0_addr=lane_addr(lane, out_off),
        opd0_addr=lane_addr(lane, in_off),
        opd1_addr=lane_addr(t_sel, t_off),
        **opd_fields("res0", shape),
        **opd_fields("opd0", shape),
        **opd_fields("opd1", (1, 32, 32, 8)),
    )
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"bf16 lut shape={shape} lane={lane} table={t_sel}"


@pytest.mark.parametrize("seed", range(N_CASES))
def test_bf16_lut(h: Harness, seed: int) -> None:
    win, p, what = bf16_lut_case(np.random.default_rng(800 + seed))
    h.check(p, win.mem, None, what)


# ----------------------------------------------------------------------------------------------
# bf16 data path: convolution, depthwise, pooling, matrix multiplication
# ----------------------------------------------------------------------------------------------
def put_bias_fp32(win: Window, lane0: int, offset: int, values: np.ndarray) -> None:
    """fp32 biases as two bf16 planes: high halves at offset, low halves 2 * ceil(C/32) later."""
    bits = values.astype(np.float32).view(np.uint32)
    plane = 2 * ((len(values) + LANES - 1) // LANES)
    for c, b in enumerate(bits):
        lane = (lane0 + c) % LANES
        off = offset + (lane0 + c) // LANES * 2
        win.put(lane, off, np.array([int(b) >> 16], np.uint16).view(np.uint8))
        win.put(lane, off + plane, np.array([int(b) & 0xFFFF], np.uint16).view(np.uint8))


def bf16_window_case(rng: np.random.Generator, kind: str) -> tuple[Window, Program, str]:
    """kind: conv, depthwise, max, avg."""
    win = Bf16Window(rng, specials=rng.random() < 0.3)
    g = rand_geom(rng, depthwise=kind != "conv", max_c=40, insert=kind != "max")
    if kind in ("max", "avg"):
        g.dy = g.dx = 1
    oh, ow = g.out_hw()
    in_lane, out_lane = int(rng.integers(0, LANES)), int(rng.integers(0, LANES))
    in_shape, out_shape = (g.n, g.ic, g.ih, g.iw), (g.n, g.oc, oh, ow)
    explicit = kind == "depthwise"
    in_str = (
        explicit_strides(rng, in_shape, in_lane, 2)
        if explicit
        else default_strides(in_shape, 2, in_lane)
    )
    out_str = (
        explicit_strides(rng, out_shape, out_lane, 2)
        if kind in ("conv", "depthwise")
        else default_strides(out_shape, 2, out_lane)
    )
    in_off = win.alloc(footprint(in_shape, in_str, in_lane, 2))
    out_off = win.alloc(footprint(out_shape, out_str, out_lane, 2))
    ins_fp = int(f32_to_bf16_rne(np.float32(rng.uniform(-2, 2))))
    f = dict(
        tsk_typ=0 if kind == "conv" else 1,
        opd_typ=1,
        opt_relu=0,
        opt_right_shift=0,
        opt_shift_typ=1,
        opt_opd0_sign=1,
        opt_opd1_sign=1,
        opt_res0_sign=1,
        opd0_addr=lane_addr(in_lane, in_off),
        res0_addr=lane_addr(out_lane, out_off),
        short_opd0_str=3 if explicit else 0,
        short_res0_str=3 if kind in ("conv", "depthwise") else 0,
        opd0_ins_fp=ins_fp,
        **opd_fields("opd0", in_shape, in_str if explicit else None),
        **opd_fields("res0", out_shape, out_str if kind in ("conv", "depthwise") else None),
        **g.fields(),
    )
    if kind == "max":
        f.update(tsk_eu_typ=0, tsk_opd_num=1)
    elif kind == "avg":
        k = int(f32_to_bf16_rne(np.float32(1.0 / (g.kh * g.kw) * rng.uniform(0.5, 2))))
        f.update(tsk_eu_typ=1, tsk_opd_num=2, opt_opd1_const=1, opd1_addr=k, opt_opd1_sign=0)
    else:
        has_bias = bool(rng.integers(0, 2))
        w_lane = int(rng.integers(0, 2))
        w_eff = short_addr_lane(out_lane, w_lane)
        if kind == "conv":
            k = g.kh * g.kw * g.ic
            w_off = win.alloc(2 * k * ((w_eff + g.oc + LANES - 1) // LANES))
            f.update(opd1_n=g.ic, opd1_c=g.oc, short_opd1_str=1)
        else:
            w_shape = (1, g.ic, g.kh, g.kw)
            w_off = win.alloc(footprint(w_shape, default_strides(w_shape, 2, w_eff), w_eff, 2))
            f.update(tsk_eu_typ=2, opd1_n=1, opd1_c=g.ic, short_opd1_str=0)
        f.update(
            opd1_addr=lane_addr(w_lane, w_off),
            opt_relu=int(rng.integers(0, 2)),
            tsk_opd_num=3 if has_bias else 2,
            short_opd2_str=2,
            opt_opd2_int8=0,
        )
        if has_bias:
            p_lane = int(rng.integers(0, 2))
            p_eff = short_addr_lane(out_lane, p_lane)
            p_off = win.alloc(4 * ((g.oc + LANES - 1) // LANES) + 4)
            put_bias_fp32(win, p_eff, p_off, rng.uniform(-4, 4, g.oc))
            f.update(
                opd2_addr=lane_addr(p_lane, p_off),
                opd2_c=g.oc,
                opd2_h=1,
                opd2_w=1,
                opd2_b_str=2 * ((g.oc + LANES - 1) // LANES),
            )
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"bf16 {kind} {g}"


@pytest.mark.parametrize("kind", ["conv", "depthwise", "max", "avg"])
@pytest.mark.parametrize("seed", range(N_CASES))
def test_bf16_window_ops(h: Harness, kind: str, seed: int) -> None:
    win, p, what = bf16_window_case(np.random.default_rng(900 + seed), kind)
    h.check(p, win.mem, None, what)


def bf16_matmul_case(rng: np.random.Generator) -> tuple[Window, Program, str]:
    win = Bf16Window(rng, specials=rng.random() < 0.3)
    rows, k = int(rng.integers(1, 9)), int(rng.integers(1, 100))
    rc, rw = int(rng.integers(1, 10)), int(rng.integers(1, 9))
    lw = int(rng.integers(1, 9))
    lc = (k + lw - 1) // lw
    res_lane, left_lane = int(rng.integers(0, LANES)), int(rng.integers(0, LANES))
    left, right, res = (rows, lc, 1, lw), (k, rc, 1, rw), (rows, rc, 1, rw)
    r_sel = int(rng.integers(0, 2))
    r_eff = short_addr_lane(res_lane, r_sel)
    left_off = win.alloc(footprint(left, default_strides(left, 2, left_lane), left_lane, 2))
    right_off = win.alloc(footprint(right, default_strides(right, 2, r_eff), r_eff, 2))
    res_off = win.alloc(footprint(res, default_strides(res, 2, res_lane), res_lane, 2))
    has_bias = bool(rng.integers(0, 2))
    f = dict(
        tsk_typ=2,
        opd_typ=1,
        opt_relu=int(rng.integers(0, 2)),
        opt_res0_sign=1,
        opt_opd0_sign=1,
        opt_opd1_sign=1,
        opt_opd2_sign=1,
        opt_shift_typ=1,
        opt_left_shift=0,
        short_res0_str=0,
        short_opd0_str=0,
        short_opd1_str=0,
        short_opd2_str=0,
        res0_addr=lane_addr(res_lane, res_off),
        opd0_addr=lane_addr(left_lane, left_off),
        opd1_addr=lane_addr(r_sel, right_off),
        opd1_n=k,
        opd1_c=rc,
        opd1_h=1,
        opd1_w=k - lw * (lc - 1),
        tsk_opd_num=3 if has_bias else 2,
        opt_opd2_int8=0,
        **opd_fields("res0", res),
        **opd_fields("opd0", left),
    )
    if has_bias:
        b_sel = int(rng.integers(0, 2))
        b_eff = short_addr_lane(res_lane, b_sel)
        bias = (2, rc, 1, rw)
        b_str = default_strides(bias, 2, b_eff)
        b_off = win.alloc(footprint(bias, b_str, b_eff, 2))
        bits = rng.uniform(-4, 4, rc * rw).astype(np.float32).view(np.uint32)
        for j, b in enumerate(bits):
            c, w = divmod(j, rw)
            lane = (b_eff + c) % LANES
            off = b_off + (b_eff + c) // LANES * b_str[1] + 2 * w
            win.put(lane, off, np.array([int(b) >> 16], np.uint16).view(np.uint8))
            win.put(lane, off + b_str[0], np.array([int(b) & 0xFFFF], np.uint16).view(np.uint8))
        f.update(opd2_addr=lane_addr(b_sel, b_off), opd2_n=1, opd2_c=rc, opd2_h=1, opd2_w=rw)
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"bf16 matmul rows={rows} k={k} rc={rc} rw={rw} lw={lw} bias={has_bias}"


@pytest.mark.parametrize("seed", range(N_CASES))
def test_bf16_matmul(h: Harness, seed: int) -> None:
    win, p, what = bf16_matmul_case(np.random.default_rng(1000 + seed))
    h.check(p, win.mem, None, what)


# ----------------------------------------------------------------------------------------------
# Partial sums (ps32_md) and 16-bit / accumulated matrix results
# ----------------------------------------------------------------------------------------------
def ps32_conv_case(rng: np.random.Generator, mode: int, qdm: bool) -> tuple[Window, Program, str]:
    win = Window(rng)
    g = rand_geom(rng, max_c=20, insert=False)
    g.n = 1
    oh, ow = g.out_hw()
    in_lane, out_lane = int(rng.integers(0, LANES)), int(rng.integers(0, LANES))
    in_shape, out_shape = (1, g.ic, g.ih, g.iw), (1, g.oc, oh, ow)
    in_str = default_strides(in_shape, 1, in_lane)
    in_off = win.alloc(footprint(in_shape, in_str, in_lane))
    k = g.kh * g.kw * g.ic
    w_sel = int(rng.integers(0, 2))
    w_eff = short_addr_lane(out_lane, w_sel)
    w_off = win.alloc(k * ((w_eff + g.oc + LANES - 1) // LANES))
    out_str = explicit_strides(rng, out_shape, out_lane)
    plane = align(footprint(out_shape, out_str, out_lane), 16)
    out_off = win.alloc(4 * plane)
    final = mode == 1
    has_bias = final and bool(rng.integers(0, 2))
    f = dict(
        tsk_typ=0,
        ps32_md=mode,
        opt_relu=int(final and rng.random() < 0.5),
        opt_res0_sign=1,
        opt_opd0_sign=int(rng.integers(0, 2)),
        opt_opd1_sign=1,
        short_opd0_str=0,
        short_opd1_str=1,
        short_opd2_str=2,
        short_res0_str=3,
        res0_addr=lane_addr(out_lane, out_off),
        res0_b_str=plane,
        opd0_addr=lane_addr(in_lane, in_off),
        opd1_addr=lane_addr(w_sel, w_off),
        opd1_n=g.ic,
        opd1_c=g.oc,
        opt_right_shift=int(rng.integers(0, 14)) if final else 0,
        tsk_opd_num=3 if has_bias else 2,
        **opd_fields("opd0", in_shape),
        **opd_fields("res0", out_shape, out_str),
        **g.fields(),
    )
    p_sel = int(rng.integers(0, 2))
    p_eff = short_addr_lane(out_lane, p_sel)
    if qdm:
        size = 9 if has_bias else 5
        p_off = win.alloc(size * ((p_eff + g.oc + LANES - 1) // LANES))
        put_per_channel(win, p_eff, p_off, [r[9 - size :] for r in qdm_records(rng, g.oc)])
        f.update(
            opt_chl_quan=1,
            opt_right_shift=0,
            opt_opd2_int8=1,
            opd2_addr=lane_addr(p_sel, p_off),
            opd2_c=g.oc,
            opd2_h=1,
            opd2_w=1,
        )
    elif has_bias:
        nb = (g.oc + LANES - 1) // LANES
        p_off = win.alloc(2 * nb + 1)
        put_bias16(win, p_eff, p_off, rng.integers(-30000, 30000, g.oc), nb)
        f.update(
            opd2_addr=lane_addr(p_sel, p_off),
            opt_opd2_int8=0,
            opd2_b_str=nb,
            opd2_c=g.oc,
            opd2_h=1,
            opd2_w=1,
        )
    # Stored partial sums of realistic size: the four byte planes of int32 values in +-2^20.
    if mode & 1:
        vals = rng.integers(-(1 << 20), 1 << 20, (LANES, plane)).astype(np.int32).view(np.uint8)
        vals = vals.reshape(LANES, plane, 4)
        for lane in range(LANES):
            for b in range(4):
                win.put(lane, out_off + b * plane, vals[lane, :, b].copy())
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"ps32={mode} qdm={qdm} {g} bias={has_bias}"


@pytest.mark.parametrize("mode", [1, 2, 3])
@pytest.mark.parametrize("seed", range(N_CASES // 2))
def test_conv_ps32(h: Harness, mode: int, seed: int) -> None:
    win, p, what = ps32_conv_case(np.random.default_rng(1100 + seed), mode, qdm=False)
    h.check(p, win.mem, None, what)


@pytest.mark.parametrize("seed", range(N_CASES // 2))
def test_conv_qdm_ps32_final(h: Harness, seed: int) -> None:
    win, p, what = ps32_conv_case(np.random.default_rng(1200 + seed), 1, qdm=True)
    h.check(p, win.mem, None, what)


def matmul_wide_case(rng: np.random.Generator, kind: str) -> tuple[Window, Program, str]:
    """kind: res16 (16-bit result), add (add_result), ps32_1/2/3 (partial sums)."""
    win = Window(rng)
    rows, k = int(rng.integers(1, 9)), int(rng.integers(1, 100))
    rc, rw = int(rng.integers(1, 6)), int(rng.integers(1, 17))
    lw = int(rng.integers(1, 17))
    lc = (k + lw - 1) // lw
    res_lane, left_lane = int(rng.integers(0, LANES)), int(rng.integers(0, LANES))
    left, right, res = (rows, lc, 1, lw), (k, rc, 1, rw), (rows, rc, 1, rw)
    r_sel = int(rng.integers(0, 2))
    r_eff = short_addr_lane(res_lane, r_sel)
    left_off = win.alloc(footprint(left, default_strides(left, 1, left_lane), left_lane))
    right_off = win.alloc(footprint(right, default_strides(right, 1, r_eff), r_eff))
    res_str = default_strides(res, 1, res_lane)
    planes = 4 if kind.startswith("ps32") else 2
    bstr = rows * res_str[0]
    res_off = win.alloc(planes * bstr)
    mode = int(kind[-1]) if kind.startswith("ps32") else 0
    final = mode in (0, 1)
    has_bias = final and bool(rng.integers(0, 2))
    f = dict(
        tsk_typ=2,
        opt_relu=int(final and kind != "res16" and rng.random() < 0.5),
        opt_res0_sign=1,
        opt_opd0_sign=1,
        opt_opd1_sign=int(rng.integers(0, 2)),
        opt_opd2_sign=1,
        opt_shift_typ=1,
        opt_left_shift=0,
        short_res0_str=0,
        short_opd0_str=0,
        short_opd1_str=0,
        short_opd2_str=0,
        res0_addr=lane_addr(res_lane, res_off),
        res0_b_str=bstr,
        opd0_addr=lane_addr(left_lane, left_off),
        opd1_addr=lane_addr(r_sel, right_off),
        opd1_n=k,
        opd1_c=rc,
        opd1_h=1,
        opd1_w=k - lw * (lc - 1),
        tsk_opd_num=3 if has_bias else 2,
        opt_opd2_int8=0,
        ps32_md=mode,
        opt_right_shift=int(rng.integers(0, 10)) if final else 0,
        opt_res0_int8=int(kind not in ("res16",)),
        **opd_fields("res0", res),
        **opd_fields("opd0", left),
    )
    if kind == "add":
        f.update(opt_res_add=1, opt_left_shift=int(rng.integers(0, 8)))
    if has_bias:
        b_sel = int(rng.integers(0, 2))
        b_eff = short_addr_lane(res_lane, b_sel)
        bias = (2, rc, 1, rw)
        b_off = win.alloc(footprint(bias, default_strides(bias, 1, b_eff), b_eff))
        f.update(opd2_addr=lane_addr(b_sel, b_off), opd2_n=1, opd2_c=rc, opd2_h=1, opd2_w=rw)
    if mode & 1:  # realistic stored partial sums
        vals = rng.integers(-(1 << 18), 1 << 18, (LANES, bstr)).astype(np.int32).view(np.uint8)
        vals = vals.reshape(LANES, bstr, 4)
        for lane in range(LANES):
            for b in range(4):
                win.put(lane, res_off + b * bstr, vals[lane, :, b].copy())
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"matmul {kind} rows={rows} k={k} rc={rc} rw={rw} bias={has_bias}"


@pytest.mark.parametrize("kind", ["res16", "add", "ps32_1", "ps32_2", "ps32_3"])
@pytest.mark.parametrize("seed", range(N_CASES // 2))
def test_matmul_wide(h: Harness, kind: str, seed: int) -> None:
    win, p, what = matmul_wide_case(np.random.default_rng(1300 + seed), kind)
    h.check(p, win.mem, None, what)


def mdsum_case(rng: np.random.Generator) -> tuple[Window, Program, str]:
    win = Window(rng)
    c = int(rng.integers(1, 70))
    shape = (int(rng.integers(1, 3)), c, int(rng.integers(1, 5)), int(rng.integers(1, 17)))
    in_lane, out_lane = int(rng.integers(0, LANES)), int(rng.integers(0, LANES))
    in_str = default_strides(shape, 1, in_lane)
    in_off = win.alloc(footprint(shape, in_str, in_lane))
    out_off = win.alloc(4)
    res16 = bool(rng.integers(0, 2))
    sign = int(rng.integers(0, 2))
    f = dict(
        tsk_typ=3,
        tsk_eu_typ=0,
        tens_mdsum=1,
        tsk_opd_num=1,
        opt_shift_typ=sign,
        opt_relu=int(not res16 and sign and rng.random() < 0.5),
        opt_right_shift=int(rng.integers(0, 6)),
        opt_opd0_sign=sign,
        opt_res0_sign=sign,
        opt_res0_int8=int(not res16),
        short_res0_str=1,
        short_opd0_str=0,
        opd0_addr=lane_addr(in_lane, in_off),
        res0_addr=lane_addr(out_lane, out_off),
        **opd_fields("opd0", shape),
        **opd_fields("res0", (1, c, 1, 1)),
    )
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"mdsum {shape} res16={res16} sign={sign}"


@pytest.mark.parametrize("seed", range(N_CASES))
def test_mdsum(h: Harness, seed: int) -> None:
    win, p, what = mdsum_case(np.random.default_rng(1400 + seed))
    h.check(p, win.mem, None, what)


def bf16_ps32_conv_case(rng: np.random.Generator, mode: int) -> tuple[Window, Program, str]:
    win = Bf16Window(rng, specials=False)
    g = rand_geom(rng, max_c=20, insert=False)
    g.n = 1
    oh, ow = g.out_hw()
    in_lane, out_lane = int(rng.integers(0, LANES)), int(rng.integers(0, LANES))
    in_shape, out_shape = (1, g.ic, g.ih, g.iw), (1, g.oc, oh, ow)
    in_str = default_strides(in_shape, 2, in_lane)
    in_off = win.alloc(footprint(in_shape, in_str, in_lane, 2))
    w_sel = int(rng.integers(0, 2))
    w_eff = short_addr_lane(out_lane, w_sel)
    w_off = win.alloc(2 * g.kh * g.kw * g.ic * ((w_eff + g.oc + LANES - 1) // LANES))
    explicit = bool(rng.integers(0, 2))
    out_str = (
        explicit_strides(rng, out_shape, out_lane, 2)
        if explicit
        else default_strides(out_shape, 2, out_lane)
    )
    plane = align(footprint(out_shape, out_str, out_lane, 2), 16) if explicit else out_str[0]
    out_off = win.alloc(2 * plane)
    final = mode == 1
    has_bias = final and bool(rng.integers(0, 2))
    f = dict(
        tsk_typ=0,
        opd_typ=1,
        ps32_md=mode,
        opt_right_shift=0,
        opt_shift_typ=1,
        opt_relu=int(final and rng.random() < 0.5),
        opt_res0_sign=1,
        opt_opd0_sign=1,
        opt_opd1_sign=1,
        short_opd0_str=0,
        short_opd1_str=1,
        short_opd2_str=2,
        short_res0_str=3 if explicit else 0,
        res0_addr=lane_addr(out_lane, out_off),
        res0_b_str=plane,
        opd0_addr=lane_addr(in_lane, in_off),
        opd1_addr=lane_addr(w_sel, w_off),
        opd1_n=g.ic,
        opd1_c=g.oc,
        tsk_opd_num=3 if has_bias else 2,
        opt_opd2_int8=0,
        **opd_fields("opd0", in_shape),
        **opd_fields("res0", out_shape, out_str if explicit else None),
        **g.fields(),
    )
    if has_bias:
        p_sel = int(rng.integers(0, 2))
        p_eff = short_addr_lane(out_lane, p_sel)
        p_off = win.alloc(4 * ((g.oc + LANES - 1) // LANES) + 4)
        put_bias_fp32(win, p_eff, p_off, rng.uniform(-4, 4, g.oc))
        f.update(opd2_addr=lane_addr(p_sel, p_off), opd2_c=g.oc, opd2_h=1, opd2_w=1)
    if mode & 1:  # fp32 partial sums split into high and low halves
        bits = rng.uniform(-50, 50, (LANES, plane // 2)).astype(np.float32).view(np.uint32)
        for lane in range(LANES):
            win.put(lane, out_off, (bits[lane] >> 16).astype(np.uint16).view(np.uint8))
            win.put(lane, out_off + plane, (bits[lane] & 0xFFFF).astype(np.uint16).view(np.uint8))
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"bf16 ps32={mode} {g} explicit={explicit} bias={has_bias}"


@pytest.mark.parametrize("mode", [1, 2, 3])
@pytest.mark.parametrize("seed", range(N_CASES // 2))
def test_bf16_conv_ps32(h: Harness, mode: int, seed: int) -> None:
    win, p, what = bf16_ps32_conv_case(np.random.default_rng(1500 + seed), mode)
    h.check(p, win.mem, None, what)


def bf16_ps32_matmul_case(rng: np.random.Generator, mode: int) -> tuple[Window, Program, str]:
    win = Bf16Window(rng, specials=False)
    rows, k = int(rng.integers(1, 9)), int(rng.integers(1, 60))
    rc, rw = int(rng.integers(1, 6)), int(rng.integers(1, 9))
    lw = int(rng.integers(1, 9))
    lc = (k + lw - 1) // lw
    res_lane, left_lane = int(rng.integers(0, LANES)), int(rng.integers(0, LANES))
    left, right, res = (rows, lc, 1, lw), (k, rc, 1, rw), (rows, rc, 1, rw)
    r_sel = int(rng.integers(0, 2))
    r_eff = short_addr_lane(res_lane, r_sel)
    left_off = win.alloc(footprint(left, default_strides(left, 2, left_lane), left_lane, 2))
    right_off = win.alloc(footprint(right, default_strides(right, 2, r_eff), r_eff, 2))
    plane = rows * default_strides(res, 2, res_lane)[0]
    res_off = win.alloc(2 * plane)
    final = mode == 1
    f = dict(
        tsk_typ=2,
        opd_typ=1,
        ps32_md=mode,
        opt_relu=int(final and rng.random() < 0.5),
        opt_res0_sign=1,
        opt_opd0_sign=1,
        opt_opd1_sign=1,
        opt_shift_typ=1,
        opt_left_shift=0,
        opt_right_shift=0,
        short_res0_str=0,
        short_opd0_str=0,
        short_opd1_str=0,
        short_opd2_str=0,
        res0_addr=lane_addr(res_lane, res_off),
        res0_b_str=plane,
        opd0_addr=lane_addr(left_lane, left_off),
        opd1_addr=lane_addr(r_sel, right_off),
        opd1_n=k,
        opd1_c=rc,
        opd1_h=1,
        opd1_w=k - lw * (lc - 1),
        tsk_opd_num=2,
        **opd_fields("res0", res),
        **opd_fields("opd0", left),
    )
    if mode & 1:
        bits = rng.uniform(-50, 50, (LANES, plane // 2)).astype(np.float32).view(np.uint32)
        for lane in range(LANES):
            win.put(lane, res_off, (bits[lane] >> 16).astype(np.uint16).view(np.uint8))
            win.put(lane, res_off + plane, (bits[lane] & 0xFFFF).astype(np.uint16).view(np.uint8))
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"bf16 matmul ps32={mode} rows={rows} k={k} rc={rc} rw={rw}"


@pytest.mark.parametrize("mode", [1, 2, 3])
@pytest.mark.parametrize("seed", range(N_CASES // 2))
def test_bf16_matmul_ps32(h: Harness, mode: int, seed: int) -> None:
    win, p, what = bf16_ps32_matmul_case(np.random.default_rng(1600 + seed), mode)
    h.check(p, win.mem, None, what)


def bf16_ps32_depthwise_case(rng: np.random.Generator) -> tuple[Window, Program, str]:
    """bf16 depthwise writing the fp32 sums (ps32_md = 2)."""
    win = Bf16Window(rng, specials=False)
    g = rand_geom(rng, depthwise=True, max_c=40)
    oh, ow = g.out_hw()
    in_lane, out_lane = int(rng.integers(0, LANES)), int(rng.integers(0, LANES))
    in_shape, out_shape = (g.n, g.ic, g.ih, g.iw), (g.n, g.ic, oh, ow)
    explicit = bool(rng.integers(0, 2))  # opd0 and res0 must use the same stride mode
    in_str = (
        explicit_strides(rng, in_shape, in_lane, 2)
        if explicit
        else default_strides(in_shape, 2, in_lane)
    )
    out_str = (
        explicit_strides(rng, out_shape, out_lane, 2)
        if explicit
        else default_strides(out_shape, 2, out_lane)
    )
    in_off = win.alloc(footprint(in_shape, in_str, in_lane, 2))
    plane = align(footprint(out_shape, out_str, out_lane, 2), 16) if explicit else g.n * out_str[0]
    out_off = win.alloc(2 * plane)
    w_sel = int(rng.integers(0, 2))
    w_eff = short_addr_lane(out_lane, w_sel)
    w_shape = (1, g.ic, g.kh, g.kw)
    w_off = win.alloc(footprint(w_shape, default_strides(w_shape, 2, w_eff), w_eff, 2))
    f = dict(
        tsk_typ=1,
        tsk_eu_typ=2,
        opd_typ=1,
        ps32_md=2,
        tsk_opd_num=2,
        opt_relu=0,
        opt_right_shift=0,
        opt_shift_typ=1,
        opt_opd0_sign=1,
        opt_opd1_sign=1,
        opt_res0_sign=1,
        short_opd0_str=3 if explicit else 0,
        short_res0_str=3 if explicit else 0,
        short_opd1_str=0,
        opd0_addr=lane_addr(in_lane, in_off),
        res0_addr=lane_addr(out_lane, out_off),
        res0_b_str=plane,
        opd1_addr=lane_addr(w_sel, w_off),
        opd1_n=1,
        opd1_c=g.ic,
        **opd_fields("opd0", in_shape, in_str if explicit else None),
        **opd_fields("res0", out_shape, out_str if explicit else None),
        **g.fields(),
    )
    p = win.program()
    p.tiu(**f)
    win.finish(p)
    return win, p, f"bf16 depthwise ps32 {g} explicit={explicit}"


@pytest.mark.parametrize("seed", range(N_CASES // 2))
def test_bf16_depthwise_ps32(h: Harness, seed: int) -> None:
    win, p, what = bf16_ps32_depthwise_case(np.random.default_rng(1700 + seed))
    h.check(p, win.mem, None, what)

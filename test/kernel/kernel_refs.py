"""numpy references of the CV183x arithmetic (cv183x-isa.md §5) for the kernel-emitter tests."""

from __future__ import annotations

import numpy as np


def sat(x: np.ndarray, dtype: str) -> np.ndarray:
    lo, hi = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}[dtype]
    return np.clip(x, lo, hi)


def shift_half_up(x: np.ndarray, r: int) -> np.ndarray:
    """(x + 2^(r-1)) >> r, arithmetic (§5.1)."""
    x = np.asarray(x, np.int64)
    return x if r == 0 else (x + (1 << (r - 1))) >> r


def shift_half_away(x: np.ndarray, r: int) -> np.ndarray:
    """sign(x) * ((|x| + 2^(r-1)) >> r) (§5.2 step 3)."""
    x = np.asarray(x, np.int64)
    if r == 0:
        return x
    return np.sign(x) * ((np.abs(x) + (1 << (r - 1))) >> r)


def srdhm(acc: np.ndarray, m: int) -> np.ndarray:
    """Saturating rounding doubling high multiply (§5.2 step 2), exact in Python integers."""
    a = np.asarray(acc, np.int64).astype(object)
    p = a * int(m)
    nudge = np.where(p >= 0, 1 << 30, 1 - (1 << 30))
    t = p + nudge
    q = np.where(t >= 0, t // (1 << 31), -((-t) // (1 << 31)))
    return q.astype(np.int64)


def requant(acc: np.ndarray, rshift: int, relu: bool, out: str) -> np.ndarray:
    y = shift_half_up(acc, rshift)
    if relu:
        y = np.maximum(y, 0)
    return sat(y, out)


def requant_qdm(
    acc: np.ndarray, m: np.ndarray | int, rshift: np.ndarray | int, relu: bool, out: str
) -> np.ndarray:
    """QDM per element; `m` and `rshift` broadcast (per channel or scalar)."""
    acc = np.asarray(acc, np.int64)
    mb = np.broadcast_to(np.asarray(m, np.int64), acc.shape)
    rb = np.broadcast_to(np.asarray(rshift, np.int64), acc.shape)
    y = np.empty(acc.shape, np.int64)
    for mv in np.unique(mb):
        for rv in np.unique(rb):
            sel = (mb == mv) & (rb == rv)
            if sel.any():
                y[sel] = shift_half_away(srdhm(acc[sel], int(mv)), int(rv))
    if relu:
        y = np.maximum(y, 0)
    return sat(y, out)


# ---------------------------------------------------------------------------------------------
# bf16
# ---------------------------------------------------------------------------------------------
def f32_to_bf16(x: np.ndarray) -> np.ndarray:
    """Round to nearest even; NaN -> 0x7FC0."""
    f = np.asarray(x, np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(f), np.uint16(0x7FC0), r).astype(np.uint16)


def bf16_to_f32(b: np.ndarray) -> np.ndarray:
    return (np.asarray(b, np.uint16).astype(np.uint32) << 16).view(np.float32)


def bf16_to_int8(b: np.ndarray, signed: bool, toward_zero: bool) -> np.ndarray:
    f = bf16_to_f32(b).astype(np.float64)
    r = np.trunc(f) if toward_zero else np.round(f)  # np.round: ties to even
    lo, hi = (-128, 127) if signed else (0, 255)
    return np.clip(r, lo, hi).astype(np.int64)


def random_bf16(
    rng: np.random.Generator, shape: tuple[int, ...], lo: float = -8.0, hi: float = 8.0
) -> np.ndarray:
    return f32_to_bf16(rng.uniform(lo, hi, shape).astype(np.float32))


# ---------------------------------------------------------------------------------------------
# Sliding windows
# ---------------------------------------------------------------------------------------------
def expand_input(
    x: np.ndarray, pads: tuple[int, int, int, int], ins: tuple[int, int, int, int], fill: int
) -> np.ndarray:
    """Inserts `ins` = (ins_h, ins_w, last_h, last_w) values between/after rows and columns, then
    pads (top, bottom, left, right); new positions hold `fill`."""
    n, c, h, w = x.shape
    ih, iw, lh, lw = ins
    eh = (h - 1) * (ih + 1) + 1 + lh
    ew = (w - 1) * (iw + 1) + 1 + lw
    pt, pb, pl, pr = pads
    dtype = np.float64 if np.issubdtype(np.asarray(x).dtype, np.floating) else np.int64
    out = np.full((n, c, pt + eh + pb, pl + ew + pr), fill, dtype)
    out[
        :, :, pt : pt + (h - 1) * (ih + 1) + 1 : ih + 1, pl : pl + (w - 1) * (iw + 1) + 1 : iw + 1
    ] = x
    return out


def windows(
    xp: np.ndarray, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int, oh: int, ow: int
) -> np.ndarray:
    """(n, c, oh, ow, kh, kw) view of the expanded input."""
    n, c = xp.shape[:2]
    out = np.empty((n, c, oh, ow, kh, kw), xp.dtype)
    for ky in range(kh):
        for kx in range(kw):
            out[:, :, :, :, ky, kx] = xp[
                :,
                :,
                ky * dh : ky * dh + sh * (oh - 1) + 1 : sh,
                kx * dw : kx * dw + sw * (ow - 1) + 1 : sw,
            ]
    return out


def conv_acc(
    x: np.ndarray,
    wt: np.ndarray,
    stride: tuple[int, int],
    dil: tuple[int, int],
    pads: tuple[int, int, int, int],
    ins: tuple[int, int, int, int],
    pad_value: int,
    oh: int,
    ow: int,
) -> np.ndarray:
    """Exact int64 accumulator of a convolution; wt is (OC, IC, kh, kw)."""
    xp = expand_input(x.astype(np.int64), pads, ins, pad_value)
    oc, ic, kh, kw = wt.shape
    win = windows(xp, kh, kw, stride[0], stride[1], dil[0], dil[1], oh, ow)
    return np.einsum("nchwyx,ocyx->nohw", win, wt.astype(np.int64), optimize=True)


def out_extent(
    size: int, pa: int, pb: int, ins: int, last: int, k: int, dil: int, stride: int
) -> int:
    ext = pa + (size - 1) * (ins + 1) + 1 + last + pb
    kext = (k - 1) * dil + 1
    return (ext - kext) // stride + 1 if ext >= kext else 0

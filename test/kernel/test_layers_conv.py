"""Layer kernels: conv2d (tpuc/kernel/Layers.h emitConv2d) against the docs/quantization.md
formulas, on the vendor simulator and tpuc's engine. Shapes include ones that need tiling over
output channels and rows and a split of the input channels into 32-bit partial sums."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from .kernel_harness import SIMS, EmitError, Simulators
from .layer_harness import (
    BIG_MEM,
    LAYER_MEM,
    LayerProgram,
    VendorModel,
    chan_param_records,
    conv_ref,
    pack_conv_filter,
    qdm_out,
    rand_i8,
    rshift_out,
    run,
)


@dataclass
class ConvCase:
    n: int
    ic: int
    h: int
    w: int
    oc: int
    k: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    dil: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    group: int = 1
    per_channel: bool = True
    bias: bool = True
    relu: bool = False
    pad_value: int = 0
    budget: int = 0
    db: bool = True
    in_pad: tuple[int, int, int] = (0, 0, 0)
    ins: tuple[int, int] = (0, 0)  # zeros inserted between input rows / columns
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def out_hw(self) -> tuple[int, int]:
        kh, kw = self.k
        pt, pb, pl, pr = self.pads
        he = (self.h - 1) * (self.ins[0] + 1) + 1
        we = (self.w - 1) * (self.ins[1] + 1) + 1
        oh = (he + pt + pb - self.dil[0] * (kh - 1) - 1) // self.stride[0] + 1
        ow = (we + pl + pr - self.dil[1] * (kw - 1) - 1) // self.stride[1] + 1
        return oh, ow


def build_conv(c: ConvCase, seed: int) -> tuple[LayerProgram, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    oh, ow = c.out_hw
    big = (
        max(c.n * c.ic * c.h * c.w, c.oc * c.ic * c.k[0] * c.k[1] // c.group, c.n * c.oc * oh * ow)
        > 400_000
    )
    p = LayerProgram(rng, mem_size=BIG_MEM if big else LAYER_MEM)
    kh, kw = c.k
    x = rand_i8(rng, (c.n, c.ic, c.h, c.w))
    w = rand_i8(rng, (c.oc, c.ic // c.group, kh, kw))
    acc = conv_ref(x, w, c.group, c.stride, c.dil, c.pads, c.pad_value, oh, ow, c.ins)
    spread = max(1.0, float(np.std(acc)))
    p.gtensor("x", (c.n, c.ic, c.h, c.w), "int8", x, region=0, pad=c.in_pad)
    p.gtensor("y", (c.n, c.oc, oh, ow), "int8", None, region=2)
    fil = p.blob(pack_conv_filter(w), region=1)
    opts = [
        f"input=x output=y filter={fil} group={c.group} kh={kh} kw={kw}",
        f"sh={c.stride[0]} sw={c.stride[1]} dh={c.dil[0]} dw={c.dil[1]}",
        "pt={} pb={} pl={} pr={}".format(*c.pads),
        f"pad={c.pad_value}",
        f"relu={int(c.relu)} budget={c.budget} db={int(c.db)} name=conv_t id=7",
        f"ih={c.ins[0]} iw={c.ins[1]}",
    ]
    if c.per_channel:
        bias = rng.integers(-4 * int(spread), 4 * int(spread) + 1, c.oc) if c.bias else None
        # rshift so that the outputs spread over the int8 range (some saturate).
        base = max(0, int(np.round(np.log2(spread / 48))))
        rsh = np.clip(base + rng.integers(-1, 2, c.oc), 0, 31).astype(np.int64)
        mult = rng.integers(1 << 30, 1 << 31, c.oc).astype(np.int64)
        total = acc + (bias.reshape(1, -1, 1, 1) if bias is not None else 0)
        want = qdm_out(total, mult, rsh, c.relu)
        rec = chan_param_records(bias, mult, rsh)
        opts.append(f"per_channel=1 chan_param={p.blob(rec, region=1)} chan_bias={int(c.bias)}")
    else:
        rsh = max(0, int(np.round(np.log2(spread / 64))))
        bias = rng.integers(-3000, 3001, c.oc).astype(np.int16) if c.bias else None
        total = acc + (bias.astype(np.int64).reshape(1, -1, 1, 1) if bias is not None else 0)
        want = rshift_out(total, rsh, c.relu)
        opts.append(f"per_channel=0 rshift={rsh}")
        if bias is not None:
            opts.append(f"bias={p.blob(bias.astype('<i2'), region=1)}")
    opts += [f"{k}={v}" for k, v in c.extra.items()]
    p("layer_conv2d " + " ".join(opts))
    return p, {"y": want}


def rand_case(rng: np.random.Generator) -> ConvCase:
    while True:
        kind = rng.choice(["conv", "conv", "depthwise", "group"])
        ic = int(rng.integers(1, 48))
        group = 1
        oc = int(rng.integers(1, 72))
        if kind == "depthwise":
            ic = oc = group = int(rng.integers(2, 80))
        elif kind == "group":
            group = int(rng.integers(2, 4))
            ic = group * int(rng.integers(1, 12))
            oc = group * int(rng.integers(1, 12))
        c = ConvCase(
            n=int(rng.integers(1, 3)),
            ic=ic,
            h=int(rng.integers(1, 20)),
            w=int(rng.integers(1, 20)),
            oc=oc,
            k=(int(rng.integers(1, 5)), int(rng.integers(1, 5))),
            stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))),
            dil=(int(rng.integers(1, 3)), int(rng.integers(1, 3))),
            pads=tuple(int(v) for v in rng.integers(0, 3, 4)),  # type: ignore[arg-type]
            group=group,
            per_channel=bool(rng.random() < 0.7),
            bias=bool(rng.random() < 0.7),
            relu=bool(rng.random() < 0.5),
            pad_value=int(rng.integers(-5, 6)) if rng.random() < 0.2 else 0,
            budget=int(rng.choice([0, 0, 2048, 4096])),
            in_pad=(0, int(rng.integers(0, 2)) * 16, int(rng.integers(0, 2)) * 3),
        )
        if rng.random() < 0.25:
            c.ins = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        oh, ow = c.out_hw
        if oh >= 1 and ow >= 1:
            return c


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("seed", range(10))
def test_conv_random(sims: Simulators, sim: str, seed: int) -> None:
    c = rand_case(np.random.default_rng(1000 + seed))
    prog, want = build_conv(c, seed)
    run(sims, sim, prog, want)


TILED = {
    # 64 x 56 x 56, 3x3: output rows tiled (the budget forces several row tiles with halos).
    "r56_3x3_rows": ConvCase(1, 64, 56, 56, 64, (3, 3), pads=(1, 1, 1, 1), relu=True, budget=12288),
    # The same layer with all local memory (whatever tiling fits).
    "r56_3x3_full": ConvCase(1, 64, 56, 56, 64, (3, 3), pads=(1, 1, 1, 1)),
    # 512 output channels of a 1x1 convolution: output-channel tiles.
    "oc512_1x1": ConvCase(1, 256, 7, 7, 512, (1, 1), budget=6144),
    # Weights of one 32-channel tile exceed the budget: input channels split into ps32 sums.
    "ic_split_3x3": ConvCase(1, 1024, 6, 6, 40, (3, 3), pads=(1, 1, 1, 1), budget=6144),
    "ic_split_per_tensor": ConvCase(
        2, 700, 5, 5, 33, (3, 3), pads=(1, 0, 1, 0), per_channel=False, relu=True, budget=4096
    ),
    # More input channels than local memory holds for even one row group.
    "ic_beyond_lmem": ConvCase(1, 4096, 4, 4, 32, (3, 3), pads=(1, 1, 1, 1), relu=True),
    "stride2_rows": ConvCase(
        2, 24, 33, 29, 48, (3, 3), stride=(2, 2), pads=(1, 1, 1, 1), budget=3072
    ),
    "dw_rows": ConvCase(
        1, 96, 40, 40, 96, (3, 3), pads=(1, 1, 1, 1), group=96, relu=True, budget=2048
    ),
    # Deconvolutions as convolutions over zero-inserted inputs: the depthwise 2x2 / 2 resize of
    # m07_leaky_resize, and a 3x3 / 2 deconvolution tiled over rows.
    "deconv_dw_2x2_s2": ConvCase(1, 8, 16, 16, 8, (2, 2), pads=(1, 1, 1, 1), group=8, ins=(1, 1)),
    "deconv_3x3_s2_rows": ConvCase(
        1, 40, 20, 20, 24, (3, 3), pads=(1, 2, 1, 2), ins=(1, 1), relu=True, budget=2048
    ),
    "serial_buffers": ConvCase(1, 48, 20, 20, 40, (3, 3), pads=(1, 1, 1, 1), budget=4096, db=False),
}


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("name", list(TILED))
def test_conv_tiled(sims: Simulators, sim: str, name: str) -> None:
    prog, want = build_conv(TILED[name], 7)
    run(sims, sim, prog, want)


@pytest.mark.parametrize("seed", range(4))
def test_conv_plan_within_budget(seed: int) -> None:
    """The tile plan's local-memory estimate matches the allocations: for random layers and
    budgets, either the layer fits (peak within the budget) or it fails with 'no tiling fits'."""
    rng = np.random.default_rng(500 + seed)
    for _ in range(15):
        c = rand_case(rng)
        c.ic = c.ic * int(rng.choice([1, 1, 8, 40])) if c.group == 1 else c.ic
        c.budget = int(rng.integers(256, 12000))
        prog, _ = build_conv(c, seed)
        try:
            _, stats = prog.emit()
        except EmitError as e:
            assert "no tiling fits" in str(e), str(e)
            continue
        assert stats["lmem_peak"] <= c.budget


def pack_deconv_filter(w: np.ndarray, group: int) -> np.ndarray:
    """packDeconvFilter: deconv filter [IC][OC/g][kh][kw] -> [OC][kh][kw][IC/g], kernel flipped."""
    ic, ocg, kh, kw = w.shape
    icg = ic // group
    out = np.empty((group * ocg, kh, kw, icg), np.int8)
    for g in range(group):
        blk = w[g * icg : (g + 1) * icg]  # [IC/g][OC/g][kh][kw]
        out[g * ocg : (g + 1) * ocg] = np.transpose(blk[:, :, ::-1, ::-1], (1, 2, 3, 0))
    return out


def deconv_direct(x: np.ndarray, w: np.ndarray, group: int, s: int, p: int, op: int) -> np.ndarray:
    """ConvTranspose2d accumulator, straight from its definition."""
    n, ic, h, wd = x.shape
    _, ocg, kh, kw = w.shape
    icg = ic // group
    oh, ow = (h - 1) * s - 2 * p + kh + op, (wd - 1) * s - 2 * p + kw + op
    full = np.zeros((n, group * ocg, (h - 1) * s + kh + op, (wd - 1) * s + kw + op), np.int64)
    for i in range(ic):
        g = i // icg
        for ky in range(kh):
            for kx in range(kw):
                contrib = np.einsum(
                    "nhw,o->nohw", x[:, i].astype(np.int64), w[i, :, ky, kx].astype(np.int64)
                )
                full[
                    :,
                    g * ocg : (g + 1) * ocg,
                    ky : ky + (h - 1) * s + 1 : s,
                    kx : kx + (wd - 1) * s + 1 : s,
                ] += contrib
    return full[:, :, p : p + oh, p : p + ow]


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("group,s,k,p,op", [(1, 2, 3, 1, 1), (2, 2, 4, 1, 0), (4, 3, 3, 0, 0)])
def test_deconv_mapping(
    sims: Simulators, sim: str, group: int, s: int, k: int, p: int, op: int
) -> None:
    """A deconvolution through the documented mapping (insertion s - 1, pads k - 1 - p plus the
    output padding, packDeconvFilter) equals ConvTranspose2d computed from its definition."""
    rng = np.random.default_rng(s * 10 + k + group)
    n, ic, h, wd, ocg = 1, 4 * group, 7, 6, 3
    x = rand_i8(rng, (n, ic, h, wd))
    w = rand_i8(rng, (ic, ocg, k, k))
    acc = deconv_direct(x, w, group, s, p, op)
    oc = group * ocg
    prog = LayerProgram(rng)
    prog.gtensor("x", x.shape, "int8", x)
    prog.gtensor("y", acc.shape, "int8", None, region=2)
    fil = prog.blob(pack_deconv_filter(w, group), region=1)
    mult = rng.integers(1 << 30, 1 << 31, oc)
    rsh = np.full(oc, max(0, int(np.round(np.log2(max(1.0, float(np.std(acc))) / 48)))))
    rec = prog.blob(chan_param_records(None, mult, rsh), region=1)
    pa = k - 1 - p
    prog(
        f"layer_conv2d input=x output=y filter={fil} group={group} kh={k} kw={k} ih={s - 1} "
        f"iw={s - 1} pt={pa} pb={pa + op} pl={pa} pr={pa + op} chan_param={rec} chan_bias=0 "
        "budget=1024"
    )
    run(sims, sim, prog, {"y": qdm_out(acc, mult, rsh, False)})


@pytest.mark.parametrize("sim", SIMS)
def test_conv_vendor_model(sims: Simulators, sim: str) -> None:
    """The conv layer kernel reproduces the vendor model m01_conv_relu: its int8 input, its
    weights and 9-byte channel records taken from the vendor cvimodel, its int8 output (vendor
    runner) bit for bit."""
    vm = VendorModel("m01_conv_relu")
    filt, records = vm.conv3x3_3to8()
    x = vm.int8("inputoutput_Relu_si8", "input")
    want = vm.int8("output_Relu", "output_Relu")
    rng = np.random.default_rng(0)
    p = LayerProgram(rng)
    p.gtensor("x", x.shape, "int8", x)
    p.gtensor("y", want.shape, "int8", None, region=2)
    fil = p.blob(np.ascontiguousarray(filt), region=1)
    rec = p.blob(records, region=1)
    p(
        f"layer_conv2d input=x output=y filter={fil} kh=3 kw=3 pt=1 pb=1 pl=1 pr=1 "
        f"chan_param={rec} relu=1 name=output_Relu"
    )
    run(sims, sim, p, {"y": want})

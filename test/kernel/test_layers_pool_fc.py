"""Layer kernels: max/average/global-average pooling, fully_connected and matmul
(tpuc/kernel/Layers.h) against the docs/quantization.md formulas, chains of layers, and whole
vendor conformance models, on the vendor simulator and tpuc's engine."""

from __future__ import annotations

import numpy as np
import pytest

from .kernel_harness import SIMS, Simulators
from .kernel_refs import (
    bf16_to_f32,
    conv_acc,
    expand_input,
    f32_to_bf16,
    requant_qdm,
    shift_half_up,
    windows,
)
from .layer_harness import (
    BIG_MEM,
    LAYER_MEM,
    LayerProgram,
    VendorModel,
    chan_param_records,
    pack_conv_filter,
    rand_i8,
    rshift_out,
    run,
)

POOLS = {
    "max_3x3_s2": ((1, 64, 56, 56), "max", (3, 3), (2, 2), (1, 1, 1, 1), 0),
    "max_2x2_tiled": ((2, 70, 30, 31), "max", (2, 2), (2, 2), (0, 0, 0, 1), 2048),
    "avg_3x3_pad": ((1, 40, 17, 19), "avg", (3, 3), (1, 1), (1, 1, 1, 1), 1024),
    "avg_2x2": ((2, 33, 8, 8), "avg", (2, 2), (2, 2), (0, 0, 0, 0), 0),
    "global_avg_7": ((2, 512, 7, 7), "avg", (7, 7), (1, 1), (0, 0, 0, 0), 0),
    "global_avg_56": ((1, 64, 56, 56), "avg", (56, 56), (1, 1), (0, 0, 0, 0), 0),
    "global_avg_tiled": ((3, 200, 9, 9), "avg", (9, 9), (1, 1), (0, 0, 0, 0), 512),
}


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("name", list(POOLS))
def test_pool(sims: Simulators, sim: str, name: str) -> None:
    shape, kind, (kh, kw), (sh, sw), pads, budget = POOLS[name]
    rng = np.random.default_rng(len(name))
    p = LayerProgram(rng)
    x = rand_i8(rng, shape)
    n, c, h, w = shape
    pt, pb, pl, pr = pads
    oh = (h + pt + pb - kh) // sh + 1
    ow = (w + pl + pr - kw) // sw + 1
    relu = "tiled" in name
    p.gtensor("x", shape, "int8", x, pad=(0, 0, 1))
    p.gtensor("y", (n, c, oh, ow), "int8", None, region=2)
    fill = -128 if kind == "max" else 0
    win = windows(expand_input(x, pads, (0, 0, 0, 0), fill), kh, kw, sh, sw, 1, 1, oh, ow)
    if kind == "max":
        want = win.max(axis=(4, 5))
        if relu:
            want = np.maximum(want, 0)
        extra = ""
    else:
        # (m, r) of f = 1 / (kh * kw) with the docs/quantization.md int8 pair rule.
        f = 1.0 / (kh * kw)
        r = max(rr for rr in range(32) if f * 2**rr <= 127)
        m = int(f * 2**r)
        y = shift_half_up(win.astype(np.int64).sum(axis=(4, 5)) * m, r)
        if relu:
            y = np.maximum(y, 0)
        want = np.clip(y, -128, 127)
        extra = f"m={m} rshift={r}"
    p(
        f"layer_pool kind={kind} input=x output=y kh={kh} kw={kw} sh={sh} sw={sw} "
        f"pt={pt} pb={pb} pl={pl} pr={pr} relu={int(relu)} budget={budget} {extra} name={name}"
    )
    run(sims, sim, p, {"y": want})


FCS = {
    # M, K, N, qdm, bias, transposed filter, budget
    "fc_1x512x1000": (1, 512, 1000, True, True, False, 0),
    "fc_4x2048x100": (4, 2048, 100, True, True, False, 0),
    "fc_k_split": (3, 1500, 70, True, True, False, 2048),
    "fc_n_tiled": (2, 256, 700, True, False, True, 1024),
    "fc_rshift": (5, 300, 40, False, True, False, 0),
    "fc_rshift_k_split": (2, 900, 50, False, True, True, 1024),
}


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("name", list(FCS))
def test_fully_connected(sims: Simulators, sim: str, name: str) -> None:
    m_, k_, n_, qdm, has_bias, transposed, budget = FCS[name]
    rng = np.random.default_rng(len(name) + 100)
    p = LayerProgram(rng, mem_size=BIG_MEM if n_ * k_ > 400_000 else LAYER_MEM)
    x = rand_i8(rng, (m_, k_))
    w = rand_i8(rng, (n_, k_))
    acc = x.astype(np.int64) @ w.astype(np.int64).T
    spread = max(1.0, float(np.std(acc)))
    p.gmatrix("x", m_, k_, "int8", x, pad=3)
    p.gmatrix("y", m_, n_, "int8", None, region=2)
    fil = p.blob(np.ascontiguousarray(w.T) if transposed else w, region=1)
    relu = bool(rng.random() < 0.5)
    opts = f"input=x output=y filter={fil} transposed={int(transposed)} relu={int(relu)}"
    if qdm:
        bias = rng.integers(-4 * int(spread), 4 * int(spread) + 1, n_).astype(np.int32)
        mult = int(rng.integers(1 << 30, 1 << 31))
        r = max(0, int(np.round(np.log2(spread / 48))))
        total = acc + (bias if has_bias else 0)
        want = requant_qdm(total, mult, r, relu, "int8")
        opts += f" qdm=1 m={mult} rshift={r}"
        planes = bias.astype("<i4").view(np.uint8).reshape(n_, 4).T.copy()
    else:
        bias = rng.integers(-3000, 3001, n_).astype(np.int16)
        r = max(0, int(np.round(np.log2(spread / 64))))
        want = rshift_out(acc + (bias.astype(np.int64) if has_bias else 0), r, relu)
        opts += f" qdm=0 rshift={r}"
        planes = bias.astype("<i2").view(np.uint8).reshape(n_, 2).T.copy()
    if has_bias:
        opts += f" bias={p.blob(planes, region=1)}"
    p(f"layer_fc {opts} budget={budget} name={name}")
    run(sims, sim, p, {"y": want})


@pytest.mark.parametrize("sim", SIMS)
def test_matmul_batched(sims: Simulators, sim: str) -> None:
    rng = np.random.default_rng(5)
    p = LayerProgram(rng)
    b, m_, k_, n_ = 3, 20, 64, 48
    a = rand_i8(rng, (b, m_, k_))
    c = rand_i8(rng, (b, k_, n_))
    p.gtensor("a", (1, b * m_, 1, k_), "int8", a.reshape(1, b * m_, 1, k_))
    p.gtensor("c", (1, b * k_, 1, n_), "int8", c.reshape(1, b * k_, 1, n_), region=1)
    p.gtensor("y", (1, b * m_, 1, n_), "int8", None, region=2)
    ga, gc, gy = p.globals["a"], p.globals["c"], p.globals["y"]
    p(f"gmatrix am 0 {ga.offset} {m_} {k_} int8")
    p(f"gmatrix cm 1 {gc.offset} {k_} {n_} int8")
    p(f"gmatrix ym 2 {gy.offset} {m_} {n_} int8")
    mult, r = int(rng.integers(1 << 30, 1 << 31)), 8
    acc = np.einsum("bmk,bkn->bmn", a.astype(np.int64), c.astype(np.int64))
    want = requant_qdm(acc, mult, r, True, "int8")
    p(
        f"layer_matmul left=am right=cm output=ym batch={b} lbs={m_ * k_} rbs={k_ * n_} "
        f"obs={m_ * n_} m={mult} rshift={r} relu=1 budget=1024"
    )
    run(sims, sim, p, {"y": want.reshape(1, b * m_, 1, n_)})


@pytest.mark.parametrize("sim", SIMS)
def test_layer_chain(sims: Simulators, sim: str) -> None:
    """Several layers emitted back to back into one command buffer (each frees its local memory;
    the next layer reads what the previous one stored): conv -> max pool -> global average pool
    -> fully_connected -> dequant."""
    rng = np.random.default_rng(42)
    p = LayerProgram(rng)
    x = rand_i8(rng, (1, 8, 12, 12))
    w = rand_i8(rng, (24, 8, 3, 3))
    p.gtensor("x", x.shape, "int8", x)
    p.gtensor("c", (1, 24, 12, 12), "int8", None, region=2)
    p.gtensor("m", (1, 24, 6, 6), "int8", None, region=2)
    p.gtensor("g", (1, 24, 1, 1), "int8", None, region=2)
    fil = p.blob(pack_conv_filter(w), region=1)
    acc = conv_acc(x, w, (1, 1), (1, 1), (1, 1, 1, 1), (0, 0, 0, 0), 0, 12, 12)
    mult = rng.integers(1 << 30, 1 << 31, 24)
    rsh = np.full(24, 9)
    rec = p.blob(chan_param_records(None, mult, rsh), region=1)
    c = requant_qdm(acc, mult.reshape(1, -1, 1, 1), rsh.reshape(1, -1, 1, 1), True, "int8")
    p(
        f"layer_conv2d input=x output=c filter={fil} kh=3 kw=3 pt=1 pb=1 pl=1 pr=1 "
        f"chan_param={rec} chan_bias=0 relu=1 id=1 budget=2048"
    )
    m = c.reshape(1, 24, 6, 2, 6, 2).max(axis=(3, 5))
    p("layer_pool kind=max input=c output=m kh=2 kw=2 sh=2 sw=2 id=2")
    gm, gr = 113, 12  # the int8 pair of 1 / 36
    g = np.clip(shift_half_up(m.astype(np.int64).sum(axis=(2, 3)) * gm, gr), -128, 127)
    p(f"layer_pool kind=avg input=m output=g kh=6 kw=6 m={gm} rshift={gr} id=3")
    p(f"gmatrix gv 2 {p.globals['g'].offset} 1 24 int8")
    p.gmatrix("f", 1, 10, "int8", None, region=3)
    fw = rand_i8(rng, (10, 24))
    fm, fr = 1 << 30, 6
    f = requant_qdm(g.reshape(1, 24) @ fw.T.astype(np.int64), fm, fr, False, "int8")
    p(f"layer_fc input=gv output=f filter={p.blob(fw, region=1)} m={fm} rshift={fr} id=4")
    p(f"global fv 3 {p.globals['f'].offset} 1 10 1 1 int8")  # f seen as a tensor
    y = p.gtensor("y", (1, 10, 1, 2), "bf16", None, region=5)
    p(f"layer_dequant input=fv output=5:{y.offset} threshold=4.0 id=5")
    scale = f32_to_bf16(np.float32(4.0) / np.float32(127))
    hi = f32_to_bf16(f.astype(np.float32).reshape(-1) * bf16_to_f32(scale))
    want_y = np.zeros((1, 10, 1, 2), np.uint16)
    want_y[0, :, 0, 1] = hi
    run(sims, sim, p, {"c": c, "m": m, "g": g.reshape(1, 24, 1, 1), "f": f, "y": want_y})


@pytest.mark.parametrize("sim", SIMS)
def test_vendor_model_m04_pools(sims: Simulators, sim: str) -> None:
    """The layer kernels reproduce the vendor model m04_pools (conv + relu, then max 2x2/2, max
    3x3/2 pad 1 and average 2x2/2 pools; weights from its cvimodel, average pool (124, 8) from its
    tpu mlir): the runner's int8 outputs bit for bit."""
    vm = VendorModel("m04_pools")
    filt, records = vm.conv3x3_3to8()
    x = vm.int8("inputr_Relu_si8", "input")
    p = LayerProgram(np.random.default_rng(0))
    p.gtensor("x", x.shape, "int8", x)
    p.gtensor("r", (1, 8, 32, 32), "int8", None, region=2)
    for name in ("max2", "max3", "avg2"):
        p.gtensor(name, (1, 8, 16, 16), "int8", None, region=3)
    p(
        f"layer_conv2d input=x output=r filter={p.blob(filt)} kh=3 kw=3 pt=1 pb=1 pl=1 pr=1 "
        f"chan_param={p.blob(records)} relu=1 name=r_Relu id=1"
    )
    p("layer_pool kind=max input=r output=max2 kh=2 kw=2 sh=2 sw=2 id=2")
    p("layer_pool kind=max input=r output=max3 kh=3 kw=3 sh=2 sw=2 pt=1 pb=1 pl=1 pr=1 id=3")
    p("layer_pool kind=avg input=r output=avg2 kh=2 kw=2 sh=2 sw=2 m=124 rshift=8 id=4")
    run(
        sims,
        sim,
        p,
        {
            "max2": vm.int8("max2_MaxPool", "max2_MaxPool"),
            "max3": vm.int8("max3_MaxPool", "max3_MaxPool"),
            "avg2": vm.int8("avg2_AveragePool", "avg2_AveragePool"),
        },
    )


@pytest.mark.parametrize("sim", SIMS)
def test_vendor_model_m06_add_lut_concat(sims: Simulators, sim: str) -> None:
    """The layer kernels reproduce the vendor model m06_add_mul_concat (3x3 and 1x1 convs, eltwise
    add (79, 87) >> 7, a LUT, concat with rescales (105, 7) and (65, 6); weights and table from
    its cvimodel, parameters from its tpu mlir): the runner's int8 output bit for bit."""
    vm = VendorModel("m06_add_mul_concat")
    w = vm.weights
    x = vm.int8("inputa_Conv_si8", "input")
    p = LayerProgram(np.random.default_rng(0))
    p.gtensor("x", x.shape, "int8", x)
    for name in ("a", "b", "s", "t"):
        p.gtensor(name, (1, 8, 16, 16), "int8", None, region=2)
    p.gtensor("y", (1, 16, 16, 16), "int8", None, region=3)
    blob = p.blob(np.frombuffer(w, np.uint8)[: 0x1E0 + 576].copy())
    region, base = (int(v) for v in blob.split(":"))

    def at(off: int) -> str:
        return f"{region}:{base + off}"

    p(
        f"layer_conv2d input=x output=a filter={at(0x1E0)} kh=3 kw=3 pt=1 pb=1 pl=1 pr=1 "
        f"chan_param={at(0x100)} name=a_Conv id=1"
    )
    p(f"layer_conv2d input=x output=b filter={at(0x150)} chan_param={at(0x190)} name=bconv id=2")
    p("layer_eltwise kind=add inputs=a,b output=s m=79,87 rshift=7 name=s_Add id=3")
    p(f"layer_lut input=s output=t table={at(0)} name=sm_Mul id=4")
    p("layer_concat inputs=t,a output=y axis=1 m=105,65 rshifts=7,6 name=output_Concat id=5")
    run(sims, sim, p, {"y": vm.int8("output_Concat", "output_Concat")})


@pytest.mark.parametrize("sim", SIMS)
def test_vendor_model_m08_luts(sims: Simulators, sim: str) -> None:
    """The layer kernels reproduce the vendor model m08_sigmoid_tanh (two 3x3 convs, each
    followed by a LUT; weights and tables from its cvimodel): both int8 outputs bit for bit."""
    vm = VendorModel("m08_sigmoid_tanh")
    x = vm.int8("inputc1_Conv_si8", "input")
    p = LayerProgram(np.random.default_rng(0))
    p.gtensor("x", x.shape, "int8", x)
    for name in ("c1", "c2", "sig", "tanh"):
        p.gtensor(name, (1, 8, 16, 16), "int8", None, region=2)
    for conv, f_at, r_at, lut, t_at in (
        ("c1", 0x3C0, 0x0, "sig", 0x2C0),
        ("c2", 0x150, 0x270, "tanh", 0x50),
    ):
        filt, records = vm.conv3x3_3to8(f_at, r_at)
        p(
            f"layer_conv2d input=x output={conv} filter={p.blob(filt)} kh=3 kw=3 pt=1 pb=1 pl=1 "
            f"pr=1 chan_param={p.blob(records)} name={conv}_Conv"
        )
        p(f"layer_lut input={conv} output={lut} table={p.blob(vm.raw(t_at, 256))}")
    # the sigmoid's output threshold is 1.0 in the vendor model (scale 1 / 127), not the table's
    run(
        sims,
        sim,
        p,
        {"sig": vm.int8("sig_Sigmoid", 1.0), "tanh": vm.int8("tanh_Tanh", "tanh_Tanh")},
    )


@pytest.mark.parametrize("sim", SIMS)
def test_vendor_model_m07_leaky_deconv(sims: Simulators, sim: str) -> None:
    """The layer kernels reproduce the vendor model m07_leaky_resize (3x3 conv, leaky_relu (1, 0)
    / (102, 10), the nearest resize as a depthwise 2x2/2 deconvolution with 5-byte records, a 1x1
    conv; weights from its cvimodel): the runner's int8 output bit for bit."""
    vm = VendorModel("m07_leaky_resize")
    x = vm.int8("inputc_Conv_si8", "input")
    p = LayerProgram(np.random.default_rng(0))
    p.gtensor("x", x.shape, "int8", x)
    p.gtensor("c", (1, 8, 16, 16), "int8", None, region=2)
    p.gtensor("l", (1, 8, 16, 16), "int8", None, region=2)
    p.gtensor("u", (1, 8, 32, 32), "int8", None, region=2)
    p.gtensor("y", (1, 8, 32, 32), "int8", None, region=3)
    filt, records = vm.conv3x3_3to8(0x130, 0xE0)
    p(
        f"layer_conv2d input=x output=c filter={p.blob(filt)} kh=3 kw=3 pt=1 pb=1 pl=1 pr=1 "
        f"chan_param={p.blob(records)} name=c_Conv"
    )
    p("layer_leaky_relu input=c output=l mpos=1 rpos=0 mneg=102 rneg=10")
    # deconv 2x2 / 2, pads 0: zeros inserted between rows/columns, pads 2 - 1 - 0 = 1, the 2x2
    # kernel flipped (packDeconvFilter; depthwise: [C][2][2] reversed in both axes)
    dw = vm.raw(0x70, 32).view(np.int8).reshape(8, 2, 2)[:, ::-1, ::-1].copy()
    p(
        f"layer_conv2d input=l output=u filter={p.blob(dw)} group=8 kh=2 kw=2 ih=1 iw=1 pt=1 pb=1 "
        f"pl=1 pr=1 chan_param={p.blob(vm.raw(0x40, 40))} chan_bias=0 name=u_Resize"
    )
    p(
        f"layer_conv2d input=u output=y filter={p.blob(vm.raw(0x0, 64))} "
        f"chan_param={p.blob(vm.raw(0x90, 72))} name=output_Conv"
    )
    run(sims, sim, p, {"y": vm.int8("output_Conv", "output_Conv")})

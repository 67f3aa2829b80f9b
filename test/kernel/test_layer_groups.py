"""Layer groups (tpuc/kernel/LayerGroup.h emitLayerGroup): chains and DAGs of layers sliced along
H with the intermediate tensors in local memory. Each group's outputs must equal, bit for bit, the
same layers emitted one by one with the layer kernels (`layer_<kind>` lines between
`layer_group_begin` and `layer_group_end`), on the vendor simulator and on tpuc's engine, and the
group must take fewer cycles in the engine's cycle model."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from .kernel_harness import SIMS, Simulators
from .layer_harness import (
    BIG_MEM,
    LAYER_MEM,
    LayerProgram,
    chan_param_records,
    engine_cycles,
    pack_conv_filter,
    rand_i8,
    run,
)

Builder = Callable[[LayerProgram, np.random.Generator], list[str]]


def conv_line(
    p: LayerProgram,
    rng: np.random.Generator,
    name: str,
    src: str,
    dst: str,
    ic: int,
    oc: int,
    k: int,
    stride: int = 1,
    pad: int = 0,
    group: int = 1,
    relu: bool = False,
) -> str:
    """A per-channel conv2d line with random weights whose outputs spread over the int8 range."""
    w = rand_i8(rng, (oc, ic // group, k, k))
    bias = rng.integers(-20000, 20001, oc)
    mult = rng.integers(1 << 30, 1 << 31, oc).astype(np.int64)
    spread = 74.0 * 74.0 * np.sqrt(ic // group * k * k)
    rsh = np.full(oc, max(0, int(np.log2(spread * 0.75 / 40))), np.int64)
    rec = chan_param_records(bias, mult, rsh)
    return (
        f"layer_conv2d name={name} id={len(p.lines)} input={src} output={dst} "
        f"filter={p.blob(pack_conv_filter(w))} chan_param={p.blob(rec)} group={group} "
        f"kh={k} kw={k} sh={stride} sw={stride} pt={pad} pb={pad} pl={pad} pr={pad} "
        f"relu={int(relu)}"
    )


def residual(p: LayerProgram, rng: np.random.Generator) -> list[str]:
    """conv-conv-add: the add's second input is the group input (DDR)."""
    c, h, w = 32, 28, 28
    p.gtensor("x", (1, c, h, w), "int8", rand_i8(rng, (1, c, h, w)), region=0)
    for t in ("a", "b"):
        p.gtensor(t, (1, c, h, w), "int8", None, region=0)
    p.gtensor("y", (1, c, h, w), "int8", None, region=2)
    return [
        conv_line(p, rng, "conv1", "x", "a", c, c, 3, pad=1, relu=True),
        conv_line(p, rng, "conv2", "a", "b", c, c, 3, pad=1),
        "layer_eltwise name=add id=3 kind=add inputs=b,x output=y m=3,5 rshift=3 relu=1",
    ]


def residual_inner(p: LayerProgram, rng: np.random.Generator) -> list[str]:
    """A strided 1x1 conv feeding a conv-conv-add block whose skip input comes from inside the
    group; the 1x1 conv's output is also kept (used after the group)."""
    c, h, w = 64, 30, 30
    p.gtensor("x", (1, 32, h, w), "int8", rand_i8(rng, (1, 32, h, w)), region=0)
    for t in ("x0", "a", "b"):
        p.gtensor(t, (1, c, 15, 15), "int8", None, region=0)
    p.gtensor("y", (1, c, 15, 15), "int8", None, region=2)
    return [
        conv_line(p, rng, "conv0", "x", "x0", 32, c, 1, stride=2, relu=True) + " keep=1",
        conv_line(p, rng, "conv1", "x0", "a", c, c, 3, pad=1, relu=True),
        conv_line(p, rng, "conv2", "a", "b", c, c, 3, pad=1),
        "layer_eltwise name=add id=4 kind=add inputs=x0,b output=y m=7,-4 rshift=4",
    ]


def wide_residual(p: LayerProgram, rng: np.random.Generator) -> list[str]:
    """conv-conv-add of 256 channels: the two filters (18 KiB per lane each) do not fit local
    memory together, so the convolutions run in output-channel tiles with double-buffered
    weights."""
    c, h, w = 256, 6, 6
    p.gtensor("x", (1, c, h, w), "int8", rand_i8(rng, (1, c, h, w)), region=0)
    for t in ("a", "b"):
        p.gtensor(t, (1, c, h, w), "int8", None, region=0)
    p.gtensor("y", (1, c, h, w), "int8", None, region=2)
    return [
        conv_line(p, rng, "conv1", "x", "a", c, c, 3, pad=1, relu=True),
        conv_line(p, rng, "conv2", "a", "b", c, c, 3, pad=1),
        "layer_eltwise name=add id=3 kind=add inputs=b,x output=y m=1,1 rshift=1 relu=1",
    ]


def downsample(p: LayerProgram, rng: np.random.Generator) -> list[str]:
    """A downsampling residual block in the order conv1 (3x3/2), conv2, projection (1x1/2), add:
    the projection reads fewer rows of the group input than conv1."""
    p.gtensor("x", (1, 32, 16, 16), "int8", rand_i8(rng, (1, 32, 16, 16)), region=0)
    for t in ("a", "b", "d"):
        p.gtensor(t, (1, 64, 8, 8), "int8", None, region=0)
    p.gtensor("y", (1, 64, 8, 8), "int8", None, region=2)
    return [
        conv_line(p, rng, "conv1", "x", "a", 32, 64, 3, stride=2, pad=1, relu=True),
        conv_line(p, rng, "conv2", "a", "b", 64, 64, 3, pad=1),
        conv_line(p, rng, "ds", "x", "d", 32, 64, 1, stride=2),
        "layer_eltwise name=add id=4 kind=add inputs=b,d output=y m=9,11 rshift=4 relu=1",
    ]


def stem(p: LayerProgram, rng: np.random.Generator) -> list[str]:
    """A 7x7/2 convolution of 3 input channels (padded to 4 with zero weights) and a 3x3/2 max
    pool: the stem of a ResNet."""
    p.gtensor("x", (1, 3, 60, 60), "int8", rand_i8(rng, (1, 3, 60, 60)), region=0)
    p.gtensor("a", (1, 16, 30, 30), "int8", None, region=0)
    p.gtensor("y", (1, 16, 15, 15), "int8", None, region=2)
    return [
        conv_line(p, rng, "conv", "x", "a", 3, 16, 7, stride=2, pad=3, relu=True),
        "layer_pool name=pool id=2 kind=max input=a output=y kh=3 kw=3 sh=2 sw=2 pt=1 pb=1 "
        "pl=1 pr=1",
    ]


def conv_relu_pool(p: LayerProgram, rng: np.random.Generator) -> list[str]:
    """conv -> relu -> max pool 3x3/2 -> lut -> avg pool 2x2/2."""
    c, h, w = 16, 40, 36
    p.gtensor("x", (1, 8, h, w), "int8", rand_i8(rng, (1, 8, h, w)), region=0)
    p.gtensor("a", (1, c, h, w), "int8", None, region=0)
    p.gtensor("r", (1, c, h, w), "int8", None, region=0)
    p.gtensor("m", (1, c, 20, 18), "int8", None, region=0)
    p.gtensor("l", (1, c, 20, 18), "int8", None, region=0)
    p.gtensor("y", (1, c, 10, 9), "int8", None, region=2)
    table = p.blob(rand_i8(rng, (256,)))
    return [
        conv_line(p, rng, "conv", "x", "a", 8, c, 3, pad=1),
        "layer_leaky_relu name=relu id=2 input=a output=r mpos=1 rpos=0 mneg=0 rneg=0",
        "layer_pool name=pool id=3 kind=max input=r output=m kh=3 kw=3 sh=2 sw=2 pt=1 pb=1 "
        "pl=1 pr=1",
        f"layer_lut name=lut id=4 input=m output=l table={table}",
        "layer_pool name=avg id=5 kind=avg input=l output=y kh=2 kw=2 sh=2 sw=2 m=64 rshift=8",
    ]


def dw_pw(p: LayerProgram, rng: np.random.Generator) -> list[str]:
    """depthwise 3x3/2 + pointwise 1x1 + leaky relu (two batches)."""
    c, h, w = 48, 32, 32
    p.gtensor("x", (2, c, h, w), "int8", rand_i8(rng, (2, c, h, w)), region=0)
    p.gtensor("d", (2, c, 16, 16), "int8", None, region=0)
    p.gtensor("e", (2, 64, 16, 16), "int8", None, region=0)
    p.gtensor("y", (2, 64, 16, 16), "int8", None, region=2)
    return [
        conv_line(p, rng, "dw", "x", "d", c, c, 3, stride=2, pad=1, group=c, relu=True),
        conv_line(p, rng, "pw", "d", "e", c, 64, 1),
        "layer_leaky_relu name=leaky id=3 input=e output=y mpos=1 rpos=0 mneg=13 rneg=7",
    ]


CASES: dict[str, tuple[Builder, list[str]]] = {
    "residual": (residual, ["y"]),
    "residual_inner": (residual_inner, ["y", "x0"]),
    "wide_residual": (wide_residual, ["y"]),
    "stem": (stem, ["y"]),
    "downsample": (downsample, ["y"]),
    "conv_relu_pool": (conv_relu_pool, ["y"]),
    "dw_pw": (dw_pw, ["y"]),
}


def build(case: str, group: str | None) -> LayerProgram:
    """The case's program; with `group` (the layer_group_begin options) its layers form a
    group."""
    builder, _ = CASES[case]
    rng = np.random.default_rng(sum(map(ord, case)))
    p = LayerProgram(rng, mem_size=BIG_MEM if case.startswith("wide") else LAYER_MEM)
    lines = builder(p, rng)
    if group is not None:
        p(f"layer_group_begin name={case} {group}")
    for line in lines:
        p(line if group is not None else line.replace(" keep=1", ""))
    if group is not None:
        p("layer_group_end")
    return p


GROUPINGS = {"default": "", "budget4k": "budget=4096", "single_buffer": "db=0"}


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("grouping", list(GROUPINGS))
@pytest.mark.parametrize("case", list(CASES))
def test_group_equals_layers(sims: Simulators, sim: str, case: str, grouping: str) -> None:
    outputs = CASES[case][1]
    ref_prog = build(case, None)
    mem, _ = run(sims, sim, ref_prog, {})
    want = {name: ref_prog.read(mem, name) for name in outputs}
    prog = build(case, GROUPINGS[grouping])
    run(sims, sim, prog, want)


@pytest.mark.parametrize("case", list(CASES))
def test_group_fewer_cycles(sims: Simulators, case: str) -> None:
    layers = engine_cycles(sims, build(case, None))
    grouped = engine_cycles(sims, build(case, ""))
    if layers is None or grouped is None:
        pytest.skip("tpuc engine with the cycle model not available")
    assert grouped < layers, f"{case}: group {grouped} cycles, layer by layer {layers}"


def test_group_member_error(emitter: object) -> None:
    """Layers without a group form are refused inside a group, naming the command."""
    from .kernel_harness import EmitError, emit

    with pytest.raises(EmitError, match="cannot be a member of a layer group"):
        emit(
            "global x 0 0 1 1 4 4 int8\nglobal y 0 64 1 1 4 4 int8\n"
            "layer_group_begin\nlayer_concat inputs=x output=y axis=1\nlayer_group_end\n"
        )

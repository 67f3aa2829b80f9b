"""Layer kernels: upsample, permute, reshape, slice (with steps) and pad (tpuc/kernel/Layers.h),
plus the error messages of the layer emitters, on the vendor simulator and tpuc's engine."""

from __future__ import annotations

import numpy as np
import pytest

from .kernel_harness import SIMS, EmitError, Simulators, emit
from .layer_harness import BIG_MEM, LayerProgram, rand_i8, run


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize(
    "shape,scale,budget",
    [
        ((1, 3, 5, 7), (2, 2), 0),
        ((2, 64, 14, 14), (2, 2), 1024),
        ((1, 40, 9, 600), (1, 3), 2048),
        ((1, 16, 4, 4), (3, 2), 0),
    ],
)
def test_upsample(
    sims: Simulators,
    sim: str,
    shape: tuple[int, int, int, int],
    scale: tuple[int, int],
    budget: int,
) -> None:
    rng = np.random.default_rng(sum(shape))
    p = LayerProgram(rng, mem_size=BIG_MEM)
    x = rand_i8(rng, shape)
    n, c, h, w = shape
    p.gtensor("x", shape, "int8", x, pad=(0, 0, 2))
    p.gtensor("y", (n, c, h * scale[0], w * scale[1]), "int8", None, region=2)
    want = x.repeat(scale[0], axis=2).repeat(scale[1], axis=3)
    p(f"layer_upsample input=x output=y sh={scale[0]} sw={scale[1]} budget={budget}")
    run(sims, sim, p, {"y": want})


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize(
    "order", [(0, 2, 3, 1), (0, 3, 1, 2), (1, 0, 2, 3), (0, 1, 3, 2), (0, 2, 1, 3), (3, 2, 1, 0)]
)
def test_permute(sims: Simulators, sim: str, order: tuple[int, int, int, int]) -> None:
    rng = np.random.default_rng(sum(i * v for i, v in enumerate(order)))
    p = LayerProgram(rng)
    shape = (2, 40, 6, 9)
    x = rand_i8(rng, shape)
    want = np.transpose(x, order)
    p.gtensor("x", shape, "int8", x)
    p.gtensor("y", want.shape, "int8", None, region=2)
    p(f"layer_permute input=x output=y order={','.join(map(str, order))} budget=1024")
    run(sims, sim, p, {"y": want})


@pytest.mark.parametrize("sim", SIMS)
def test_reshape_slice_pad(sims: Simulators, sim: str) -> None:
    rng = np.random.default_rng(3)
    p = LayerProgram(rng)
    x = rand_i8(rng, (2, 12, 10, 8))
    p.gtensor("x", (2, 12, 10, 8), "int8", x)
    p.gtensor("r", (1, 24, 80, 1), "int8", None, region=1)
    p.gtensor("s", (1, 5, 4, 6), "int8", None, region=2)
    p.gtensor("crop", (2, 12, 3, 8), "int8", None, region=2)
    p.gtensor("sw", (2, 6, 10, 3), "int8", None, region=2)
    p.gtensor("pd", (2, 13, 13, 11), "int8", None, region=3)
    p("layer_reshape input=x output=r")
    p("layer_slice input=x output=s offsets=1,2,1,1 steps=1,2,2,1")
    p("layer_slice input=x output=crop offsets=0,0,4,0")
    p("layer_slice input=x output=sw offsets=0,1,0,1 steps=1,2,1,3 budget=512")
    p("layer_pad input=x output=pd begin=0,1,2,1 end=0,0,1,2 value=-7")
    pd = np.full((2, 13, 13, 11), -7, np.int8)
    pd[:, 1:13, 2:12, 1:9] = x
    run(
        sims,
        sim,
        p,
        {
            "r": x.reshape(1, 24, 80, 1),
            "s": x[1:2, 2:12:2, 1:9:2, 1:7],
            "crop": x[:, :, 4:7, :],
            "pd": pd,
            "sw": x[:, 1::2, :, 1::3],
        },
    )


@pytest.mark.parametrize(
    "line,message",
    [
        (
            "layer_conv2d input=x output=y filter=1:0 kh=3 kw=3 name=c1",
            "conv2d 'c1': output shape (1, 8, 6, 6) does not match",
        ),
        (
            "layer_conv2d input=x output=y filter=1:0 group=3 name=g",
            "conv2d 'g': group 3 does not divide",
        ),
        (
            "layer_eltwise kind=add inputs=x,x output=x m=1 name=e",
            "eltwise_add 'e': 1 multipliers for 2 inputs",
        ),
        (
            "layer_pool kind=avg input=x output=y kh=1 kw=1 m=300 name=p",
            "pool_avg_2d 'p': average multiplier 300",
        ),
        (
            "layer_conv2d input=x output=y filter=1:0 kh=1 kw=1 chan_param=1:0 budget=48 name=big",
            "conv2d 'big': no tiling fits 48 bytes",
        ),
        # An error of a Context operation inside the layer carries the layer's name too.
        (
            "layer_conv2d input=x output=w filter=1:0 kh=1 kw=1 sw=2 pad=0 dw=20 name=d",
            "conv2d 'd': conv: dilation w 20 is out of range",
        ),
        (
            "layer_conv2d input=x output=z filter=1:0 kh=1 kw=1 pt=7 sh=13 chan_param=1:0 name=p",
            "conv2d 'p': some output rows see only padding",
        ),
        (
            "layer_slice input=x output=y offsets=0,0,0,2 steps=1,1,1,2 name=s",
            "slice 's': output (1, 8, 6, 3) with offset 2 and step 2 reaches beyond input",
        ),
    ],
)
def test_layer_errors(line: str, message: str) -> None:
    script = (
        "global x 0 0 1 8 6 6 int8\nglobal y 2 0 1 8 6 6 int8\n"
        "global w 2 4096 1 8 6 3 int8\nglobal z 2 8192 1 8 1 6 int8\n" + line + "\n"
    )
    if "slice" in line:
        script = script.replace("global y 2 0 1 8 6 6", "global y 2 0 1 8 6 3")
    with pytest.raises(EmitError) as e:
        emit(script)
    assert e.value.code == 1
    assert message in str(e.value)

"""INT8 layers of the interpreter against numpy renderings of the formulas of
docs/quantization.md (integer arithmetic in int64, independent of tpuc::arith), and the INT8
tensor dumps (int8 codes plus `<name>_scale`)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Net, Value, f32, i64s, rand

# --- reference arithmetic (int64 numpy) -------------------------------------------------------


def sat8(x: np.ndarray) -> np.ndarray:
    return np.clip(x, -128, 127)


def rshift_up(x: np.ndarray, r: int) -> np.ndarray:
    return x if r == 0 else (x + (1 << (r - 1))) >> r


def rshift_away(x: np.ndarray, r: int) -> np.ndarray:
    if r == 0:
        return x
    half = 1 << (r - 1)
    return np.where(x >= 0, (x + half) >> r, -((-x + half) >> r))


def srdhm(a: np.ndarray, m: int) -> np.ndarray:
    p = [int(v) * m for v in np.asarray(a).reshape(-1)]
    out = [
        (v + (1 << 30)) // (1 << 31) if v >= 0 else -((-v + (1 << 30) - 1) // (1 << 31)) for v in p
    ]
    return np.array(out, dtype=np.int64).reshape(np.shape(a))


def qdm(acc: np.ndarray, m: int, r: int, relu: bool = False) -> np.ndarray:
    y = rshift_away(srdhm(acc, m), r)
    return sat8(np.maximum(y, 0) if relu else y)


def varied(ref: np.ndarray) -> np.ndarray:
    """`ref`, after checking it is not a degenerate expectation (mostly saturated or constant)."""
    assert len(np.unique(ref)) > 8 and np.mean(np.abs(ref) >= 127) < 0.5, np.unique(ref)
    return ref


def codes(shape: tuple[int, ...], seed: int, low: int = -128, high: int = 128) -> np.ndarray:
    return np.random.default_rng(seed).integers(low, high, shape).astype(np.float32)


def conv_acc(
    x: np.ndarray,
    w: np.ndarray,
    strides: tuple[int, int],
    pads: tuple[int, ...],
    dil: tuple[int, int],
    group: int,
) -> np.ndarray:
    """Integer conv_2d accumulator, NCHW / OIHW, pads (top, left, bottom, right)."""
    x, w = x.astype(np.int64), w.astype(np.int64)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (h + pads[0] + pads[2] - dil[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - dil[1] * (kw - 1) - 1) // strides[1] + 1
    out = np.zeros((n, o, oh, ow), np.int64)
    og = o // group
    for oc in range(o):
        g = oc // og
        for ky in range(kh):
            for kx in range(kw):
                ys, xs = ky * dil[0], kx * dil[1]
                patch = xp[
                    :,
                    g * cg : (g + 1) * cg,
                    ys : ys + strides[0] * oh : strides[0],
                    xs : xs + strides[1] * ow : strides[1],
                ]
                out[:, oc] += np.einsum("nchw,c->nhw", patch, w[oc, :, ky, kx])
    return out


def quant_attr(
    param_type: str,
    multiplier: list[int] | None,
    rshift: list[int],
    perchannel: bool = False,
    threshold: float = 1.0,
) -> str:
    fields = [
        'mode = "INT8"',
        f'param_type = "{param_type}"',
        f"is_perchannel = {str(perchannel).lower()}",
        f"threshold_max = {threshold!r} : f64",
    ]
    if rshift:
        fields.append(f"rshift = {i64s(rshift)}")
    if multiplier is not None:
        fields.append(f"multiplier = {i64s(multiplier)}")
    return "quant = {" + ", ".join(fields) + "}"


def int_weight(net: Net, name: str, array: np.ndarray, element: str) -> Value:
    """A weight stored with its integer dtype (int32 biases do not fit float32)."""
    dtype = {"i8": np.int8, "i16": np.int16, "i32": np.int32, "ui8": np.uint8}[element]
    value = net.weight(name, array.astype(np.float32), element)
    net.weights[name] = np.asarray(array).astype(dtype)
    return value


def run(
    interp: Any,
    net: Net,
    outputs: list[Value],
    inputs: dict[str, np.ndarray],
    tmp_path: Path,
    **kwargs: Any,
) -> dict[str, np.ndarray]:
    path = net.save(tmp_path, outputs)
    return interp.run(path, inputs, **kwargs)


def qdm_pairs(rng: np.random.Generator, count: int) -> tuple[list[int], list[int]]:
    return (
        [int(v) for v in rng.integers(1 << 30, 1 << 31, count)],
        [int(v) for v in rng.integers(6, 12, count)],
    )


# --- accumulating layers ------------------------------------------------------------------------

CONV_CASES = {
    # name: (input shape, out channels, kernel, strides, pads, dilations, group)
    "plain_3x3": ((1, 3, 7, 7), 4, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    "strided_dilated": ((2, 4, 9, 8), 6, (3, 2), (2, 1), (2, 0, 1, 1), (2, 1), 2),
    "depthwise": ((1, 8, 6, 6), 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 8),
    "pointwise": ((1, 16, 5, 5), 5, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),
}


@pytest.mark.parametrize("case", sorted(CONV_CASES))
@pytest.mark.parametrize("relu", [False, True])
def test_conv_per_channel_qdm(interp: Any, tmp_path: Path, case: str, relu: bool) -> None:
    shape, o, k, strides, pads, dil, group = CONV_CASES[case]
    rng = np.random.default_rng(1)
    x = codes(shape, 2)
    w = codes((o, shape[1] // group, *k), 3)
    bias = rng.integers(-(1 << 16), 1 << 16, o)
    m, r = qdm_pairs(rng, o)
    r = [v + 3 for v in r]  # keep most outputs inside int8
    acc = conv_acc(x, w, strides, pads, dil, group) + bias[None, :, None, None]
    ref = np.stack([qdm(acc[:, c], m[c], r[c], relu) for c in range(o)], axis=1)
    assert len(np.unique(ref)) > 25
    net = Net()
    y = net.op(
        "conv_2d",
        [
            net.input("x", shape, "i8"),
            int_weight(net, "w", w, "i8"),
            int_weight(net, "b", bias, "i32"),
        ],
        ref.shape,
        f"strides = {i64s(strides)}, pads = {i64s(pads)}, dilations = {i64s(dil)}, "
        f"group = {group} : i64, do_relu = {str(relu).lower()}, "
        + quant_attr("RSHIFT_AND_M_I32", m, r, True),
        name="conv",
        element="i8",
    )
    got = run(interp, net, [y], {"x": x}, tmp_path)["conv"]
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, ref)


def chan_param(bias: np.ndarray, m: list[int], r: list[int]) -> np.ndarray:
    records = np.zeros((len(m), 9), np.uint8)
    records[:, 0:4] = np.asarray(bias, "<i4").view(np.uint8).reshape(-1, 4)
    records[:, 4:8] = np.asarray(m, "<u4").view(np.uint8).reshape(-1, 4)
    records[:, 8] = r
    return records


def chan_param_net(
    bias: np.ndarray, m: list[int], r: list[int], records: np.ndarray
) -> tuple[Net, Value]:
    net = Net()
    w = codes((4, 1, 3, 3), 5)
    y = net.op(
        "conv_2d",
        [
            net.input("x", (1, 4, 5, 5), "i8"),
            int_weight(net, "w", w, "i8"),
            int_weight(net, "b", bias, "i32"),
        ],
        (1, 4, 5, 5),
        f"strides = {i64s((1, 1))}, pads = {i64s((1, 1, 1, 1))}, "
        f"dilations = {i64s((1, 1))}, group = 4 : i64, "
        + quant_attr("RSHIFT_AND_M_I32", m, r, True),
        name="dw",
        element="i8",
    )
    net.weights["dw_quant_chan_param"] = records
    return net, y


def test_conv_per_channel_records_must_agree(interp: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    bias = rng.integers(-5000, 5000, 4)
    m, r = qdm_pairs(rng, 4)
    x = codes((1, 4, 5, 5), 7)
    net, y = chan_param_net(bias, m, r, chan_param(bias, m, r))
    got = run(interp, net, [y], {"x": x}, tmp_path / "same")["dw"]
    net, y = chan_param_net(bias, m, r, None)  # type: ignore[arg-type]
    del net.weights["dw_quant_chan_param"]
    plain = run(interp, net, [y], {"x": x}, tmp_path / "plain")["dw"]
    np.testing.assert_array_equal(got, plain)
    wrong = chan_param(bias + np.array([0, 1, 0, 0]), m, r)
    net, y = chan_param_net(bias, m, r, wrong)
    with pytest.raises(interp.InterpreterError, match="dw_quant_chan_param' disagrees"):
        run(interp, net, [y], {"x": x}, tmp_path / "wrong")


def test_conv_per_tensor_rshift_only(interp: Any, tmp_path: Path) -> None:
    x = codes((1, 3, 6, 6), 8)
    w = codes((5, 3, 3, 3), 9)
    bias = np.random.default_rng(10).integers(-30000, 30000, 5)
    acc = conv_acc(x, w, (1, 1), (0, 0, 0, 0), (1, 1), 1) + bias[None, :, None, None]
    ref = sat8(rshift_up(acc, 9))
    net = Net()
    y = net.op(
        "conv_2d",
        [
            net.input("x", x.shape, "i8"),
            int_weight(net, "w", w, "i8"),
            int_weight(net, "b", bias, "i16"),
        ],
        ref.shape,
        f"strides = {i64s((1, 1))}, pads = {i64s((0, 0, 0, 0))}, "
        f"dilations = {i64s((1, 1))}, " + quant_attr("RSHIFT_ONLY", None, [9]),
        name="conv",
        element="i8",
    )
    np.testing.assert_array_equal(run(interp, net, [y], {"x": x}, tmp_path)["conv"], varied(ref))


@pytest.mark.parametrize("group", [1, 2])
def test_deconv_per_channel(interp: Any, tmp_path: Path, group: int) -> None:
    c, o, h = 4, 6, 5
    x = codes((1, c, h, h), 11)
    w = codes((c, o // group, 3, 3), 12)
    rng = np.random.default_rng(13)
    bias = rng.integers(-(1 << 14), 1 << 14, o)
    m, r = qdm_pairs(rng, o)
    r = [v + 2 for v in r]
    stride, pad = 2, 1
    full = (h - 1) * stride + 3
    acc = np.zeros((1, o, full, full), np.int64)
    og, cg = o // group, c // group
    for ci in range(c):
        g = ci // cg
        for oc in range(og):
            for iy in range(h):
                for ix in range(h):
                    acc[
                        0, g * og + oc, iy * stride : iy * stride + 3, ix * stride : ix * stride + 3
                    ] += int(x[0, ci, iy, ix]) * w[ci, oc].astype(np.int64)
    acc = acc[:, :, pad : full - pad, pad : full - pad] + bias[None, :, None, None]
    ref = np.stack([qdm(acc[:, k], m[k], r[k]) for k in range(o)], axis=1)
    net = Net()
    y = net.op(
        "deconv_2d",
        [
            net.input("x", x.shape, "i8"),
            int_weight(net, "w", w, "i8"),
            int_weight(net, "b", bias, "i32"),
        ],
        ref.shape,
        f"strides = {i64s((2, 2))}, pads = {i64s((1, 1, 1, 1))}, "
        f"dilations = {i64s((1, 1))}, group = {group} : i64, "
        + quant_attr("RSHIFT_AND_M_I32", m, r, True),
        name="up",
        element="i8",
    )
    np.testing.assert_array_equal(run(interp, net, [y], {"x": x}, tmp_path)["up"], varied(ref))


def test_fully_connected_shared_qdm(interp: Any, tmp_path: Path) -> None:
    x = codes((3, 40), 14)
    w = codes((7, 40), 15)
    bias = np.random.default_rng(16).integers(-(1 << 14), 1 << 14, 7)
    acc = x.astype(np.int64) @ w.astype(np.int64).T + bias
    ref = qdm(acc, 1518500250, 9, relu=True)
    net = Net()
    y = net.op(
        "fully_connected",
        [
            net.input("x", x.shape, "i8"),
            int_weight(net, "w", w, "i8"),
            int_weight(net, "b", bias, "i32"),
        ],
        ref.shape,
        "do_relu = true, " + quant_attr("RSHIFT_AND_M_I32", [1518500250], [9]),
        name="fc",
        element="i8",
    )
    np.testing.assert_array_equal(run(interp, net, [y], {"x": x}, tmp_path)["fc"], varied(ref))


def test_matmul_batched(interp: Any, tmp_path: Path) -> None:
    a, b = codes((2, 3, 5, 9), 17), codes((3, 9, 4), 18)
    acc = np.matmul(a.astype(np.int64), b.astype(np.int64))
    ref = qdm(acc, 1234567890, 8)
    net = Net()
    y = net.op(
        "matmul",
        [net.input("a", a.shape, "i8"), net.input("b", b.shape, "i8")],
        ref.shape,
        quant_attr("RSHIFT_AND_M_I32", [1234567890], [8]),
        name="mm",
        element="i8",
    )
    np.testing.assert_array_equal(
        run(interp, net, [y], {"a": a, "b": b}, tmp_path)["mm"], varied(ref)
    )


def test_scale_per_channel(interp: Any, tmp_path: Path) -> None:
    x = codes((2, 3, 4, 4), 19)
    s = np.array([127, -64, 0], np.int64)
    bias = np.array([1000, -70000, 12345], np.int64)
    m, r = [1082196480, 2000000000, 1500000000], [6, 10, 9]
    acc = x.astype(np.int64) * s[None, :, None, None] + bias[None, :, None, None]
    ref = np.stack([qdm(acc[:, c], m[c], r[c]) for c in range(3)], axis=1)
    net = Net()
    y = net.op(
        "scale",
        [
            net.input("x", x.shape, "i8"),
            int_weight(net, "s", s, "i8"),
            int_weight(net, "b", bias, "i32"),
        ],
        x.shape,
        quant_attr("RSHIFT_AND_M_I32", m, r, True),
        name="sc",
        element="i8",
    )
    np.testing.assert_array_equal(run(interp, net, [y], {"x": x}, tmp_path)["sc"], varied(ref))


# --- element-wise layers ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["add", "max", "min"])
def test_eltwise_rescaled(interp: Any, tmp_path: Path, kind: str) -> None:
    a, b = codes((1, 4, 5, 5), 20), codes((1, 4, 1, 5), 21)  # b broadcasts
    m, r = [79, -87], 7
    qa, qb = a.astype(np.int64) * m[0], np.broadcast_to(b, a.shape).astype(np.int64) * m[1]
    if kind == "add":
        ref = sat8(np.maximum(rshift_up(qa + qb, r), 0))
    else:
        pick = np.maximum if kind == "max" else np.minimum
        ref = np.maximum(pick(sat8(rshift_up(qa, r)), sat8(rshift_up(qb, r))), 0)
    net = Net()
    y = net.op(
        f"eltwise_{kind}",
        [net.input("a", a.shape, "i8"), net.input("b", b.shape, "i8")],
        a.shape,
        "do_relu = true, " + quant_attr("RSHIFT_AND_M_I8", m, [r]),
        name="e",
        element="i8",
    )
    np.testing.assert_array_equal(
        run(interp, net, [y], {"a": a, "b": b}, tmp_path)["e"], varied(ref)
    )


def test_eltwise_mul_qdm(interp: Any, tmp_path: Path) -> None:
    a, b = codes((2, 3, 4), 22), codes((2, 3, 4), 23)
    ref = qdm(a.astype(np.int64) * b.astype(np.int64), 1600000000, 7)
    net = Net()
    y = net.op(
        "eltwise_mul",
        [net.input("a", a.shape, "i8"), net.input("b", b.shape, "i8")],
        a.shape,
        quant_attr("RSHIFT_AND_M_I32", [1600000000], [7]),
        name="e",
        element="i8",
    )
    np.testing.assert_array_equal(
        run(interp, net, [y], {"a": a, "b": b}, tmp_path)["e"], varied(ref)
    )


@pytest.mark.parametrize("pads", [(0, 0, 0, 0), (1, 1, 1, 1)])
def test_pool_avg(interp: Any, tmp_path: Path, pads: tuple[int, ...]) -> None:
    x = codes((1, 3, 6, 6), 24)
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (xp.shape[2] - 3) // 2 + 1
    sums = np.array(
        [
            [
                [xp[0, c, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].sum() for j in range(oh)]
                for i in range(oh)
            ]
            for c in range(3)
        ]
    )[None]
    ref = sat8(rshift_up(sums * 113, 10))
    net = Net()
    y = net.op(
        "pool_avg_2d",
        [net.input("x", x.shape, "i8")],
        ref.shape,
        f"kernel_shape = {i64s((3, 3))}, strides = {i64s((2, 2))}, pads = {i64s(pads)}, "
        "count_include_pad = true, " + quant_attr("RSHIFT_AND_M_I8", [113], [10]),
        name="p",
        element="i8",
    )
    np.testing.assert_array_equal(run(interp, net, [y], {"x": x}, tmp_path)["p"], varied(ref))


def test_leaky_relu_and_prelu(interp: Any, tmp_path: Path) -> None:
    x = codes((1, 3, 4, 4), 25)
    q = x.astype(np.int64)
    leaky_ref = np.where(q >= 0, sat8(rshift_up(q * 1, 0)), sat8(rshift_up(q * 102, 10)))
    slope = np.array([13, -40, 127], np.int64)
    prelu_ref = np.where(
        q >= 0, sat8(rshift_up(q * 95, 6)), sat8(rshift_up(q * slope[None, :, None, None], 8))
    )
    net = Net()
    xin = net.input("x", x.shape, "i8")
    leaky = net.op(
        "leaky_relu",
        [xin],
        x.shape,
        f"negative_slope = {f32(0.1)}, " + quant_attr("RSHIFT_AND_M_I8", [1, 102], [0, 10]),
        name="l",
        element="i8",
    )
    prelu = net.op(
        "prelu",
        [xin, int_weight(net, "slope", slope, "i8")],
        x.shape,
        quant_attr("RSHIFT_AND_M_I8", [95], [6, 8], True),
        name="pr",
        element="i8",
    )
    got = run(interp, net, [leaky, prelu], {"x": x}, tmp_path)
    np.testing.assert_array_equal(got["l"], leaky_ref)
    np.testing.assert_array_equal(got["pr"], prelu_ref)


def test_concat_rescales_each_input(interp: Any, tmp_path: Path) -> None:
    a, b = codes((1, 2, 3, 3), 26), codes((1, 3, 3, 3), 27)
    ref = np.concatenate([sat8(rshift_up(a.astype(np.int64) * 105, 7)), b.astype(np.int64)], axis=1)
    net = Net()
    y = net.op(
        "concat",
        [net.input("a", a.shape, "i8"), net.input("b", b.shape, "i8")],
        ref.shape,
        "axis = 1 : i64, " + quant_attr("RSHIFT_AND_M_I8", [105, 1], [7, 0]),
        name="cat",
        element="i8",
    )
    np.testing.assert_array_equal(
        run(interp, net, [y], {"a": a, "b": b}, tmp_path)["cat"], varied(ref)
    )


def test_code_moving_layers_use_codes(interp: Any, tmp_path: Path) -> None:
    x = codes((1, 2, 3, 4), 28)
    net = Net()
    xin = net.input("x", x.shape, "i8")
    none = quant_attr("NONE", None, [])
    pad = net.op(
        "pad",
        [xin],
        (1, 2, 5, 6),
        f"pads = {i64s((0, 0, 1, 1, 0, 0, 1, 1))}, const_val = {f32(-7)}, "
        f'mode = "constant", ' + none,
        name="pad",
        element="i8",
    )
    up = net.op(
        "upsample",
        [pad],
        (1, 2, 10, 12),
        f"scale_h = 2 : i64, scale_w = 2 : i64, {none}",
        name="up",
        element="i8",
    )
    pool = net.op(
        "pool_max_2d",
        [up],
        (1, 2, 5, 6),
        f"kernel_shape = {i64s((2, 2))}, strides = {i64s((2, 2))}, "
        f"pads = {i64s((0, 0, 0, 0))}, {none}",
        name="mp",
        element="i8",
    )
    got = run(interp, net, [pool], {"x": x}, tmp_path, dump_all=True)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-7)
    np.testing.assert_array_equal(got["pad"], padded)
    np.testing.assert_array_equal(got["mp"], padded)


# --- graph boundary and dumps -------------------------------------------------------------------


def boundary_net() -> tuple[Net, Value, Value]:
    net = Net()
    x = net.input("x", (1, 2, 3, 3))
    quant = '{mode = "INT8", threshold_max = 2.5 : f64}'
    q = net.op(
        "quant",
        [x],
        (1, 2, 3, 3),
        f'from = "FP32", to = "INT8", scale = {f32(127 / 2.5)}, quant = {quant}',
        name="x_quant",
        element="i8",
    )
    relu = net.op(
        "relu",
        [q],
        (1, 2, 3, 3),
        f"{quant_attr('NONE', None, [], threshold=2.5)}",
        name="r",
        element="i8",
    )
    out = net.op(
        "quant",
        [relu],
        (1, 2, 3, 3),
        f'from = "INT8", to = "FP32", scale = {f32(127 / 2.5)}, '
        f'quant = {{mode = "NONE", threshold_max = 2.5 : f64}}',
        name="r_dequant",
    )
    inner = net.op(
        "quant",
        [relu],
        (1, 2, 3, 3),
        f'from = "INT8", to = "FP32", scale = {f32(127 / 2.5)}, '
        f'quant = {{mode = "NONE", threshold_max = 2.5 : f64}}',
        name="sm_in0_dequant",
    )
    soft = net.op("softmax", [inner], (1, 2, 3, 3), "axis = 1 : i64", name="sm")
    return net, out, soft


def bf16(x: np.ndarray) -> np.ndarray:
    bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return bits.astype(np.uint32).view(np.float32)


def test_int8_to_fp32_is_the_tpu_bf16_cast(interp: Any, tmp_path: Path) -> None:
    net, out, soft = boundary_net()
    x = rand((1, 2, 3, 3), 29, 1.5)
    got = run(interp, net, [out, soft], {"x": x}, tmp_path, dump_all=True)
    q = np.clip(
        np.sign(x * np.float32(127 / 2.5)) * np.floor(np.abs(x * np.float32(127 / 2.5)) + 0.5),
        -128,
        127,
    )
    np.testing.assert_array_equal(got["x_quant"], q)
    expected = bf16(np.maximum(q, 0) * bf16(np.float32(2.5 / 127)))
    assert got["r_dequant"].view(np.uint32).tolist() == expected.view(np.uint32).tolist()
    # A dequant feeding an fp32 layer runs on the TPU too (docs/backend.md): the same bf16 cast,
    # not q / scale in fp32.
    assert got["sm_in0_dequant"].view(np.uint32).tolist() == expected.view(np.uint32).tolist()
    assert not np.array_equal(got["sm_in0_dequant"], np.maximum(q, 0) / np.float32(127 / 2.5))


def test_dumps_give_codes_and_scales(interp: Any, tmp_path: Path) -> None:
    from test_cli import find_interpreter

    net, out, soft = boundary_net()
    x = rand((1, 2, 3, 3), 30, 1.5)
    everything = run(interp, net, [out, soft], {"x": x}, tmp_path, dump_all=True)
    assert everything["r"].dtype == np.int8 and everything["x_quant"].dtype == np.int8
    assert everything["r_scale"] == np.float32(2.5 / 127)
    assert everything["r_dequant"].dtype == np.float32 and "r_dequant_scale" not in everything
    cli = find_interpreter()
    if cli is None:
        pytest.skip("tpuc-interpreter is not built")
    np.savez(tmp_path / "in.npz", x=x)
    subprocess.run(
        [
            str(cli),
            str(tmp_path / "net.mlir"),
            "--tensor-in",
            str(tmp_path / "in.npz"),
            "--dump-all-tensor",
            str(tmp_path / "all.npz"),
        ],
        check=True,
        timeout=120,
    )
    dumped = np.load(tmp_path / "all.npz")
    assert dumped["r"].dtype == np.int8 and dumped["r_scale"].shape == ()
    np.testing.assert_array_equal(dumped["r"], everything["r"])
    assert dumped["x_quant_scale"] == np.float32(2.5 / 127)


def test_scale_entry_avoids_taken_names(interp: Any, tmp_path: Path) -> None:
    net = Net()
    q = net.op(
        "quant",
        [net.input("x", (1, 4))],
        (1, 4),
        f'from = "FP32", to = "INT8", scale = {f32(10.0)}',
        name="a",
        element="i8",
    )
    taken = net.op(
        "quant", [q], (1, 4), f'from = "INT8", to = "FP32", scale = {f32(10.0)}', name="a_scale"
    )
    got = run(interp, net, [taken], {"x": rand((1, 4), 31)}, tmp_path, dump_all=True)
    assert got["a_scale"].dtype == np.float32 and got["a_scale"].shape == (1, 4)
    assert got["a_scale_"] == np.float32(0.1)


# --- errors -------------------------------------------------------------------------------------


def test_int8_layer_without_param_type_is_an_error(interp: Any, tmp_path: Path) -> None:
    net = Net()
    y = net.op(
        "eltwise_add",
        [net.input("a", (1, 4), "i8"), net.input("b", (1, 4), "i8")],
        (1, 4),
        name="add",
        element="i8",
    )
    with pytest.raises(
        interp.InterpreterError,
        match=r"tpu.eltwise_add 'add'.*param_type 'NONE'; expected RSHIFT_AND_M_I8",
    ):
        run(interp, net, [y], {"a": codes((1, 4), 1), "b": codes((1, 4), 2)}, tmp_path)


def test_int8_layer_without_int8_kernel_is_an_error(interp: Any, tmp_path: Path) -> None:
    net = Net()
    y = net.op(
        "softmax", [net.input("a", (1, 4), "i8")], (1, 4), "axis = 1 : i64", name="sm", element="i8"
    )
    with pytest.raises(interp.InterpreterError, match="int8 result has no INT8 kernel"):
        run(interp, net, [y], {"a": codes((1, 4), 1)}, tmp_path)


def test_values_that_are_not_int8_codes_are_an_error(interp: Any, tmp_path: Path) -> None:
    net = Net()
    y = net.op(
        "eltwise_add",
        [net.input("a", (1, 4), "i8"), net.input("b", (1, 4), "i8")],
        (1, 4),
        quant_attr("RSHIFT_AND_M_I8", [1, 1], [0]),
        name="add",
        element="i8",
    )
    a = np.array([[1, 2, 3.5, 4]], np.float32)
    with pytest.raises(interp.InterpreterError, match="3.5 at element 2, which is not an int8"):
        run(interp, net, [y], {"a": a, "b": codes((1, 4), 2)}, tmp_path)


def test_conv_bias_must_be_an_integer_array(interp: Any, tmp_path: Path) -> None:
    net = Net()
    y = net.op(
        "conv_2d",
        [
            net.input("x", (1, 2, 3, 3), "i8"),
            int_weight(net, "w", codes((2, 2, 1, 1), 3), "i8"),
            net.weight("b", np.zeros(2, np.float32), "i32"),
        ],
        (1, 2, 3, 3),
        f"strides = {i64s((1, 1))}, pads = {i64s((0, 0, 0, 0))}, "
        f"dilations = {i64s((1, 1))}, " + quant_attr("RSHIFT_ONLY", None, [3]),
        name="conv",
        element="i8",
    )
    with pytest.raises(interp.InterpreterError, match="bias 'b' is not an integer array"):
        run(interp, net, [y], {"x": codes((1, 2, 3, 3), 4)}, tmp_path)

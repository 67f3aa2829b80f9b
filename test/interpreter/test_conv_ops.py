"""Convolution, deconvolution, pooling, fully_connected and matmul against onnxruntime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Net, assert_close, f32, i64s, onnx_run, rand, run_net


def conv_out(size: int, k: int, s: int, p0: int, p1: int, d: int) -> int:
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


CONV_CASES = {
    # name: (N, C, H, W, O, kh, kw, strides, pads [t, l, b, r], dilations, group, bias, relu)
    "3x3_pad1_bias_relu": (1, 3, 9, 11, 8, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1, True, True),
    "grouped": (1, 4, 8, 8, 6, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 2, True, False),
    "depthwise_s2": (1, 8, 15, 15, 8, 3, 3, (2, 2), (1, 1, 1, 1), (1, 1), 8, True, True),
    "depthwise_multiplier": (2, 4, 7, 9, 8, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 4, False, False),
    "depthwise_5x5_asym": (1, 6, 10, 12, 6, 5, 5, (2, 1), (2, 1, 1, 2), (1, 1), 6, True, False),
    "dilated": (1, 3, 12, 12, 4, 3, 3, (1, 1), (2, 2, 2, 2), (2, 2), 1, True, False),
    "asymmetric_pads": (1, 3, 8, 7, 5, 3, 3, (1, 1), (0, 1, 2, 1), (1, 1), 1, False, True),
    "pointwise_batch2": (2, 16, 5, 6, 24, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 1, True, False),
    "pointwise_stride2": (1, 8, 9, 9, 12, 1, 1, (2, 2), (0, 0, 0, 0), (1, 1), 1, True, False),
    "rect_kernel_strided": (1, 5, 11, 13, 7, 3, 5, (2, 1), (1, 2, 1, 2), (1, 1), 1, True, False),
    "large_gemm_blocks": (1, 64, 20, 20, 96, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1, True, False),
    "dilated_depthwise": (1, 4, 10, 10, 4, 3, 3, (1, 1), (2, 2, 2, 2), (2, 2), 4, True, False),
}


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv_2d(interp: Any, tmp_path: Path, case: str) -> None:
    n, c, h, w, o, kh, kw, strides, pads, dil, group, has_bias, relu = CONV_CASES[case]
    x = rand((n, c, h, w), 1)
    wt = rand((o, c // group, kh, kw), 2, 0.3)
    b = rand((o,), 3)
    oh = conv_out(h, kh, strides[0], pads[0], pads[2], dil[0])
    ow = conv_out(w, kw, strides[1], pads[1], pads[3], dil[1])
    net = Net()
    xin = net.input("x", x.shape)
    operands = [xin, net.weight("w", wt)] + ([net.weight("b", b)] if has_bias else [])
    attrs = (
        f"strides = {i64s(strides)}, pads = {i64s(pads)}, dilations = {i64s(dil)}, "
        f"group = {group} : i64, do_relu = {str(relu).lower()}"
    )
    y = net.op("conv_2d", operands, (n, o, oh, ow), attrs)
    (got,) = run_net(interp, net, [y], {"x": x}, tmp_path)
    ref = onnx_run(
        "Conv",
        [x, wt, b if has_bias else None],
        strides=list(strides),
        pads=list(pads),
        dilations=list(dil),
        group=group,
        kernel_shape=[kh, kw],
    )
    if relu:
        ref = np.maximum(ref, 0)
    assert_close(got, ref, rtol=1e-4, atol=1e-4)


DECONV_CASES = {
    # name: (N, C, H, W, O, k, strides, pads, dilations, output_padding, group)
    "s2_k4_p1": (1, 4, 5, 6, 3, (4, 4), (2, 2), (1, 1, 1, 1), (1, 1), (0, 0), 1),
    "s2_k3_outpad": (2, 3, 4, 4, 5, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (1, 1), 1),
    "grouped": (1, 4, 5, 5, 6, (3, 3), (1, 1), (0, 0, 0, 0), (1, 1), (0, 0), 2),
    "dilated_asym": (1, 2, 4, 5, 3, (3, 2), (3, 2), (2, 0, 1, 1), (2, 1), (0, 1), 1),
    "depthwise_2x2": (1, 6, 7, 7, 6, (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), (0, 0), 6),
}


@pytest.mark.parametrize("case", sorted(DECONV_CASES))
@pytest.mark.parametrize("relu", [False, True])
def test_deconv_2d(interp: Any, tmp_path: Path, case: str, relu: bool) -> None:
    n, c, h, w, o, k, strides, pads, dil, out_pad, group = DECONV_CASES[case]
    x = rand((n, c, h, w), 4)
    wt = rand((c, o // group, *k), 5, 0.3)
    b = rand((o,), 6)
    ref = onnx_run(
        "ConvTranspose",
        [x, wt, b],
        strides=list(strides),
        pads=list(pads),
        dilations=list(dil),
        output_padding=list(out_pad),
        group=group,
        kernel_shape=list(k),
    )
    if relu:
        ref = np.maximum(ref, 0)
    net = Net()
    y = net.op(
        "deconv_2d",
        [net.input("x", x.shape), net.weight("w", wt), net.weight("b", b)],
        ref.shape,
        f"strides = {i64s(strides)}, pads = {i64s(pads)}, dilations = {i64s(dil)}, "
        f"output_padding = {i64s(out_pad)}, group = {group} : i64, "
        f"do_relu = {str(relu).lower()}",
    )
    (got,) = run_net(interp, net, [y], {"x": x}, tmp_path)
    assert_close(got, ref, rtol=1e-4, atol=1e-4)


POOL_CASES = {
    # name: (kind, shape, kernel, strides, pads, ceil_mode, count_include_pad)
    "max_3x3_s2_p1": ("max", (1, 3, 9, 9), (3, 3), (2, 2), (1, 1, 1, 1), False, False),
    "max_2x2_ceil": ("max", (2, 2, 7, 7), (2, 2), (2, 2), (0, 0, 0, 0), True, False),
    "max_3x3_ceil_pad": ("max", (1, 2, 8, 10), (3, 3), (2, 2), (1, 1, 1, 1), True, False),
    "max_asym_pads": ("max", (1, 2, 6, 7), (3, 2), (1, 2), (0, 1, 2, 1), False, False),
    "avg_3x3_exclude_pad": ("avg", (1, 3, 8, 8), (3, 3), (1, 1), (1, 1, 1, 1), False, False),
    "avg_3x3_include_pad": ("avg", (1, 3, 8, 8), (3, 3), (1, 1), (1, 1, 1, 1), False, True),
    "avg_ceil_include_pad": ("avg", (1, 2, 7, 9), (3, 3), (2, 2), (1, 1, 1, 1), True, True),
    "avg_ceil_exclude_pad": ("avg", (1, 2, 7, 9), (3, 3), (2, 2), (1, 1, 1, 1), True, False),
    "avg_global": ("avg", (2, 5, 7, 7), (7, 7), (1, 1), (0, 0, 0, 0), False, False),
    "avg_2x2_s2": ("avg", (1, 4, 10, 6), (2, 2), (2, 2), (0, 0, 0, 0), False, False),
}


@pytest.mark.parametrize("case", sorted(POOL_CASES))
def test_pool_2d(interp: Any, tmp_path: Path, case: str) -> None:
    kind, shape, kernel, strides, pads, ceil_mode, include_pad = POOL_CASES[case]
    x = rand(shape, 7)
    attrs: dict[str, Any] = dict(
        kernel_shape=list(kernel), strides=list(strides), pads=list(pads), ceil_mode=int(ceil_mode)
    )
    if kind == "avg":
        attrs["count_include_pad"] = int(include_pad)
    ref = onnx_run("MaxPool" if kind == "max" else "AveragePool", [x], opset=19, **attrs)
    net = Net()
    text = (
        f"kernel_shape = {i64s(kernel)}, strides = {i64s(strides)}, pads = {i64s(pads)}, "
        f"ceil_mode = {str(ceil_mode).lower()}"
    )
    if kind == "avg":
        text += f", count_include_pad = {str(include_pad).lower()}"
    y = net.op(f"pool_{kind}_2d", [net.input("x", shape)], ref.shape, text)
    (got,) = run_net(interp, net, [y], {"x": x}, tmp_path)
    assert_close(got, ref, rtol=1e-5, atol=1e-6)


def test_pool_do_relu(interp: Any, tmp_path: Path) -> None:
    x = rand((1, 2, 6, 6), 8)
    net = Net()
    y = net.op(
        "pool_avg_2d",
        [net.input("x", x.shape)],
        (1, 2, 3, 3),
        f"kernel_shape = {i64s((2, 2))}, strides = {i64s((2, 2))}, "
        f"pads = {i64s((0, 0, 0, 0))}, do_relu = true",
    )
    (got,) = run_net(interp, net, [y], {"x": x}, tmp_path)
    ref = np.maximum(x.reshape(1, 2, 3, 2, 3, 2).mean(axis=(3, 5)), 0)
    assert_close(got, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("rows", [1, 3, 7])
@pytest.mark.parametrize("relu", [False, True])
def test_fully_connected(interp: Any, tmp_path: Path, rows: int, relu: bool) -> None:
    x = rand((rows, 40), 9)
    wt = rand((24, 40), 10, 0.2)
    b = rand((24,), 11)
    ref = onnx_run("Gemm", [x, wt, b], transB=1)
    if relu:
        ref = np.maximum(ref, 0)
    net = Net()
    y = net.op(
        "fully_connected",
        [net.input("x", x.shape), net.weight("w", wt), net.weight("b", b)],
        (rows, 24),
        f"do_relu = {str(relu).lower()}",
    )
    (got,) = run_net(interp, net, [y], {"x": x}, tmp_path)
    assert_close(got, ref, rtol=1e-4, atol=1e-4)


def test_fully_connected_rank3_input_without_bias(interp: Any, tmp_path: Path) -> None:
    x = rand((2, 3, 12), 12)
    wt = rand((5, 12), 13)
    net = Net()
    y = net.op("fully_connected", [net.input("x", x.shape), net.weight("w", wt)], (2, 3, 5))
    (got,) = run_net(interp, net, [y], {"x": x}, tmp_path)
    assert_close(got, x @ wt.T, rtol=1e-4, atol=1e-4)


MATMUL_CASES = {
    "plain": ((5, 7), (7, 3)),
    "batched": ((2, 4, 6), (2, 6, 5)),
    "broadcast_batch": ((2, 1, 3, 4), (5, 4, 6)),
    "broadcast_rhs": ((3, 2, 8, 9), (9, 4)),
    "large": ((70, 300), (300, 50)),
}


@pytest.mark.parametrize("case", sorted(MATMUL_CASES))
def test_matmul(interp: Any, tmp_path: Path, case: str) -> None:
    lhs_shape, rhs_shape = MATMUL_CASES[case]
    a, b = rand(lhs_shape, 14), rand(rhs_shape, 15)
    ref = onnx_run("MatMul", [a, b])
    net = Net()
    y = net.op("matmul", [net.input("a", a.shape), net.input("b", b.shape)], ref.shape)
    (got,) = run_net(interp, net, [y], {"a": a, "b": b}, tmp_path)
    assert_close(got, ref, rtol=1e-4, atol=1e-4)


def test_matmul_do_relu(interp: Any, tmp_path: Path) -> None:
    a, b = rand((4, 5), 16), rand((5, 6), 17)
    net = Net()
    y = net.op(
        "matmul", [net.input("a", a.shape), net.input("b", b.shape)], (4, 6), "do_relu = true"
    )
    (got,) = run_net(interp, net, [y], {"a": a, "b": b}, tmp_path)
    assert_close(got, np.maximum(a @ b, 0), rtol=1e-4, atol=1e-5)


def test_conv_bias_value_is_f32_attribute_free(interp: Any, tmp_path: Path) -> None:
    """A conv without the optional attributes uses group 1 and no ReLU."""
    x, wt = rand((1, 2, 4, 4), 18), rand((3, 2, 1, 1), 19)
    net = Net()
    y = net.op(
        "conv_2d",
        [net.input("x", x.shape), net.weight("w", wt)],
        (1, 3, 4, 4),
        f"strides = {i64s((1, 1))}, pads = {i64s((0, 0, 0, 0))}, dilations = {i64s((1, 1))}",
    )
    (got,) = run_net(interp, net, [y], {"x": x}, tmp_path)
    assert_close(got, np.einsum("oc,nchw->nohw", wt[:, :, 0, 0], x), rtol=1e-5, atol=1e-5)
    assert f32(1.0)  # helper stays importable for other modules

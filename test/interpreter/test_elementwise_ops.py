"""Unary activations, eltwise_*, broadcast_mul, batch_norm, scale and prelu against onnxruntime
(numpy where ONNX has no single equivalent op)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Net, assert_close, f32, f32s, onnx_run, rand, run_net

SHAPE = (2, 3, 5, 7)


def run_unary(interp: Any, tmp_path: Path, op: str, x: np.ndarray, attrs: str = "") -> np.ndarray:
    net = Net()
    y = net.op(op, [net.input("x", x.shape)], x.shape, attrs)
    return run_net(interp, net, [y], {"x": x}, tmp_path)[0]


ONNX_UNARY = {
    # tpu op: (ONNX op, tpu attributes, ONNX attributes, opset, input transform)
    "relu": ("Relu", "", {}, 17, None),
    "sigmoid": ("Sigmoid", "", {}, 17, None),
    "tanh": ("Tanh", "", {}, 17, None),
    "sqrt": ("Sqrt", "", {}, 17, np.abs),
    "reciprocal": ("Reciprocal", "", {}, 17, lambda x: x + np.sign(x) * 0.5),
    "exp": ("Exp", "", {}, 17, None),
    "mish": ("Mish", "", {}, 18, None),
    "hard_swish": ("HardSwish", "", {}, 17, None),
    "hard_sigmoid": (
        "HardSigmoid",
        f"alpha = {f32(0.3)}, beta = {f32(0.4)}",
        {"alpha": 0.3, "beta": 0.4},
        17,
        None,
    ),
    "leaky_relu": ("LeakyRelu", f"negative_slope = {f32(0.15)}", {"alpha": 0.15}, 17, None),
}


@pytest.mark.parametrize("op", sorted(ONNX_UNARY))
def test_unary_against_onnx(interp: Any, tmp_path: Path, op: str) -> None:
    onnx_op, attrs, onnx_attrs, opset, transform = ONNX_UNARY[op]
    x = rand(SHAPE, 1, 3.0)
    if transform is not None:
        x = transform(x).astype(np.float32)
    got = run_unary(interp, tmp_path, op, x, attrs)
    ref = onnx_run(onnx_op, [x], opset=opset, **onnx_attrs)
    assert_close(got, ref, rtol=1e-5, atol=1e-6)


def test_clip(interp: Any, tmp_path: Path) -> None:
    x = rand(SHAPE, 2, 4.0)
    got = run_unary(interp, tmp_path, "clip", x, f"min = {f32(-1.5)}, max = {f32(2.0)}")
    ref = onnx_run("Clip", [x, np.array(-1.5, dtype=np.float32), np.array(2.0, dtype=np.float32)])
    assert_close(got, ref, rtol=0, atol=0)


def test_silu(interp: Any, tmp_path: Path) -> None:
    x = rand(SHAPE, 3, 4.0)
    got = run_unary(interp, tmp_path, "silu", x)
    assert_close(got, x / (1 + np.exp(-x)), rtol=1e-5, atol=1e-6)


def test_power(interp: Any, tmp_path: Path) -> None:
    x = np.abs(rand(SHAPE, 4))
    got = run_unary(
        interp, tmp_path, "power", x, f"power = {f32(1.7)}, scale = {f32(0.5)}, shift = {f32(0.25)}"
    )
    assert_close(got, (0.25 + 0.5 * x) ** 1.7, rtol=1e-5, atol=1e-6)


def test_mish_large_inputs_do_not_overflow(interp: Any, tmp_path: Path) -> None:
    x = np.array([[-100.0, -20.0, 0.0, 20.0, 100.0, 1e30]], dtype=np.float32)
    got = run_unary(interp, tmp_path, "mish", x)
    assert np.all(np.isfinite(got))
    assert_close(got, onnx_run("Mish", [x], opset=18), rtol=1e-5, atol=1e-6)


ELTWISE = {
    # name: (op, shapes, coeff, ONNX op)
    "add_same": ("eltwise_add", [SHAPE, SHAPE], None, "Sum"),
    "add_broadcast": ("eltwise_add", [SHAPE, (1, 3, 1, 1)], None, "Add"),
    "add_scalar_like": ("eltwise_add", [(1,), SHAPE], None, "Add"),
    "mul_broadcast": ("eltwise_mul", [(2, 1, 5, 1), (3, 1, 7)], None, "Mul"),
    "max_three": ("eltwise_max", [SHAPE, (7,), (2, 3, 5, 1)], None, "Max"),
    "min_three": ("eltwise_min", [SHAPE, SHAPE, (1, 3, 5, 7)], None, "Min"),
}


@pytest.mark.parametrize("case", sorted(ELTWISE))
@pytest.mark.parametrize("relu", [False, True])
def test_eltwise_against_onnx(interp: Any, tmp_path: Path, case: str, relu: bool) -> None:
    op, shapes, coeff, onnx_op = ELTWISE[case]
    xs = [rand(s, 10 + i) for i, s in enumerate(shapes)]
    ref = onnx_run(onnx_op, xs)
    if relu:
        ref = np.maximum(ref, 0)
    net = Net()
    ins = [net.input(f"x{i}", x.shape) for i, x in enumerate(xs)]
    y = net.op(op, ins, ref.shape, f"do_relu = {str(relu).lower()}")
    (got,) = run_net(interp, net, [y], {f"x{i}": x for i, x in enumerate(xs)}, tmp_path)
    assert_close(got, ref, rtol=1e-6, atol=1e-6)


def test_eltwise_add_coeff_subtracts(interp: Any, tmp_path: Path) -> None:
    a, b = rand(SHAPE, 20), rand((1, 3, 1, 7), 21)
    net = Net()
    y = net.op(
        "eltwise_add",
        [net.input("a", a.shape), net.input("b", b.shape)],
        SHAPE,
        f"coeff = {f32s([1.0, -1.0])}",
    )
    (got,) = run_net(interp, net, [y], {"a": a, "b": b}, tmp_path)
    assert_close(got, onnx_run("Sub", [a, b]), rtol=1e-6, atol=1e-6)


def test_eltwise_add_coeff_weights(interp: Any, tmp_path: Path) -> None:
    xs = [rand(SHAPE, 22 + i) for i in range(3)]
    net = Net()
    ins = [net.input(f"x{i}", SHAPE) for i in range(3)]
    y = net.op("eltwise_add", ins, SHAPE, f"coeff = {f32s([0.5, 2.0, -3.0])}")
    (got,) = run_net(interp, net, [y], {f"x{i}": x for i, x in enumerate(xs)}, tmp_path)
    assert_close(got, 0.5 * xs[0] + 2 * xs[1] - 3 * xs[2], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "scale_shape,axis",
    [((1, 3, 1, 1), 1), ((2, 3, 1, 1), 0), ((3, 5, 1), 1), ((7,), 3), ((1, 5, 7), -2)],
)
def test_broadcast_mul(
    interp: Any, tmp_path: Path, scale_shape: tuple[int, ...], axis: int
) -> None:
    x, s = rand(SHAPE, 30), rand(scale_shape, 31)
    net = Net()
    y = net.op(
        "broadcast_mul",
        [net.input("x", SHAPE), net.input("s", s.shape)],
        SHAPE,
        f"axis = {axis} : i64, do_relu = true",
    )
    (got,) = run_net(interp, net, [y], {"x": x, "s": s}, tmp_path)
    assert_close(got, np.maximum(x * s, 0), rtol=1e-6, atol=1e-6)


def test_batch_norm(interp: Any, tmp_path: Path) -> None:
    x = rand(SHAPE, 40)
    mean, var = rand((3,), 41), np.abs(rand((3,), 42)) + 0.1
    scale, bias = rand((3,), 43), rand((3,), 44)
    ref = onnx_run("BatchNormalization", [x, scale, bias, mean, var], epsilon=1e-3)
    net = Net()
    y = net.op(
        "batch_norm",
        [
            net.input("x", SHAPE),
            net.weight("mean", mean),
            net.weight("var", var),
            net.weight("scale", scale),
            net.weight("bias", bias),
        ],
        SHAPE,
        f"epsilon = {f32(1e-3)}",
    )
    (got,) = run_net(interp, net, [y], {"x": x}, tmp_path)
    assert_close(got, ref, rtol=1e-5, atol=1e-5)


def test_scale(interp: Any, tmp_path: Path) -> None:
    x = rand(SHAPE, 50)
    s, b = rand((3,), 51), rand((3, 1, 1), 52)
    net = Net()
    y = net.op(
        "scale",
        [net.input("x", SHAPE), net.weight("s", s), net.weight("b", b)],
        SHAPE,
        "do_relu = true",
    )
    (got,) = run_net(interp, net, [y], {"x": x}, tmp_path)
    view = (1, 3, 1, 1)
    assert_close(got, np.maximum(x * s.reshape(view) + b.reshape(view), 0), rtol=1e-6, atol=1e-6)


def test_scale_without_bias(interp: Any, tmp_path: Path) -> None:
    x, s = rand((2, 4, 3), 53), rand((4,), 54)
    net = Net()
    y = net.op("scale", [net.input("x", x.shape), net.weight("s", s)], x.shape)
    (got,) = run_net(interp, net, [y], {"x": x}, tmp_path)
    assert_close(got, x * s.reshape(1, 4, 1), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("slope_shape", [(3, 1, 1), (3,)])
def test_prelu(interp: Any, tmp_path: Path, slope_shape: tuple[int, ...]) -> None:
    x, slope = rand(SHAPE, 60), rand(slope_shape, 61)
    net = Net()
    y = net.op("prelu", [net.input("x", SHAPE), net.weight("slope", slope)], SHAPE)
    (got,) = run_net(interp, net, [y], {"x": x}, tmp_path)
    ref = onnx_run("PRelu", [x, slope.reshape(3, 1, 1)])
    assert_close(got, ref, rtol=1e-6, atol=1e-6)

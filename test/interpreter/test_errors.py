"""Errors of the interpreter: each is an InterpreterError whose message names what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Net, i64s, rand


def conv_net(weight_shape: tuple[int, ...] = (4, 3, 1, 1)) -> tuple[Net, Any]:
    net = Net()
    x = net.input("data", (1, 3, 4, 4))
    w = net.weight("conv_w", np.ones(weight_shape, dtype=np.float32))
    y = net.op(
        "conv_2d",
        [x, w],
        (1, 4, 4, 4),
        f"strides = {i64s((1, 1))}, pads = {i64s((0, 0, 0, 0))}, dilations = {i64s((1, 1))}",
        name="conv",
    )
    return net, y


def test_missing_weight(interp: Any, tmp_path: Path) -> None:
    net, y = conv_net()
    path = net.save(tmp_path, [y])
    np.savez(tmp_path / "weights.npz", other=np.zeros(3, np.float32))
    with pytest.raises(
        interp.InterpreterError,
        match=r"tpu.load_weight 'conv_w' at .*net.mlir:\d+:\d+: weight 'conv_w' "
        r"is not in the weight file .*weights.npz",
    ):
        interp.run(path, {"data": rand((1, 3, 4, 4))})


def test_weight_shape_mismatch(interp: Any, tmp_path: Path) -> None:
    net, y = conv_net()
    path = net.save(tmp_path, [y])
    np.savez(tmp_path / "weights.npz", conv_w=np.zeros((4, 3), np.float32))
    with pytest.raises(
        interp.InterpreterError,
        match=r"weight 'conv_w' in .*weights.npz has shape \[4, 3\], but the op's "
        r"type is \[4, 3, 1, 1\]",
    ):
        interp.run(path, {"data": rand((1, 3, 4, 4))})


def test_missing_weight_file(interp: Any, tmp_path: Path) -> None:
    net, y = conv_net()
    path = net.save(tmp_path, [y])
    (tmp_path / "weights.npz").unlink()
    with pytest.raises(interp.InterpreterError, match=r"cannot read the weight file: .*weights"):
        interp.run(path, {"data": rand((1, 3, 4, 4))})


def test_corrupt_weight_file(interp: Any, tmp_path: Path) -> None:
    net, y = conv_net()
    path = net.save(tmp_path, [y])
    (tmp_path / "weights.npz").write_bytes(b"this is not a zip archive")
    with pytest.raises(interp.InterpreterError, match="cannot read the weight file"):
        interp.run(path, {"data": rand((1, 3, 4, 4))})


def test_module_without_weight_file_attribute(interp: Any, tmp_path: Path) -> None:
    net, y = conv_net()
    text = net.text([y]).replace(' attributes {tpu.weight_file = "weights.npz"}', "")
    with pytest.raises(interp.InterpreterError, match="no 'tpu.weight_file' attribute"):
        interp.run(text, {"data": rand((1, 3, 4, 4))})


def test_weight_file_override_resolves_relative_to_the_mlir_file(
    interp: Any, tmp_path: Path
) -> None:
    net, y = conv_net()
    path = net.save(tmp_path, [y])
    np.savez(tmp_path / "other.npz", conv_w=np.full((4, 3, 1, 1), 2.0, np.float32))
    x = rand((1, 3, 4, 4))
    out = interp.run(path, {"data": x}, weight_file="other.npz")
    np.testing.assert_allclose(out["conv"], np.repeat(2 * x.sum(1, keepdims=True), 4, 1), rtol=1e-6)


def test_missing_input(interp: Any, tmp_path: Path) -> None:
    net, y = conv_net()
    path = net.save(tmp_path, [y])
    with pytest.raises(
        interp.InterpreterError,
        match=r"missing input 'data' \(the function takes 1 input\(s\); given "
        r"'a', 'b'\)",
    ):
        interp.run(path, {"a": rand((1, 3, 4, 4)), "b": rand((1, 3, 4, 4))})


def test_inputs_fall_back_to_argument_order(interp: Any, tmp_path: Path) -> None:
    net, y = conv_net()
    path = net.save(tmp_path, [y])
    x = rand((1, 3, 4, 4))
    out = interp.run(path, {"unnamed": x})
    np.testing.assert_allclose(out["conv"], np.repeat(x.sum(1, keepdims=True), 4, 1), rtol=1e-6)


def test_input_shape_mismatch(interp: Any, tmp_path: Path) -> None:
    net, y = conv_net()
    path = net.save(tmp_path, [y])
    with pytest.raises(
        interp.InterpreterError,
        match=r"input 'data' has shape \[1, 3, 4, 5\], but the function's input "
        r"'data' is \[1, 3, 4, 4\]",
    ):
        interp.run(path, {"data": rand((1, 3, 4, 5))})


def test_unsupported_operation_names_op_and_location(interp: Any) -> None:
    text = """
    module {
      func.func @main(%arg0: tensor<2xf32>) -> tensor<2xf32> {
        %0 = arith.addf %arg0, %arg0 : tensor<2xf32>
        return %0 : tensor<2xf32>
      }
    }"""
    with pytest.raises(
        interp.InterpreterError,
        match=r"arith.addf at <mlir>:4:14: unsupported operation 'arith.addf'",
    ):
        interp.run(text, {"x": np.zeros(2, np.float32)})


def test_bf16_lookup_is_reported_unsupported(interp: Any, tmp_path: Path) -> None:
    net = Net()
    x = net.input("x", (1, 4), "bf16")
    table = net.weight("table", np.zeros(256, np.float32), "bf16")
    mantissa = net.weight("mantissa", np.zeros(256, np.float32), "bf16")
    y = net.op("lut", [x, table, mantissa], (1, 4), name="lut_bf16", element="bf16")
    path = net.save(tmp_path, [y])
    with pytest.raises(
        interp.InterpreterError,
        match=r"tpu.lut 'lut_bf16' at .*: bf16 lookups .* are not supported",
    ):
        interp.run(path, {"x": np.zeros((1, 4), np.float32)})


def test_parse_error_reports_location(interp: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.mlir"
    path.write_text("module {\n  func.func @main( {\n}\n")
    with pytest.raises(interp.InterpreterError, match=r"bad.mlir:2:\d+: error: "):
        interp.run(path, {})


def test_verifier_errors_are_reported(interp: Any, tmp_path: Path) -> None:
    net, y = conv_net()
    text = net.text([y]).replace("tensor<1x4x4x4xf32>", "tensor<1x4x4x5xf32>")
    with pytest.raises(interp.InterpreterError, match=r"<mlir>:\d+:\d+: error: 'tpu.conv_2d' op"):
        interp.run(text, {"data": rand((1, 3, 4, 4))})


def test_dynamic_shapes_are_rejected(interp: Any) -> None:
    text = """
    module {
      func.func @main(%arg0: tensor<?x4xf32>) -> tensor<?x4xf32> {
        return %arg0 : tensor<?x4xf32>
      }
    }"""
    with pytest.raises(interp.InterpreterError, match="static shape"):
        interp.run(text, {"x": np.zeros((2, 4), np.float32)})


def test_nonexistent_module_path(interp: Any, tmp_path: Path) -> None:
    with pytest.raises(interp.InterpreterError, match="no such file"):
        interp.run(tmp_path / "missing.mlir", {})
    with pytest.raises(FileNotFoundError):
        interp.run(str(tmp_path / "missing.mlir"), {})


def test_function_selection(interp: Any) -> None:
    text = """
    module {
      func.func @first(%arg0: tensor<2xf32>) -> tensor<2xf32> { return %arg0 : tensor<2xf32> }
      func.func @second(%arg0: tensor<3xf32>) -> tensor<3xf32> { return %arg0 : tensor<3xf32> }
    }"""
    with pytest.raises(interp.InterpreterError, match=r"several functions \(first, second\)"):
        interp.compile(text)
    with pytest.raises(interp.InterpreterError, match="no function 'third'"):
        interp.compile(text, function="third")
    program = interp.compile(text, function="second")
    assert program.inputs == [("arg0", (3,))]
    out = program.run({"arg0": np.arange(3, dtype=np.float32)})
    np.testing.assert_array_equal(out["arg0"], [0, 1, 2])

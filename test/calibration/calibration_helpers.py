"""Helpers shared by the calibration tests (imported by name; conftest.py holds the fixtures)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest


def abs_histogram(values: np.ndarray, bins: int = 2048) -> tuple[np.ndarray, float]:
    """Counts of |values| over [0, max|values|] and the bin width (same binning as calibration)."""
    from tpuc.calibration.statistics import histogram_abs

    absmax = float(np.abs(values).max())
    return histogram_abs(values, absmax, bins), absmax / bins


def has_interpreter() -> bool:
    try:
        return importlib.util.find_spec("tpuc.interpreter") is not None
    except ImportError:
        return False


requires_interpreter = pytest.mark.skipif(
    not has_interpreter(), reason="the fp32 interpreter (tpuc.interpreter) is not available"
)


def conv_model_onnx(seed: int = 0):  # noqa: ANN201 (onnx.ModelProto; onnx is imported lazily)
    """A small image classifier as ONNX: Conv-Relu-MaxPool-Conv-Sigmoid-GlobalAveragePool-
    Flatten-Gemm-Softmax on a [1, 3, 16, 16] input named "data"."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)

    def init(name: str, shape: tuple[int, ...], scale: float) -> onnx.TensorProto:
        return numpy_helper.from_array((rng.normal(size=shape) * scale).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["data", "w1", "b1"], ["conv1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["conv1"], ["relu1"], name="relu1"),
        helper.make_node(
            "MaxPool", ["relu1"], ["pool1"], kernel_shape=[2, 2], strides=[2, 2], name="pool1"
        ),
        helper.make_node("Conv", ["pool1", "w2", "b2"], ["conv2"], pads=[1, 1, 1, 1], name="conv2"),
        helper.make_node("Sigmoid", ["conv2"], ["sig2"], name="sig2"),
        helper.make_node("GlobalAveragePool", ["sig2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], axis=1, name="flat"),
        helper.make_node("Gemm", ["flat", "wf", "bf"], ["fc"], transB=1, name="fc"),
        helper.make_node("Softmax", ["fc"], ["prob"], axis=1, name="prob"),
    ]
    graph = helper.make_graph(
        nodes,
        "calibration_test_net",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 10])],
        [
            init("w1", (8, 3, 3, 3), 0.3),
            init("b1", (8,), 0.1),
            init("w2", (6, 8, 3, 3), 0.2),
            init("b2", (6,), 0.1),
            init("wf", (10, 6), 1.0),
            init("bf", (10,), 0.1),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def convert_conv_model(folder, preprocess=None, seed: int = 0):  # noqa: ANN001, ANN201
    """Writes the conv model as <folder>/net.mlir (+ weights) through the ONNX frontend and
    returns the .mlir path; skips the test when the frontend is not available."""
    frontend = pytest.importorskip(
        "tpuc.frontend", reason="the ONNX frontend (tpuc.frontend) is not available"
    )
    mlir = folder / "net.mlir"
    frontend.OnnxConverter("net", conv_model_onnx(seed), mlir, preprocess=preprocess).run()
    return mlir


def find_tpuc_opt():  # noqa: ANN201 (Path | None)
    """tpuc-opt: installed in the package, $TPUC_BIN_DIR, PATH, or a build tree
    ($TPUC_BUILD_DIR, or the one holding the imported package)."""
    import os
    import shutil
    from pathlib import Path

    try:
        from tpuc._tools import tool_path

        return tool_path("tpuc-opt")
    except (ImportError, FileNotFoundError):
        pass
    candidates = []
    if os.environ.get("TPUC_BIN_DIR"):
        candidates.append(Path(os.environ["TPUC_BIN_DIR"]) / "tpuc-opt")
    found = shutil.which("tpuc-opt")
    if found:
        candidates.append(Path(found))
    build_dirs = [Path(os.environ["TPUC_BUILD_DIR"])] if os.environ.get("TPUC_BUILD_DIR") else []
    try:
        import tpuc

        build_dirs.append(Path(os.path.abspath(tpuc.__file__)).parents[2])
    except ImportError:
        pass
    for build in build_dirs:
        candidates += [build / "bin" / "tpuc-opt", build / "dialect" / "tools" / "tpuc-opt"]
    return next((path for path in candidates if path.is_file()), None)


CUSTOM_OP_MODEL = """
module {
  func.func @main(%arg0: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
    %0 = tpu.input %arg0 {name = "data"} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    %1 = tpu.custom_op %0 {name = "lrelu", operation_name = "leaky_relu",
           param = {negative_slope = 0.125 : f32}, tpu = true, do_quant = true,
           threshold_overwrite = "backward", quant = {mode = "NONE"}}
           : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    %2 = tpu.relu %1 {name = "out"} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    return %2 : tensor<1x4x8x8xf32>
  }
}
"""


def leaky_relu(inputs: list[np.ndarray], params: dict, output_shape: tuple[int, ...]) -> np.ndarray:
    """A Python implementation of the custom op of CUSTOM_OP_MODEL (module level: picklable)."""
    (x,) = inputs
    return (
        np.where(x >= 0, x, x * params["negative_slope"]).astype(np.float32).reshape(output_shape)
    )

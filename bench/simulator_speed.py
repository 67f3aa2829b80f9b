"""Simulator speed: r18_half_112 (vendor-compiled INT8 cvimodel) forward on tpuc's simulator with the
cycle model on, against the vendor's runtime + simulator, in the same run.

Both are timed as whole command-line runs (load the model, run one forward, write the outputs):
`model_runner --profile` for tpuc, shared/tools/vendor/run_cvimodel.py for the vendor. The median of
--repeat runs each; ratio = ours / vendor, goal <= 0.25. The last line is the JSON summary.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="r18_half_112")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    model_dir = SHARED / "conformance" / args.model
    model = model_dir / f"{args.model}_cv183x_int8.cvimodel"
    inputs = model_dir / f"{args.model}_in_f32.npz"
    runner = shutil.which("model_runner")
    if not model.exists() or runner is None:
        sys.exit(f"error: needs {model} and model_runner on PATH")
    vendor_dir = SHARED / "tools" / "vendor"
    libdir = subprocess.run(
        [str(vendor_dir / "fetch-runtime.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()

    with tempfile.TemporaryDirectory() as tmp:
        ours_out, vendor_out = Path(tmp, "ours.npz"), Path(tmp, "vendor.npz")
        profile = Path(tmp, "profile.json")
        ours_cmd = [
            runner,
            "--input",
            str(inputs),
            "--model",
            str(model),
            "--output",
            str(ours_out),
            "--profile",
            str(profile),
        ]
        vendor_cmd = [
            sys.executable,
            str(vendor_dir / "run_cvimodel.py"),
            str(model),
            str(inputs),
            str(vendor_out),
            "--libdir",
            libdir,
        ]
        ours_times, vendor_times = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            ours_times.append(timed(ours_cmd))
            vendor_times.append(timed(vendor_cmd))
        a, b = np.load(ours_out), np.load(vendor_out)
        same = all(np.array_equal(a[k], b[k]) for k in b.files if k in a.files)
        prof = json.loads(profile.read_text())

    ours, vendor = statistics.median(ours_times), statistics.median(vendor_times)
    print(
        f"{args.model}: tpuc {ours * 1000:.0f} ms, vendor {vendor * 1000:.0f} ms per run "
        f"(median of {args.repeat}); outputs equal: {same}"
    )
    print(f"cycle model: {prof.get('total_cycles')} cycles, {prof.get('total_ms')} ms at 650 MHz")
    print(
        json.dumps(
            {
                "metric": f"{args.model}_simulator_seconds",
                "value": round(ours, 4),
                "reference": round(vendor, 4),
                "ratio": round(ours / vendor, 4),
                "goal": "ratio <= 0.25",
            }
        )
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

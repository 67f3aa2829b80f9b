"""Fuzzing the cvimodel loader over mutated images: only RuntimeError may come out (no crash, no
other exception). A short deterministic run always; a ~10 s atheris run when atheris is installed.
Both run in a child process so that a crash fails the test instead of killing pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import CONFORMANCE, IO0, IO1, PRIVATE_REGION, REPO_ROOT

HARNESS = REPO_ROOT / "runtime" / "model" / "fuzz" / "fuzz_loader.py"


@pytest.fixture
def corpus(tmp_path: Path, builder: Any, cvi: Any) -> Path:
    """Seeds: a builder-made model with CPU and TPU routines, plus small vendor models."""
    seeds = tmp_path / "corpus"
    seeds.mkdir()
    b = builder("seed")
    b.tensor("x", 0, [1, 4, 2, 2], IO0)
    b.tensor("q", 6, [1, 4, 2, 2], PRIVATE_REGION)
    b.tensor("y", 6, [1, 4, 2, 2], IO1)
    b.cpu_routine("quant", ["x"], ["q"], **{"from": "FP32", "to": "INT8", "scale": 10.0})
    b.tpu_routine("subfunc_1", ["q"], ["y"])
    b.section(cvi.SectionType.WEIGHT, "weight", bytes(range(64)))
    b.section(cvi.SectionType.CMDBUF, "subfunc_1", bytes(100), compress=True)
    b.io(["x"], ["y"], private=16)
    (seeds / "builder.cvimodel").write_bytes(b.build())
    for name in ("m01_conv_relu", "m13_gemm_argmax"):
        vendor = CONFORMANCE / name / f"{name}_cv183x_int8.cvimodel"
        if vendor.is_file():
            (seeds / vendor.name).write_bytes(vendor.read_bytes())
    return seeds


def child_env() -> dict[str, str]:
    import tpuc.runtime

    env = dict(os.environ)
    package_root = str(Path(os.path.abspath(tpuc.runtime.__file__)).parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env


def test_random_mutations_only_raise_runtime_error(rt: Any, corpus: Path) -> None:
    script = (
        "import random, sys, pathlib\n"
        f"sys.path.insert(0, {str(HARNESS.parent)!r})\n"
        "import fuzz_loader\n"
        f"seeds = [p.read_bytes() for p in sorted(pathlib.Path({str(corpus)!r}).iterdir())]\n"
        "fuzz_loader.mutate_and_check(seeds, 3000, random.Random(1234))\n"
        "print('ok')\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", script], env=child_env(), capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, f"loader fuzzing failed (rc {r.returncode}):\n{r.stderr[-4000:]}"
    assert r.stdout.strip() == "ok"


def test_atheris_short_run(rt: Any, corpus: Path, tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris is not installed (pip install atheris)")
    r = subprocess.run(
        [
            sys.executable,
            str(HARNESS),
            "-max_total_time=10",
            "-seed=1",
            "-rss_limit_mb=4096",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, f"atheris found a failure (rc {r.returncode}):\n{r.stderr[-4000:]}"

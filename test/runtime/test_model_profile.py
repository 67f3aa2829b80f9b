"""A model with a TPU routine (TDMA copies io0 -> local memory -> io1) after a CPU routine: data
flows through both kinds of routines, and profiling gives the cycle model's per-routine, per-layer
and per-engine figures and a Chrome trace with one slice per descriptor."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import IO0, IO1, PRIVATE_REGION

vendor_sim = pytest.importorskip("vendor_sim", reason="test/runtime/vendor_sim.py not found")

SHAPE = (1, 32, 1, 16)


def copy_model(builder: Any, cvi: Any) -> bytes:
    prog = vendor_sim.Program()
    # private (base register 2) -> lanes -> io1 (base register 4); layer ids 7 and 9.
    prog.g2l(0, 0, SHAPE, reg=PRIVATE_REGION, layer_ID=7)
    prog.l2g(0, 0, SHAPE, reg=IO1, layer_ID=9)
    b = builder("tdma_copy")
    b.tensor("x", 0, list(SHAPE), IO0)
    b.tensor("q", 6, list(SHAPE), PRIVATE_REGION, qscale=0.05)
    b.tensor("y", 6, list(SHAPE), IO1, qscale=0.05)
    b.cpu_routine("quant", ["x"], ["q"], **{"from": "FP32", "to": "INT8", "scale": 20.0})
    b.tpu_routine("subfunc_1", ["q"], ["y"])
    b.section(cvi.SectionType.CMDBUF, "subfunc_1", prog.to_bytes(), compress=True)
    b.io(["x"], ["y"], private=512)
    return b.build()


def test_cpu_then_tpu_routine_with_profile(rt: Any, builder: Any, cvi: Any) -> None:
    model = rt.Model.from_bytes(copy_model(builder, cvi))
    x = np.random.default_rng(2).uniform(-6, 6, SHAPE).astype(np.float32)
    out = model.run({"x": x}, profile=True)["y"]
    v = x.astype(np.float64) * 20.0
    np.testing.assert_array_equal(out, np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5), -128, 127))

    profile = model.profile
    assert profile["tpu_clock_mhz"] == 650
    kinds = [(r["kind"], r["name"]) for r in profile["routines"]]
    assert kinds == [("cpu", "quant"), ("tpu", "subfunc_1")]
    tpu = profile["routines"][1]
    assert tpu["descriptors"] == 2 and tpu["cycles"] > 0
    assert profile["total_cycles"] == tpu["cycles"]
    assert profile["total_ms"] == pytest.approx(tpu["cycles"] / 650e3, rel=1e-5)
    tdma = profile["engines"]["tdma"]
    assert 0 < tdma["busy_cycles"] <= profile["total_cycles"]
    assert tdma["busy_cycles"] + tdma["idle_cycles"] == profile["total_cycles"]
    assert profile["engines"]["tiu"]["busy_cycles"] == 0
    assert sorted(layer["layer_id"] for layer in profile["layers"]) == [7, 9]

    trace = model.trace
    slices = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    tracks = {
        e["args"]["name"]: e["tid"]
        for e in trace["traceEvents"]
        if e["ph"] == "M" and e["name"] == "thread_name"
    }
    assert set(tracks) == {"TIU", "TDMA", "CPU"}
    tdma_slices = [e for e in slices if e["tid"] == tracks["TDMA"]]
    assert [s["args"]["layer_id"] for s in tdma_slices] == [7, 9]
    assert all(s["name"].endswith(f"L{s['args']['layer_id']}") for s in tdma_slices)
    assert [e["name"] for e in slices if e["tid"] == tracks["CPU"]] == ["quant"]
    # Without profile=True, no profile is kept.
    model.run({"x": x})
    assert model.profile is None


def test_model_runner_profile_and_trace_files(
    tool: Any, builder: Any, cvi: Any, tmp_path: Path
) -> None:
    (tmp_path / "m.cvimodel").write_bytes(copy_model(builder, cvi))
    np.savez(tmp_path / "in.npz", x=np.ones(SHAPE, np.float32))
    subprocess.run(
        [
            str(tool("model_runner")),
            "--input",
            str(tmp_path / "in.npz"),
            "--model",
            str(tmp_path / "m.cvimodel"),
            "--output",
            str(tmp_path / "o.npz"),
            "--profile",
            str(tmp_path / "p.json"),
            "--trace",
            str(tmp_path / "t.json"),
        ],
        check=True,
    )
    np.testing.assert_array_equal(np.load(tmp_path / "o.npz")["y"], np.full(SHAPE, 1.0, np.float32))
    profile = json.loads((tmp_path / "p.json").read_text())
    assert profile["total_cycles"] > 0 and len(profile["routines"]) == 2
    # DRAM traffic: at least the tensor loaded and the tensor stored, summed over TPU routines.
    assert profile["tdma_dram_bytes"] >= 2 * int(np.prod(SHAPE))
    assert profile["tdma_dram_bytes"] == sum(
        r.get("tdma_dram_bytes", 0) for r in profile["routines"]
    )
    trace = json.loads((tmp_path / "t.json").read_text())
    assert sum(1 for e in trace["traceEvents"] if e["ph"] == "X") == 3


def test_run_cmdbuf_updates_memory_in_place(rt: Any) -> None:
    prog = vendor_sim.Program()
    prog.g2l(0, 0, SHAPE, reg=0)
    prog.l2g(0, 1024, SHAPE, reg=0)
    mem = np.zeros(4096, np.uint8)
    mem[:512] = np.arange(512) % 251
    profile = rt.run_cmdbuf(prog.to_bytes(), mem, [0] * 8, profile=True)
    np.testing.assert_array_equal(mem[1024:1536], mem[:512])
    assert profile["total_cycles"] > 0 and len(profile["slices"]) == 2
    assert {s["engine"] for s in profile["slices"]} == {"tdma"}
    assert rt.run_cmdbuf(prog.to_bytes(), mem, [0] * 8) is None
    with pytest.raises(RuntimeError):
        rt.run_cmdbuf(prog.to_bytes(), np.zeros(16, np.uint8), [0] * 8)
    with pytest.raises(RuntimeError, match="1-D numpy uint8"):
        rt.run_cmdbuf(prog.to_bytes(), np.zeros(16, np.int32), [0] * 8)

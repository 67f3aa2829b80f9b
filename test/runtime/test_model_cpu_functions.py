"""Models made only of CPU routines: the built-in quant and argmax_v3 functions, custom functions
from an embedded plugin library, the Python API and the model_runner tool around them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import IO0, IO1, PRIVATE_REGION

FP32, INT8, BF16 = 0, 6, 3


def round_half_away(v: np.ndarray) -> np.ndarray:
    v64 = v.astype(np.float64)
    return np.sign(v64) * np.floor(np.abs(v64) + 0.5)


def quant_model(builder: Any, scale: float, shape: list[int]) -> bytes:
    b = builder("quant_only")
    b.tensor("x", FP32, shape, IO0)
    b.tensor("q", INT8, shape, IO1, qscale=1.0 / scale)
    b.cpu_routine("quant", ["x"], ["q"], **{"from": "FP32", "to": "INT8", "scale": scale})
    b.io(["x"], ["q"])
    return b.build()


def test_quant_fp32_to_int8_rounds_half_away_and_saturates(rt: Any, builder: Any) -> None:
    scale = 127.0 / 0.75
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(1, 3, 4, 4)).astype(np.float32)
    x.flat[:6] = [2.5 / scale, -2.5 / scale, 0.5 / scale, 5.0, -5.0, 0.0]
    model = rt.Model.from_bytes(quant_model(builder, scale, [1, 3, 4, 4]))
    out = model.run({"x": x})["q"]
    expected = np.clip(round_half_away(x * np.float32(scale)), -128, 127).astype(np.int8)
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out, expected)
    assert out.flat[3] == 127 and out.flat[4] == -128


def test_quant_exact_ties(rt: Any, builder: Any) -> None:
    model = rt.Model.from_bytes(quant_model(builder, 1.0, [1, 4, 1, 1]))
    out = model.run({"x": np.array([2.5, -2.5, 0.5, -0.5], np.float32).reshape(1, 4, 1, 1)})
    np.testing.assert_array_equal(out["q"].ravel(), [3, -3, 1, -1])


def test_quant_int8_and_bf16_to_fp32(rt: Any, builder: Any) -> None:
    b = builder()
    b.tensor("a", INT8, [1, 8, 1, 1], IO0)
    b.tensor("b", BF16, [1, 8, 1, 1], 5)
    b.tensor("fa", FP32, [1, 8, 1, 1], IO1)
    b.tensor("fb", FP32, [1, 8, 1, 1], 6)
    b.cpu_routine("quant", ["a"], ["fa"], **{"from": "INT8", "to": "FP32", "scale": 0.25})
    b.cpu_routine("quant", ["b"], ["fb"], **{"from": "BF16", "to": "FP32"})
    b.io(["a", "b"], ["fa", "fb"])
    model = rt.Model.from_bytes(b.build())
    codes = np.arange(-4, 4, dtype=np.int8).reshape(1, 8, 1, 1)
    bf16_bits = np.array([0x3F80, 0xC000, 0x3E80, 0, 0x4049, 0x8000, 0x7F80, 0x3F81], np.uint16)
    out = model.run({"a": codes, "b": bf16_bits.reshape(1, 8, 1, 1)})
    np.testing.assert_array_equal(out["fa"].ravel(), codes.ravel().astype(np.float32) * 0.25)
    widened = (bf16_bits.astype(np.uint32) << 16).view(np.float32)
    np.testing.assert_array_equal(out["fb"].ravel(), widened)


def test_quant_fp32_to_bf16_uses_runtime_rounding(rt: Any, builder: Any) -> None:
    b = builder()
    b.tensor("x", FP32, [1, 5, 1, 1], IO0)
    b.tensor("y", BF16, [1, 5, 1, 1], IO1)
    b.cpu_routine("quant", ["x"], ["y"], **{"from": "FP32", "to": "BF16", "scale": 1.0})
    b.io(["x"], ["y"])
    x = np.array([1.0, -3.14159, 0.1, 1000.5, 1e-3], np.float32)
    out = rt.Model.from_bytes(b.build()).run({"x": x.reshape(1, 5, 1, 1)})["y"].ravel()
    bits = ((x * np.float32(1.0)) * np.float32(1.001957)).view(np.uint32) >> 16
    np.testing.assert_array_equal(out, (bits.astype(np.uint32) << 16).view(np.float32))


def test_quant_rejects_unsupported_conversion(rt: Any, builder: Any) -> None:
    b = builder()
    b.tensor("x", INT8, [1, 4, 1, 1], IO0)
    b.tensor("y", BF16, [1, 4, 1, 1], IO1)
    b.cpu_routine("quant", ["x"], ["y"], **{"from": "INT8", "to": "BF16", "scale": 1.0})
    b.io(["x"], ["y"])
    with pytest.raises(RuntimeError, match="quant from INT8 to BF16 is not supported"):
        rt.Model.from_bytes(b.build())


def test_quant_checks_tensor_types(rt: Any, builder: Any) -> None:
    b = builder()
    b.tensor("x", FP32, [1, 4, 1, 1], IO0)
    b.tensor("y", FP32, [1, 4, 1, 1], IO1)
    b.cpu_routine("quant", ["x"], ["y"], **{"from": "FP32", "to": "INT8", "scale": 1.0})
    b.io(["x"], ["y"])
    with pytest.raises(RuntimeError, match="to=INT8 but output 'y' is FP32"):
        rt.Model.from_bytes(b.build())


def argmax_model(builder: Any, length: int, tiles: int) -> bytes:
    b = builder("argmax")
    b.tensor("data", INT8, [1, length, 1, 1], IO0)
    b.tensor("tile_max", INT8, [1, tiles, 1, 1], IO1)
    b.tensor("index", FP32, [1, 1, 1, 1], 5)
    b.cpu_routine("argmax_v3", ["data", "tile_max"], ["index"], axis=1, scale=1.0)
    b.io(["data", "tile_max"], ["index"])
    return b.build()


@pytest.mark.parametrize("length,tiles", [(10, 1), (300, 2), (1000, 4)])
def test_argmax_v3_first_maximum(rt: Any, builder: Any, length: int, tiles: int) -> None:
    model = rt.Model.from_bytes(argmax_model(builder, length, tiles))
    rng = np.random.default_rng(length)
    for _ in range(5):
        data = rng.integers(-128, 100, size=length, dtype=np.int8)
        data[rng.integers(0, length, size=2)] = 110  # two equal maxima: the first one wins
        tile = -(-length // tiles)
        tile_max = np.array([data[i * tile : (i + 1) * tile].max() for i in range(tiles)], np.int8)
        out = model.run(
            {
                "data": data.reshape(1, length, 1, 1),
                "tile_max": tile_max.reshape(1, tiles, 1, 1),
            }
        )["index"]
        assert out.dtype == np.float32
        assert out.ravel()[0] == np.argmax(data)


def test_argmax_v3_reports_inconsistent_maxima(rt: Any, builder: Any) -> None:
    model = rt.Model.from_bytes(argmax_model(builder, 10, 1))
    data = np.arange(10, dtype=np.int8).reshape(1, 10, 1, 1)
    with pytest.raises(RuntimeError, match="argmax_v3.*does not occur"):
        model.run({"data": data, "tile_max": np.full((1, 1, 1, 1), 50, np.int8)})


def test_argmax_v3_vendor_tensors(rt: Any, builder: Any, conformance_dir: Path) -> None:
    """Feeds the vendor's TPU-side tensors of m13 to argmax_v3 and checks the vendor's index."""
    ref = np.load(
        conformance_dir / "m13_gemm_argmax" / "m13_gemm_argmax_cv183x_int8_runner_out_fixed.npz"
    )
    model = rt.Model.from_bytes(argmax_model(builder, 10, 1))
    out = model.run({"data": ref["logits_Gemm"], "tile_max": ref["amax_ArgMax_trans1"]})["index"]
    assert out.tobytes() == ref["amax_ArgMax"].tobytes()


def plugin_model(builder: Any, cvi: Any, plugin: bytes, function: str, **params: Any) -> bytes:
    b = builder("custom")
    b.tensor("x", FP32, [2, 5, 3, 1], IO0)
    b.tensor("mid", FP32, [2, 5, 3, 1], PRIVATE_REGION)
    b.tensor("y", FP32, [2, 5, 3, 1], IO1)
    b.cpu_routine(function, ["x"], ["mid"], **params)
    b.cpu_routine("myscale", ["mid"], ["y"], factor=2.0)
    b.section(cvi.SectionType.FUNC_X86, "custom_cpu_x86", plugin)
    b.io(["x"], ["y"], private=2 * 5 * 3 * 4)
    return b.build()


def test_custom_cpu_function_from_embedded_library(
    rt: Any, builder: Any, cvi: Any, cpu_plugin: bytes
) -> None:
    model = rt.Model.from_bytes(plugin_model(builder, cvi, cpu_plugin, "mysoftmax", axis=1))
    x = np.random.default_rng(3).normal(size=(2, 5, 3, 1)).astype(np.float32)
    out = model.run({"x": x})["y"]
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(out, 2.0 * e / e.sum(axis=1, keepdims=True), rtol=1e-6)
    # Runs again with new data (functions are set up once, run many times).
    out2 = model.run({"x": -x})["y"]
    e2 = np.exp(-x - (-x).max(axis=1, keepdims=True))
    np.testing.assert_allclose(out2, 2.0 * e2 / e2.sum(axis=1, keepdims=True), rtol=1e-6)


def test_custom_function_errors_name_the_function(
    rt: Any, builder: Any, cvi: Any, cpu_plugin: bytes
) -> None:
    with pytest.raises(RuntimeError, match="mysoftmax.*supports axis 1 only"):
        rt.Model.from_bytes(plugin_model(builder, cvi, cpu_plugin, "mysoftmax", axis=2))
    with pytest.raises(RuntimeError, match="mysoftmax.*no parameter named 'axis'"):
        rt.Model.from_bytes(plugin_model(builder, cvi, cpu_plugin, "mysoftmax"))
    with pytest.raises(RuntimeError, match="'axis' is a float, not a int32"):
        rt.Model.from_bytes(plugin_model(builder, cvi, cpu_plugin, "mysoftmax", axis=1.0))
    model = rt.Model.from_bytes(
        plugin_model(builder, cvi, cpu_plugin, "myscale", factor=1.0, fail_in_run=True)
    )
    with pytest.raises(
        RuntimeError, match="routine #0 \\(CPU function 'myscale'\\): myscale was asked to fail"
    ):
        model.run({"x": np.zeros((2, 5, 3, 1), np.float32)})


def test_missing_cpu_function_lists_known_ones(
    rt: Any, builder: Any, cvi: Any, cpu_plugin: bytes
) -> None:
    with pytest.raises(
        RuntimeError,
        match="CPU function 'nosuchop'.*known: argmax_v3, quant, softmax, mysoftmax, myscale",
    ):
        rt.Model.from_bytes(plugin_model(builder, cvi, cpu_plugin, "nosuchop"))


def test_plugin_section_must_be_a_host_library(rt: Any, builder: Any, cvi: Any) -> None:
    with pytest.raises(RuntimeError, match="section 'custom_cpu_x86' is not an ELF shared library"):
        rt.Model.from_bytes(plugin_model(builder, cvi, b"not an elf" * 10, "mysoftmax", axis=1))
    aarch64 = bytearray(b"\x7fELF\x02\x01\x01" + bytes(57))
    aarch64[18] = 0xB7
    with pytest.raises(RuntimeError, match="built for ELF machine 0xB7"):
        rt.Model.from_bytes(plugin_model(builder, cvi, bytes(aarch64), "mysoftmax", axis=1))


def test_model_metadata_and_input_checks(rt: Any, builder: Any) -> None:
    model = rt.Model.from_bytes(quant_model(builder, 10.0, [1, 2, 3, 4]))
    assert model.name == "quant_only" and model.chip == "cv183x"
    (inp,) = model.inputs
    (out,) = model.outputs
    assert (inp.name, inp.dtype, inp.shape, inp.region, inp.size) == (
        "x",
        "fp32",
        (1, 2, 3, 4),
        "io_mem0",
        96,
    )
    assert (out.name, out.dtype, out.region) == ("q", "int8", "io_mem1")
    assert out.qscale == pytest.approx(0.1)
    with pytest.raises(RuntimeError, match="missing input 'x'"):
        model.run({})
    with pytest.raises(RuntimeError, match="no input named"):
        model.run({"x": np.zeros(24, np.float32), "y": np.zeros(1)})
    with pytest.raises(RuntimeError, match="input 'x' needs 24 elements, got 23"):
        model.run({"x": np.zeros(23, np.float32)})
    # Any float or integer array is accepted for an fp32 input; shape only has to match in size.
    x = np.linspace(-1, 1, 24)
    got = model.run({"x": x})["q"]
    expected = np.clip(round_half_away(x.astype(np.float32) * np.float32(10.0)), -128, 127)
    np.testing.assert_array_equal(got.ravel(), expected)
    deq = model.run({"x": x}, dequantize=True)["q"]
    assert deq.dtype == np.float32
    np.testing.assert_array_equal(deq, got.astype(np.float32) * np.float32(out.qscale))
    everything = model.run({"x": x}, dump_all=True)
    assert sorted(everything) == ["q", "x"]


def test_int8_input_quantises_float_data_with_its_qscale(rt: Any, builder: Any) -> None:
    b = builder()
    b.tensor("x", INT8, [1, 6, 1, 1], IO0, qscale=50.0)
    b.tensor("y", FP32, [1, 6, 1, 1], IO1)
    b.cpu_routine("quant", ["x"], ["y"], **{"from": "INT8", "to": "FP32", "scale": 1.0})
    b.io(["x"], ["y"])
    model = rt.Model.from_bytes(b.build())
    x = np.array([0.01, -0.01, 1.0, -3.0, 0.5, 0.03], np.float32)
    np.testing.assert_array_equal(
        model.run({"x": x})["y"].ravel(), np.clip(round_half_away(x * np.float32(50)), -128, 127)
    )
    codes = np.array([1, -2, 3, -4, 127, -128], np.int8)
    np.testing.assert_array_equal(model.run({"x": codes})["y"].ravel(), codes)
    with pytest.raises(RuntimeError, match="does not fit int8"):
        model.run({"x": np.array([1, 2, 3, 4, 5, 300], np.int32)})


def test_model_runner_tool(tool: Any, builder: Any, tmp_path: Path) -> None:
    model_path = tmp_path / "q.cvimodel"
    model_path.write_bytes(quant_model(builder, 100.0, [1, 2, 2, 2]))
    x = np.random.default_rng(5).uniform(-1, 1, (1, 2, 2, 2)).astype(np.float32)
    np.savez_compressed(tmp_path / "in.npz", x=x)  # deflate-compressed input
    runner = tool("model_runner")
    base = [str(runner), "--input", str(tmp_path / "in.npz"), "--model", str(model_path)]
    expected = np.clip(round_half_away(x * np.float32(100)), -128, 127).astype(np.int8)

    subprocess.run(base + ["--output", str(tmp_path / "fixed.npz"), "--out_fixed"], check=True)
    fixed = np.load(tmp_path / "fixed.npz")
    assert list(fixed) == ["x", "q"]  # inputs as fed, then outputs
    np.testing.assert_array_equal(fixed["x"], x)
    np.testing.assert_array_equal(fixed["q"], expected)

    subprocess.run(
        base
        + [
            "--output",
            str(tmp_path / "all.npz"),
            "--dump-all-tensors",
            "--profile",
            str(tmp_path / "p.json"),
            "--trace",
            str(tmp_path / "t.json"),
        ],
        check=True,
    )
    everything = np.load(tmp_path / "all.npz")
    assert sorted(everything) == ["q", "x"]
    np.testing.assert_array_equal(everything["x"], x)
    np.testing.assert_array_equal(everything["q"], expected.astype(np.float32) * np.float32(0.01))
    profile = json.loads((tmp_path / "p.json").read_text())
    assert [r["name"] for r in profile["routines"]] == ["quant"]
    trace = json.loads((tmp_path / "t.json").read_text())
    assert any(e.get("name") == "quant" and e.get("ph") == "X" for e in trace["traceEvents"])


def test_model_runner_reports_errors(tool: Any, tmp_path: Path) -> None:
    (tmp_path / "bad.cvimodel").write_bytes(b"CviModel" + bytes(10))
    np.savez(tmp_path / "in.npz", x=np.zeros(1, np.float32))
    r = subprocess.run(
        [
            str(tool("model_runner")),
            "--input",
            str(tmp_path / "in.npz"),
            "--model",
            str(tmp_path / "bad.cvimodel"),
            "--output",
            str(tmp_path / "o.npz"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0
    assert "truncated cvimodel header" in r.stderr
    r = subprocess.run([str(tool("model_runner")), "--model", "x"], capture_output=True, text=True)
    assert r.returncode != 0 and "required" in r.stderr


def test_quant_accepts_none_as_fp32(rt: Any, builder: Any) -> None:
    """The vendor compiler writes fp32 as "NONE" in quant parameters; both spellings work."""
    b = builder()
    b.tensor("x", FP32, [1, 4, 1, 1], IO0)
    b.tensor("q", INT8, [1, 4, 1, 1], PRIVATE_REGION, qscale=0.5)
    b.tensor("y", FP32, [1, 4, 1, 1], IO1)
    b.cpu_routine("quant", ["x"], ["q"], **{"from": "NONE", "to": "INT8", "scale": 2.0})
    b.cpu_routine("quant", ["q"], ["y"], **{"from": "INT8", "to": "NONE", "scale": 0.5})
    b.io(["x"], ["y"], private=64)
    model = rt.Model.from_bytes(b.build())
    out = model.run({"x": np.array([1.0, -0.75, 100.0, 0.25], np.float32).reshape(1, 4, 1, 1)})
    np.testing.assert_array_equal(out["y"].ravel(), [1.0, -1.0, 63.5, 0.5])


def softmax_model(builder: Any, shape: list[int], axis: Any, dtype: int = FP32) -> bytes:
    b = builder("softmax")
    b.info.build_time = "2026-01-01 00:00:00"  # the vendor runtime prints both when loading
    b.info.mlir_version = "tpuc"
    b.tensor("x", dtype, shape, IO0)
    b.tensor("y", FP32, shape, IO1)
    b.cpu_routine("softmax", ["x"], ["y"], axis=axis)
    b.io(["x"], ["y"])
    return b.build()


def numpy_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x.astype(np.float64) - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


SOFTMAX_SHAPE = [3, 4, 5, 2]


@pytest.mark.parametrize("axis", [0, 1, 2, 3])
def test_softmax_matches_numpy(rt: Any, builder: Any, axis: int) -> None:
    x = (np.random.default_rng(axis).normal(size=SOFTMAX_SHAPE) * 4).astype(np.float32)
    out = rt.Model.from_bytes(softmax_model(builder, SOFTMAX_SHAPE, axis)).run({"x": x})["y"]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, numpy_softmax(x, axis), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("axis", [0, 1, 2, 3])
def test_softmax_equals_vendor_runtime_bit_for_bit(
    rt: Any, builder: Any, tmp_path: Path, axis: int
) -> None:
    from test_cpu_plugin_abi import run_vendor

    model = softmax_model(builder, SOFTMAX_SHAPE, axis)
    (tmp_path / "m.cvimodel").write_bytes(model)
    x = (np.random.default_rng(10 + axis).normal(size=SOFTMAX_SHAPE) * 6).astype(np.float32)
    np.savez(tmp_path / "in.npz", x=x)
    ours = rt.Model.from_bytes(model).run({"x": x})["y"]
    proc = run_vendor(tmp_path / "m.cvimodel", tmp_path / "in.npz", tmp_path / "out.npz")
    assert proc.returncode == 0, proc.stderr[-2000:]
    vendor = np.load(tmp_path / "out.npz")["y"]
    assert vendor.dtype == ours.dtype and vendor.tobytes() == ours.tobytes()


def test_softmax_where_the_vendor_shift_underflows(rt: Any, builder: Any, tmp_path: Path) -> None:
    """The vendor starts every outer slice's maximum from the first row of the whole input; where
    that underflows a whole column (vendor result NaN), tpuc uses the column's own maximum."""
    from test_cpu_plugin_abi import run_vendor

    shape = [2, 3, 1, 2]
    x = np.zeros(shape, np.float32)
    x[0, 0, 0, :] = 200.0  # batch 0, first row: becomes the vendor's shift for batch 1 too
    x[1] = np.array([1.0, 2.0, 3.0]).reshape(3, 1, 1)
    model = softmax_model(builder, shape, 1)
    ours = rt.Model.from_bytes(model).run({"x": x})["y"]
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, numpy_softmax(x, 1), rtol=2e-6, atol=1e-7)
    (tmp_path / "m.cvimodel").write_bytes(model)
    np.savez(tmp_path / "in.npz", x=x)
    proc = run_vendor(tmp_path / "m.cvimodel", tmp_path / "in.npz", tmp_path / "out.npz")
    assert proc.returncode == 0, proc.stderr[-2000:]
    vendor = np.load(tmp_path / "out.npz")["y"]
    assert np.isnan(vendor[1]).all()  # the documented difference
    assert vendor[0].tobytes() == ours[0].tobytes()


def test_softmax_checks_axis_and_types(rt: Any, builder: Any) -> None:
    with pytest.raises(RuntimeError, match="softmax: axis 4 is out of range for the 4-D input 'x'"):
        rt.Model.from_bytes(softmax_model(builder, [1, 2, 3, 4], 4))
    with pytest.raises(RuntimeError, match="softmax: axis -1 is out of range"):
        rt.Model.from_bytes(softmax_model(builder, [1, 2, 3, 4], -1))
    with pytest.raises(RuntimeError, match="'axis' is a float, not a int32"):
        rt.Model.from_bytes(softmax_model(builder, [1, 2, 3, 4], 1.0))
    with pytest.raises(RuntimeError, match="softmax runs on FP32 tensors; input 'x' is INT8"):
        rt.Model.from_bytes(softmax_model(builder, [1, 2, 3, 4], 1, dtype=INT8))

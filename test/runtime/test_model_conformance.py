"""Model-level conformance: the vendor-made cvimodels run on tpuc's runtime and simulated TPU give
exactly the vendor simulator's results (shared/conformance: *_runner_out.npz holds every kept
tensor dequantised to float32, *_runner_out_fixed.npz the int8 codes)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CONFORMANCE, IO0, IO1

INT8_MODELS = sorted(CONFORMANCE.glob("*/*_cv183x_int8.cvimodel")) if CONFORMANCE.is_dir() else []
BF16_MODELS = sorted(CONFORMANCE.glob("*/*_cv183x_bf16.cvimodel")) if CONFORMANCE.is_dir() else []
QIO_MODEL = (
    CONFORMANCE / "m01_conv_relu" / "variant_quant_io" / "m01_conv_relu_cv183x_int8_qio.cvimodel"
)
needs_vectors = pytest.mark.skipif(
    not INT8_MODELS, reason=f"no vendor cvimodels under {CONFORMANCE}"
)


def stem(path: Path) -> str:
    return path.parent.name


def inputs_for(path: Path) -> dict[str, np.ndarray]:
    return dict(np.load(path.parent / f"{stem(path)}_in_f32.npz"))


def assert_same_arrays(got: dict[str, np.ndarray], ref: Any, what: str) -> None:
    assert sorted(got) == sorted(ref.keys()), what
    mismatched = []
    for name in ref.keys():
        r, g = ref[name], got[name]
        assert g.dtype == r.dtype, f"{what}: {name} dtype {g.dtype}, vendor {r.dtype}"
        assert g.shape == r.shape, f"{what}: {name} shape {g.shape}, vendor {r.shape}"
        if g.tobytes() != r.tobytes():
            diff = np.count_nonzero(g != r)
            mismatched.append(f"{name} ({diff}/{r.size} elements differ)")
    assert not mismatched, f"{what}: not bit-exact: {', '.join(mismatched)}"


@needs_vectors
@pytest.mark.parametrize("path", INT8_MODELS, ids=stem)
def test_int8_model_bit_exact(rt: Any, path: Path) -> None:
    model = rt.Model(path)
    feed = inputs_for(path)
    fixed = model.run(feed, dump_all=True)
    assert_same_arrays(
        fixed, np.load(str(path).replace(".cvimodel", "_runner_out_fixed.npz")), "int8 codes"
    )
    dequantized = model.run(feed, dump_all=True, dequantize=True)
    assert_same_arrays(
        dequantized, np.load(str(path).replace(".cvimodel", "_runner_out.npz")), "dequantized"
    )


@needs_vectors
def test_int8_io_variant_bit_exact(rt: Any, tool: Any, tmp_path: Path) -> None:
    model = rt.Model(QIO_MODEL)
    (inp,) = model.inputs
    assert inp.dtype == "int8" and inp.qscale == pytest.approx(73.077782)
    in_npz = CONFORMANCE / "m01_conv_relu" / "m01_conv_relu_in_f32.npz"
    ref = np.load(QIO_MODEL.parent / "m01_conv_relu_cv183x_int8_qio_runner_out_fixed.npz")
    # Float data is quantised with the input's qscale; the vendor file holds input and output.
    out = model.run(dict(np.load(in_npz)), dump_all=True)
    assert_same_arrays(out, ref, "int8 in/out variant")
    subprocess.run(
        [
            str(tool("model_runner")),
            "--input",
            str(in_npz),
            "--model",
            str(QIO_MODEL),
            "--output",
            str(tmp_path / "o.npz"),
            "--out_fixed",
        ],
        check=True,
    )
    assert_same_arrays(dict(np.load(tmp_path / "o.npz")), ref, "model_runner int8 in/out variant")


@needs_vectors
def test_model_runner_matches_vendor_files(tool: Any, tmp_path: Path) -> None:
    path = CONFORMANCE / "m04_pools" / "m04_pools_cv183x_int8.cvimodel"
    base = [
        str(tool("model_runner")),
        "--input",
        str(path.parent / "m04_pools_in_f32.npz"),
        "--model",
        str(path),
    ]
    subprocess.run(base + ["--output", str(tmp_path / "o.npz"), "--dump_all_tensors"], check=True)
    subprocess.run(
        base + ["--output", str(tmp_path / "f.npz"), "--dump-all-tensors", "--out-fixed"],
        check=True,
    )
    assert_same_arrays(
        dict(np.load(tmp_path / "o.npz")),
        np.load(path.parent / "m04_pools_cv183x_int8_runner_out.npz"),
        "runner",
    )
    assert_same_arrays(
        dict(np.load(tmp_path / "f.npz")),
        np.load(path.parent / "m04_pools_cv183x_int8_runner_out_fixed.npz"),
        "runner fixed",
    )


@needs_vectors
@pytest.mark.parametrize("path", INT8_MODELS, ids=stem)
def test_input_quant_routine_matches_reference(rt: Any, cvi: Any, path: Path) -> None:
    """The model's own quant routine, run alone, reproduces the reference int8 input tensor."""
    info = cvi.parse(path.read_bytes())
    program = info.programs[0]
    quant = program.routines[0]
    assert quant.type == 1 and quant.function_name == "quant"
    tensors = {t.name: t for t in program.tensors}
    src, dst = tensors[quant.in_tensors[0]], tensors[quant.out_tensors[0]]
    # A CPU-only model holding just that routine, both tensors placed in io memory.
    b = cvi.CvimodelInfo()
    b.name, b.chip, b.target = "quant_only", "cv183x", "cv183x"
    p = cvi.ProgramInfo()
    for t, region in ((src, IO0), (dst, IO1)):
        copy = cvi.TensorInfo()
        copy.name, copy.dtype, copy.shape, copy.quant = t.name, t.dtype, list(t.shape), t.quant
        copy.offset = region << 40
        p.tensors.append(copy)
    p.routines.append(quant)
    p.input_tensors, p.output_tensors = [src.name], [dst.name]
    b.programs.append(p)
    out = rt.Model.from_bytes(cvi.write(b)).run(inputs_for(path))[dst.name]
    ref = np.load(str(path).replace(".cvimodel", "_sym_tpu_out_fixed.npz"))
    np.testing.assert_array_equal(out.ravel(), ref[dst.name].ravel().astype(np.int8))


@pytest.mark.skipif(not BF16_MODELS, reason=f"no vendor BF16 cvimodels under {CONFORMANCE}")
@pytest.mark.parametrize("path", BF16_MODELS, ids=stem)
def test_bf16_model_outputs_bit_exact(rt: Any, path: Path) -> None:
    model = rt.Model(path)
    out = model.run(inputs_for(path), dump_all=True)
    ref = np.load(str(path).replace(".cvimodel", "_model_outputs.npz"))
    common = {k: out[k] for k in ref.keys() if k in out}
    assert [o.name for o in model.outputs if o.name not in common] == []
    assert_same_arrays(common, {k: ref[k] for k in common}, "bf16")

"""The loader on the vendor-made cvimodels: every file parses, its sections, weights and tensors
agree with the vendor's `model_tool --info` listing, and writing the description back gives a file
that parses to the same content. Also the `cvimodel` inspection tool."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import CONFORMANCE

DTYPES = ["fp32", "int32", "uint32", "bf16", "int16", "uint16", "int8", "uint8"]
SECTION_TYPES = ["weight", "cmdbuf", "func_x86", "func_aarch64", "dmabuf"]


def vendor_models() -> list[Path]:
    if not CONFORMANCE.is_dir():
        return []
    return sorted(CONFORMANCE.glob("*/*.cvimodel")) + sorted(CONFORMANCE.glob("*/*/*.cvimodel"))


def model_id(path: Path) -> str:
    return path.name.removesuffix(".cvimodel")


MODELS = vendor_models()
needs_vectors = pytest.mark.skipif(not MODELS, reason=f"no vendor cvimodels under {CONFORMANCE}")


def tool_info(path: Path) -> str | None:
    candidates = [path.with_suffix(".model_tool_info.txt"), path.parent / "model_tool_info.txt"]
    for c in candidates:
        if c.is_file():
            return c.read_text()
    return None


@needs_vectors
@pytest.mark.parametrize("path", [m for m in MODELS if tool_info(m)], ids=model_id)
def test_vendor_model_matches_model_tool_listing(cvi: Any, path: Path) -> None:
    data = path.read_bytes()
    info = cvi.parse(data)
    assert info.md5 == hashlib.md5(data[48:]).hexdigest()
    assert info.chip == "cv183x" and info.target == "cv183x"
    assert (info.version_major, info.version_minor) == (1, 4)
    listing = tool_info(path)
    assert listing is not None
    # Sections: type, name, size, offset and the MD5 of the stored payload.
    rows = re.findall(r"^(\d{3})\s+(\w+)\s+(\S+)\s+(\d+)\s+(\d+)\s+([0-9a-f]{32})$", listing, re.M)
    assert len(rows) == len(info.sections)
    for row, section in zip(rows, info.sections, strict=True):
        assert row[1:5] == (
            SECTION_TYPES[section.type],
            section.name,
            str(section.size),
            str(section.offset),
        )
        assert hashlib.md5(section.data).hexdigest() == row[5]
    # Tensor map: id, offset in region, type, NCHW, qscale, region, name.
    program = info.programs[0]
    tensor_rows = re.findall(
        r"^\s+(\d{3})\s+(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+(\w+)\s+(\S+)$",
        listing,
        re.M,
    )
    assert len(tensor_rows) == len(program.tensors)
    for row, t in zip(tensor_rows, program.tensors, strict=True):
        assert row[9] == t.name
        assert int(row[1]) == t.offset & ((1 << 40) - 1)
        assert row[2] == DTYPES[t.dtype]
        assert [int(v) for v in row[3:7]] == list(t.shape)
        assert float(row[7]) == pytest.approx(t.quant.qscale, abs=1e-6)
        region = t.offset >> 40
        assert row[8] == {0: "shared", 1: "weight", 2: "private"}.get(region, "io_mem")
    routines = re.findall(r"^\s+#(\d\d)\s+(cpu|tpu)$", listing, re.M)
    assert [r[1] for r in routines] == ["tpu" if r.type == 0 else "cpu" for r in program.routines]


@needs_vectors
@pytest.mark.parametrize("path", MODELS, ids=model_id)
def test_vendor_model_round_trips_through_writer(cvi: Any, rt: Any, path: Path) -> None:
    info = cvi.parse(path.read_bytes())
    again = cvi.parse(cvi.write(info))

    def summary(i: Any) -> Any:
        return (
            i.name,
            i.build_time,
            i.target,
            i.mlir_version,
            i.chip,
            [(w.name, w.offset, w.size, list(w.shape), w.type) for w in i.weights],
            [(s.type, s.name, s.data) for s in i.sections],
            [
                (
                    p.batch_num,
                    p.neuron_size,
                    list(p.input_tensors),
                    list(p.output_tensors),
                    p.shared_gmem,
                    p.private_gmem,
                    [
                        (
                            t.name,
                            t.offset,
                            t.dtype,
                            list(t.shape),
                            t.quant.qscale,
                            t.overwrote,
                            t.size,
                        )
                        for t in p.tensors
                    ],
                    [
                        (
                            r.type,
                            list(r.in_tensors),
                            list(r.out_tensors),
                            r.cmdbuf_section,
                            r.function_name,
                            cvi.decode_params(r.function_args) if r.type == 1 else None,
                        )
                        for r in p.routines
                    ],
                )
                for p in i.programs
            ],
        )

    assert summary(again) == summary(info)
    # The loader accepts the rewritten file as it accepts the original.
    assert [t.name for t in rt.Model.from_bytes(cvi.write(info)).inputs] == list(
        info.programs[0].input_tensors
    )


@needs_vectors
def test_vendor_cpu_routine_parameters(cvi: Any) -> None:
    info = cvi.parse(
        (CONFORMANCE / "m13_gemm_argmax" / "m13_gemm_argmax_cv183x_int8.cvimodel").read_bytes()
    )
    routines = info.programs[0].routines
    assert [r.function_name for r in routines if r.type == 1] == ["quant", "argmax_v3"]
    quant = cvi.decode_params(routines[0].function_args)
    assert quant["from"] == "FP32" and quant["to"] == "INT8"
    assert quant["scale"] == pytest.approx(127.026672)
    assert cvi.decode_params(routines[2].function_args) == {"axis": 1, "scale": 1.0}


@needs_vectors
def test_cvimodel_tool_summary_and_cmdbuf_dump(tool: Any, cvi: Any) -> None:
    path = CONFORMANCE / "m13_gemm_argmax" / "m13_gemm_argmax_cv183x_int8.cvimodel"
    r = subprocess.run(
        [str(tool("cvimodel")), str(path)], capture_output=True, text=True, check=True
    )
    out = r.stdout
    assert "chip cv183x" in out and "m13_gemm_argmax" in out
    assert re.search(r"cmdbuf\s+subfunc_1\s+672\s+2608", out)
    assert "function argmax_v3 (axis=1, scale=1.000000)" in out
    assert re.search(r"private\s+int8\s+1x10x1x1\s+0x100\s+0.0164214\s+logits_Gemm", out)
    r = subprocess.run(
        [str(tool("cvimodel")), str(path), "--dump-cmdbuf"],
        capture_output=True,
        text=True,
        check=True,
    )
    records = re.findall(r"^\s+#(\d+)\s+@(\d+)\s+magic 0xA5 (TIU|TDMA)\s+len (\d+)", r.stdout, re.M)
    assert "tsk_typ=2" in r.stdout and "src_base_reg_sel=2" in r.stdout  # decoded fields
    # The records tile the section exactly.
    data = cvi.parse(path.read_bytes()).sections[1].data
    assert sum(8 + int(rec[3]) for rec in records) == len(data)
    assert {rec[2] for rec in records} == {"TIU", "TDMA"}

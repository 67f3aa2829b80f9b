"""Malformed cvimodels must be refused with an error naming what is wrong (never a crash)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import IO0, IO1, PRIVATE_REGION

FP32, INT8 = 0, 6


def fix_md5(data: bytes | bytearray) -> bytes:
    data = bytearray(data)
    data[14:30] = hashlib.md5(bytes(data[48:])).digest()
    return bytes(data)


def body_size(data: bytes) -> int:
    return int.from_bytes(data[8:12], "little")


@pytest.fixture
def good(builder: Any, cvi: Any) -> Any:
    """A valid model: quant (CPU) then a TPU routine over an (empty) cmdbuf section."""
    b = builder("good")
    b.tensor("x", FP32, [1, 4, 2, 2], IO0)
    b.tensor("q", INT8, [1, 4, 2, 2], PRIVATE_REGION)
    b.tensor("y", INT8, [1, 4, 2, 2], IO1)
    b.cpu_routine("quant", ["x"], ["q"], **{"from": "FP32", "to": "INT8", "scale": 10.0})
    b.tpu_routine("subfunc_1", ["q"], ["y"])
    b.section(cvi.SectionType.WEIGHT, "weight", bytes(range(64)))
    b.section(cvi.SectionType.CMDBUF, "subfunc_1", bytes(200), compress=True)
    b.io(["x"], ["y"], private=16)
    return b


def load(rt: Any, data: bytes) -> Any:
    return rt.Model.from_bytes(data)


def test_good_model_loads(rt: Any, cvi: Any, good: Any) -> None:
    data = good.build()
    info = cvi.parse(data)
    cmdbuf = info.sections[1]
    assert cmdbuf.compress and cmdbuf.decompressed_size == 200 and cmdbuf.size < 200
    assert cmdbuf.data == bytes(200)
    model = load(rt, data)
    assert [t.name for t in model.inputs] == ["x"]


@pytest.mark.parametrize("size", [0, 5, 31, 47])
def test_truncated_header(rt: Any, good: Any, size: int) -> None:
    with pytest.raises(RuntimeError, match="truncated cvimodel header|bad magic"):
        load(rt, good.build()[:size])


def test_bad_magic(rt: Any, good: Any) -> None:
    with pytest.raises(RuntimeError, match="bad magic"):
        load(rt, b"CviMode!" + good.build()[8:])


def test_unsupported_version(rt: Any, good: Any) -> None:
    data = bytearray(good.build())
    data[12] = 2
    with pytest.raises(RuntimeError, match="unsupported cvimodel format version 2.4"):
        load(rt, bytes(data))


def test_md5_mismatch(rt: Any, good: Any) -> None:
    data = bytearray(good.build())
    data[-1] ^= 0x55
    with pytest.raises(RuntimeError, match="MD5 mismatch"):
        load(rt, bytes(data))


def test_truncated_file(rt: Any, good: Any) -> None:
    data = good.build()
    with pytest.raises(RuntimeError, match="MD5 mismatch"):
        load(rt, data[:-10])
    with pytest.raises(RuntimeError, match="truncated cvimodel: body_size"):
        load(rt, fix_md5(data[: 48 + body_size(data) - 1]))


def test_flatbuffer_verifier_failure(rt: Any, good: Any) -> None:
    data = bytearray(good.build())
    n = body_size(data)
    data[48 : 48 + n] = bytes((i * 37 + 11) & 0xFF for i in range(n))
    with pytest.raises(RuntimeError, match="fails FlatBuffers verification"):
        load(rt, fix_md5(data))


def test_section_outside_blob(rt: Any, good: Any) -> None:
    data = good.build()
    with pytest.raises(RuntimeError, match="section 'subfunc_1' .* lies outside the blob"):
        load(rt, fix_md5(data[:-3]))


def test_corrupt_lz4_section(rt: Any, cvi: Any, good: Any) -> None:
    data = bytearray(good.build())
    section = cvi.parse(bytes(data)).sections[1]
    start = 48 + body_size(data) + section.offset
    data[start : start + section.size] = b"\xff" * section.size
    with pytest.raises(
        RuntimeError, match="section 'subfunc_1': (corrupt LZ4 data|LZ4 data decompresses)"
    ):
        load(rt, fix_md5(data))


def test_unknown_section_type(rt: Any, good: Any) -> None:
    good.info.sections[0].type = 9
    with pytest.raises(RuntimeError, match="section 'weight' has unknown type 9"):
        load(rt, good.build())


def test_encrypted_section(rt: Any, good: Any) -> None:
    good.info.sections[0].encrypt = True
    with pytest.raises(RuntimeError, match="encrypted sections are not supported"):
        load(rt, good.build())


def test_duplicate_section(rt: Any, cvi: Any, good: Any) -> None:
    good.section(cvi.SectionType.WEIGHT, "weight", b"1234")
    with pytest.raises(RuntimeError, match="duplicate section name 'weight'"):
        load(rt, good.build())


def test_tensor_outside_region(rt: Any, good: Any) -> None:
    good.program.tensors[1].offset = (PRIVATE_REGION << 40) | 8
    with pytest.raises(
        RuntimeError,
        match=r"tensor 'q' \(offset 0x8, 16 bytes\) lies outside its private memory region "
        r"\(16 bytes\)",
    ):
        load(rt, good.build())


def test_tensor_invalid_address(rt: Any, good: Any) -> None:
    good.program.tensors[1].offset = 1 << 45
    with pytest.raises(RuntimeError, match="tensor 'q' has an invalid address"):
        load(rt, good.build())


def test_tensor_bad_shape_and_type(rt: Any, good: Any) -> None:
    good.program.tensors[2].shape = [1, -1, 2, 2]
    with pytest.raises(RuntimeError, match="tensor 'y' has a dynamic shape"):
        load(rt, good.build())
    good.program.tensors[2].shape = [1, 4, 2, 2]
    good.program.tensors[2].dtype = 42
    with pytest.raises(RuntimeError, match="unknown tensor data type 42"):
        load(rt, good.build())


def test_duplicate_tensor(rt: Any, good: Any) -> None:
    good.program.tensors[2].name = "q"
    with pytest.raises(RuntimeError, match="tensor 'q' appears twice"):
        load(rt, good.build())


def test_weight_outside_section(rt: Any, cvi: Any, good: Any) -> None:
    w = cvi.WeightInfo()
    w.name = "filter"
    w.offset = (1 << 40) | 60
    w.size = 8
    w.shape = [8]
    good.info.weights.append(w)
    with pytest.raises(RuntimeError, match="weight 'filter' .* lies outside the weight section"):
        load(rt, good.build())


def test_unknown_routine_type(rt: Any, good: Any) -> None:
    good.program.routines[1].type = 7
    with pytest.raises(RuntimeError, match="routine #1 has unknown routine type 7"):
        load(rt, good.build())


def test_routine_unknown_tensor(rt: Any, good: Any) -> None:
    good.program.routines[1].out_tensors = ["nowhere"]
    with pytest.raises(RuntimeError, match="routine #1 refers to tensor 'nowhere'"):
        load(rt, good.build())


def test_missing_cmdbuf_section(rt: Any, good: Any) -> None:
    good.program.routines[1].cmdbuf_section = "subfunc_9"
    with pytest.raises(RuntimeError, match="cmdbuf section 'subfunc_9', which does not exist"):
        load(rt, good.build())
    good.program.routines[1].cmdbuf_section = "weight"
    with pytest.raises(RuntimeError, match="but it is a weight section"):
        load(rt, good.build())


def test_dmabuf_only_routine(rt: Any, good: Any) -> None:
    good.program.routines[1].cmdbuf_section = ""
    good.program.routines[1].dmabuf_section = "subfunc_1"
    with pytest.raises(RuntimeError, match="only cmdbuf sections are supported"):
        load(rt, good.build())


def test_missing_cpu_function(rt: Any, good: Any) -> None:
    good.program.routines[0].function_name = "detectionoutput"
    with pytest.raises(
        RuntimeError,
        match="routine #0 calls CPU function 'detectionoutput', which is neither built in",
    ):
        load(rt, good.build())


def test_malformed_function_args(rt: Any, good: Any) -> None:
    good.program.routines[0].function_args = b"\x01\x02\x03garbage-garbage"
    with pytest.raises(RuntimeError, match="function_args fail FlatBuffers verification"):
        load(rt, good.build())


def test_unknown_io_tensor(rt: Any, good: Any) -> None:
    good.program.output_tensors = ["y", "z"]
    with pytest.raises(RuntimeError, match="tensor 'z' is not in the tensor map"):
        load(rt, good.build())


def test_unsupported_chip(rt: Any, good: Any) -> None:
    good.info.chip = "cv999x"
    with pytest.raises(RuntimeError, match="built for chip 'cv999x', which is not supported"):
        load(rt, good.build())


def test_no_program(rt: Any, good: Any) -> None:
    with pytest.raises(RuntimeError, match="program 3 requested"):
        rt.Model.from_bytes(good.build(), 3)
    good.info.programs.clear()
    with pytest.raises(RuntimeError, match="cvimodel has no program"):
        load(rt, good.build())


def test_tools_report_errors(tool: Any, good: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.cvimodel"
    data = bytearray(good.build())
    data[-1] ^= 1
    bad.write_bytes(bytes(data))
    r = subprocess.run([str(tool("cvimodel")), str(bad)], capture_output=True, text=True)
    assert r.returncode != 0 and "MD5 mismatch" in r.stderr and str(bad) in r.stderr
    np.savez(tmp_path / "in.npz", x=np.zeros((1, 4, 2, 2), np.float32))
    r = subprocess.run(
        [
            str(tool("model_runner")),
            "--input",
            str(tmp_path / "in.npz"),
            "--model",
            str(bad),
            "--output",
            str(tmp_path / "o.npz"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "MD5 mismatch" in r.stderr
    r = subprocess.run(
        [str(tool("cvimodel")), str(tmp_path / "missing.cvimodel")], capture_output=True, text=True
    )
    assert r.returncode != 0 and "cannot open" in r.stderr

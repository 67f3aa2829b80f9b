"""Read and write .cvimodel files as plain descriptions.

    from tpuc.runtime import cvimodel

    info = cvimodel.parse(open("m.cvimodel", "rb").read())   # checked, sections decompressed
    info.programs[0].tensors[0].name
    data = cvimodel.write(info)                               # offsets, sizes, MD5 computed

Lists in a description (programs, tensors, routines, sections, weights) are edited in place.
`parse` raises RuntimeError for a malformed file; `write` does not validate (loading does).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from ._runtime import (
    CvimodelInfo,
    ProgramInfo,
    QuantInfo,
    RoutineInfo,
    SectionInfo,
    TensorInfo,
    WeightInfo,
    decode_op_param,
    encode_op_param,
    parse_cvimodel,
    write_cvimodel,
)

__all__ = [
    "CvimodelInfo",
    "DType",
    "ProgramInfo",
    "QuantInfo",
    "QuantType",
    "RoutineInfo",
    "RoutineType",
    "SectionInfo",
    "SectionType",
    "TensorInfo",
    "WeightInfo",
    "decode_params",
    "encode_params",
    "parse",
    "write",
]


class DType(IntEnum):
    FP32 = 0
    INT32 = 1
    UINT32 = 2
    BF16 = 3
    INT16 = 4
    UINT16 = 5
    INT8 = 6
    UINT8 = 7


class QuantType(IntEnum):
    NONE = 0
    BF16 = 1
    INT8_SYM = 2
    INT8_ASYM = 3


class RoutineType(IntEnum):
    TPU = 0
    CPU = 1


class SectionType(IntEnum):
    WEIGHT = 0
    CMDBUF = 1
    FUNC_X86 = 2
    FUNC_AARCH64 = 3
    DMABUF = 4


def parse(data: bytes) -> CvimodelInfo:
    """Parses and checks a cvimodel image."""
    return parse_cvimodel(bytes(data))


def write(info: CvimodelInfo) -> bytes:
    """Serialises a description into a cvimodel image."""
    return write_cvimodel(info)


def encode_params(params: dict[str, Any]) -> bytes:
    """{name: int | float | bool | str | list[int] | list[float]} -> CPU routine function_args."""
    return encode_op_param(params)


def decode_params(data: bytes) -> dict[str, Any]:
    """CPU routine function_args -> {name: value}."""
    return decode_op_param(bytes(data))

"""tpuc runtime: load and run .cvimodel files on the simulated CV183x TPU.

    import numpy as np
    import tpuc.runtime as rt

    model = rt.Model("m.cvimodel")
    print(model.inputs)                   # [TensorInfo(name=..., dtype=..., shape=..., ...)]
    outputs = model.run({"input": np.zeros((1, 3, 16, 16), np.float32)})

    rt.run_cmdbuf(cmdbuf_bytes, memory_uint8_array, base_regs)   # one command buffer

Every failure (malformed model, bad input, simulator error) raises RuntimeError with a message
naming what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from typing import Any

import numpy as np

from . import _runtime

__all__ = ["Model", "TensorInfo", "run_cmdbuf"]


@dataclass(frozen=True)
class TensorInfo:
    """A tensor of a model's tensor map."""

    name: str
    dtype: str  # "fp32", "int8", "bf16", ...
    shape: tuple[int, ...]
    qscale: float
    zero_point: float
    region: str  # "shared", "weight", "private", "io_mem0".."io_mem4"
    offset: int  # byte offset inside the region
    size: int  # bytes
    overwrote: bool  # memory reused later in the program (not kept after a run)

    @staticmethod
    def _from_dict(d: dict[str, Any]) -> TensorInfo:
        return TensorInfo(
            name=d["name"],
            dtype=d["dtype"],
            shape=tuple(d["shape"]),
            qscale=d["qscale"],
            zero_point=d["zero_point"],
            region=d["region"],
            offset=d["offset"],
            size=d["size"],
            overwrote=d["overwrote"],
        )


def _to_numpy(descr: str, shape: list[int], data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.dtype(descr)).reshape(shape).copy()


class Model:
    """A loaded cvimodel program.

    `path` is a file name; use `Model.from_bytes` for an in-memory image. `program` selects the
    program of a multi-program model.
    """

    def __init__(self, path: str | PathLike[str], program: int = 0) -> None:
        self._impl = _runtime.Model(str(path), program)

    @classmethod
    def from_bytes(cls, data: bytes, program: int = 0) -> Model:
        model = cls.__new__(cls)
        model._impl = _runtime.Model.from_bytes(bytes(data), program)
        return model

    @property
    def name(self) -> str:
        return self._impl.name

    @property
    def chip(self) -> str:
        return self._impl.chip

    @property
    def inputs(self) -> list[TensorInfo]:
        return [TensorInfo._from_dict(d) for d in self._impl.inputs]

    @property
    def outputs(self) -> list[TensorInfo]:
        return [TensorInfo._from_dict(d) for d in self._impl.outputs]

    @property
    def tensors(self) -> list[TensorInfo]:
        return [TensorInfo._from_dict(d) for d in self._impl.tensors]

    def run(
        self,
        inputs: Mapping[str, np.ndarray],
        *,
        dump_all: bool = False,
        dequantize: bool = False,
        profile: bool = False,
    ) -> dict[str, np.ndarray]:
        """Runs the model and returns its outputs by name.

        Float data given to an int8 input is quantised with the input's qscale; integer data is
        taken as codes. Outputs keep their type (int8 codes, float32; bf16 is widened to float32)
        unless `dequantize`, which turns int8/uint8 tensors into float32 code * qscale.
        `dump_all` returns every tensor of the tensor map still held in memory. `profile` runs the
        cycle model; read it afterwards from `.profile` / `.trace`.
        """
        expected = {t.name for t in self.inputs}
        unknown = set(inputs) - expected
        if unknown:
            raise RuntimeError(
                f"model has no input named {sorted(unknown)} (inputs: {sorted(expected)})"
            )
        for name in expected:
            if name not in inputs:
                raise RuntimeError(f"missing input '{name}'")
            array = np.ascontiguousarray(inputs[name])
            if array.dtype.kind not in "fiub":
                raise RuntimeError(f"input '{name}': unsupported array type {array.dtype}")
            if array.dtype.byteorder == ">":
                array = array.astype(array.dtype.newbyteorder("<"))
            self._impl.set_input(name, array.dtype.str, list(array.shape), array.tobytes())
        self._impl.run(profile)
        names = (
            [t.name for t in self.tensors if not t.overwrote]
            if dump_all
            else [t.name for t in self.outputs]
        )
        return {n: _to_numpy(*self._impl.read_tensor(n, dequantize)) for n in names}

    @property
    def profile(self) -> dict[str, Any] | None:
        """Cycle-model summary of the last run made with profile=True (else None)."""
        text = self._impl.profile_json()
        return None if text is None else json.loads(text)

    @property
    def trace(self) -> dict[str, Any] | None:
        """Chrome trace events of the last run made with profile=True (else None)."""
        text = self._impl.trace_json()
        return None if text is None else json.loads(text)


def run_cmdbuf(
    cmdbuf: bytes,
    memory: np.ndarray,
    base_regs: list[int],
    profile: bool = False,
    chip: str = "cv183x",
) -> dict[str, Any] | None:
    """Executes one command buffer (cmd_hdr record stream) on the simulated TPU.

    `memory` is the device's global memory as a 1-D contiguous uint8 array and is modified in
    place; `base_regs[i]` is the byte index in it where the region selected by base register i
    starts. With `profile`, returns the cycle model's result: total_cycles, tiu_busy_cycles,
    tdma_busy_cycles and one slice per descriptor.
    """
    if not isinstance(memory, np.ndarray) or memory.dtype != np.uint8 or memory.ndim != 1:
        raise RuntimeError("run_cmdbuf: memory must be a 1-D numpy uint8 array")
    if not memory.flags.c_contiguous or not memory.flags.writeable:
        raise RuntimeError("run_cmdbuf: memory must be contiguous and writeable")
    return _runtime.run_cmdbuf(bytes(cmdbuf), memory, [int(r) for r in base_regs], profile, chip)

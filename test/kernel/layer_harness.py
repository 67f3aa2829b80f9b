"""Helpers of the layer-kernel tests (test_layers_*.py): a kernel-script program with a larger
global memory, raw weight blobs, and numpy references of the docs/quantization.md formulas.

A layer is emitted with a `layer_<kind>` line of tpuc-kernel-emit (docs/kernel-api.md "Layer
kernels"), run on the vendor simulator and on tpuc's engine, and compared bit for bit with the
reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .kernel_harness import (
    ELEM_BYTES,
    NP_TYPES,
    GlobalDecl,
    Program,
    Simulators,
    elem_offsets,
    verify,
)
from .kernel_refs import conv_acc, requant, requant_qdm, shift_half_up

LAYER_MEM = 1 << 22  # 4 MiB: eight 512 KiB regions (a smaller image runs faster)
BIG_MEM = 1 << 24  # 16 MiB for layers with large weights or activations


@dataclass
class LayerProgram(Program):
    """A Program over `mem_size` bytes of global memory (eight equal regions)."""

    mem_size: int = LAYER_MEM

    def __post_init__(self) -> None:
        self.mem = self.rng.integers(0, 256, self.mem_size, dtype=np.uint8)

    @property
    def region_size(self) -> int:
        return self.mem_size // 8

    @property
    def base_regs(self) -> list[int]:
        return [r * self.region_size for r in range(8)]

    def galloc(self, nbytes: int, region: int) -> int:
        off = (self.next_free[region] + 63) // 64 * 64
        if off + nbytes > self.region_size:
            raise MemoryError("test region full")
        self.next_free[region] = off + nbytes + 64 * int(self.rng.integers(0, 3))
        return off

    def _byte_index(self, d: GlobalDecl) -> np.ndarray:
        return d.region * self.region_size + d.offset + elem_offsets(d.shape, d.strides)

    def blob(self, data: np.ndarray, region: int = 1) -> str:
        """Writes raw bytes into `region`; returns the address as 'REGION:OFFSET'."""
        raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
        off = self.galloc(raw.size, region)
        base = region * self.region_size + off
        self.mem[base : base + raw.size] = raw
        return f"{region}:{off}"

    def read_raw(self, mem: np.ndarray, addr: str, nbytes: int) -> np.ndarray:
        region, off = (int(x) for x in addr.split(":"))
        base = region * self.region_size + off
        return mem[base : base + nbytes].copy()

    def read(self, mem: np.ndarray, name: str) -> np.ndarray:
        d = self.globals[name]
        es = ELEM_BYTES[d.dtype]
        idx = self._byte_index(d)
        raw = np.stack([mem[idx + b] for b in range(es)], axis=1).reshape(-1)
        return raw.view(NP_TYPES[d.dtype]).reshape(d.shape)


def run(
    sims: Simulators, sim: str, prog: LayerProgram, expected: dict[str, np.ndarray]
) -> tuple[np.ndarray, dict[str, Any]]:
    """Emits and runs `prog` on `sim`; every tensor in `expected` must match bit for bit (and on
    tpuc's engine the whole memory must equal the vendor simulator's)."""
    return verify(sims, sim, prog, expected)


def engine_cycles(sims: Simulators, prog: LayerProgram) -> int | None:
    """Total cycles of tpuc's cycle model for the program (None without the engine)."""
    if not sims.has_engine():
        return None
    cmdbuf, _ = prog.emit()
    _, prof = sims.run_engine(cmdbuf, prog.mem, prog.base_regs, profile=True)
    if not prof:
        return None
    for key in ("total_cycles", "cycles", "total"):
        if key in prof:
            return int(prof[key])
    vals = [int(v) for k, v in prof.items() if "cycle" in k and isinstance(v, int | float)]
    return max(vals) if vals else None


# ---------------------------------------------------------------------------------------------
# References (docs/quantization.md)
# ---------------------------------------------------------------------------------------------
def rand_i8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, shape).astype(np.int8)


def pack_conv_filter(w: np.ndarray) -> np.ndarray:
    """[OC][IC/g][kh][kw] -> [OC][kh][kw][IC/g] (packConvFilter)."""
    return np.ascontiguousarray(np.transpose(w, (0, 2, 3, 1))).astype(np.int8)


def chan_param_records(bias: np.ndarray | None, mult: np.ndarray, rshift: np.ndarray) -> np.ndarray:
    """[OC][9] records {int32 bias, uint32 multiplier, uint8 rshift} ([OC][5] without bias)."""
    oc = mult.size
    rec = np.zeros((oc, 9 if bias is not None else 5), np.uint8)
    col = 0
    if bias is not None:
        rec[:, 0:4] = bias.astype("<i4").view(np.uint8).reshape(oc, 4)
        col = 4
    rec[:, col : col + 4] = mult.astype("<u4").view(np.uint8).reshape(oc, 4)
    rec[:, col + 4] = rshift.astype(np.uint8)
    return rec


def conv_ref(
    x: np.ndarray,
    w: np.ndarray,
    group: int,
    stride: tuple[int, int],
    dil: tuple[int, int],
    pads: tuple[int, int, int, int],
    pad_value: int,
    oh: int,
    ow: int,
    ins: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """int64 accumulator of a grouped convolution (zeros = pad_value inserted between input
    rows/columns); w is [OC][IC/g][kh][kw]."""
    n, ic, _, _ = x.shape
    oc = w.shape[0]
    icg, ocg = ic // group, oc // group
    acc = np.zeros((n, oc, oh, ow), np.int64)
    for g in range(group):
        acc[:, g * ocg : (g + 1) * ocg] = conv_acc(
            x[:, g * icg : (g + 1) * icg],
            w[g * ocg : (g + 1) * ocg],
            stride,
            dil,
            pads,
            (ins[0], ins[1], 0, 0),
            pad_value,
            oh,
            ow,
        )
    return acc


def qdm_out(acc: np.ndarray, mult: np.ndarray, rshift: np.ndarray, relu: bool) -> np.ndarray:
    """requantQdm per channel (axis 1) or with scalars."""
    m = np.asarray(mult, np.int64)
    r = np.asarray(rshift, np.int64)
    if m.ndim == 1:
        m = m.reshape(1, -1, *([1] * (acc.ndim - 2)))
        r = r.reshape(1, -1, *([1] * (acc.ndim - 2)))
    return requant_qdm(acc, m, r, relu, "int8").astype(np.int8)


def rshift_out(acc: np.ndarray, rshift: int, relu: bool) -> np.ndarray:
    return requant(acc, rshift, relu, "int8").astype(np.int8)


def rescale(q: np.ndarray, m: int, r: int) -> np.ndarray:
    """sat8(rshift_up(q * m, r))."""
    return np.clip(shift_half_up(np.asarray(q, np.int64) * m, r), -128, 127)


__all__ = [
    "LayerProgram",
    "VendorModel",
    "run",
    "engine_cycles",
    "rand_i8",
    "pack_conv_filter",
    "chan_param_records",
    "conv_ref",
    "qdm_out",
    "rshift_out",
    "rescale",
]


# ---------------------------------------------------------------------------------------------
# Vendor conformance vectors
# ---------------------------------------------------------------------------------------------
CONFORMANCE = Path("/work/shared/conformance")


class VendorModel:
    """A conformance model: its cvimodel weight section, calibration thresholds and the vendor
    runner's outputs (int8 tensors recovered from their dequantized values)."""

    def __init__(self, name: str):
        import pytest

        self.dir = CONFORMANCE / name
        if not self.dir.is_dir():
            pytest.skip(f"vendor conformance vectors not found at {self.dir}")
        from vendor_sim import cvimodel_sections  # test/runtime, on sys.path via kernel_harness

        self.weights = next(
            p for t, _, p in cvimodel_sections(self.dir / f"{name}_cv183x_int8.cvimodel") if t == 0
        )
        self.thresholds = {
            line.split()[0]: float(line.split()[1])
            for line in (self.dir / f"{name}_cali_table").read_text().splitlines()
            if line and not line.startswith("#")
        }
        self.outputs = np.load(self.dir / f"{name}_cv183x_int8_runner_out.npz")

    def int8(self, tensor: str, threshold_of: str | float) -> np.ndarray:
        """The int8 values of a runner output (dequantized with the threshold of the layer named
        threshold_of, or with the threshold given)."""
        t = self.thresholds[threshold_of] if isinstance(threshold_of, str) else threshold_of
        q = self.outputs[tensor] / (np.float32(t) / np.float32(127))
        assert np.abs(q - np.round(q)).max() < 0.01
        return np.round(q).astype(np.int8)

    def conv3x3_3to8(
        self, filter_at: int = 0x50, records_at: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Filter [8][3][3][3] ([OC][kh][kw][IC]) and 9-byte records of a 3-to-8-channel 3x3
        layer, stored as `<layer>_filter_reordered` ([OC][kh * kw][IC padded to 4], 288 bytes)
        and `<layer>_bias_packed` (72 bytes)."""
        records = np.frombuffer(self.weights[records_at : records_at + 72], np.uint8).reshape(8, 9)
        filt = np.frombuffer(self.weights[filter_at : filter_at + 288], np.int8)
        return np.ascontiguousarray(filt.reshape(8, 9, 4)[:, :, :3]), records

    def raw(self, offset: int, size: int) -> np.ndarray:
        return np.frombuffer(self.weights[offset : offset + size], np.uint8).copy()

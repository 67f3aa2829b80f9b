"""Kernel-emitter test harness: build a kernel script with its global-memory image, emit the command
buffer with tpuc-kernel-emit, run it on the vendor simulator (test/runtime/vendor_sim.py) and on
tpuc's engine, and read tensors back.

Global memory: one image of MEM_SIZE random bytes split into eight regions of REGION_SIZE bytes;
base register r points at region r, so a script's `global NAME REGION OFFSET ...` addresses byte
r * REGION_SIZE + OFFSET of the image.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
# test/runtime/vendor_sim.py runs command buffers on the vendor simulator and reads the descriptor
# field tables.
sys.path.insert(0, str(REPO / "test" / "runtime"))
from vendor_sim import (  # noqa: E402
    TDMA_FIELDS,
    TIU_FIELDS,
    VendorSim,
    unpack,
    vendor_libdir,
    walk_cmdbuf,
)

__all__ = ["TDMA_FIELDS", "TIU_FIELDS", "unpack", "walk_cmdbuf"]
MEM_SIZE = 1 << 21
REGION_SIZE = MEM_SIZE // 8
LANES = 32
EU = 16
# Each program runs on the vendor simulator and on tpuc's engine.
SIMS = ["vendor", "tpuc"]

NP_TYPES: dict[str, Any] = {
    "int8": np.int8,
    "uint8": np.uint8,
    "bf16": np.uint16,  # bf16 bit patterns
    "int16": np.int16,
}
ELEM_BYTES = {"int8": 1, "uint8": 1, "bf16": 2, "int16": 2}


def find_tool(name: str) -> Path | None:
    """A built tool: $TPUC_BIN_DIR, PATH, the installed package's _bin, then build trees."""
    env = os.environ.get("TPUC_BIN_DIR")
    if env and (Path(env) / name).is_file():
        return Path(env) / name
    found = shutil.which(name)
    if found:
        return Path(found)
    try:
        import tpuc

        pkg = Path(tpuc.__file__).resolve().parent
        for cand in (pkg / "_bin" / name, pkg.parent.parent / "bin" / name):
            if cand.is_file():
                return cand
    except ImportError:
        pass
    for build in sorted(REPO.parent.glob("build*")):
        cand = build / "bin" / name
        if cand.is_file():
            return cand
    return None


class EmitError(RuntimeError):
    """tpuc-kernel-emit rejected the program; `code` 1 = Context error, 2 = script error."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


class EngineUnsupported(RuntimeError):
    """tpuc's engine does not implement an operation the program uses (yet)."""


def emit(script: str, serial: bool = False) -> tuple[bytes, dict[str, Any]]:
    exe = find_tool("tpuc-kernel-emit")
    if exe is None:
        raise FileNotFoundError("tpuc-kernel-emit not found (set TPUC_BIN_DIR or build it)")
    with tempfile.TemporaryDirectory() as d:
        src, out = Path(d, "prog.kernel"), Path(d, "prog.cmdbuf")
        src.write_text(script)
        args = [str(exe), str(src), "-o", str(out)] + (["--serial"] if serial else [])
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise EmitError(r.stderr.strip(), r.returncode)
        return out.read_bytes(), json.loads(r.stdout)


def elem_offsets(shape: tuple[int, ...], strides: tuple[int, ...]) -> np.ndarray:
    """Byte offset of every element of an NCHW tensor with byte strides (n, c, h, w)."""
    idx = np.indices(shape).reshape(len(shape), -1)
    return (np.asarray(strides, np.int64)[:, None] * idx).sum(axis=0)


@dataclass
class GlobalDecl:
    region: int
    offset: int
    shape: tuple[int, int, int, int]
    dtype: str
    strides: tuple[int, int, int, int]  # bytes, w included


@dataclass
class Program:
    """A kernel script plus the global-memory image it runs on."""

    rng: np.random.Generator
    lines: list[str] = field(default_factory=list)
    globals: dict[str, GlobalDecl] = field(default_factory=dict)
    mem: np.ndarray = field(init=False)
    next_free: list[int] = field(default_factory=lambda: [0] * 8)

    def __post_init__(self) -> None:
        self.mem = self.rng.integers(0, 256, MEM_SIZE, dtype=np.uint8)

    @property
    def base_regs(self) -> list[int]:
        return [r * REGION_SIZE for r in range(8)]

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    @property
    def script(self) -> str:
        return "\n".join(self.lines) + "\n"

    def galloc(self, nbytes: int, region: int) -> int:
        off = (self.next_free[region] + 63) // 64 * 64
        if off + nbytes > REGION_SIZE:
            raise MemoryError("test region full")
        self.next_free[region] = off + nbytes + 64 * int(self.rng.integers(0, 3))
        return off

    def gtensor(
        self,
        name: str,
        shape: tuple[int, int, int, int],
        dtype: str,
        data: np.ndarray | None = None,
        region: int = 0,
        pad: tuple[int, int, int] = (0, 0, 0),
    ) -> GlobalDecl:
        """Declares a global tensor (rows/channels/batches padded by `pad` elements) and writes
        `data` into it."""
        n, c, h, w = shape
        es = ELEM_BYTES[dtype]
        hs = (w + pad[2]) * es
        cs = h * hs + pad[1] * es
        ns = c * cs + pad[0] * es
        strides = (ns, cs, hs, es)
        size = (n - 1) * ns + (c - 1) * cs + (h - 1) * hs + w * es
        off = self.galloc(size, region)
        decl = GlobalDecl(region, off, shape, dtype, strides)
        self.globals[name] = decl
        self(f"global {name} {region} {off} {n} {c} {h} {w} {dtype} strides={ns},{cs},{hs}")
        if data is not None:
            self.write(name, data)
        return decl

    def gmatrix(
        self,
        name: str,
        rows: int,
        cols: int,
        dtype: str,
        data: np.ndarray | None = None,
        region: int = 0,
        pad: int = 0,
    ) -> GlobalDecl:
        es = ELEM_BYTES[dtype]
        rs = (cols + pad) * es
        off = self.galloc((rows - 1) * rs + cols * es, region)
        decl = GlobalDecl(region, off, (1, rows, 1, cols), dtype, (0, rs, 0, es))
        self.globals[name] = decl
        self(f"gmatrix {name} {region} {off} {rows} {cols} {dtype} row_stride={rs}")
        if data is not None:
            self.write(name, np.asarray(data).reshape(1, rows, 1, cols))
        return decl

    def _byte_index(self, d: GlobalDecl) -> np.ndarray:
        base = d.region * REGION_SIZE + d.offset
        return base + elem_offsets(d.shape, d.strides)

    def write(self, name: str, data: np.ndarray) -> None:
        d = self.globals[name]
        arr = np.ascontiguousarray(np.asarray(data).astype(NP_TYPES[d.dtype]).reshape(d.shape))
        raw = arr.reshape(-1).view(np.uint8).reshape(-1, ELEM_BYTES[d.dtype])
        idx = self._byte_index(d)
        for b in range(ELEM_BYTES[d.dtype]):
            self.mem[idx + b] = raw[:, b]

    def read(self, mem: np.ndarray, name: str) -> np.ndarray:
        d = self.globals[name]
        es = ELEM_BYTES[d.dtype]
        idx = self._byte_index(d)
        raw = np.stack([mem[idx + b] for b in range(es)], axis=1).reshape(-1)
        return raw.view(NP_TYPES[d.dtype]).reshape(d.shape)

    def emit(self, serial: bool = False) -> tuple[bytes, dict[str, Any]]:
        return emit(self.script, serial)


class Simulators:
    """The vendor simulator (one worker process per session) and tpuc's engine."""

    def __init__(self) -> None:
        lib = vendor_libdir()
        self.vendor = VendorSim(lib) if lib else None
        self.runner = find_tool("tpuc-cmdbuf-run")
        try:
            from tpuc.runtime import run_cmdbuf

            self.run_cmdbuf: Any = run_cmdbuf
        except ImportError:
            self.run_cmdbuf = None

    def close(self) -> None:
        if self.vendor is not None:
            self.vendor.close()

    def has_engine(self) -> bool:
        return self.run_cmdbuf is not None or self.runner is not None

    def run_vendor(self, cmdbuf: bytes, mem: np.ndarray, regs: list[int]) -> np.ndarray:
        assert self.vendor is not None
        return self.vendor.run(cmdbuf, mem, regs)

    def run_engine(
        self, cmdbuf: bytes, mem: np.ndarray, regs: list[int], profile: bool = False
    ) -> tuple[np.ndarray, dict[str, Any] | None]:
        """Runs tpuc's engine; raises EngineUnsupported for operations it does not implement."""
        try:
            if self.run_cmdbuf is not None:
                out = mem.copy()
                prof = self.run_cmdbuf(cmdbuf, out, regs, profile)
                return out, prof
            return self._run_cli(cmdbuf, mem, regs, profile)
        except RuntimeError as e:
            if "not implemented" in str(e) or "unsupported" in str(e):
                raise EngineUnsupported(str(e)) from None
            raise

    def _run_cli(
        self, cmdbuf: bytes, mem: np.ndarray, regs: list[int], profile: bool
    ) -> tuple[np.ndarray, dict[str, Any] | None]:
        if self.runner is None:
            raise FileNotFoundError("tpuc-cmdbuf-run not found")
        with tempfile.TemporaryDirectory() as d:
            cb, mi, mo = Path(d, "cmd.bin"), Path(d, "mem.bin"), Path(d, "out.bin")
            cb.write_bytes(cmdbuf)
            mi.write_bytes(mem.tobytes())
            args = [
                str(self.runner),
                str(cb),
                str(mi),
                str(mo),
                "--base",
                ",".join(str(r) for r in regs),
            ] + (["--profile"] if profile else [])
            r = subprocess.run(args, capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                raise RuntimeError(r.stderr.strip())
            prof = None
            if profile:
                prof = {}
                for line in r.stdout.splitlines():
                    parts = line.split()
                    if len(parts) == 2 and parts[0].endswith("cycles"):
                        prof[parts[0]] = int(parts[1])
            return np.frombuffer(mo.read_bytes(), np.uint8).copy(), prof


def first_diff(a: np.ndarray, b: np.ndarray, limit: int = 6) -> str:
    idx = np.argwhere(np.asarray(a) != np.asarray(b))
    items = ", ".join(
        f"{tuple(int(x) for x in i)}: {a[tuple(i)]} vs {b[tuple(i)]}" for i in idx[:limit]
    )
    return f"{len(idx)} elements differ ({items})"


def verify(
    sims: Simulators,
    sim: str,
    prog: Program,
    expected: dict[str, np.ndarray],
    serial: bool = False,
    cmdbuf: bytes | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Emits `prog` (or takes the given `cmdbuf`) and runs it on `sim` ("vendor" or "tpuc"); every
    tensor in `expected` must match. On "tpuc" the whole memory must also equal the vendor
    simulator's when it is available. Returns the memory after the run and the emitter's
    statistics."""
    import pytest

    stats: dict[str, Any] = {}
    if cmdbuf is None:
        cmdbuf, stats = prog.emit(serial)
    if sim == "vendor":
        if sims.vendor is None:
            pytest.skip("vendor runtime not available (shared/tools/vendor/fetch-runtime.sh)")
        out = sims.run_vendor(cmdbuf, prog.mem, prog.base_regs)
    else:
        if not sims.has_engine():
            pytest.skip("tpuc engine not available (build tpuc-cmdbuf-run or tpuc.runtime)")
        try:
            out, _ = sims.run_engine(cmdbuf, prog.mem, prog.base_regs)
        except EngineUnsupported as e:
            pytest.skip(f"tpuc engine: {e}")
        if sims.vendor is not None:
            ref = sims.run_vendor(cmdbuf, prog.mem, prog.base_regs)
            diff = np.nonzero(ref != out)[0]
            assert diff.size == 0, (
                f"engine and vendor memory differ in {diff.size} bytes, first at "
                f"{int(diff[0]):#x}: vendor {ref[diff[0]]:#04x} tpuc {out[diff[0]]:#04x}"
            )
    for name, want in expected.items():
        got = prog.read(out, name)
        want = np.asarray(want).astype(got.dtype).reshape(got.shape)
        assert np.array_equal(got, want), f"{name} ({sim}): {first_diff(got, want)}"
    return out, stats

"""Instruction-level conformance helpers: build CV183x command buffers, run them on the vendor's
simulator (libcvicmodel through libcviruntime, in a worker process) and on tpuc's engine, compare.

The descriptor field tables are read from runtime/include/tpuc/runtime/Descriptors.h, the one table
the engine and the compiler use, so a field-table error shows up as a vendor mismatch here.

Global memory model shared by both simulators: one flat byte image; base register k holds a byte
offset into it; a descriptor's global address field is 0x1_0000_0000 + offset (cv183x-isa.md §1.4).
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
DESCRIPTORS_H = REPO / "runtime" / "include" / "tpuc" / "runtime" / "Descriptors.h"
GBASE = 0x1_0000_0000
LANES = 32
LANE_BYTES = 32768
EU = 16
MAGIC_CV183X = 0xA5
ENGINE_TIU, ENGINE_CPU, ENGINE_TDMA = 0, 1, 2


# ----------------------------------------------------------------------------------------------
# Field tables (parsed from the C++ X-macros)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    word: int
    bit: int
    width: int
    hi_word: int
    hi_bit: int
    hi_width: int
    reset: int


def _parse_fields(macro: str) -> dict[str, Field]:
    text = DESCRIPTORS_H.read_text()
    start = text.index(f"#define {macro}(X)")
    body = text[start : text.index("\n\n", start)]
    out: dict[str, Field] = {}
    for m in re.finditer(r"X\((\w+),([\d,\s]+)\)", body):
        nums = [int(x) for x in m.group(2).split(",")]
        if len(nums) == 4:
            word, bit, width, reset = nums
            out[m.group(1)] = Field(word, bit, width, 0, 0, 0, reset)
        else:
            out[m.group(1)] = Field(*nums)
    return out


TIU_FIELDS = _parse_fields("TPUC_TIU_FIELDS")
TDMA_FIELDS = _parse_fields("TPUC_TDMA_FIELDS")


def _write_bits(words: list[int], pos: int, width: int, value: int) -> None:
    for i in range(width):
        w, b = divmod(pos + i, 32)
        words[w] = (words[w] & ~(1 << b)) | (((value >> i) & 1) << b)


def _read_bits(words: list[int] | tuple[int, ...], pos: int, width: int) -> int:
    v = 0
    for i in range(width):
        w, b = divmod(pos + i, 32)
        v |= ((words[w] >> b) & 1) << i
    return v


def pack(table: dict[str, Field], nwords: int, values: dict[str, int]) -> list[int]:
    """Descriptor words from reset values overridden by `values` (unknown names raise)."""
    words = [0] * nwords
    merged = {name: f.reset for name, f in table.items()}
    for k, v in values.items():
        if k not in table:
            raise KeyError(f"unknown descriptor field {k}")
        merged[k] = int(v)
    for name, v in merged.items():
        f = table[name]
        total = f.width + f.hi_width
        if v < 0 or v >> total:
            raise ValueError(f"value {v} does not fit field {name} ({total} bits)")
        _write_bits(words, 32 * f.word + f.bit, f.width, v)
        if f.hi_width:
            _write_bits(words, 32 * f.hi_word + f.hi_bit, f.hi_width, v >> f.width)
    return words


def unpack(table: dict[str, Field], words: list[int] | tuple[int, ...]) -> dict[str, int]:
    out = {}
    for name, f in table.items():
        v = _read_bits(words, 32 * f.word + f.bit, f.width)
        if f.hi_width:
            v |= _read_bits(words, 32 * f.hi_word + f.hi_bit, f.hi_width) << f.width
        out[name] = v
    return out


def walk_cmdbuf(buf: bytes) -> list[tuple[int, int, list[int]]]:
    """(offset, engine, words) per record of a cmd_hdr stream."""
    out, off = [], 0
    while off < len(buf):
        _magic, ln, eng, _flags, mask = struct.unpack_from("<BBBBI", buf, off)
        n = ln or mask
        words = list(struct.unpack_from(f"<{n // 4}I", buf, off + 8))
        out.append((off, eng & 0xF, words))
        off += 8 + n
    return out


# ----------------------------------------------------------------------------------------------
# Command-buffer builder
# ----------------------------------------------------------------------------------------------
@dataclass
class Program:
    """Records in stream order with §4's serial dependency scheme (each command waits for the
    latest command of the other engine)."""

    records: list[tuple[int, list[int]]] = field(default_factory=list)
    tiu_id: int = 0
    tdma_id: int = 0

    def tiu(self, **kw: int) -> None:
        self.tiu_id += 1
        kw.setdefault("cmd_en", 1)
        kw.setdefault("cmd_id_en", 1)
        kw.setdefault("cmd_id_tpu", self.tiu_id)
        kw.setdefault("cmd_id_gdma", self.tdma_id)
        self.records.append((ENGINE_TIU, pack(TIU_FIELDS, 28, kw)))

    def tdma(self, **kw: int) -> None:
        self.tdma_id += 1
        kw.setdefault("vld", 1)
        kw.setdefault("bar_en", 1)
        kw.setdefault("cmd_id", self.tdma_id)
        kw.setdefault("wait_id_tpu", self.tiu_id)
        self.records.append((ENGINE_TDMA, pack(TDMA_FIELDS, 16, kw)))

    def raw(self, engine: int, words: list[int]) -> None:
        self.records.append((engine, list(words)))

    def to_bytes(self, magic: int = MAGIC_CV183X) -> bytes:
        out = bytearray()
        for eng, words in self.records:
            body = struct.pack(f"<{len(words)}I", *words)
            out += struct.pack("<BBBBI", magic, len(body), eng, 0, 0) + body
        return bytes(out)

    # -- TDMA conveniences -------------------------------------------------------------------
    def g2l(
        self,
        goff: int,
        laddr: int,
        shape: tuple[int, int, int, int],
        gstride: tuple[int, int, int] | None = None,
        lstride: tuple[int, int, int] | None = None,
        es: int = 1,
        reg: int = 0,
        **kw: int,
    ) -> None:
        n, c, h, w = shape
        gs = gstride or (c * h * w * es, h * w * es, w * es)
        ls = lstride or tensor_lstride(shape, es)
        fmt = 2 if es == 2 else 1
        args = dict(
            trans_dir=0,
            src_base_addr=GBASE + goff,
            dst_base_addr=laddr,
            src_n=n,
            src_c=c,
            src_h=h,
            src_w=w,
            dst_c=c,
            dst_h=h,
            dst_w=w,
            src_n_stride=gs[0],
            src_c_stride=gs[1],
            src_h_stride=gs[2],
            dst_n_stride=ls[0],
            dst_c_stride=ls[1],
            dst_h_stride=ls[2],
            src_base_reg_sel=reg,
            src_fmt=fmt,
            dst_fmt=fmt,
        )
        args.update(kw)
        self.tdma(**args)

    def l2g(
        self,
        laddr: int,
        goff: int,
        shape: tuple[int, int, int, int],
        gstride: tuple[int, int, int] | None = None,
        lstride: tuple[int, int, int] | None = None,
        es: int = 1,
        reg: int = 0,
        **kw: int,
    ) -> None:
        n, c, h, w = shape
        gs = gstride or (c * h * w * es, h * w * es, w * es)
        ls = lstride or tensor_lstride(shape, es)
        fmt = 2 if es == 2 else 1
        args = dict(
            trans_dir=1,
            src_base_addr=laddr,
            dst_base_addr=GBASE + goff,
            src_n=n,
            src_c=c,
            src_h=h,
            src_w=w,
            dst_c=c,
            dst_h=h,
            dst_w=w,
            src_n_stride=ls[0],
            src_c_stride=ls[1],
            src_h_stride=ls[2],
            dst_n_stride=gs[0],
            dst_c_stride=gs[1],
            dst_h_stride=gs[2],
            dst_base_reg_sel=reg,
            src_fmt=fmt,
            dst_fmt=fmt,
        )
        args.update(kw)
        self.tdma(**args)

    def load_lanes(self, goff: int, offset: int, nbytes: int) -> None:
        """Copies 32 x nbytes from global goff (lane-major) to offset..offset+nbytes of every
        lane."""
        self.g2l(goff, offset, (1, LANES, 1, nbytes), lstride=(nbytes, nbytes, nbytes))

    def store_lanes(self, offset: int, goff: int, nbytes: int) -> None:
        self.l2g(offset, goff, (1, LANES, 1, nbytes), lstride=(nbytes, nbytes, nbytes))


def align(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def tensor_lstride(
    shape: tuple[int, int, int, int], es: int = 1, eu_align: bool = True
) -> tuple[int, int, int]:
    n, c, h, w = shape
    cs = h * w * es
    if eu_align:
        cs = align(cs, EU)
    return (cs * ((c + LANES - 1) // LANES), cs, w * es)


# ----------------------------------------------------------------------------------------------
# bf16 helpers
# ----------------------------------------------------------------------------------------------
def f32_to_bf16_rne(x: np.ndarray) -> np.ndarray:
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    r = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    nan = np.isnan(np.asarray(x, np.float32))
    return np.where(nan, 0x7FC0, r).astype(np.uint16)


def bf16_to_f32(b: np.ndarray) -> np.ndarray:
    return (np.asarray(b, np.uint16).astype(np.uint32) << 16).view(np.float32)


def random_bf16(
    rng: np.random.Generator, shape: tuple[int, ...], lo: float = -4.0, hi: float = 4.0
) -> np.ndarray:
    return f32_to_bf16_rne(rng.uniform(lo, hi, shape).astype(np.float32))


# ----------------------------------------------------------------------------------------------
# Running: vendor worker process and tpuc engine
# ----------------------------------------------------------------------------------------------
def _clear_lmem_cmdbuf() -> bytes:
    p = Program()
    p.tdma(
        trans_dir=0,
        spec_func=4,
        const_val=0,
        dst_base_addr=0,
        src_n=1,
        src_c=LANES,
        src_h=1,
        src_w=LANE_BYTES,
        dst_c=LANES,
        dst_h=1,
        dst_w=LANE_BYTES,
        dst_n_stride=LANE_BYTES,
        dst_c_stride=LANE_BYTES,
        dst_h_stride=LANE_BYTES,
    )
    return p.to_bytes()


CLEAR_LMEM = _clear_lmem_cmdbuf()


class VendorUnavailable(RuntimeError):
    pass


class VendorCrash(RuntimeError):
    pass


def vendor_libdir() -> str | None:
    """Folder with the vendor libraries (fetched through fetch-runtime.sh if needed)."""
    env = os.environ.get("TPUC_VENDOR_LIB")
    if env and Path(env, "libcvicmodel.so").exists():
        return env
    script = SHARED / "tools" / "vendor" / "fetch-runtime.sh"
    if not script.exists():
        return None
    try:
        out = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return None
    d = out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else ""
    return d if d and Path(d, "libcvicmodel.so").exists() else None


class VendorSim:
    """The vendor simulator in a worker process (a vendor assert only kills the worker)."""

    def __init__(self, libdir: str):
        self.libdir = libdir
        self.proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ, SET_CHIP_NAME="cv183x", TPUC_VENDOR_LIB=self.libdir)
        log = os.environ.get("TPUC_VENDOR_LOG")  # where the vendor library's messages go
        err = open(log, "ab") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
        )
        return self.proc

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def run(
        self, cmdbuf: bytes, mem: np.ndarray, base_regs: list[int], clear_lmem: bool = True
    ) -> np.ndarray:
        """Runs one command buffer. With clear_lmem, local memory is zeroed first (the vendor's
        local memory otherwise keeps whatever earlier runs left; tpuc's engine starts at 0)."""
        if clear_lmem:
            self._run(CLEAR_LMEM, np.zeros(16, np.uint8), [0] * 8)
        return self._run(cmdbuf, mem, base_regs)

    def _run(self, cmdbuf: bytes, mem: np.ndarray, base_regs: list[int]) -> np.ndarray:
        proc = self.proc if self.proc is not None and self.proc.poll() is None else self._start()
        assert proc.stdin is not None and proc.stdout is not None
        hdr = struct.pack("<II8Q", len(cmdbuf), mem.size, *base_regs)
        try:
            proc.stdin.write(hdr + cmdbuf + mem.tobytes())
            proc.stdin.flush()
            status = proc.stdout.read(4)
            if len(status) != 4:
                raise VendorCrash("vendor simulator died")
            (code,) = struct.unpack("<I", status)
            data = proc.stdout.read(mem.size)
            if code != 0 or len(data) != mem.size:
                raise VendorCrash(f"vendor simulator returned {code}")
        except (BrokenPipeError, VendorCrash) as e:
            self.close()
            raise VendorCrash(str(e)) from None
        return np.frombuffer(data, np.uint8).copy()


def _worker_main() -> None:
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the vendor library prints to stdout
    lib = os.environ["TPUC_VENDOR_LIB"]
    ctypes.CDLL(os.path.join(lib, "libcvikernel.so"), mode=ctypes.RTLD_GLOBAL)
    ctypes.CDLL(os.path.join(lib, "libcvicmodel.so"), mode=ctypes.RTLD_GLOBAL)
    rt = ctypes.CDLL(os.path.join(lib, "libcviruntime.so"))
    vp, u64 = ctypes.c_void_p, ctypes.c_uint64
    rt.CVI_RT_Init.argtypes = [ctypes.POINTER(vp)]
    rt.CVI_RT_MemAlloc.argtypes = [vp, u64]
    rt.CVI_RT_MemAlloc.restype = vp
    rt.CVI_RT_MemGetVAddr.argtypes = [vp]
    rt.CVI_RT_MemGetVAddr.restype = vp
    rt.CVI_RT_MemGetPAddr.argtypes = [vp]
    rt.CVI_RT_MemGetPAddr.restype = u64
    rt.CVI_RT_LoadCmdbuf.argtypes = [
        vp,
        ctypes.c_char_p,
        u64,
        u64,
        u64,
        ctypes.c_bool,
        ctypes.POINTER(vp),
    ]
    rt.CVI_RT_RunCmdbufEx.argtypes = [vp, vp, ctypes.POINTER(u64)]
    rt.CVI_RT_MemFree.argtypes = [vp, vp]
    ctx = vp()
    if rt.CVI_RT_Init(ctypes.byref(ctx)) != 0:
        sys.exit(3)
    mem, cap, va, pa = None, 0, 0, 0
    stdin = sys.stdin.buffer
    while True:
        hdr = stdin.read(8 + 64)
        if len(hdr) < 72:
            return
        nbuf, nmem, *regs = struct.unpack("<II8Q", hdr)
        buf = stdin.read(nbuf)
        image = stdin.read(nmem)
        if nmem > cap:
            if mem is not None:
                rt.CVI_RT_MemFree(ctx, mem)
            cap = max(nmem, 1 << 20)
            mem = rt.CVI_RT_MemAlloc(ctx, cap)
            va, pa = rt.CVI_RT_MemGetVAddr(mem), rt.CVI_RT_MemGetPAddr(mem)
        ctypes.memmove(va, image, nmem)
        cm = vp()
        code = rt.CVI_RT_LoadCmdbuf(ctx, buf, nbuf, 0, 0, False, ctypes.byref(cm))
        if code == 0:
            arr = (u64 * 8)(*[pa + r for r in regs])
            code = rt.CVI_RT_RunCmdbufEx(ctx, cm, arr)
            rt.CVI_RT_MemFree(ctx, cm)
        proto_out.write(struct.pack("<I", code & 0xFFFFFFFF))
        proto_out.write(ctypes.string_at(va, nmem) if code == 0 else b"\0" * nmem)
        proto_out.flush()


class EngineError(RuntimeError):
    """tpuc's engine rejected the command buffer (message from the engine)."""


def tpuc_runner() -> str | None:
    """Path of tpuc-cmdbuf-run: $TPUC_CMDBUF_RUN, else the installed package's tool, else PATH."""
    env = os.environ.get("TPUC_CMDBUF_RUN")
    if env:
        return env if Path(env).exists() else None
    try:
        import tpuc
    except ImportError:
        tpuc = None
    if tpuc is not None:
        for root in tpuc.__path__:
            p = Path(root) / "_bin" / "tpuc-cmdbuf-run"
            if p.exists():
                return str(p)
    return shutil.which("tpuc-cmdbuf-run")


def _python_runner():  # type: ignore[no-untyped-def]
    """tpuc.runtime.run_cmdbuf when the package is importable (and no CLI is forced)."""
    if os.environ.get("TPUC_CMDBUF_RUN"):
        return None
    try:
        from tpuc.runtime import run_cmdbuf  # type: ignore[import-not-found]
    except ImportError:
        return None
    return run_cmdbuf


def engine_available() -> bool:
    return _python_runner() is not None or tpuc_runner() is not None


def run_tpuc(
    cmdbuf: bytes, mem: np.ndarray, base_regs: list[int], profile: bool = False
) -> tuple[np.ndarray, dict | str | None]:
    """Runs tpuc's engine: through tpuc.runtime.run_cmdbuf if importable, else the
    tpuc-cmdbuf-run CLI ($TPUC_CMDBUF_RUN forces the CLI). Returns (memory, profile) where the
    profile is the module's dict or the CLI's text output."""
    fn = _python_runner()
    if fn is not None:
        out = np.array(mem, np.uint8, copy=True)
        try:
            prof = fn(cmdbuf, out, list(base_regs), profile)
        except RuntimeError as e:
            raise EngineError(str(e)) from None
        return out, prof
    exe = tpuc_runner()
    if exe is None:
        raise FileNotFoundError(
            "tpuc engine not found (build tpuc-cmdbuf-run or the Python "
            "package, or set TPUC_CMDBUF_RUN)"
        )
    with tempfile.TemporaryDirectory() as d:
        cb, mi, mo = Path(d, "cmd.bin"), Path(d, "mem.bin"), Path(d, "out.bin")
        cb.write_bytes(cmdbuf)
        mi.write_bytes(mem.tobytes())
        args = [exe, str(cb), str(mi), str(mo), "--base", ",".join(str(r) for r in base_regs)]
        if profile:
            args.append("--profile")
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise EngineError(r.stderr.strip())
        return np.frombuffer(mo.read_bytes(), np.uint8).copy(), r.stdout


if __name__ == "__main__" and "--worker" in sys.argv:
    _worker_main()


# ----------------------------------------------------------------------------------------------
# Comparison harness
# ----------------------------------------------------------------------------------------------
class Harness:
    """Runs one command buffer on both simulators and requires byte-identical global memory."""

    def __init__(self, vendor: VendorSim):
        self.vendor = vendor

    def run_both(
        self,
        cmdbuf: bytes,
        mem: np.ndarray,
        base_regs: list[int] | None = None,
        clear_lmem: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Vendor and tpuc results. Instruction tests define every local byte they observe;
        whole programs pass clear_lmem so both start from zeroed local memory."""
        regs = base_regs or [0] * 8
        ref = self.vendor.run(cmdbuf, mem, regs, clear_lmem)
        ours, _ = run_tpuc(cmdbuf, mem, regs)
        return ref, ours

    def check(
        self, prog: Program, mem: np.ndarray, base_regs: list[int] | None = None, what: str = ""
    ) -> np.ndarray:
        ref, ours = self.run_both(prog.to_bytes(), mem, base_regs)
        if not np.array_equal(ref, ours):
            diff = np.nonzero(ref != ours)[0]
            first = ", ".join(
                f"{int(i):#x}: vendor {ref[i]:#04x} tpuc {ours[i]:#04x}" for i in diff[:8]
            )
            raise AssertionError(f"{what}: {diff.size} bytes differ ({first})")
        return ref


def make_harness() -> Harness:
    """Harness for the pytest fixture; skips when the vendor simulator or tpuc's CLI is missing."""
    import pytest

    if not engine_available():
        pytest.skip("tpuc engine not built (tpuc.runtime on PYTHONPATH, or TPUC_CMDBUF_RUN)")
    lib = vendor_libdir()
    if lib is None:
        pytest.skip("vendor runtime not available (shared/tools/vendor/fetch-runtime.sh)")
    return Harness(VendorSim(lib))


# ----------------------------------------------------------------------------------------------
# cvimodel sections (minimal FlatBuffers walk; cvimodel-format.md)
# ----------------------------------------------------------------------------------------------
def _fb_field(buf: bytes, table: int, slot: int) -> int | None:
    vt = table - struct.unpack_from("<i", buf, table)[0]
    vt_size = struct.unpack_from("<H", buf, vt)[0]
    if 4 + 2 * slot >= vt_size:
        return None
    off = struct.unpack_from("<H", buf, vt + 4 + 2 * slot)[0]
    return table + off if off else None


def _fb_deref(buf: bytes, pos: int) -> int:
    return pos + struct.unpack_from("<I", buf, pos)[0]


def _lz4_decompress(data: bytes, size: int) -> bytes:
    lib = ctypes.CDLL("liblz4.so.1")
    dst = ctypes.create_string_buffer(size)
    n = lib.LZ4_decompress_safe(data, dst, len(data), size)
    if n != size:
        raise ValueError(f"LZ4 section decompressed to {n} bytes, expected {size}")
    return dst.raw


def cvimodel_sections(path: str | Path) -> list[tuple[int, str, bytes]]:
    """(type, name, payload) of every section (CMDBUF payloads decompressed)."""
    data = Path(path).read_bytes()
    body_size = struct.unpack_from("<I", data, 8)[0]
    body, blob = data[48 : 48 + body_size], 48 + body_size
    root = _fb_deref(body, 0)
    vec_pos = _fb_field(body, root, 7)
    if vec_pos is None:
        raise ValueError(f"{path}: no sections")
    vec = _fb_deref(body, vec_pos)
    out = []
    for i in range(struct.unpack_from("<I", body, vec)[0]):
        sec = _fb_deref(body, vec + 4 + 4 * i)

        def num(slot: int, fmt: str, sec: int = sec) -> int:
            p = _fb_field(body, sec, slot)
            return struct.unpack_from(fmt, body, p)[0] if p is not None else 0

        name_pos = _fb_field(body, sec, 1)
        assert name_pos is not None
        name_at = _fb_deref(body, name_pos)
        name = body[name_at + 4 : name_at + 4 + struct.unpack_from("<I", body, name_at)[0]].decode()
        size, offset = num(2, "<I"), num(3, "<I")
        payload = data[blob + offset : blob + offset + size]
        if num(5, "<B"):
            payload = _lz4_decompress(payload, num(6, "<I"))
        out.append((num(0, "<B"), name, payload))
    return out


def lmem_dump_record(last_tiu: int, last_tdma: int, dst_offset: int, reg: int) -> bytes:
    """One TDMA record storing all of local memory (32 lanes x 32 KiB, lane-major) to global."""
    p = Program(tiu_id=last_tiu, tdma_id=last_tdma)
    p.l2g(
        0,
        dst_offset,
        (1, LANES, 1, LANE_BYTES),
        lstride=(LANE_BYTES, LANE_BYTES, LANE_BYTES),
        reg=reg,
    )
    return p.to_bytes()


def first_divergence(
    h: Harness,
    cmdbuf: bytes,
    mem: np.ndarray,
    regs: list[int],
    scratch_reg: int,
    scratch_offset: int,
) -> int | None:
    """Index of the first record after which global or local memory differs between the two
    simulators (local memory is dumped to scratch_offset via base register scratch_reg), or
    None."""
    records = walk_cmdbuf(cmdbuf)
    offsets = [off for off, _, _ in records] + [len(cmdbuf)]
    lo, hi = 0, len(records)  # invariant: prefix lo agrees, prefix hi (if < len) differs

    def differs(k: int) -> bool:
        tiu = max(
            [unpack(TIU_FIELDS, w)["cmd_id_tpu"] for _, e, w in records[:k] if e == ENGINE_TIU],
            default=0,
        )
        tdma = max(
            [unpack(TDMA_FIELDS, w)["cmd_id"] for _, e, w in records[:k] if e == ENGINE_TDMA],
            default=0,
        )
        buf = cmdbuf[: offsets[k]] + lmem_dump_record(tiu, tdma, scratch_offset, scratch_reg)
        ref, ours = h.run_both(buf, mem, regs, clear_lmem=True)
        return not np.array_equal(ref, ours)

    if not differs(len(records)):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if differs(mid):
            hi = mid
        else:
            lo = mid
    return hi - 1


# ----------------------------------------------------------------------------------------------
# VLC compressed-data encoder (TDMA compress_en; format as described in runtime/engine/Vlc.h)
# ----------------------------------------------------------------------------------------------
class _Bits:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def put(self, value: int, n: int) -> None:
        self.bits.extend((value >> i) & 1 for i in range(n))

    def to_bytes(self) -> bytes:
        out = bytearray((len(self.bits) + 7) // 8)
        for i, b in enumerate(self.bits):
            out[i // 8] |= b << (i % 8)
        return bytes(out)


def _zigzag(v: int) -> int:
    return -2 * v - 1 if v < 0 else 2 * v


def _circular(v: int, bias0: int, bias1: int) -> int:
    if v == 0:
        return 0
    neg = v < 0
    mag = abs(v) - (bias1 if neg else bias0)
    if mag <= 0:
        mag += 127 + int(neg)
    return -mag if neg else mag


def _centre(v: int, bias: int, zg: bool) -> int:
    if v == 0 and zg:
        return 0
    rng = bias if bias <= 128 else 255 - bias
    d = (v - bias) & 0xFF
    d = d - 256 if d >= 128 else d
    if bias <= 128:
        return v if v >= 2 * rng else (_zigzag(d) + zg) & 0xFF
    return ((rng + bias - v + zg) & 0xFF) if v < bias - rng else (_zigzag(d) + zg) & 0xFF


def _encode_block(bits: _Bits, sym: list[int], zvc: bool) -> int:
    best_k, best = 0, 1 << 30
    for k in range(6):
        unary = sum((s >> k) + 1 for s in sym)
        size = 16 * k + unary + (4 if zvc and k > 0 else 0) if unary <= 47 else 255
        if size < best:
            best_k, best = k, size
    if best > 128:
        for s in sym:
            bits.put(s, 8)
        return 0xE0
    k = best_k
    for j in range(k):
        for s in sym:
            bits.put((s >> j) & 1, 1)
    if zvc and k > 0:
        bits.put(sum(1 for s in sym if s == 0), 4)
    unary = 0
    for s in sym:
        q = s >> k
        bits.put(0, q)
        bits.put(1, 1)
        unary += q + 1
    return (k << 5) + ((unary - 16) & 0x1F)


def vlc_encode(
    data: bytes,
    signed: bool = False,
    bf16: bool = False,
    bias0: int = 0,
    bias1: int = 0,
    zero_guard: bool = False,
) -> bytes:
    """Compressed stream of int8 bytes or bf16 values (little-endian pairs)."""
    block = 32 if bf16 else 16
    nblocks = (len(data) + block - 1) // block
    kmap = bytearray((nblocks + 15) // 16 * 16)
    bits = _Bits()
    for b in range(nblocks):
        chunk = data[b * block : (b + 1) * block].ljust(block, b"\0")
        if not bf16:
            vals = [x - 256 if x >= 128 else x for x in chunk] if signed else list(chunk)
            sym = [_zigzag(_circular(v, bias0, bias1)) for v in vals] if signed else vals
            kmap[b] = _encode_block(bits, sym, False)
            continue
        words = [chunk[2 * i] | chunk[2 * i + 1] << 8 for i in range(16)]
        exps = [(w >> 7) & 0xFF for w in words]
        fracs = [((w >> 15) << 7) | (w & 0x7F) for w in words]
        kmap[b] = _encode_block(bits, [_centre(e, bias0, zero_guard) for e in exps], zero_guard)
        for e, fr in zip(exps, fracs, strict=True):
            if not zero_guard or e != 0:
                bits.put(fr, 8)
    stream = bits.to_bytes()
    stream += b"\0" * (-len(stream) % 16)
    hdr = bytearray(16)
    hdr[0:3] = len(stream).to_bytes(3, "little")
    hdr[3] = (0x10 if signed else 0) | (0x20 if bf16 else 0)
    hdr[4] = bias0
    hdr[5] = (bias1 & 0x7F) | (0x80 if zero_guard else 0)
    return bytes(hdr) + bytes(kmap) + stream


def tpuc_profile(cmdbuf: bytes, mem: np.ndarray, base_regs: list[int]) -> dict:
    """Cycle-model profile of tpuc's engine as a dict: total_cycles, tiu_busy_cycles,
    tdma_busy_cycles, slices [{engine: 'tiu'|'tdma', index, layer_id, op, start, end}]."""
    _, prof = run_tpuc(cmdbuf, mem, base_regs, profile=True)
    if isinstance(prof, dict):
        return prof
    out: dict = {"slices": []}
    for line in str(prof).splitlines():
        parts = line.split()
        if parts and parts[0] == "slice":
            out["slices"].append(
                dict(
                    engine=parts[1].lower(),
                    index=int(parts[2][1:]),
                    layer_id=int(parts[4]),
                    op=parts[5],
                    start=int(parts[6]),
                    end=int(parts[7]),
                )
            )
        elif len(parts) == 2:
            out[parts[0]] = int(parts[1])
    return out

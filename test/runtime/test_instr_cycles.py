"""The cycle model: per-descriptor costs follow the published CV18xx estimator (cv183x-isa.md §8),
and the two engines run concurrently under the command-id dependencies (§4)."""

from __future__ import annotations

import glob
import math

import numpy as np
import pytest
from vendor_sim import (
    ENGINE_TDMA,
    ENGINE_TIU,
    GBASE,
    SHARED,
    TDMA_FIELDS,
    TIU_FIELDS,
    Program,
    cvimodel_sections,
    engine_available,
    tpuc_profile,
    unpack,
    walk_cmdbuf,
)

pytestmark = pytest.mark.skipif(not engine_available(), reason="tpuc engine not built")

TPU_MHZ, DRAM_MHZ, DRAM_BYTES = 650.0, 1886.0, 4
MODELS = sorted(glob.glob(str(SHARED / "conformance" / "*" / "*_int8.cvimodel")))


def slice_cycles(prof: dict, index: int) -> int:
    s = next(s for s in prof["slices"] if s["index"] == index)
    return s["end"] - s["start"]


def test_conv_cycles_follow_the_estimator() -> None:
    """A QDM conv, 3x3, IC 4 (double conv), result 1x16x8x8 on lane 0."""
    p = Program()
    p.tiu(
        tsk_typ=0,
        opt_chl_quan=1,
        tsk_opd_num=3,
        double_conv=1,
        opt_relu=0,
        opt_opd1_sign=1,
        opt_res0_sign=1,
        short_opd0_str=0,
        short_opd1_str=1,
        short_opd2_str=2,
        short_res0_str=0,
        opd0_c=4,
        opd0_h=10,
        opd0_w=10,
        opd1_n=4,
        opd1_c=16,
        opd1_h=3,
        opd1_w=3,
        res0_c=16,
        res0_h=8,
        res0_w=8,
        opd0_addr=0,
        opd1_addr=4096,
        opd2_addr=8192,
        res0_addr=12288,
        opt_opd2_int8=1,
        opd2_c=16,
        opd2_h=1,
        opd2_w=1,
    )
    mem = np.zeros(1 << 16, np.uint8)
    prof = tpuc_profile(p.to_bytes(), mem, [0] * 8)
    eu, aeu, k, ic, chpc = 16, 16, 9, 4, 2
    fetch = math.ceil(((eu - 1) * 1 / 1 + 1) / eu) + 1
    bubble = k * (fetch - ic) if fetch > ic else 0
    loop = max(k * math.ceil(ic / chpc) + bubble + 0 + 1 + 0, 16)
    expected = 41 + 1 * math.ceil(16 / 32) * math.ceil(64 / aeu) * loop + 31
    assert slice_cycles(prof, 0) == expected


def test_matmul_and_arith_cycles() -> None:
    p = Program()
    # bf16 matmul: rows 4, res (4, 2, 1, 8), K = opd1_n = 16, with bias, no quantisation.
    p.tiu(
        tsk_typ=2,
        opd_typ=1,
        tsk_opd_num=3,
        opt_relu=0,
        opt_res0_sign=1,
        opt_opd0_sign=1,
        opt_opd1_sign=1,
        opt_opd2_sign=1,
        res0_n=4,
        res0_c=2,
        res0_h=1,
        res0_w=8,
        opd0_n=4,
        opd0_c=2,
        opd0_h=1,
        opd0_w=8,
        opd1_n=16,
        opd1_c=2,
        opd1_h=1,
        opd1_w=8,
        opd2_n=1,
        opd2_c=2,
        opd2_h=1,
        opd2_w=8,
        res0_addr=0,
        opd0_addr=4096,
        opd1_addr=8192,
        opd2_addr=12288,
    )
    # int8 xor of (1, 64, 4, 16), result c stride 64 (a multiple of 16).
    p.tiu(
        tsk_typ=3,
        tsk_eu_typ=9,
        tsk_opd_num=2,
        opt_relu=0,
        opt_shift_typ=0,
        opt_opd1_sign=0,
        short_res0_str=3,
        short_opd0_str=3,
        short_opd1_str=3,
        res0_n=1,
        res0_c=64,
        res0_h=4,
        res0_w=16,
        opd0_n=1,
        opd0_c=64,
        opd0_h=4,
        opd0_w=16,
        opd1_n=1,
        opd1_c=64,
        opd1_h=4,
        opd1_w=16,
        res0_n_str=128,
        res0_c_str=64,
        res0_h_str=16,
        res0_w_str=1,
        opd0_n_str=128,
        opd0_c_str=64,
        opd0_h_str=16,
        opd0_w_str=1,
        opd1_n_str=128,
        opd1_c_str=64,
        opd1_h_str=16,
        opd1_w_str=1,
        res0_addr=16384,
        opd0_addr=16384,
        opd1_addr=16384,
    )
    prof = tpuc_profile(p.to_bytes(), np.zeros(1 << 16, np.uint8), [0] * 8)
    # matmul: sync + n * ceil(c/32) * ceil(w/aEU) * (opd1_n + biasLat + srs + psLat + add) + post
    assert slice_cycles(prof, 0) == 41 + 4 * 1 * math.ceil(8 / 8) * (16 + 2 + 2 + 0 + 0) + 12
    # xor: base = n * ceil(c/32) * ceil(h*w/16) = 1 * 2 * 4; latency 3 (8-bit), 8-bit result
    assert slice_cycles(prof, 1) == int(8 * 3 * 1) + 26 + 12


def test_contiguous_load_cycles() -> None:
    """G2L of a contiguous (1, 32, 4, 16) int8 tensor from a 4 KiB-aligned address: 2048 DRAM
    bytes in 8 full 256-byte bursts; the DRAM time dominates the local-memory time."""
    p = Program()
    p.g2l(0, 0, (1, 32, 4, 16), lstride=(64, 64, 16))
    prof = tpuc_profile(p.to_bytes(), np.zeros(1 << 16, np.uint8), [0] * 8)
    dram_cycles = math.ceil(2048 * TPU_MHZ / (DRAM_MHZ * DRAM_BYTES))
    sram_cycles = math.ceil(32 * math.ceil((16 * 3 + 16) / 16) / 16)
    assert slice_cycles(prof, 0) == max(dram_cycles, sram_cycles)


def test_dependencies_and_concurrency() -> None:
    """TDMA 1 and TIU 1 are independent and overlap; TDMA 2 waits for TIU 1."""
    p = Program()
    p.g2l(0, 0, (1, 32, 8, 64))  # TDMA id 1, waits for nothing
    p.tiu_id, p.tdma_id = 0, 0  # let the TIU command not wait for the load
    p.tiu(
        tsk_typ=3,
        tsk_eu_typ=10,
        tsk_opd_num=1,
        opt_relu=0,
        opt_shift_typ=0,
        opt_opd1_sign=0,
        short_res0_str=0,
        short_opd0_str=0,
        res0_c=32,
        res0_h=8,
        res0_w=64,
        opd0_c=32,
        opd0_h=8,
        opd0_w=64,
        res0_addr=16384,
        opd0_addr=16384,
    )
    p.tdma_id = 1
    p.l2g(16384, 0x8000, (1, 32, 8, 64))  # TDMA id 2 waits for TIU id 1
    prof = tpuc_profile(p.to_bytes(), np.zeros(1 << 17, np.uint8), [0] * 8)
    load, copy, store = sorted(prof["slices"], key=lambda s: s["index"])
    assert load["start"] == 0 and copy["start"] == 0  # concurrent engines
    assert store["start"] == max(load["end"], copy["end"])  # in order on TDMA, after TIU 1
    assert prof["total_cycles"] == store["end"]
    assert prof["total_cycles"] < prof["tiu_busy_cycles"] + prof["tdma_busy_cycles"]


@pytest.mark.parametrize("path", MODELS, ids=[p.rsplit("/", 1)[-1] for p in MODELS])
def test_model_profiles_are_consistent(path: str) -> None:
    """On every conformance program: one slice per descriptor with op name and layer id,
    in-order engines, waits honoured, busy cycles = sum of slices, total = critical path."""
    sections = cvimodel_sections(path)
    weight = next((p for t, _, p in sections if t == 0), b"")
    cmdbuf = next(p for t, _, p in sections if t == 1)
    size = 1 << 24
    mem = np.zeros(max(size, len(weight) + 4 * size), np.uint8)
    mem[size : size + len(weight)] = np.frombuffer(weight, np.uint8)
    regs = [0, size, 2 * size + len(weight), 3 * size + len(weight)] + [3 * size + len(weight)] * 4
    prof = tpuc_profile(cmdbuf, mem, regs)
    records = walk_cmdbuf(cmdbuf)
    slices = {s["index"]: s for s in prof["slices"]}
    assert len(slices) == len(records)
    end_of: dict[tuple[str, int], int] = {}
    last = {"tiu": 0, "tdma": 0}
    for i, (_, engine, words) in enumerate(records):
        s = slices[i]
        assert s["end"] > s["start"] >= last[s["engine"]]
        assert s["op"]
        last[s["engine"]] = s["end"]
        if engine == ENGINE_TIU:
            f = unpack(TIU_FIELDS, words)
            assert s["engine"] == "tiu" and s["layer_id"] == f["layer_info"]
            wait = end_of.get(("tdma", f["cmd_id_gdma"]))
            end_of[("tiu", f["cmd_id_tpu"])] = s["end"]
        else:
            assert engine == ENGINE_TDMA
            f = unpack(TDMA_FIELDS, words)
            assert s["engine"] == "tdma" and s["layer_id"] == f["layer_ID"]
            wait = end_of.get(("tiu", f["wait_id_tpu"]))
            end_of[("tdma", f["cmd_id"])] = s["end"]
        if wait is not None:
            assert s["start"] >= wait
    for eng, key in (("tiu", "tiu_busy_cycles"), ("tdma", "tdma_busy_cycles")):
        assert prof[key] == sum(s["end"] - s["start"] for s in prof["slices"] if s["engine"] == eng)
    assert prof["total_cycles"] == max(s["end"] for s in prof["slices"])
    assert max(prof["tiu_busy_cycles"], prof["tdma_busy_cycles"]) <= prof["total_cycles"]
    assert prof["total_cycles"] <= prof["tiu_busy_cycles"] + prof["tdma_busy_cycles"]


def test_global_address_field_in_cost() -> None:
    """The DRAM cost uses the descriptor's raw 40-bit address (with the 0x1_0000_0000 bias): a
    load that crosses a 4 KiB page costs more granules than an aligned one."""
    aligned, crossing = Program(), Program()
    aligned.g2l(0, 0, (1, 1, 1, 256))
    crossing.tdma(
        trans_dir=0,
        src_base_addr=GBASE + 4096 - 8,
        dst_base_addr=0,
        src_n=1,
        src_c=1,
        src_h=1,
        src_w=256,
        dst_c=1,
        dst_h=1,
        dst_w=256,
        src_n_stride=256,
        src_c_stride=256,
        src_h_stride=256,
        dst_n_stride=256,
        dst_c_stride=256,
        dst_h_stride=256,
    )
    mem = np.zeros(1 << 16, np.uint8)
    a = slice_cycles(tpuc_profile(aligned.to_bytes(), mem, [0] * 8), 0)
    c = slice_cycles(tpuc_profile(crossing.to_bytes(), mem, [0] * 8), 0)
    assert c > a

"""Whole command buffers of the shared conformance cvimodels, replayed instruction by instruction:
each CMDBUF runs on the vendor simulator and on tpuc's engine over the same memory image (the
model's weights plus random activations) and must leave identical memory. This covers exactly the
descriptor kinds, modes and field combinations the vendor compiler emits. (Running whole models
through the loader is tested with the loader.)"""

from __future__ import annotations

import glob
from collections import Counter

import numpy as np
import pytest
from vendor_sim import (
    ENGINE_TDMA,
    ENGINE_TIU,
    SHARED,
    TDMA_FIELDS,
    TIU_FIELDS,
    Harness,
    cvimodel_sections,
    make_harness,
    unpack,
    walk_cmdbuf,
)

MODELS = sorted(
    glob.glob(str(SHARED / "conformance" / "*" / "*.cvimodel"))
    + glob.glob(str(SHARED / "conformance" / "*" / "*" / "*.cvimodel"))
)
REGION = 4 << 20  # bytes per base-register region
SECTION_CMDBUF, SECTION_WEIGHT = 1, 0


@pytest.fixture(scope="module")
def h() -> Harness:
    return make_harness()


def model_id(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".cvimodel")


def replay_image(weight: bytes, seed: int) -> tuple[np.ndarray, list[int]]:
    """Regions 0..7 of REGION bytes each; region 1 holds the weights, the others random int8
    activations (small magnitudes keep bf16 reinterpretations finite)."""
    rng = np.random.default_rng(seed)
    regions = max(8, 1 + (len(weight) + REGION - 1) // REGION)
    mem = rng.integers(-8, 8, REGION * (regions + 1), dtype=np.int8).view(np.uint8)
    regs = [0, REGION, 0, 0, 0, 0, 0, 0]
    mem[REGION : REGION + len(weight)] = np.frombuffer(weight, np.uint8)
    nxt = REGION * (1 + (len(weight) + REGION - 1) // REGION)
    for r in (0, 2, 3, 4, 5, 6, 7):
        regs[r] = nxt
        nxt += REGION if r in (0, 2) else REGION // 4
    return mem[:nxt].copy(), regs


def test_models_found() -> None:
    if not (SHARED / "conformance").exists():
        pytest.skip(f"shared conformance models not found at {SHARED / 'conformance'}")
    assert MODELS, "no cvimodels in the shared conformance folder"


@pytest.mark.parametrize("seed", [17, 18, 19])
@pytest.mark.parametrize("path", MODELS, ids=[model_id(p) for p in MODELS])
def test_model_cmdbuf_replay(h: Harness, path: str, seed: int) -> None:
    sections = cvimodel_sections(path)
    weight = next((p for t, _, p in sections if t == SECTION_WEIGHT), b"")
    cmdbufs = [(n, p) for t, n, p in sections if t == SECTION_CMDBUF]
    assert cmdbufs, f"{path} has no CMDBUF section"
    for name, cmdbuf in cmdbufs:
        mem, regs = replay_image(weight, seed)
        ref, ours = h.run_both(cmdbuf, mem, regs, clear_lmem=True)
        diff = np.nonzero(ref != ours)[0]
        assert diff.size == 0, (
            f"{model_id(path)}/{name}: {diff.size} bytes differ, first at "
            f"{int(diff[0]):#x} (region {int(diff[0]) // REGION})"
        )


def test_descriptor_histogram() -> None:
    """Decodes every descriptor of every conformance model with the field table (the census
    that decided which families the instruction tests cover first)."""
    if not MODELS:
        pytest.skip("shared conformance models not found")
    hist: Counter[str] = Counter()
    for path in MODELS:
        for t, _, payload in cvimodel_sections(path):
            if t != SECTION_CMDBUF:
                continue
            for _, engine, words in walk_cmdbuf(payload):
                if engine == ENGINE_TIU:
                    f = unpack(TIU_FIELDS, words)
                    key = (
                        f"TIU typ={f['tsk_typ']} eu={f['tsk_eu_typ']} "
                        f"{'bf16' if f['opd_typ'] else 'int8'} lut={f['tens_lookup']}"
                    )
                elif engine == ENGINE_TDMA:
                    f = unpack(TDMA_FIELDS, words)
                    key = (
                        f"TDMA dir={f['trans_dir']} matrix={f['sys_dtype']} "
                        f"fmt={f['src_fmt']}>{f['dst_fmt']} compress={f['compress_en']} "
                        f"lut_idx={f['mv_lut_idx']}"
                    )
                else:
                    key = f"engine {engine}"
                hist[key] += 1
    for key, count in sorted(hist.items()):
        print(f"{count:5d} {key}")
    assert sum(hist.values()) > 0

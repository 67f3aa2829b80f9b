"""Layer kernels: the local-memory budget (EmitOptions::lmemBudget) holds for random shapes and
budgets: every layer either fits (peak usage within the budget) or fails with a 'no tile(s) fits'
error naming the layer. Emission only (no simulation)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from .kernel_harness import EmitError
from .layer_harness import BIG_MEM, LayerProgram


def dims(rng: np.random.Generator, c: int = 100, h: int = 30, w: int = 300) -> tuple[int, ...]:
    return (
        int(rng.integers(1, 3)),
        int(rng.integers(1, c)),
        int(rng.integers(1, h)),
        int(rng.integers(1, w)),
    )


def pool(p: LayerProgram, rng: np.random.Generator, b: int) -> None:
    n, c, h, w = dims(rng, 100, 40, 40)
    kh, kw = int(rng.integers(1, min(h, 5) + 1)), int(rng.integers(1, min(w, 5) + 1))
    sh, sw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    p.gtensor("x", (n, c, h, w), "int8")
    p.gtensor("y", (n, c, (h - kh) // sh + 1, (w - kw) // sw + 1), "int8", region=2)
    kind = "max" if rng.random() < 0.5 else "avg"
    p(
        f"layer_pool kind={kind} input=x output=y kh={kh} kw={kw} sh={sh} sw={sw} m=3 rshift=4 "
        f"budget={b}"
    )


def fc(p: LayerProgram, rng: np.random.Generator, b: int) -> None:
    m, k, n = int(rng.integers(1, 40)), int(rng.integers(1, 3000)), int(rng.integers(1, 1500))
    p.gmatrix("x", m, k, "int8")
    p.gmatrix("y", m, n, "int8", region=2)
    p(
        f"layer_fc input=x output=y filter=1:0 bias=1:0 transposed={int(rng.random() < 0.5)} "
        f"m=1073741824 rshift=5 budget={b}"
    )


def eltwise(p: LayerProgram, rng: np.random.Generator, b: int) -> None:
    s = dims(rng)
    for i in range(3):
        p.gtensor(f"x{i}", s, "int8", region=i)
    p.gtensor("y", s, "int8", region=3)
    p(f"layer_eltwise kind=add inputs=x0,x1,x2 output=y m=1,2,3 rshift=2 budget={b}")


def mul_bcast(p: LayerProgram, rng: np.random.Generator, b: int) -> None:
    s = dims(rng)
    p.gtensor("a", s, "int8")
    p.gtensor("b", (1, s[1], 1, 1), "int8", region=1)
    p.gtensor("y", s, "int8", region=2)
    p(f"layer_eltwise_mul a=a b=b output=y m=1073741824 rshift=3 budget={b}")


def dequant(p: LayerProgram, rng: np.random.Generator, b: int) -> None:
    p.gtensor("x", dims(rng), "int8")
    p(f"layer_dequant input=x output=3:0 threshold=2.5 budget={b}")


def upsample(p: LayerProgram, rng: np.random.Generator, b: int) -> None:
    s = dims(rng, 100, 30, 200)
    f = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    p.gtensor("x", s, "int8")
    p.gtensor("y", (s[0], s[1], s[2] * f[0], s[3] * f[1]), "int8", region=2)
    p(f"layer_upsample input=x output=y sh={f[0]} sw={f[1]} budget={b}")


def prelu_lut(p: LayerProgram, rng: np.random.Generator, b: int) -> None:
    s = dims(rng, 100, 30, 200)
    p.gtensor("x", s, "int8")
    p.gtensor("y", s, "int8", region=2)
    if rng.random() < 0.5:
        p(f"layer_prelu input=x output=y slope=1:0 mpos=3 rpos=1 rneg=4 budget={b}")
    else:
        p(f"layer_lut input=x output=y table=1:0 budget={b}")


def slice_permute(p: LayerProgram, rng: np.random.Generator, b: int) -> None:
    n, c, h, w = dims(rng, 60, 20, 100)
    p.gtensor("x", (n, c, h, w), "int8")
    if rng.random() < 0.5:
        step = int(rng.integers(2, 4))
        p.gtensor("y", (n, c, h, (w - 1) // step + 1), "int8", region=2)
        p(f"layer_slice input=x output=y steps=1,1,1,{step} budget={b}")
    else:
        p.gtensor("y", (n, h, w, c), "int8", region=2)
        p(f"layer_permute input=x output=y order=0,2,3,1 budget={b}")


LAYERS: dict[str, Callable[[LayerProgram, np.random.Generator, int], None]] = {
    "pool": pool,
    "fc": fc,
    "eltwise": eltwise,
    "mul_bcast": mul_bcast,
    "dequant": dequant,
    "upsample": upsample,
    "prelu_lut": prelu_lut,
    "slice_permute": slice_permute,
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_budget(name: str) -> None:
    rng = np.random.default_rng(len(name))
    fits = 0
    for _ in range(12):
        budget = int(rng.integers(64, 20000))
        p = LayerProgram(rng, mem_size=BIG_MEM)
        LAYERS[name](p, rng, budget)
        try:
            _, stats = p.emit()
        except EmitError as e:
            assert "no tile fits" in str(e) or "no tiling fits" in str(e), str(e)
            continue
        fits += 1
        assert stats["lmem_peak"] <= budget, p.lines[-1]
    assert fits > 0

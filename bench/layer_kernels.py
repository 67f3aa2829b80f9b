"""Cycles of tpuc's INT8 layer kernels (tpuc/kernel/Layers.h) under the engine's cycle model,
against an ideal cycle count: the larger of the layer's MACs on the 32 lanes x 16 EUs (x 2 with
double_conv for convolutions) and the bytes it must read and write at least (inputs, weights and
outputs once) at the DRAM bandwidth of the cycle model.

Usage: TPUC_BIN_DIR=<build>/bin python bench/layer_kernels.py
Prints one line per layer and ends with one JSON line for the 64x56x56 3x3 convolution.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test"))

from kernel.kernel_harness import Simulators  # noqa: E402
from kernel.layer_harness import BIG_MEM, LayerProgram, rand_i8  # noqa: E402
from kernel.test_layers_conv import ConvCase, build_conv  # noqa: E402

LANES, EUS = 32, 16
DRAM_BYTES_PER_CYCLE = 1886.0 * 4 / 650.0  # DRAM clock x bytes per DRAM cycle / TPU clock

CONVS = {
    "conv_64x56x56_3x3": ConvCase(1, 64, 56, 56, 64, (3, 3), pads=(1, 1, 1, 1), relu=True),
    "conv_128x28x28_3x3": ConvCase(1, 128, 28, 28, 128, (3, 3), pads=(1, 1, 1, 1)),
    "conv_256x14x14_3x3": ConvCase(1, 256, 14, 14, 256, (3, 3), pads=(1, 1, 1, 1)),
    "conv_512x7x7_1x1_oc512": ConvCase(1, 512, 7, 7, 512, (1, 1)),
    "conv_3x224x224_7x7_s2": ConvCase(1, 3, 224, 224, 64, (7, 7), stride=(2, 2), pads=(3, 3, 3, 3)),
    "dw_96x56x56_3x3": ConvCase(1, 96, 56, 56, 96, (3, 3), pads=(1, 1, 1, 1), group=96),
}


def conv_macs(c: ConvCase) -> int:
    oh, ow = c.out_hw
    return c.n * c.oc * oh * ow * (c.ic // c.group) * c.k[0] * c.k[1]


def fc_prog(m: int, k: int, n: int) -> LayerProgram:
    rng = np.random.default_rng(0)
    p = LayerProgram(rng, mem_size=BIG_MEM)
    p.gmatrix("x", m, k, "int8", rand_i8(rng, (m, k)))
    p.gmatrix("y", m, n, "int8", None, region=2)
    fil = p.blob(rand_i8(rng, (n, k)), region=1)
    p(f"layer_fc input=x output=y filter={fil} m=1518500250 rshift=10")
    return p


def stream_progs() -> dict[str, tuple[LayerProgram, int]]:
    """Memory-bound layers with the bytes they must move at least."""
    rng = np.random.default_rng(1)
    out: dict[str, tuple[LayerProgram, int]] = {}
    shape = (1, 64, 56, 56)
    count = int(np.prod(shape))
    p = LayerProgram(rng, mem_size=BIG_MEM)
    p.gtensor("a", shape, "int8", rand_i8(rng, shape))
    p.gtensor("b", shape, "int8", rand_i8(rng, shape), region=1)
    p.gtensor("y", shape, "int8", None, region=2)
    p("layer_eltwise kind=add inputs=a,b output=y m=90,-70 rshift=7 relu=1")
    out["eltwise_add_64x56x56"] = (p, 3 * count)
    p = LayerProgram(rng, mem_size=BIG_MEM)
    p.gtensor("a", shape, "int8", rand_i8(rng, shape))
    p.gtensor("y", shape, "int8", None, region=2)
    p("layer_leaky_relu input=a output=y mpos=1 rpos=0 mneg=13 rneg=7")
    out["leaky_relu_64x56x56"] = (p, 2 * count)
    p = LayerProgram(rng, mem_size=BIG_MEM)
    p.gtensor("a", (1, 64, 112, 112), "int8", rand_i8(rng, (1, 64, 112, 112)))
    p.gtensor("y", shape, "int8", None, region=2)
    p("layer_pool kind=max input=a output=y kh=3 kw=3 sh=2 sw=2 pt=1 pb=1 pl=1 pr=1")
    out["max_pool_64x112x112_3x3s2"] = (p, 5 * count)
    p = LayerProgram(rng, mem_size=BIG_MEM)
    p.gtensor("a", (1, 1000, 1, 1), "int8", rand_i8(rng, (1, 1000, 1, 1)))
    p("layer_dequant input=a output=3:0 threshold=9.5")
    out["dequant_1000"] = (p, 5 * 1000)
    p = LayerProgram(rng, mem_size=BIG_MEM)
    p.gtensor("a", shape, "int8", rand_i8(rng, shape))
    p("layer_dequant input=a output=3:0 threshold=9.5")
    out["dequant_64x56x56"] = (p, 5 * count)
    return out


def r18_cycles(sims: Simulators) -> tuple[int, int] | None:
    """Cycles of the whole conformance model r18_half_112 emitted with the layer kernels, and of
    the vendor's cvimodel of it (both under the engine's cycle model)."""
    import pytest
    from kernel.test_layers_vendor_r18 import MODEL, build_r18

    try:
        prog, _ = build_r18()
    except pytest.skip.Exception:
        return None
    cmdbuf, _ = prog.emit()
    _, prof = sims.run_engine(cmdbuf, prog.mem, prog.base_regs, profile=True)
    runner = shutil.which("model_runner") or str(Path(sys.executable).parent / "model_runner")
    d = Path("/work/shared/conformance") / MODEL
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(
            [
                runner,
                "--input",
                str(d / f"{MODEL}_in_f32.npz"),
                "--model",
                str(d / f"{MODEL}_cv183x_int8.cvimodel"),
                "--output",
                str(Path(tmp, "out.npz")),
                "--profile",
                str(Path(tmp, "p.json")),
            ],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0 or prof is None:
            return None
        vendor = json.loads(Path(tmp, "p.json").read_text())["total_cycles"]
    return int(prof["total_cycles"]), int(vendor)


def main() -> None:
    sims = Simulators()
    if not sims.has_engine():
        raise SystemExit("tpuc engine not available")
    rows = []
    for name, c in CONVS.items():
        prog, _ = build_conv(c, 0)
        cmdbuf, stats = prog.emit()
        _, prof = sims.run_engine(cmdbuf, prog.mem, prog.base_regs, profile=True)
        assert prof is not None
        peak = LANES * EUS * (1 if c.group > 1 else 2)
        oh, ow = c.out_hw
        nbytes = (
            c.n * c.ic * c.h * c.w
            + c.oc * (c.ic // c.group) * c.k[0] * c.k[1]
            + 9 * c.oc
            + c.n * c.oc * oh * ow
        )
        ideal = max(conv_macs(c) / peak, nbytes / DRAM_BYTES_PER_CYCLE)
        rows.append(
            (
                name,
                prof["total_cycles"],
                prof["tiu_busy_cycles"],
                prof["tdma_busy_cycles"],
                ideal,
                stats["tiu"],
                stats["tdma"],
            )
        )
    for m, k, n in [(1, 2048, 1000), (16, 512, 512)]:
        prog = fc_prog(m, k, n)
        cmdbuf, stats = prog.emit()
        _, prof = sims.run_engine(cmdbuf, prog.mem, prog.base_regs, profile=True)
        assert prof is not None
        rows.append(
            (
                f"fc_{m}x{k}x{n}",
                prof["total_cycles"],
                prof["tiu_busy_cycles"],
                prof["tdma_busy_cycles"],
                max(m * k * n / (LANES * EUS), (m * k + k * n + m * n) / DRAM_BYTES_PER_CYCLE),
                stats["tiu"],
                stats["tdma"],
            )
        )
    for name, (prog, nbytes) in stream_progs().items():
        cmdbuf, stats = prog.emit()
        _, prof = sims.run_engine(cmdbuf, prog.mem, prog.base_regs, profile=True)
        assert prof is not None
        rows.append(
            (
                name,
                prof["total_cycles"],
                prof["tiu_busy_cycles"],
                prof["tdma_busy_cycles"],
                nbytes / DRAM_BYTES_PER_CYCLE,
                stats["tiu"],
                stats["tdma"],
            )
        )
    r18 = r18_cycles(sims)
    sims.close()
    print(f"{'layer':28} {'cycles':>9} {'tiu':>9} {'tdma':>9} {'ideal':>9} {'ratio':>6} cmds")
    for name, total, tiu, tdma, ideal, ntiu, ntdma in rows:
        print(
            f"{name:28} {total:9d} {tiu:9d} {tdma:9d} {ideal:9.0f} {total / ideal:6.2f} "
            f"{ntiu}+{ntdma}"
        )
    if r18 is not None:
        ours, vendor = r18
        print(
            f"r18_half_112 whole model: {ours} cycles with these kernels (one layer at a time "
            f"through DRAM), {vendor} for the vendor's cvimodel (layer groups in local memory)"
        )
    name, total, *_, ideal, _, _ = rows[0]
    print(
        json.dumps(
            {
                "metric": f"{name}_cycles",
                "value": total,
                "reference": round(ideal),
                "ratio": round(total / ideal, 3),
                "goal": "ratio -> 1 (MAC-bound)",
            }
        )
    )


if __name__ == "__main__":
    main()

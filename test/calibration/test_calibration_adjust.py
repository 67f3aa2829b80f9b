"""Table adjustment: layers feeding only a relu / clip take the activation's threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tpuc.calibration", reason="tpuc is not installed")

from calibration_helpers import convert_conv_model, requires_interpreter  # noqa: E402
from tpuc.calibration import CalibrationTable, TableEntry, calibrate  # noqa: E402
from tpuc.calibration.adjust import backward_activation_thresholds  # noqa: E402
from tpuc.calibration.model import LayerInfo, ModelInfo, ModelInput  # noqa: E402


def layer(name: str, op: str, *operands: str) -> LayerInfo:
    return LayerInfo(name, f"tpu.{op}", producer=operands[0] if operands else None,
                     operands=operands)  # fmt: skip


def graph(outputs: tuple[str, ...] = ("k1",)) -> ModelInfo:
    """data -> c1 -> r1 -> c2 -> {r2, a1}; a1 = r2 + c2 -> k1 (clip); data -> p1 (max pool) ->
    r3; c3 -> k2 -> k3 (a chain of two clips)."""
    layers = (
        layer("data", "input"),
        layer("c1", "conv_2d", "data"),
        layer("r1", "relu", "c1"),
        layer("c2", "conv_2d", "r1"),
        layer("r2", "relu", "c2"),
        layer("a1", "eltwise_add", "r2", "c2"),
        layer("k1", "clip", "a1"),
        layer("p1", "pool_max_2d", "data"),
        layer("r3", "relu", "p1"),
        layer("c3", "conv_2d", "r3"),
        layer("k2", "clip", "c3"),
        layer("k3", "clip", "k2"),
    )
    return ModelInfo((ModelInput("data", (1, 3, 8, 8), "f32"),), layers, outputs)


def table() -> CalibrationTable:
    thresholds = {"data": 2.0, "c1": 9.0, "r1": 4.0, "c2": 8.0, "r2": 5.0, "a1": 12.0, "k1": 6.0,
                  "p1": 2.0, "r3": 1.5, "c3": 7.0, "k2": 3.0, "k3": 2.5}  # fmt: skip
    return CalibrationTable(
        [(n, TableEntry(t, -t - 1.0, t + 1.0)) for n, t in thresholds.items()], {"method": "kl"}
    )


def test_producers_with_one_relu_or_clip_user_take_its_threshold() -> None:
    adjusted, changed = backward_activation_thresholds(table(), graph())
    assert adjusted.threshold("c1") == 4.0  # its relu's
    assert adjusted.threshold("a1") == 6.0  # its clip's
    assert adjusted.threshold("c3") == 2.5  # through the chain k3 -> k2 -> c3
    assert adjusted.threshold("k2") == 2.5
    assert changed == ["k2", "c3", "a1", "c1"]  # last activation first
    # Kept: c2 has two users, p1 does not requantize, r1 and k1 feed no activation.
    for name, threshold in {"c2": 8.0, "p1": 2.0, "r1": 4.0, "k1": 6.0}.items():
        assert adjusted.threshold(name) == threshold, name
    # The observed range stays the producer's own; the metadata is kept.
    assert (adjusted["c1"].min, adjusted["c1"].max) == (-10.0, 10.0)
    assert adjusted.metadata == {"method": "kl"}
    # The input table is not modified.
    assert table().threshold("c1") == 9.0


def test_a_returned_producer_keeps_its_threshold() -> None:
    adjusted, changed = backward_activation_thresholds(table(), graph(outputs=("k1", "c1")))
    assert adjusted.threshold("c1") == 9.0 and "c1" not in changed
    assert adjusted.threshold("a1") == 6.0


def test_layers_missing_from_the_table_are_left_alone() -> None:
    partial = CalibrationTable([(n, e) for n, e in table().items() if n not in ("r1", "a1")])
    adjusted, changed = backward_activation_thresholds(partial, graph())
    assert adjusted.threshold("c1") == 9.0 and "a1" not in adjusted
    assert changed == ["k2", "c3"]


@requires_interpreter
def test_calibrate_gives_conv_its_relu_threshold(tmp_path: Path) -> None:
    from tpuc.calibration import inspect_module, parse_module

    mlir = convert_conv_model(tmp_path)
    info = inspect_module(parse_module(mlir))
    by_name = {layer.name: layer for layer in info.layers}
    assert by_name["relu1"].operands == ("conv1",) and by_name["conv1"].operands == ("data",)
    assert info.outputs == ("prob",)
    rng = np.random.default_rng(3)
    inputs = [rng.normal(0.0, 1.0, (1, 3, 16, 16)).astype(np.float32) for _ in range(4)]
    own = calibrate(mlir, inputs, "kl", activation_backward=False)
    adjusted = calibrate(mlir, inputs, "kl")
    assert own.threshold("conv1") != own.threshold("relu1")
    assert adjusted.threshold("conv1") == adjusted.threshold("relu1") == own.threshold("relu1")
    assert (adjusted["conv1"].min, adjusted["conv1"].max) == (own["conv1"].min, own["conv1"].max)
    for name in own:
        if name != "conv1":
            assert adjusted[name] == own[name], name
    assert adjusted.metadata["activation backward"].startswith("1 layers")
    assert "activation backward" not in own.metadata

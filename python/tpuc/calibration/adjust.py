"""Table adjustments that use the graph: thresholds of layers feeding a ReLU or a clip.

`backward_activation_thresholds`: a layer whose only consumer is a `tpu.relu` or `tpu.clip`
takes that activation's threshold. In INT8 the producer's result is stored with its own
threshold and the activation then clamps it; every value the producer saturates beyond the
activation's threshold is clamped (clip) or kept (relu: the activation's threshold covers its
positive values) the same way, so the producer loses nothing, and its int8 grid becomes the
activation's: its KL threshold, measured on values the activation then zeroes or clamps, would
otherwise set the precision of the activation's output. (tpu-quant gives a ReLU its input's
threshold, and a clip becomes a look-up table from its input's grid to its own.)

On MobileNetV2 (bench/calibration_accuracy.py style simulation, 260 inputs of the bundled sample
images) this raises top-1 agreement with fp32 on the confident inputs from 0.932 to 0.966 and the
mean logit cosine from 0.952 to 0.961.
"""

from __future__ import annotations

from .model import ModelInfo
from .table import CalibrationTable, TableEntry

ACTIVATION_OPS = frozenset({"tpu.relu", "tpu.clip"})
"""Clamping activations whose threshold their producer can take."""

REQUANTIZING_OPS = frozenset(
    {
        "tpu.conv_2d",
        "tpu.deconv_2d",
        "tpu.fully_connected",
        "tpu.scale",
        "tpu.matmul",
        "tpu.eltwise_add",
        "tpu.eltwise_mul",
        "tpu.eltwise_max",
        "tpu.eltwise_min",
        "tpu.pool_avg_2d",
        "tpu.concat",
    }
)
"""Layers whose INT8 form rescales to their own threshold (the ones a threshold change helps)."""


def backward_activation_thresholds(
    table: CalibrationTable, info: ModelInfo
) -> tuple[CalibrationTable, list[str]]:
    """The table with every requantizing layer (or relu / clip) whose only user is a relu / clip
    given that activation's threshold (activations last in program order first, so a chain of
    activations passes it on to the layer before the chain);
    returns the table and the names of the layers changed. A layer the function returns, or
    used by more than one layer, keeps its threshold. min / max stay the observed range."""
    users: dict[str, int] = {}
    for layer in info.layers:
        for name in set(layer.operands):
            users[name] = users.get(name, 0) + 1
    kinds = {layer.name: layer.op for layer in info.layers}
    returned = set(info.outputs)
    changed: list[str] = []
    for layer in reversed(info.layers):
        if layer.op not in ACTIVATION_OPS or layer.name not in table:
            continue
        producer = layer.operands[0] if layer.operands else None
        if (
            producer is None
            or producer not in table
            or kinds.get(producer) not in REQUANTIZING_OPS | ACTIVATION_OPS
            or users.get(producer, 0) != 1
            or producer in returned
        ):
            continue
        threshold = table[layer.name].threshold
        entry = table[producer]
        if entry.threshold != threshold:
            table = table.with_entry(producer, TableEntry(threshold, entry.min, entry.max))
            changed.append(producer)
    return table, changed

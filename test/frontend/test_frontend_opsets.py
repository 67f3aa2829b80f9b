"""One small network written in the form of every supported opset (9 to 21): ops whose inputs
or attributes changed across opsets (Clip, Resize/Upsample, Squeeze/Unsqueeze, ReduceMean,
Split, Softmax, Pad) in the spelling of that opset."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from frontend_util import (
    check_against_onnxruntime,
    check_weights,
    check_with_interpreter,
    interpreter,
    layer_ops,
    require_frontend,
)

require_frontend()

from frontend_cases import make_model, node, rand  # noqa: E402


def network(opset: int) -> Any:
    i64 = np.int64
    inits: dict[str, np.ndarray] = {"w": rand(8, 3, 3, 3), "b": rand(8)}
    nodes = [node("Conv", ["x", "w", "b"], ["conv"], pads=[1, 1, 1, 1])]
    if opset < 11:
        nodes.append(node("Clip", ["conv"], ["clip"], min=0.0, max=6.0))
        nodes.append(node("Pad", ["clip"], ["pad"], pads=[0, 0, 1, 1, 0, 0, 1, 1]))
    else:
        inits.update(
            lo=np.asarray(0.0, np.float32),
            hi=np.asarray(6.0, np.float32),
            pads=np.asarray([0, 0, 1, 1, 0, 0, 1, 1], i64),
        )
        nodes.append(node("Clip", ["conv", "lo", "hi"], ["clip"]))
        nodes.append(node("Pad", ["clip", "pads"], ["pad"]))
    nodes.append(node("MaxPool", ["pad"], ["pool"], kernel_shape=[2, 2], strides=[2, 2]))
    if opset == 9:
        inits["scales"] = np.asarray([1, 1, 2, 2], np.float32)
        nodes.append(node("Upsample", ["pool", "scales"], ["up"]))
    elif opset == 10:
        inits["scales"] = np.asarray([1, 1, 2, 2], np.float32)
        nodes.append(node("Resize", ["pool", "scales"], ["up"]))
    else:
        inits["scales"] = np.asarray([1, 1, 2, 2], np.float32)
        inits["roi"] = np.zeros(0, np.float32)  # required before opset 13
        nodes.append(node("Resize", ["pool", "roi", "scales"], ["up"], mode="nearest"))
    if opset < 13:
        nodes.append(node("Split", ["up"], ["s0", "s1"], axis=1, split=[3, 5]))
    elif opset < 18:
        inits["split"] = np.asarray([3, 5], i64)
        nodes.append(node("Split", ["up", "split"], ["s0", "s1"], axis=1))
    else:
        nodes.append(node("Split", ["up"], ["s0", "s1"], axis=1, num_outputs=2))
    if opset < 18:
        nodes.append(node("ReduceMean", ["s1"], ["mean"], axes=[2, 3], keepdims=1))
    else:
        inits["axes23"] = np.asarray([2, 3], i64)
        nodes.append(node("ReduceMean", ["s1", "axes23"], ["mean"], keepdims=1))
    if opset < 13:
        nodes.append(node("Squeeze", ["mean"], ["sq"], axes=[2, 3]))
        nodes.append(node("Unsqueeze", ["sq"], ["us"], axes=[1]))
    else:
        inits["axes_sq"] = np.asarray([2, 3], i64)
        inits["axes_us"] = np.asarray([1], i64)
        nodes.append(node("Squeeze", ["mean", "axes_sq"], ["sq"]))
        nodes.append(node("Unsqueeze", ["sq", "axes_us"], ["us"]))
    nodes.append(node("Softmax", ["us"], ["y"], axis=2))
    return make_model(nodes, {"x": [1, 3, 8, 8]}, ["y", "s0"], inits, opset=opset)


@pytest.mark.parametrize("opset", range(9, 22))
def test_network_in_every_opset(opset: int, convert: Any) -> None:
    converter = convert(network(opset), name=f"opset{opset}")
    ops = {op.op for op in layer_ops(converter.module)}
    assert {
        "tpu.conv_2d",
        "tpu.clip",
        "tpu.pad",
        "tpu.pool_max_2d",
        "tpu.upsample",
        "tpu.slice",
        "tpu.reduce_mean",
        "tpu.reshape",
        "tpu.softmax",
    } <= ops
    checked = check_against_onnxruntime(converter)
    check_weights(converter)
    if interpreter() is not None:
        check_with_interpreter(converter, checked)

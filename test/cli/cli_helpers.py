"""Helpers of the `tpuc` command tests: a tiny generated ONNX model and calibration inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = REPO_ROOT.parent / "shared" / "conformance"
R18 = CONFORMANCE / "r18_half_112"


def tiny_onnx(path: Path, *, op: str = "Relu", seed: int = 0) -> Path:
    """conv 3x3 -> `op` -> conv 3x3 + residual add -> global average pool -> fc (1x3x16x16 ->
    1x10), random weights."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)

    def weight(name: str, *shape: int) -> Any:
        scale = 1.0 / np.sqrt(np.prod(shape[1:])) if len(shape) > 1 else 0.1
        return numpy_helper.from_array(
            (rng.standard_normal(shape) * scale).astype(np.float32), name
        )

    inits = [
        weight("w1", 8, 3, 3, 3),
        weight("b1", 8),
        weight("w2", 8, 8, 3, 3),
        weight("b2", 8),
        weight("fc_w", 10, 8),
        weight("fc_b", 10),
    ]
    nodes = [
        helper.make_node(
            "Conv", ["input", "w1", "b1"], ["conv1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]
        ),
        helper.make_node(op, ["conv1"], ["act1"]),
        helper.make_node(
            "Conv", ["act1", "w2", "b2"], ["conv2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]
        ),
        helper.make_node("Add", ["conv2", "act1"], ["add"]),
        helper.make_node("GlobalAveragePool", ["add"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["output"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def calibration_folder(folder: Path, count: int = 6, seed: int = 1) -> Path:
    """`count` random inputs as .npz files."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        np.savez(
            folder / f"sample_{i}.npz", input=rng.uniform(-1, 1, (1, 3, 16, 16)).astype(np.float32)
        )
    return folder

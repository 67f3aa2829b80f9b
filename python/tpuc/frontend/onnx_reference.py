"""Reference runs of ONNX models with onnxruntime, exposing every intermediate tensor."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx


def expose_all_tensors(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` whose graph outputs include every node output (top-level graph)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    present = {o.name for o in copy.graph.output}
    for node in copy.graph.node:
        for out in node.output:
            if out and out not in present:
                copy.graph.output.append(onnx.ValueInfoProto(name=out))
                present.add(out)
    return copy


def run_onnx_inference(
    model: onnx.ModelProto | str | Path,
    inputs: Mapping[str, np.ndarray],
    *,
    dump_all: bool = True,
) -> dict[str, np.ndarray]:
    """Runs `model` on `inputs` (name -> array; float inputs are cast to float32). With
    `dump_all`, returns every intermediate tensor by its ONNX name (the names our tpu ops
    carry) plus the inputs; else only the graph outputs."""
    import onnxruntime as ort

    proto = model if isinstance(model, onnx.ModelProto) else onnx.load(str(model))
    initializers = {i.name for i in proto.graph.initializer}
    graph_inputs = [i for i in proto.graph.input if i.name not in initializers]
    missing = [i.name for i in graph_inputs if i.name not in inputs]
    if missing:
        raise ValueError(f"missing input(s) {missing}; given {sorted(inputs)}")
    feeds = {}
    for info in graph_inputs:
        array = np.asarray(inputs[info.name])
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        feeds[info.name] = array
    run_model = expose_all_tensors(proto) if dump_all else proto
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        run_model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    results = session.run(names, feeds)
    tensors: dict[str, np.ndarray] = {}
    if dump_all:
        tensors.update(feeds)
    for name, value in zip(names, results, strict=False):
        if isinstance(value, np.ndarray):
            tensors[name] = value
    return tensors

"""Evaluates ONNX nodes whose inputs are all constants (shape arithmetic, weight transforms)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import onnx
from onnx import helper

# Ops with cheap exact numpy forms; everything else goes through onnxruntime.
_NUMPY_FOLDERS = {
    "Identity": lambda x, a: [x[0]],
    "Cast": lambda x, a: [x[0].astype(helper.tensor_dtype_to_np_dtype(a["to"]))],
    "Concat": lambda x, a: [np.concatenate(x, axis=a["axis"])],
    "Transpose": lambda x, a: [np.transpose(x[0], a.get("perm"))],
}

# Ops whose output is not a function of the inputs.
NOT_FOLDABLE = {
    "RandomNormal",
    "RandomNormalLike",
    "RandomUniform",
    "RandomUniformLike",
    "Multinomial",
    "Bernoulli",
    "Dropout",
}


class FoldError(RuntimeError):
    pass


def fold_node(
    node: onnx.NodeProto,
    attrs: Mapping[str, object],
    inputs: Sequence[np.ndarray | None],
    opset_imports: Sequence[onnx.OperatorSetIdProto],
    ir_version: int,
) -> list[np.ndarray]:
    """Runs `node` on constant `inputs` (None = omitted optional input); returns its outputs."""
    folder = _NUMPY_FOLDERS.get(node.op_type)
    if folder is not None and all(x is not None for x in inputs):
        return folder(list(inputs), dict(attrs))
    graph_inputs, feeds = [], {}
    names = []
    for index, (name, value) in enumerate(zip(node.input, inputs, strict=False)):
        if value is None or not name:
            names.append("")
            continue
        feed_name = f"in{index}"
        names.append(feed_name)
        array = np.asarray(value)
        graph_inputs.append(
            helper.make_tensor_value_info(
                feed_name, helper.np_dtype_to_tensor_dtype(array.dtype), array.shape
            )
        )
        feeds[feed_name] = array
    outputs = [f"out{i}" for i in range(len(node.output))]
    copy = onnx.NodeProto()
    copy.CopyFrom(node)
    del copy.input[:]
    copy.input.extend(names)
    del copy.output[:]
    copy.output.extend(outputs)
    graph = helper.make_graph(
        [copy], "fold", graph_inputs, [onnx.ValueInfoProto(name=o) for o in outputs]
    )
    model = helper.make_model(graph, opset_imports=list(opset_imports))
    model.ir_version = ir_version
    try:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        return [np.asarray(v) for v in session.run(outputs, feeds)]
    except Exception as error:  # onnxruntime raises its own exception types
        raise FoldError(str(error)) from error

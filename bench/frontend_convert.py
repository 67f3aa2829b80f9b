"""Converts the real models of bench/frontend_models.py to tpu IR and reports conversion time.

For each model: ONNX -> tpu (OnnxConverter.run, which also verifies the module and writes the
.mlir and weights), then a check that every converted tensor has onnxruntime's shape. The
reference time is onnxruntime building an InferenceSession of the same model (its own import and
graph optimization), so `ratio` = our conversion time / onnxruntime's session creation time.

    python bench/frontend_convert.py [model ...]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from frontend_models import MODELS, ModelUnavailable  # noqa: E402


def session_time(model: object) -> float:
    import onnx
    import onnxruntime as ort

    proto = model if isinstance(model, onnx.ModelProto) else onnx.load(str(model))
    start = time.perf_counter()
    ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return time.perf_counter() - start


def shape_check(converter: object) -> tuple[int, dict, dict]:
    """Compares every tpu op's shape with onnxruntime's tensor of the same name; returns the
    number of tensors compared, the reference tensors and the inputs."""
    from tpuc.frontend import run_onnx_inference
    from tpuc.ir import RankedTensorType, StringAttr

    ops = []
    for func_op in converter.module.body.operations:
        for op in func_op.regions[0].blocks[0].operations:
            operation = op.operation
            if "name" in operation.attributes and operation.name != "tpu.load_weight":
                name = StringAttr(operation.attributes["name"]).value
                ops.append(
                    (operation.name, name, list(RankedTensorType(operation.results[0].type).shape))
                )
    inputs = {
        name: np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
        for op, name, shape in ops
        if op == "tpu.input"
    }
    reference = run_onnx_inference(converter.model, inputs)
    matched = 0
    for op, name, shape in ops:
        if name in reference:
            if list(reference[name].shape) != shape:
                raise AssertionError(
                    f"{op} '{name}': {shape} vs onnxruntime {list(reference[name].shape)}"
                )
            matched += 1
    return matched, reference, inputs


def interpreter_similarity(converter: object, inputs: dict) -> float | None:
    """Minimum cosine similarity between the fp32 interpreter's tensors and onnxruntime's, or
    None when the interpreter is not available."""
    from tpuc.frontend import compare_with_onnxruntime, fp32_interpreter

    if fp32_interpreter() is None:
        return None
    return compare_with_onnxruntime(converter, inputs).min_metric("cosine")


def main(argv: list[str]) -> int:
    import onnx
    from tpuc.frontend import OnnxConverter

    names = argv or list(MODELS)
    workdir = Path(tempfile.mkdtemp(prefix="tpuc-frontend-bench-"))
    results, total, reference_total = {}, 0.0, 0.0
    for name in names:
        try:
            model, input_shapes = MODELS[name]()
        except ModelUnavailable as error:
            print(f"{name}: skipped ({error})")
            continue
        proto = onnx.load(str(model))
        if input_shapes:
            for info, shape in zip(proto.graph.input, input_shapes, strict=False):
                for dim, size in zip(info.type.tensor_type.shape.dim, shape, strict=True):
                    dim.Clear()
                    dim.dim_value = size
        start = time.perf_counter()
        converter = OnnxConverter(name, proto, workdir / f"{name}.mlir")
        converter.run()
        elapsed = time.perf_counter() - start
        ort_time = session_time(proto)
        matched, _, inputs = shape_check(converter)
        min_cos = interpreter_similarity(converter, inputs)
        ops = sum(
            1 for f in converter.module.body.operations for _ in f.regions[0].blocks[0].operations
        )
        results[name] = {
            "seconds": round(elapsed, 3),
            "onnxruntime_session_seconds": round(ort_time, 3),
            "onnx_nodes": len(proto.graph.node),
            "ir_ops": ops,
            "tensors_shape_checked": matched,
            "interpreter_min_cosine": min_cos,
        }
        total += elapsed
        reference_total += ort_time
        print(
            f"{name}: {elapsed:.3f} s ({len(proto.graph.node)} ONNX nodes -> {ops} ops, "
            f"{matched} tensor shapes match onnxruntime; onnxruntime session {ort_time:.3f} s)"
        )
    print(json.dumps(results, indent=1))
    ratio = total / reference_total if reference_total else None
    print(
        json.dumps(
            {
                "metric": "frontend_convert_seconds_total",
                "value": round(total, 3),
                "reference": round(reference_total, 3),
                "ratio": None if ratio is None else round(ratio, 3),
                "goal": "ratio <= 2.0",
                "models": len(results),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""PyTorch modules -> tpu dialect, through torch.onnx.export."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .onnx_converter import ConversionError, OnnxConverter
from .preprocess import Preprocess


def export_onnx(
    module: Any,
    example_inputs: Any,
    onnx_file: str | Path,
    *,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    opset: int = 13,
) -> Path:
    """Exports `module` (put in eval mode) with static shapes taken from `example_inputs`."""
    try:
        import torch
    except ImportError as error:
        raise ImportError("from_torch needs PyTorch (pip install torch)") from error
    inputs = (
        tuple(example_inputs) if isinstance(example_inputs, (list, tuple)) else (example_inputs,)
    )
    names = (
        list(input_names)
        if input_names
        else ["input" if len(inputs) == 1 else f"input{i}" for i in range(len(inputs))]
    )
    module.eval()
    path = Path(onnx_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer warnings
        try:
            torch.onnx.export(
                module,
                inputs,
                str(path),
                input_names=names,
                output_names=list(output_names) if output_names else None,
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
        except Exception as error:  # the exporter raises many exception types
            raise ConversionError(f"torch.onnx.export failed: {error}") from error
    return path


def from_torch(
    module: Any,
    example_inputs: Any,
    model_name: str | None = None,
    mlir_file: str | Path | None = None,
    *,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    opset: int = 13,
    preprocess: Preprocess | Mapping[str, Preprocess] | None = None,
    onnx_file: str | Path | None = None,
) -> OnnxConverter:
    """Exports `module` to ONNX (kept at `onnx_file`, default `<mlir dir>/<model_name>.onnx`)
    and converts it; returns the converter after run() (`.module`, `.mlir_file`,
    `.weight_file`, `.model` = the ONNX model). `model_name` defaults to the module's class
    name in lower case."""
    model_name = model_name or type(module).__name__.lower()
    if mlir_file is None:
        mlir_file = Path(tempfile.mkdtemp(prefix="tpuc-")) / f"{model_name}.mlir"
    mlir_path = Path(mlir_file)
    onnx_path = Path(onnx_file) if onnx_file else mlir_path.parent / f"{model_name}.onnx"
    export_onnx(
        module,
        example_inputs,
        onnx_path,
        input_names=input_names,
        output_names=output_names,
        opset=opset,
    )
    converter = OnnxConverter(model_name, onnx_path, mlir_path, preprocess=preprocess)
    converter.run()
    return converter

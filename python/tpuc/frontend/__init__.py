"""Frontends: ONNX (and PyTorch through ONNX) and Caffe models to the fp32 `tpu` dialect.

    from tpuc.frontend import OnnxConverter
    OnnxConverter("resnet18", "resnet18.onnx", "resnet18.mlir").run()

writes resnet18.mlir and resnet18_weights.npz. See OnnxConverter for adding custom ops.
"""

from .caffe_converter import CaffeConverter, CaffeLayer
from .caffe_proto import CaffeFormatError
from .caffe_reference import caffe_forward, compare_with_caffe
from .mlir_importer import MLIRBuildError, MLIRImporter
from .onnx_converter import (
    ConversionError,
    OnnxConverter,
    TensorType,
    UnsupportedOpError,
)
from .onnx_node import OnnxNode
from .onnx_reference import expose_all_tensors, run_onnx_inference
from .preprocess import Preprocess, preprocess_of
from .torch_frontend import export_onnx, from_torch
from .validation import compare_with_onnxruntime, fp32_interpreter

__all__ = [
    "CaffeConverter",
    "CaffeFormatError",
    "CaffeLayer",
    "ConversionError",
    "MLIRBuildError",
    "MLIRImporter",
    "OnnxConverter",
    "OnnxNode",
    "Preprocess",
    "TensorType",
    "UnsupportedOpError",
    "caffe_forward",
    "compare_with_caffe",
    "compare_with_onnxruntime",
    "expose_all_tensors",
    "export_onnx",
    "fp32_interpreter",
    "from_torch",
    "preprocess_of",
    "run_onnx_inference",
]

"""cvi_model_convert: convert an ONNX or Caffe model to an fp32 tpu dialect module.

  cvi_model_convert --model_path m.onnx --model_name m --mlir_file_path m.mlir
  cvi_model_convert --model_type caffe --model_def m.prototxt --model_data m.caffemodel
                    --model_name m --mlir_file_path m.mlir
                    [--input_shapes 1,3,224,224[:...]] [--mean 0.485,0.456,0.406]
                    [--std 0.229,0.224,0.225 | --scale ...] [--raw_scale 1.0]
                    [--input_scale 1.0] [--resize 256 | --resize 256,256] [--keep_aspect_ratio]
                    [--model_channel_order rgb|bgr|gray]
                    [--converter my_converter.py:MyConverter]

Writes m.mlir and m_weights.npz next to it. --converter names an OnnxConverter (or, with
--model_type caffe, a CaffeConverter) subclass (a file path or module, then the class name)
that registers handlers for custom ops.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _numbers(text: str | None) -> list[float] | None:
    return None if text is None else [float(v) for v in text.split(",")]


def parse_shapes(text: str | None) -> list[list[int]] | None:
    """ "1,3,224,224:1,10" -> [[1, 3, 224, 224], [1, 10]]."""
    if not text:
        return None
    return [[int(d) for d in part.split(",")] for part in text.split(":")]


def load_converter_class(spec: str, model_type: str = "onnx") -> Any:
    from ..frontend import CaffeConverter, OnnxConverter

    base = CaffeConverter if model_type == "caffe" else OnnxConverter

    if ":" not in spec:
        raise ValueError(f"--converter '{spec}': expected <file.py or module>:<class>")
    source, class_name = spec.rsplit(":", 1)
    if source.endswith(".py"):
        path = Path(source)
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            raise ValueError(f"--converter: cannot load {path}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(source)
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(f"--converter: {spec} is not a {base.__name__} subclass")
    return cls


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cvi_model_convert",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model_path", "--model_def", dest="model_path", required=True)
    parser.add_argument("--model_name", required=True)
    parser.add_argument("--mlir_file_path", "--mlir", dest="mlir", required=True)
    parser.add_argument("--model_type", default="onnx", choices=["onnx", "caffe"])
    parser.add_argument("--model_data", help="the .caffemodel weights (--model_type caffe)")
    parser.add_argument("--input_shapes", help="static input shapes, ':' between inputs")
    parser.add_argument("--weight_file", help="weights npz (default <model_name>_weights.npz)")
    parser.add_argument("--mean")
    parser.add_argument("--std")
    parser.add_argument("--scale")
    parser.add_argument("--raw_scale", type=float)
    parser.add_argument("--input_scale", type=float)
    parser.add_argument(
        "--resize", "--resize_dims", dest="resize_dims", help="shorter side, or h,w"
    )
    parser.add_argument("--keep_aspect_ratio", action="store_true")
    parser.add_argument(
        "--model_channel_order",
        "--channel_order",
        dest="channel_order",
        choices=["rgb", "bgr", "gray"],
    )
    parser.add_argument(
        "--converter", help="<file.py or module>:<OnnxConverter or CaffeConverter subclass>"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ..frontend import CaffeConverter, ConversionError, OnnxConverter, Preprocess

    preprocess = None
    wanted = (
        args.mean,
        args.std,
        args.scale,
        args.raw_scale,
        args.input_scale,
        args.resize_dims,
        args.channel_order,
    )
    try:
        if any(v is not None for v in wanted) or args.keep_aspect_ratio:
            resize = _numbers(args.resize_dims)
            preprocess = Preprocess(
                mean=_numbers(args.mean) or (0.0,),
                std=_numbers(args.std),
                scale=_numbers(args.scale),
                raw_scale=255.0 if args.raw_scale is None else args.raw_scale,
                input_scale=1.0 if args.input_scale is None else args.input_scale,
                channel_order=args.channel_order or "rgb",
                resize=None
                if resize is None
                else (int(resize[0]) if len(resize) == 1 else (int(resize[0]), int(resize[1]))),
                keep_aspect_ratio=args.keep_aspect_ratio,
            )
        if args.model_type == "caffe":
            default_cls: Any = CaffeConverter
        else:
            default_cls = OnnxConverter
            if args.model_data:
                raise ValueError("--model_data is for --model_type caffe")
        cls = (
            load_converter_class(args.converter, args.model_type) if args.converter else default_cls
        )
        model_args = (
            (args.model_path, args.model_data) if args.model_type == "caffe" else (args.model_path,)
        )
        converter = cls(
            args.model_name,
            *model_args,
            args.mlir,
            input_shapes=parse_shapes(args.input_shapes),
            preprocess=preprocess,
            weight_file=args.weight_file,
        )
        converter.run()
    except (ConversionError, ValueError, TypeError, OSError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {converter.mlir_file} and {converter.weight_file}")
    return 0


def console_main() -> None:
    sys.exit(main())


if __name__ == "__main__":
    console_main()

"""run_onnx_inference: run an ONNX model with onnxruntime and save every tensor to npz.

  run_onnx_inference --model_def m.onnx --input_file in.npz --output_file out.npz
                     [--dump_tensor all.npz]
  run_onnx_inference --model_def m.onnx --input_file cat.jpg --mlir m.mlir ...
      (an image is preprocessed as recorded on the tpu.input of m.mlir, or with --mean/--std/
       --scale/--raw_scale/--resize/--channel_order, cropped to the model's input size;
       --save_input writes the tensor fed)

Tensor names are the ONNX names, which are the names the converted tpu ops carry.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _floats(text: str | None) -> list[float] | None:
    return None if text is None else [float(v) for v in text.split(",")]


def _ints(text: str | None) -> list[int] | None:
    return None if text is None else [int(v) for v in text.split(",")]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_onnx_inference",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model_def", "--model_path", "--model", dest="model", required=True)
    parser.add_argument(
        "--input_file",
        "--input",
        dest="input",
        required=True,
        help="npz of inputs by name, or an image file",
    )
    parser.add_argument("--output_file", "--output", dest="output", help="npz of the graph outputs")
    parser.add_argument(
        "--dump_tensor", "--dump_all", dest="dump", help="npz of every intermediate tensor"
    )
    parser.add_argument("--save_input", help="npz of the input tensors fed to the model")
    parser.add_argument("--mlir", help="take the image preprocessing from this converted model")
    parser.add_argument("--mean", help="per-channel mean (in --raw_scale units)")
    parser.add_argument("--std", help="per-channel std")
    parser.add_argument("--scale", help="per-channel scale (instead of std)")
    parser.add_argument(
        "--raw_scale",
        type=float,
        default=255.0,
        help="pixel range after scaling 0..255 (1.0 for mean/std in 0..1)",
    )
    parser.add_argument("--input_scale", type=float, default=1.0, help="final multiplier")
    parser.add_argument(
        "--resize",
        "--resize_dims",
        dest="resize_dims",
        help="shorter side, or h,w, to resize the image to before the crop",
    )
    parser.add_argument(
        "--keep_aspect_ratio", action="store_true", help="letterbox into the h,w resize"
    )
    parser.add_argument("--channel_order", default="rgb", choices=["rgb", "bgr", "gray"])
    return parser


def _load_inputs(
    args: argparse.Namespace, model_inputs: dict[str, list[int]]
) -> dict[str, np.ndarray]:
    from ..frontend.preprocess import Preprocess, preprocess_of

    path = Path(args.input)
    if not path.is_file():
        raise ValueError(f"input file '{path}' does not exist")
    names = list(model_inputs)
    if path.suffix == ".npz":
        with np.load(path) as data:
            inputs = {name: data[name] for name in data.files}
        if len(names) == 1 and names[0] not in inputs and len(inputs) == 1:
            inputs = {names[0]: next(iter(inputs.values()))}
        return inputs
    if len(names) != 1:
        raise ValueError("an image input needs a single-input model")
    if args.mlir:
        found = preprocess_of(args.mlir)
        if names[0] not in found:
            raise ValueError(f"{args.mlir} records no preprocess for input '{names[0]}'")
        pre = found[names[0]]
    else:
        resize = _ints(args.resize_dims)
        pre = Preprocess(
            mean=_floats(args.mean) or (0.0,),
            std=_floats(args.std),
            scale=_floats(args.scale),
            raw_scale=args.raw_scale,
            input_scale=args.input_scale,
            channel_order=args.channel_order,
            resize=None
            if resize is None
            else (resize[0] if len(resize) == 1 else (resize[0], resize[1])),
            keep_aspect_ratio=args.keep_aspect_ratio,
        )
        shape = model_inputs[names[0]]
        if len(shape) == 4 and all(d > 0 for d in shape[2:]):
            pre = pre.with_input_shape(shape)
    return {names[0]: pre.apply(path)}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import onnx

        from ..frontend.onnx_reference import run_onnx_inference

        model = onnx.load(args.model)
        initializers = {i.name for i in model.graph.initializer}
        model_inputs = {
            i.name: [d.dim_value for d in i.type.tensor_type.shape.dim]
            for i in model.graph.input
            if i.name not in initializers
        }
        inputs = _load_inputs(args, model_inputs)
        tensors = run_onnx_inference(model, inputs, dump_all=bool(args.dump))
    except Exception as error:  # report any failure as a message, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 1
    outputs = {o.name: tensors[o.name] for o in model.graph.output if o.name in tensors}
    if args.output:
        np.savez(args.output, **outputs)
    if args.dump:
        np.savez(args.dump, **tensors)
    if args.save_input:
        np.savez(args.save_input, **inputs)
    for name, value in outputs.items():
        print(f"{name}: shape {list(value.shape)}")
    return 0


def console_main() -> None:
    sys.exit(main())


if __name__ == "__main__":
    console_main()

"""run_caffe_segmentation: the reference forward pass of a Caffe segmentation net (SegNet, ...),
every intermediate blob dumped, and the per-pixel classes of its output.

  run_caffe_segmentation --model_def segnet.prototxt --pretrained_model segnet.caffemodel
      --input_file camvid.png --net_input_dims 360,480 --dump_blobs segnet_blobs.npz
      --output segnet_out_fp32.npz [--colours camvid12_lut.png --draw_image out.png]

The forward pass is tpuc's numpy implementation of the Caffe layers
(tpuc.frontend.caffe_reference; not the Caffe library): the layers the Caffe frontend converts.
A net with another layer type is an error naming the layer.

Input: an npz (one array per input blob, or one array for a single-input net) or an image,
resized to --net_input_dims (h,w; default: the net's input shape), channels in
--channel_order (Caffe nets: bgr), x = pixel * raw_scale / 255 - mean, then * input_scale.
--batch_size repeats the image along the batch axis.

--dump_blobs: the inputs by blob name, then the output of every layer by layer name (the names
the converted tpu ops carry and the fp32 interpreter's dump uses), for cvi_npz_tool.py compare.
--output: the net's output blobs. The classes are the argmax over the channels of the first
output (ties: lowest class); --draw_image writes them as an image, coloured by --colours (an
image whose pixels, in row-major order, are the colours of classes 0, 1, ...) or as gray levels
(class index) without it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _floats(text: str | None) -> list[float] | None:
    return None if text is None else [float(v) for v in text.split(",")]


def _dims(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    values = [int(v) for v in text.split(",")]
    if len(values) != 2 or min(values) <= 0:
        raise ValueError(f"--net_input_dims takes h,w (two positive integers), got '{text}'")
    return values[0], values[1]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_caffe_segmentation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model_def", required=True, help="the net's prototxt")
    parser.add_argument(
        "--pretrained_model", "--pretrained", dest="pretrained", help="the net's caffemodel"
    )
    parser.add_argument("--input_file", required=True, help="npz of input blobs, or an image")
    parser.add_argument("--net_input_dims", help="h,w the image is resized to")
    parser.add_argument("--mean", help="per-channel mean (in --raw_scale units), e.g. 104,117,123")
    parser.add_argument("--raw_scale", type=float, default=255.0)
    parser.add_argument("--input_scale", type=float, default=1.0)
    parser.add_argument("--channel_order", default="bgr", choices=["rgb", "bgr", "gray"])
    parser.add_argument("--batch_size", type=int, default=1)
    parser.add_argument("--dump_blobs", help="npz of the inputs and every layer's output")
    parser.add_argument("--output", "--output_file", dest="output", help="npz of the net outputs")
    parser.add_argument("--colours", help="colour table image (class i = its i-th pixel)")
    parser.add_argument("--draw_image", help="image file of the per-pixel classes")
    return parser


def _inputs(args: argparse.Namespace, declared: dict[str, list[int]]) -> dict[str, np.ndarray]:
    from ..frontend.preprocess import Preprocess

    path = Path(args.input_file)
    if not path.is_file():
        raise ValueError(f"input file '{path}' does not exist")
    names = list(declared)
    if path.suffix == ".npz":
        with np.load(path) as data:
            inputs = {name: data[name] for name in data.files}
        if len(names) == 1 and names[0] not in inputs and len(inputs) == 1:
            inputs = {names[0]: next(iter(inputs.values()))}
        return inputs
    if len(names) != 1:
        raise ValueError(f"an image input needs a single-input net; this one has {names}")
    shape = declared[names[0]]
    dims = _dims(args.net_input_dims)
    if dims is None:
        if len(shape) != 4:
            raise ValueError("give --net_input_dims: the net declares no 4-D input shape")
        dims = (shape[2], shape[3])
    pre = Preprocess(
        mean=_floats(args.mean) or (0.0,),
        raw_scale=args.raw_scale,
        input_scale=args.input_scale,
        channel_order=args.channel_order,
        resize=dims,
    )
    x = pre.apply(path)
    if args.batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
    return {names[0]: np.repeat(x, args.batch_size, axis=0)}


def classes_of(scores: np.ndarray) -> np.ndarray:
    """Per-pixel classes [N, H, W] of an [N, C, H, W] score blob (argmax over C)."""
    if scores.ndim != 4:
        raise ValueError(f"the first output has shape {list(scores.shape)}; expected N x C x H x W")
    return np.argmax(scores, axis=1).astype(np.int32)


def colour_table(path: str | Path) -> np.ndarray:
    """The colours of classes 0, 1, ... (K x 3 uint8): the pixels of the image, row-major."""
    from ..frontend.preprocess import load_image

    pixels = np.asarray(load_image(path))
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    return pixels[:, :, :3].reshape(-1, 3).astype(np.uint8)


def draw(classes: np.ndarray, path: str | Path, colours: np.ndarray | None) -> None:
    from PIL import Image

    if colours is None:
        image = np.clip(classes, 0, 255).astype(np.uint8)
    else:
        if classes.max(initial=0) >= len(colours):
            raise ValueError(
                f"class {int(classes.max())} has no colour: the table holds {len(colours)}"
            )
        image = colours[classes]
    Image.fromarray(image).save(path)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from ..frontend.caffe_reference import CaffeReference

        for option, value in (("--model_def", args.model_def), ("--colours", args.colours)):
            if value is not None and not Path(value).is_file():
                raise ValueError(f"{option} file '{value}' does not exist")
        reference = CaffeReference(args.model_def, args.pretrained)
        net = reference.net
        declared = {name: list(shape or []) for name, shape in net.declared_inputs().items()}
        inputs = _inputs(args, declared)
        result = reference.forward(inputs)
        outputs = {name: result.blobs[name] for name in net.outputs()}
        if args.dump_blobs:
            np.savez(args.dump_blobs, **result.by_layer())
        if args.output:
            np.savez(args.output, **outputs)
        for name, value in outputs.items():
            print(f"{name}: shape {list(value.shape)}")
        first = next(iter(outputs.values()))
        if first.ndim == 4:
            classes = classes_of(first)
            counts = np.bincount(classes.reshape(-1), minlength=first.shape[1])
            present = ", ".join(f"{c}: {n}" for c, n in enumerate(counts) if n)
            print(f"classes (pixels): {present}")
            if args.draw_image:
                colours = colour_table(args.colours) if args.colours else None
                draw(classes[0], args.draw_image, colours)
        elif args.draw_image:
            raise ValueError(
                f"--draw_image needs an N x C x H x W output; '{next(iter(outputs))}' has shape "
                f"{list(first.shape)}"
            )
    except Exception as error:  # report any failure as a message, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def console_main() -> None:
    sys.exit(main())


if __name__ == "__main__":
    console_main()

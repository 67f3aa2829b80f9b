"""run_onnx_detector_yolo: run a YOLO (v3 / v3-tiny) detector ONNX model with onnxruntime, dump
every intermediate tensor, and decode the boxes of its raw heads.

  run_onnx_detector_yolo --model_def yolov3-416.onnx --net_input_dims 416,416
      --obj_threshold 0.3 --nms_threshold 0.5 --dump_blobs yolo_v3_416_blobs.npz
      --batch_size 1 --input_file dog.jpg --label_file coco-labels.txt --draw_image dog_out.jpg

Input: an npz (one array per model input, or one array for a single-input model) or an image.
An image is letterboxed into --net_input_dims (h,w; default: the model's input shape): resized
keeping its aspect ratio, centred, the rest 0 (tpuc.frontend.preprocess), RGB, pixel / 255;
--batch_size repeats it along the batch axis.

--dump_blobs: every tensor onnxruntime computes, by its ONNX name (the names the converted tpu
ops carry), plus the inputs; --output: the graph outputs plus `detections`.

Decoding (the standard YOLOv3 head; the model must end at its raw convolution outputs, each
N x A*(5 + classes) x H x W with A = 3 anchors per head): for each cell and anchor,
x = (sigmoid(tx) + col) / W * net_w, y = (sigmoid(ty) + row) / H * net_h,
w = exp(tw) * anchor_w, h = exp(th) * anchor_h, score = sigmoid(obj) * sigmoid(class);
a box is kept for every class whose score exceeds --obj_threshold, then per-class greedy
non-maximum suppression drops boxes whose IoU with a higher-scored one exceeds
--nms_threshold. The heads are matched to anchor groups by grid size (the coarsest grid gets
the largest anchors). Default anchors: YOLOv3's nine COCO anchors, or with --tiny the six of
YOLOv3-tiny; --anchors gives others (w,h pairs, smallest first, as many groups of A as heads).
Boxes are in input pixels (the original image's for an image input, the letterbox undone).
`detections` is K x 7: batch, class, score, x1, y1, x2, y2. A model whose outputs are not such
heads (already decoded boxes, YOLOv5 layouts, ...) is an error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

YOLOV3_ANCHORS = (10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326)
YOLOV3_TINY_ANCHORS = (10, 14, 23, 27, 37, 58, 81, 82, 135, 169, 344, 319)
ANCHORS_PER_HEAD = 3


def _dims(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    values = [int(v) for v in text.split(",")]
    if len(values) != 2 or min(values) <= 0:
        raise ValueError(f"--net_input_dims takes h,w (two positive integers), got '{text}'")
    return values[0], values[1]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_onnx_detector_yolo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model_def", "--model_path", "--model", dest="model", required=True)
    parser.add_argument("--input_file", required=True, help="npz of inputs by name, or an image")
    parser.add_argument("--net_input_dims", help="h,w the image is letterboxed into")
    parser.add_argument("--obj_threshold", type=float, default=0.3)
    parser.add_argument("--nms_threshold", type=float, default=0.5)
    parser.add_argument("--batch_size", type=int, default=1)
    parser.add_argument("--dump_blobs", help="npz of every intermediate tensor")
    parser.add_argument("--output", "--output_file", dest="output",
                        help="npz of the graph outputs and the detections")  # fmt: skip
    parser.add_argument("--tiny", action="store_true", help="YOLOv3-tiny anchors (two heads)")
    parser.add_argument("--anchors", help="w,h pairs, smallest first (overrides the defaults)")
    parser.add_argument("--label_file", help="class names, one a line")
    parser.add_argument("--draw_image", help="the input image with the boxes drawn")
    return parser


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


def decode_heads(
    heads: Sequence[np.ndarray],
    anchors: Sequence[float],
    net_hw: tuple[int, int],
    obj_threshold: float,
) -> list[np.ndarray]:
    """Candidate boxes of each batch item: K x 6 (class, score, x1, y1, x2, y2) in net input
    pixels, before NMS."""
    if not heads:
        raise ValueError("the model has no outputs")
    for head in heads:
        if head.ndim != 4 or head.shape[1] % ANCHORS_PER_HEAD or head.shape[1] // 3 < 6:
            raise ValueError(
                f"output of shape {list(head.shape)} is not a raw YOLO head "
                f"(N x {ANCHORS_PER_HEAD}*(5 + classes) x H x W)"
            )
    if len(anchors) != 2 * ANCHORS_PER_HEAD * len(heads):
        raise ValueError(
            f"{len(heads)} heads need {2 * ANCHORS_PER_HEAD * len(heads)} anchor values "
            f"({ANCHORS_PER_HEAD} w,h pairs each), got {len(anchors)}"
        )
    classes = {head.shape[1] // ANCHORS_PER_HEAD - 5 for head in heads}
    if len(classes) != 1:
        raise ValueError(f"the heads disagree on the number of classes: {sorted(classes)}")
    # Finest grid first: it takes the smallest anchors.
    order = sorted(range(len(heads)), key=lambda i: -heads[i].shape[2] * heads[i].shape[3])
    pairs = np.asarray(anchors, np.float64).reshape(len(heads), ANCHORS_PER_HEAD, 2)
    net_h, net_w = net_hw
    batch = heads[0].shape[0]
    found: list[list[np.ndarray]] = [[] for _ in range(batch)]
    for group, index in enumerate(order):
        head = heads[index]
        n, _, grid_h, grid_w = head.shape
        p = head.reshape(n, ANCHORS_PER_HEAD, -1, grid_h, grid_w).astype(np.float64)
        rows, cols = np.meshgrid(np.arange(grid_h), np.arange(grid_w), indexing="ij")
        x = (sigmoid(p[:, :, 0]) + cols) / grid_w * net_w
        y = (sigmoid(p[:, :, 1]) + rows) / grid_h * net_h
        w = np.exp(p[:, :, 2]) * pairs[group, :, 0].reshape(1, -1, 1, 1)
        h = np.exp(p[:, :, 3]) * pairs[group, :, 1].reshape(1, -1, 1, 1)
        scores = sigmoid(p[:, :, 4:5]) * sigmoid(p[:, :, 5:])  # n, A, C, H, W
        for b in range(n):
            a, c, i, j = np.nonzero(scores[b] > obj_threshold)
            if len(a) == 0:
                continue
            cx, cy, bw, bh = x[b, a, i, j], y[b, a, i, j], w[b, a, i, j], h[b, a, i, j]
            found[b].append(
                np.stack(
                    [c, scores[b, a, c, i, j], cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2],
                    axis=1,
                )
            )
    return [np.concatenate(f) if f else np.zeros((0, 6)) for f in found]


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], others[:, 0])
    y1 = np.maximum(box[1], others[:, 1])
    x2 = np.minimum(box[2], others[:, 2])
    y2 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def nms(candidates: np.ndarray, nms_threshold: float) -> np.ndarray:
    """Per-class greedy NMS of K x 6 boxes (class, score, x1, y1, x2, y2), highest score first
    (ties: earlier candidate first)."""
    kept = []
    for cls in np.unique(candidates[:, 0]):
        boxes = candidates[candidates[:, 0] == cls]
        boxes = boxes[np.argsort(-boxes[:, 1], kind="stable")]
        while len(boxes):
            kept.append(boxes[0])
            boxes = boxes[1:][iou(boxes[0, 2:], boxes[1:, 2:]) <= nms_threshold]
    if not kept:
        return np.zeros((0, 6))
    result = np.stack(kept)
    return result[np.argsort(-result[:, 1], kind="stable")]


def _load_inputs(
    args: argparse.Namespace, model_inputs: dict[str, list[int]]
) -> tuple[dict[str, np.ndarray], tuple[int, int], Path | None]:
    """Inputs by name, the net input h,w, and the image path (None for an npz)."""
    from ..frontend.preprocess import Preprocess

    path = Path(args.input_file)
    if not path.is_file():
        raise ValueError(f"input file '{path}' does not exist")
    names = list(model_inputs)
    dims = _dims(args.net_input_dims)
    if path.suffix == ".npz":
        with np.load(path) as data:
            inputs = {name: data[name] for name in data.files}
        if len(names) == 1 and names[0] not in inputs and len(inputs) == 1:
            inputs = {names[0]: next(iter(inputs.values()))}
        first = np.asarray(inputs.get(names[0], next(iter(inputs.values()))))
        if dims is None:
            if first.ndim != 4:
                raise ValueError("give --net_input_dims: the first input is not N x C x H x W")
            dims = (first.shape[2], first.shape[3])
        return inputs, dims, None
    if len(names) != 1:
        raise ValueError(f"an image input needs a single-input model; this one has {names}")
    shape = model_inputs[names[0]]
    if dims is None:
        if len(shape) != 4 or min(shape[2:]) <= 0:
            raise ValueError("give --net_input_dims: the model's input has no static H x W")
        dims = (shape[2], shape[3])
    if args.batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
    pre = Preprocess(raw_scale=1.0, resize=dims, keep_aspect_ratio=True, channel_order="rgb")
    x = pre.apply(path)
    return {names[0]: np.repeat(x, args.batch_size, axis=0)}, dims, path


def undo_letterbox(boxes: np.ndarray, image_hw: tuple[int, int], net_hw: tuple[int, int]) -> None:
    """Maps x1, y1, x2, y2 (columns 3..6 of K x 7 detections) from the letterboxed net input
    back to the image (the inverse of tpuc.frontend.preprocess.letterbox), in place."""
    in_h, in_w = image_hw
    ratio = min(net_hw[0] / in_h, net_hw[1] / in_w)
    fit_h, fit_w = max(1, int(round(in_h * ratio))), max(1, int(round(in_w * ratio)))
    top, left = (net_hw[0] - fit_h) // 2, (net_hw[1] - fit_w) // 2
    boxes[:, [3, 5]] = np.clip((boxes[:, [3, 5]] - left) * in_w / fit_w, 0, in_w)
    boxes[:, [4, 6]] = np.clip((boxes[:, [4, 6]] - top) * in_h / fit_h, 0, in_h)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import onnx

        from ..frontend.onnx_reference import run_onnx_inference
        from ..frontend.preprocess import load_image

        if not Path(args.model).is_file():
            raise ValueError(f"model file '{args.model}' does not exist")
        model = onnx.load(args.model)
        initializers = {i.name for i in model.graph.initializer}
        model_inputs = {
            i.name: [d.dim_value for d in i.type.tensor_type.shape.dim]
            for i in model.graph.input
            if i.name not in initializers
        }
        labels = None
        if args.label_file:
            labels = [line.strip() for line in Path(args.label_file).read_text().splitlines()]
        inputs, net_hw, image = _load_inputs(args, model_inputs)
        tensors = run_onnx_inference(model, inputs, dump_all=True)
        outputs = {o.name: tensors[o.name] for o in model.graph.output}
        if args.anchors:
            anchors = [float(v) for v in args.anchors.split(",")]
        else:
            anchors = list(YOLOV3_TINY_ANCHORS if args.tiny else YOLOV3_ANCHORS)
        heads = list(outputs.values())
        candidates = decode_heads(heads, anchors, net_hw, args.obj_threshold)
        rows = []
        for b, boxes in enumerate(candidates):
            for box in nms(boxes, args.nms_threshold):
                rows.append([b, *box])
        detections = np.asarray(rows, np.float32).reshape(-1, 7)
        pixels = None
        if image is not None:
            pixels = load_image(image)
            undo_letterbox(detections, pixels.shape[:2], net_hw)
    except Exception as error:  # report any failure as a message, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.dump_blobs:
        np.savez(args.dump_blobs, **tensors)
    if args.output:
        np.savez(args.output, **outputs, detections=detections)
    for b, cls, score, x1, y1, x2, y2 in detections.tolist():
        c = int(cls)
        name = labels[c] if labels and c < len(labels) else f"class {c}"
        print(f"[{int(b)}] {name}: {score:.3f} ({x1:.1f}, {y1:.1f}, {x2:.1f}, {y2:.1f})")
    print(f"{len(detections)} detection(s)")
    if args.draw_image:
        if pixels is None:
            print("error: --draw_image needs an image --input_file", file=sys.stderr)
            return 1
        from PIL import Image, ImageDraw

        canvas = Image.fromarray(np.asarray(pixels, np.uint8)[:, :, :3])
        pen = ImageDraw.Draw(canvas)
        for b, cls, score, x1, y1, x2, y2 in detections.tolist():
            if int(b) != 0:
                continue
            c = int(cls)
            name = labels[c] if labels and c < len(labels) else str(c)
            pen.rectangle([x1, y1, x2, y2], outline=(255, 0, 0), width=2)
            pen.text((x1 + 2, y1 + 2), f"{name} {score:.2f}", fill=(255, 0, 0))
        canvas.save(args.draw_image)
    return 0


def console_main() -> None:
    sys.exit(main())


if __name__ == "__main__":
    console_main()

"""A numpy forward pass of Caffe nets (the layers CaffeConverter supports), following Caffe's
own layer code: the reference of the Caffe frontend's tests and of layer-by-layer checks.

    result = caffe_forward("net.prototxt", "net.caffemodel", {"data": x})
    result.by_layer()        # layer name -> its first top after the layer (+ the inputs)
    result.blobs["prob"]     # final blob values

    report = compare_with_caffe(converter, {"data": x})   # fp32 interpreter vs this reference
    assert report.passed

Max Pooling with two tops writes Caffe's argmax mask (index h * W + w of the first maximum of
each window, as float); Upsample with a mask bottom scatters into a zero top (SegNet's layer).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .caffe_converter import (
    CaffeConverter,
    CaffeLayer,
    _hw,
    caffe_permute_order,
    caffe_reshape,
    caffe_upsample_size,
    load_caffe_net,
)
from .onnx_converter import ConversionError, UnsupportedOpError

LayerFunction = Callable[[CaffeLayer, list[np.ndarray]], list[np.ndarray]]


@dataclass
class CaffeForward:
    """The tops of every layer (`layers`: layer name -> list of top values), the final value
    of every blob (`blobs`) and the inputs."""

    inputs: dict[str, np.ndarray]
    layers: dict[str, list[np.ndarray]] = field(default_factory=dict)
    blobs: dict[str, np.ndarray] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def by_layer(self) -> dict[str, np.ndarray]:
        """Inputs by blob name, then each layer's first top by layer name."""
        result = dict(self.inputs)
        for name in self.order:
            result[name] = self.layers[name][0]
        return result


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: Sequence[int],
    pad: Sequence[int],
    dilation: Sequence[int],
    group: int,
) -> np.ndarray:
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (h + 2 * pad[0] - (dilation[0] * (kh - 1) + 1)) // stride[0] + 1
    ow = (wd + 2 * pad[1] - (dilation[1] * (kw - 1) + 1)) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    og = o // group
    for g in range(group):
        xg = xp[:, g * cg : (g + 1) * cg]
        wg = w[g * og : (g + 1) * og].astype(np.float64)
        for i in range(kh):
            for j in range(kw):
                y0, x0 = i * dilation[0], j * dilation[1]
                patch = xg[
                    :,
                    :,
                    y0 : y0 + stride[0] * (oh - 1) + 1 : stride[0],
                    x0 : x0 + stride[1] * (ow - 1) + 1 : stride[1],
                ]
                out[:, g * og : (g + 1) * og] += np.einsum("nchw,oc->nohw", patch, wg[:, :, i, j])
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return _f32(out)


def deconv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: Sequence[int],
    pad: Sequence[int],
    dilation: Sequence[int],
    group: int,
) -> np.ndarray:
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    full_h = (h - 1) * stride[0] + dilation[0] * (kh - 1) + 1
    full_w = (wd - 1) * stride[1] + dilation[1] * (kw - 1) + 1
    full = np.zeros((n, og * group, full_h, full_w))
    cg = c // group
    for g in range(group):
        xg = x[:, g * cg : (g + 1) * cg].astype(np.float64)
        wg = w[g * cg : (g + 1) * cg].astype(np.float64)
        for i in range(kh):
            for j in range(kw):
                y0, x0 = i * dilation[0], j * dilation[1]
                full[
                    :,
                    g * og : (g + 1) * og,
                    y0 : y0 + stride[0] * (h - 1) + 1 : stride[0],
                    x0 : x0 + stride[1] * (wd - 1) + 1 : stride[1],
                ] += np.einsum("nchw,co->nohw", xg, wg[:, :, i, j])
    out = full[:, :, pad[0] : full_h - pad[0], pad[1] : full_w - pad[1]]
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return _f32(out)


def pool2d(
    x: np.ndarray,
    method: int,
    kernel: Sequence[int],
    stride: Sequence[int],
    pad: Sequence[int],
    ceil: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Caffe's PoolingLayer forward (MAX = 0 with its argmax mask, AVE = 1)."""
    n, c, h, w = x.shape
    sizes = []
    for i, size in enumerate((h, w)):
        span = size + 2 * pad[i] - kernel[i]
        out = (int(math.ceil(span / stride[i])) if ceil else span // stride[i]) + 1
        if (pad[0] or pad[1]) and (out - 1) * stride[i] >= size + pad[i]:
            out -= 1
        sizes.append(out)
    oh, ow = sizes
    top = np.zeros((n, c, oh, ow), np.float32)
    mask = np.full((n, c, oh, ow), -1.0, np.float32)
    for ph in range(oh):
        for pw in range(ow):
            hs, ws = ph * stride[0] - pad[0], pw * stride[1] - pad[1]
            he, we = min(hs + kernel[0], h + pad[0]), min(ws + kernel[1], w + pad[1])
            count = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            window = x[:, :, hs:he, ws:we].astype(np.float64)
            if method == 0:
                if he <= hs or we <= ws:
                    top[:, :, ph, pw] = -np.finfo(np.float32).max
                    continue
                flat = window.reshape(n, c, -1)
                arg = np.argmax(flat, axis=2)  # the first maximum, as Caffe's strict '>'
                top[:, :, ph, pw] = np.take_along_axis(flat, arg[..., None], 2)[..., 0]
                width = we - ws
                mask[:, :, ph, pw] = (hs + arg // width) * w + (ws + arg % width)
            else:
                top[:, :, ph, pw] = window.sum(axis=(2, 3)) / count
    return top, mask


def unpool(
    x: np.ndarray, mask: np.ndarray, out_hw: Sequence[int], what: str = "Upsample"
) -> np.ndarray:
    """SegNet's Upsample with a mask: top[mask[i]] = bottom[i] per plane, zeros elsewhere."""
    n, c, h, w = x.shape
    size = int(out_hw[0]) * int(out_hw[1])
    idx = mask.reshape(n * c, h * w).astype(np.int64)
    if idx.min(initial=0) < 0 or idx.max(initial=0) >= size:
        raise ValueError(f"{what}: mask index out of the {list(out_hw)} top")
    top = np.zeros((n * c, size), np.float32)
    rows = np.repeat(np.arange(n * c), h * w)
    top[rows, idx.reshape(-1)] = x.reshape(-1)
    return top.reshape(n, c, int(out_hw[0]), int(out_hw[1]))


def unpool_from_source(
    y: np.ndarray, source: np.ndarray, params: Mapping[str, Any], out_hw: Sequence[int]
) -> np.ndarray:
    """Unpooling given the pooling's input instead of the mask (the form CaffeConverter passes
    to an unpooling custom op): recomputes Caffe's argmax with the pooling geometry
    (kernel_h/w, stride_h/w, pad_h/w, ceil_mode) and scatters `y`."""
    kernel = [int(params["kernel_h"]), int(params["kernel_w"])]
    stride = [int(params["stride_h"]), int(params["stride_w"])]
    pad = [int(params["pad_h"]), int(params["pad_w"])]
    _, mask = pool2d(source, 0, kernel, stride, pad, bool(params.get("ceil_mode", 1)))
    if mask.shape != y.shape:
        raise ValueError(f"unpooling: pooled shape {list(mask.shape)} != input {list(y.shape)}")
    return unpool(y, mask, out_hw)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    z = x.astype(np.float64)
    z = np.exp(z - z.max(axis=axis, keepdims=True))
    return _f32(z / z.sum(axis=axis, keepdims=True))


def _axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


class CaffeReference:
    """Runs the TEST-phase layers of a net (parsed as CaffeConverter parses it) in numpy."""

    def __init__(self, prototxt: str | Path, caffemodel: str | Path | None) -> None:
        self.net = load_caffe_net(prototxt, caffemodel)
        self.layers = self.net.layers
        self.functions: dict[str, LayerFunction] = {
            "BatchNorm": self.batch_norm,
            "Concat": self.concat,
            "Convolution": self.convolution,
            "Deconvolution": self.deconvolution,
            "Dropout": self.identity,
            "Eltwise": self.eltwise,
            "Flatten": self.flatten,
            "InnerProduct": self.inner_product,
            "Input": self.input,
            "LRN": self.lrn,
            "Permute": self.permute,
            "Pooling": self.pooling,
            "PReLU": self.prelu,
            "ReLU": self.relu,
            "Reshape": self.reshape,
            "Scale": self.scale,
            "Sigmoid": lambda lay, x: [_f32(1 / (1 + np.exp(-x[0].astype(np.float64))))],
            "Softmax": self.softmax,
            "TanH": lambda lay, x: [_f32(np.tanh(x[0]))],
            "Upsample": self.upsample,
        }

    def forward(self, inputs: Mapping[str, np.ndarray]) -> CaffeForward:
        declared = self.net.declared_inputs()
        missing = [name for name in declared if name not in inputs]
        if missing:
            raise ValueError(f"missing input(s) {missing}; given {sorted(inputs)}")
        result = CaffeForward({name: _f32(inputs[name]) for name in declared})
        blobs = dict(result.inputs)
        for layer in self.layers:
            fn = self.functions.get(layer.type)
            if fn is None:
                raise UnsupportedOpError(f"{layer.describe()}: no reference for '{layer.type}'")
            bottoms = [blobs[b] for b in layer.bottom]
            tops = fn(layer, bottoms) if layer.type != "Input" else [blobs[t] for t in layer.top]
            if len(tops) != len(layer.top):
                raise ConversionError(
                    f"{layer.describe()}: {len(layer.top)} tops, the layer makes {len(tops)}"
                )
            for name, value in zip(layer.top, tops, strict=True):
                blobs[name] = value
            result.layers[layer.name] = tops
            result.order.append(layer.name)
        result.blobs = blobs
        return result

    # -- layers ----------------------------------------------------------------------------

    def input(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        return []

    def identity(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        return [x[0]]

    def _conv_params(self, layer: CaffeLayer) -> tuple[Any, ...]:
        p = layer.convolution_param
        what = layer.describe()
        kernel = _hw(p, "kernel_size", "kernel_h", "kernel_w", None, what)
        stride = _hw(p, "stride", "stride_h", "stride_w", 1, what)
        pad = _hw(p, "pad", "pad_h", "pad_w", 0, what)
        dilation = [int(d) for d in p.dilation] or [1]
        dilation = dilation * 2 if len(dilation) == 1 else dilation
        bias = layer.blobs[1].reshape(-1) if p.bias_term else None
        return kernel, stride, pad, dilation, int(p.group), bias

    def convolution(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        kernel, stride, pad, dilation, group, bias = self._conv_params(layer)
        o = int(layer.convolution_param.num_output)
        w = layer.blobs[0].reshape(o, x[0].shape[1] // group, kernel[0], kernel[1])
        return [conv2d(x[0], w, bias, stride, pad, dilation, group)]

    def deconvolution(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        kernel, stride, pad, dilation, group, bias = self._conv_params(layer)
        o = int(layer.convolution_param.num_output)
        w = layer.blobs[0].reshape(x[0].shape[1], o // group, kernel[0], kernel[1])
        return [deconv2d(x[0], w, bias, stride, pad, dilation, group)]

    def batch_norm(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        mean, var, factor = (b.reshape(-1).astype(np.float64) for b in layer.blobs[:3])
        f = 0.0 if factor[0] == 0 else 1.0 / factor[0]
        shape = [1, -1] + [1] * (x[0].ndim - 2)
        eps = float(layer.batch_norm_param.eps)
        y = (x[0] - (mean * f).reshape(shape)) / np.sqrt((var * f).reshape(shape) + eps)
        return [_f32(y)]

    def scale(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        p = layer.scale_param
        axis = _axis(p.axis, x[0].ndim)
        s = x[1] if len(x) == 2 else layer.blobs[0]
        if s.size == 1:
            s = s.reshape(())
        full = [1] * axis + list(s.shape) + [1] * (x[0].ndim - axis - s.ndim)
        y = x[0].astype(np.float64) * s.reshape(full)
        if p.bias_term and len(x) == 1:
            y = y + layer.blobs[1].reshape(full)
        return [_f32(y)]

    def relu(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        slope = float(layer.relu_param.negative_slope)
        return [_f32(np.where(x[0] > 0, x[0], x[0] * np.float32(slope)))]

    def prelu(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        slope = layer.blobs[0].reshape(-1)
        slope = np.broadcast_to(slope, (x[0].shape[1],)).reshape([1, -1] + [1] * (x[0].ndim - 2))
        return [_f32(np.where(x[0] > 0, x[0], x[0] * slope))]

    def pooling(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        p = layer.pooling_param
        what = layer.describe()
        if p.global_pooling:
            kernel, stride, pad = list(x[0].shape[2:]), [1, 1], [0, 0]
        else:
            kernel = _hw(p, "kernel_size", "kernel_h", "kernel_w", None, what)
            stride = _hw(p, "stride", "stride_h", "stride_w", 1, what)
            pad = _hw(p, "pad", "pad_h", "pad_w", 0, what)
        top, mask = pool2d(x[0], int(p.pool), kernel, stride, pad, p.round_mode == 0)
        return [top, mask][: len(layer.top)]

    def lrn(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        p = layer.lrn_param
        size = int(p.local_size)
        sq = np.pad(
            x[0].astype(np.float64) ** 2, ((0, 0), ((size - 1) // 2, size // 2), (0, 0), (0, 0))
        )
        window = sum(sq[:, i : i + x[0].shape[1]] for i in range(size))
        scale = float(p.k) + float(p.alpha) / size * window
        return [_f32(x[0] * scale ** -float(p.beta))]

    def inner_product(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        p = layer.inner_product_param
        axis = _axis(p.axis, x[0].ndim)
        shape = x[0].shape
        rows, depth = int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))
        o = int(p.num_output)
        w = layer.blobs[0].reshape((depth, o) if p.transpose else (o, depth)).astype(np.float64)
        y = x[0].reshape(rows, depth).astype(np.float64) @ (w if p.transpose else w.T)
        if p.bias_term:
            y = y + layer.blobs[1].reshape(1, -1)
        return [_f32(y.reshape(list(shape[:axis]) + [o]))]

    def eltwise(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        p = layer.eltwise_param
        if p.operation == 0:
            y = np.prod(np.stack([v.astype(np.float64) for v in x]), axis=0)
        elif p.operation == 2:
            y = np.max(np.stack(x), axis=0)
        else:
            coeff = [float(c) for c in p.coeff] or [1.0] * len(x)
            y = sum(c * v.astype(np.float64) for c, v in zip(coeff, x, strict=True))
        return [_f32(y)]

    def concat(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        p = layer.concat_param
        axis = p.concat_dim if p.has("concat_dim") and not p.has("axis") else p.axis
        return [np.concatenate(x, axis=_axis(axis, x[0].ndim))]

    def softmax(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        return [_softmax(x[0], _axis(layer.softmax_param.axis, x[0].ndim))]

    def flatten(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        p = layer.flatten_param
        shape = x[0].shape
        a, e = _axis(p.axis, len(shape)), _axis(p.end_axis, len(shape))
        return [x[0].reshape(list(shape[:a]) + [-1] + list(shape[e + 1 :]))]

    def reshape(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        return [x[0].reshape(caffe_reshape(x[0].shape, layer.reshape_param, layer.describe()))]

    def permute(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        order = caffe_permute_order(
            [int(o) for o in layer.permute_param.order], x[0].ndim, layer.describe()
        )
        return [np.ascontiguousarray(np.transpose(x[0], order))]

    def upsample(self, layer: CaffeLayer, x: list[np.ndarray]) -> list[np.ndarray]:
        size, scale = caffe_upsample_size(layer.upsample_param, x[0].shape, layer.describe())
        if len(x) == 2:
            return [unpool(x[0], x[1], size, layer.describe())]
        y = np.repeat(np.repeat(x[0], scale[0], axis=2), scale[1], axis=3)
        return [np.ascontiguousarray(y[:, :, : size[0], : size[1]])]


def caffe_forward(
    prototxt: str | Path, caffemodel: str | Path | None, inputs: Mapping[str, np.ndarray]
) -> CaffeForward:
    """The numpy forward pass of a Caffe net on `inputs` (blob name -> array)."""
    return CaffeReference(prototxt, caffemodel).forward(inputs)


def compare_with_caffe(
    converter: CaffeConverter,
    inputs: Mapping[str, np.ndarray],
    *,
    tolerance: Sequence[float] = (0.9999, 0.9999, 0.999),
    custom_ops: Mapping[str, Any] | None = None,
    custom_op_plugins: Sequence[str] = (),
) -> Any:
    """Runs the converted module (converter.mlir_file) with the fp32 interpreter (with the
    given custom-op functions or plugins) and the numpy reference of the Caffe net on `inputs`;
    returns the tpuc.tools.npz_compare.CompareReport over the layers both produce, in net order.
    A layer converted to a custom op named `<layer>_<type>` (the guide's convention) pairs
    with its layer."""
    from .. import interpreter
    from ..tools.npz_compare import compare_npz

    ours = interpreter.run(
        str(converter.mlir_file),
        dict(inputs),
        dump_all=True,
        custom_ops=custom_ops,
        custom_op_plugins=custom_op_plugins,
    )
    reference = caffe_forward(converter.prototxt, converter.caffemodel, inputs)
    expected = reference.by_layer()
    for layer in converter.layers:
        alias = f"{layer.name}_{layer.type}"
        if layer.name not in ours and alias in ours:
            ours[layer.name] = ours.pop(alias)
    order = list(reference.inputs) + reference.order
    return compare_npz(ours, expected, names=order, tolerance=tolerance)


def main(argv: Sequence[str] | None = None) -> int:
    """python -m tpuc.frontend.caffe_reference --model_def m.prototxt --pretrained m.caffemodel
    --input_file in.npz [--output_file out.npz] [--dump_blobs all.npz]: runs the numpy
    reference; out.npz holds the net outputs, all.npz every layer's output by layer name (the
    names the fp32 interpreter's dump uses) plus the inputs."""
    import argparse

    from .caffe_converter import load_caffe_net

    parser = argparse.ArgumentParser(prog="python -m tpuc.frontend.caffe_reference")
    parser.add_argument("--model_def", required=True)
    parser.add_argument("--pretrained", "--model_data", dest="model_data")
    parser.add_argument("--input_file", required=True, help="npz of the input blobs")
    parser.add_argument("--output_file")
    parser.add_argument("--dump_blobs")
    args = parser.parse_args(argv)
    try:
        with np.load(args.input_file) as data:
            inputs = {name: data[name] for name in data.files}
        result = caffe_forward(args.model_def, args.model_data, inputs)
        if args.output_file:
            outputs = load_caffe_net(args.model_def, None).outputs()
            np.savez(args.output_file, **{name: result.blobs[name] for name in outputs})
        if args.dump_blobs:
            np.savez(args.dump_blobs, **result.by_layer())
    except (ConversionError, ValueError, OSError) as error:
        print(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

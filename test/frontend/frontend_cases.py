"""Tiny ONNX graphs, one or more per converter method, built with onnx.helper."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(1234)


def rand(*shape: int, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    return RNG.uniform(low, high, size=shape).astype(np.float32)


def make_model(
    nodes: Sequence[onnx.NodeProto],
    inputs: Mapping[str, Sequence[int | str]],
    outputs: Sequence[str],
    inits: Mapping[str, np.ndarray] | None = None,
    opset: int = 13,
) -> onnx.ModelProto:
    graph = helper.make_graph(
        list(nodes),
        "case",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(np.asarray(v), n) for n, v in (inits or {}).items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return with_output_shapes(model)


def with_output_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    """Fills the graph outputs' types from onnx shape inference (the checker wants them)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # models that shape inference rejects stay as they are
        return model
    known = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for out in model.graph.output:
        info = known.get(out.name)
        if info is not None and info.type.tensor_type.HasField("shape"):
            out.type.CopyFrom(info.type)
        elif not out.type.tensor_type.HasField("shape"):
            out.type.tensor_type.shape.dim.add().dim_param = "unknown"
    return model


def node(op: str, inputs: Sequence[str], outputs: Sequence[str], **attrs: object) -> onnx.NodeProto:
    return helper.make_node(op, list(inputs), list(outputs), name=f"{op}_{outputs[0]}", **attrs)


def const_node(name: str, value: np.ndarray) -> onnx.NodeProto:
    return helper.make_node(
        "Constant",
        [],
        [name],
        name=f"const_{name}",
        value=numpy_helper.from_array(np.asarray(value), name),
    )


@dataclass
class Case:
    model: onnx.ModelProto
    expect: set[str]  # tpu op names that must appear
    positive: bool = False  # feed strictly positive inputs
    absent: set[str] = field(default_factory=set)  # tpu op names that must not appear


X = {"x": [1, 4, 8, 8]}


def unary(op: str, expect: str, opset: int = 13, positive: bool = False, **attrs: object) -> Case:
    return Case(
        make_model([node(op, ["x"], ["y"], **attrs)], X, ["y"], opset=opset), {expect}, positive
    )


def conv(
    w_shape: Sequence[int],
    in_shape: Sequence[int] = (1, 4, 8, 8),
    bias: bool = True,
    **attrs: object,
) -> Case:
    inits = {"w": rand(*w_shape)}
    ins = ["x", "w"]
    if bias:
        inits["b"] = rand(w_shape[0])
        ins.append("b")
    return Case(
        make_model([node("Conv", ins, ["y"], **attrs)], {"x": in_shape}, ["y"], inits),
        {"tpu.conv_2d", "tpu.load_weight"},
    )


def deconv(w_shape: Sequence[int], **attrs: object) -> Case:
    inits = {"w": rand(*w_shape), "b": rand(w_shape[1] * int(attrs.get("group", 1)))}
    return Case(
        make_model([node("ConvTranspose", ["x", "w", "b"], ["y"], **attrs)], X, ["y"], inits),
        {"tpu.deconv_2d"},
    )


def binary(
    op: str,
    a: Sequence[int] | np.ndarray,
    b: Sequence[int] | np.ndarray,
    expect: set[str],
    absent: set[str] | None = None,
    positive: bool = False,
) -> Case:
    """a / b: a shape (an input) or an array (a constant)."""
    inputs, inits, names = {}, {}, []
    for key, spec in (("a", a), ("b", b)):
        if isinstance(spec, np.ndarray):
            inits[key] = spec
        else:
            inputs[key] = list(spec)
        names.append(key)
    return Case(
        make_model([node(op, names, ["y"])], inputs, ["y"], inits),
        expect,
        positive,
        absent or set(),
    )


def pool(op: str, expect: str, in_shape: Sequence[int] = (1, 4, 9, 9), **attrs: object) -> Case:
    return Case(make_model([node(op, ["x"], ["y"], **attrs)], {"x": in_shape}, ["y"]), {expect})


def resize(
    opset: int = 13,
    scales: Sequence[float] | None = None,
    sizes: Sequence[int] | None = None,
    **attrs: object,
) -> onnx.ModelProto:
    inits = {"roi": np.zeros(0, np.float32)}
    ins = ["x", "roi"]
    if scales is not None:
        inits["scales"] = np.asarray(scales, np.float32)
        ins.append("scales")
    else:
        inits["scales"] = np.zeros(0, np.float32)
        inits["sizes"] = np.asarray(sizes, np.int64)
        ins += ["scales", "sizes"]
    return make_model([node("Resize", ins, ["y"], **attrs)], X, ["y"], inits, opset=opset)


def _silu() -> Case:
    nodes = [
        node("Conv", ["x", "w"], ["c"]),
        node("Sigmoid", ["c"], ["s"]),
        node("Mul", ["c", "s"], ["y"]),
    ]
    return Case(
        make_model(nodes, X, ["y"], {"w": rand(4, 4, 1, 1)}),
        {"tpu.silu"},
        absent={"tpu.sigmoid", "tpu.eltwise_mul"},
    )


def _silu_shared_sigmoid() -> Case:
    nodes = [node("Sigmoid", ["x"], ["s"]), node("Mul", ["s", "x"], ["y"])]
    return Case(make_model(nodes, X, ["y", "s"]), {"tpu.silu", "tpu.sigmoid"})


def _hard_swish_pattern() -> Case:
    nodes = [
        node("HardSigmoid", ["x"], ["h"], alpha=1.0 / 6, beta=0.5),
        node("Mul", ["x", "h"], ["y"]),
    ]
    return Case(make_model(nodes, X, ["y"]), {"tpu.hard_swish"}, absent={"tpu.hard_sigmoid"})


def _hard_swish_decomposed(final: str) -> Case:
    """x * clip(x + 3, 0, 6) / 6 as PaddlePaddle exports it (constants as Constant nodes)."""
    nodes = [
        const_node("three", np.asarray(3.0, np.float32)),
        const_node("zero", np.asarray(0.0, np.float32)),
        const_node("six", np.asarray(6.0, np.float32)),
        const_node("sixth", np.asarray(1.0 / 6.0, np.float32)),
        node("Add", ["x", "three"], ["a"]),
        node("Clip", ["a", "zero", "six"], ["c"]),
        node("Mul", ["x", "c"], ["m"]),
        node(final, ["m", "six" if final == "Div" else "sixth"], ["y"]),
    ]
    return Case(
        make_model(nodes, X, ["y"]),
        {"tpu.hard_swish"},
        absent={"tpu.clip", "tpu.scale", "tpu.eltwise_mul"},
    )


def _mish_pattern() -> Case:
    nodes = [
        node("Softplus", ["x"], ["sp"]),
        node("Tanh", ["sp"], ["t"]),
        node("Mul", ["x", "t"], ["y"]),
    ]
    return Case(make_model(nodes, X, ["y"]), {"tpu.mish"}, absent={"tpu.tanh"})


def _normalize_pattern() -> Case:
    nodes = [
        node("ReduceL2", ["x"], ["n"], axes=[1], keepdims=1),
        node("Clip", ["n", "eps"], ["nc"]),
        node("Shape", ["x"], ["shape"]),
        node("Expand", ["nc", "shape"], ["ne"]),
        node("Div", ["x", "ne"], ["y"]),
    ]
    return Case(
        make_model(nodes, X, ["y"], {"eps": np.asarray(1e-12, np.float32)}), {"tpu.normalize"}
    )


def _normalize_sqrt_pattern() -> Case:
    """Caffe-style Normalize: x / sqrt(sum(x^2) + eps) * scale[c]."""
    nodes = [
        node("Pow", ["x", "two"], ["sq"]),
        node("ReduceSum", ["sq", "ax"], ["ss"], keepdims=1),
        node("Add", ["ss", "eps"], ["se"]),
        node("Sqrt", ["se"], ["n"]),
        node("Div", ["x", "n"], ["d"]),
        node("Mul", ["d", "s"], ["y"]),
    ]
    inits = {
        "two": np.asarray(2.0, np.float32),
        "ax": np.asarray([1], np.int64),
        "eps": np.asarray(1e-10, np.float32),
        "s": rand(1, 4, 1, 1),
    }
    return Case(
        make_model(nodes, X, ["y"], inits),
        {"tpu.normalize", "tpu.scale"},
        absent={"tpu.power", "tpu.sqrt", "tpu.reciprocal"},
    )


def _shuffle_channel() -> Case:
    nodes = [
        node("Reshape", ["x", "s5"], ["g"]),
        node("Transpose", ["g"], ["t"], perm=[0, 2, 1, 3, 4]),
        node("Reshape", ["t", "s4"], ["y"]),
    ]
    inits = {"s5": np.asarray([1, 2, 2, 8, 8], np.int64), "s4": np.asarray([1, -1, 8, 8], np.int64)}
    return Case(
        make_model(nodes, X, ["y"], inits),
        {"tpu.shuffle_channel"},
        absent={"tpu.permute", "tpu.reshape"},
    )


def _lp_normalization() -> Case:
    return Case(
        make_model([node("LpNormalization", ["x"], ["y"], axis=1, p=2)], X, ["y"]),
        {"tpu.normalize"},
    )


def _batchnorm() -> Case:
    inits = {"s": rand(4), "b": rand(4), "m": rand(4), "v": rand(4, low=0.5, high=2.0)}
    return Case(
        make_model(
            [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)],
            X,
            ["y"],
            inits,
        ),
        {"tpu.batch_norm"},
    )


def _clip13() -> Case:
    inits = {"lo": np.asarray(0.0, np.float32), "hi": np.asarray(0.5, np.float32)}
    return Case(make_model([node("Clip", ["x", "lo", "hi"], ["y"])], X, ["y"], inits), {"tpu.clip"})


def _clip13_max_only() -> Case:
    inits = {"hi": np.asarray(0.5, np.float32)}
    return Case(make_model([node("Clip", ["x", "", "hi"], ["y"])], X, ["y"], inits), {"tpu.clip"})


def _prelu(slope: np.ndarray) -> Case:
    return Case(
        make_model([node("PRelu", ["x", "slope"], ["y"])], X, ["y"], {"slope": slope}),
        {"tpu.prelu"},
    )


def _gemm(trans_b: int, alpha: float = 1.0, beta: float = 1.0) -> Case:
    b = rand(6, 10) if trans_b else rand(10, 6)
    inits = {"b": b, "c": rand(6)}
    model = make_model(
        [node("Gemm", ["x", "b", "c"], ["y"], transB=trans_b, alpha=alpha, beta=beta)],
        {"x": [2, 10]},
        ["y"],
        inits,
    )
    return Case(model, {"tpu.fully_connected"})


def _matmul_const(shape: Sequence[int]) -> Case:
    model = make_model(
        [node("MatMul", ["x", "w"], ["y"])], {"x": shape}, ["y"], {"w": rand(shape[-1], 5)}
    )
    return Case(model, {"tpu.fully_connected"})


def _matmul_act() -> Case:
    model = make_model(
        [node("MatMul", ["a", "b"], ["y"])], {"a": [2, 3, 4, 5], "b": [1, 3, 5, 6]}, ["y"]
    )
    return Case(model, {"tpu.matmul"})


def _reshape() -> Case:
    model = make_model(
        [node("Reshape", ["x", "s"], ["y"])], X, ["y"], {"s": np.asarray([0, -1, 16], np.int64)}
    )
    return Case(model, {"tpu.reshape"})


def _shape_chain() -> Case:
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as torch exports x.view(x.size(0), -1)."""
    nodes = [
        node("Shape", ["x"], ["shape"]),
        node("Gather", ["shape", "zero"], ["batch"], axis=0),
        node("Unsqueeze", ["batch", "axes"], ["batch1"]),
        node("Concat", ["batch1", "minus1"], ["target"], axis=0),
        node("Reshape", ["x", "target"], ["y"]),
    ]
    inits = {
        "zero": np.asarray(0, np.int64),
        "axes": np.asarray([0], np.int64),
        "minus1": np.asarray([-1], np.int64),
    }
    return Case(make_model(nodes, X, ["y"], inits), {"tpu.reshape"})


def _constant_weights() -> Case:
    """Weights as Constant nodes (as in PaddlePaddle exports)."""
    nodes = [
        const_node("w", rand(6, 4, 3, 3)),
        const_node("b", rand(6)),
        node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1]),
    ]
    return Case(make_model(nodes, X, ["y"]), {"tpu.conv_2d"})


def _concat(with_const: bool) -> Case:
    inits = {"k": rand(1, 2, 8, 8)} if with_const else {}
    names = ["a", "b", "k"] if with_const else ["a", "b"]
    model = make_model(
        [node("Concat", names, ["y"], axis=1)], {"a": [1, 4, 8, 8], "b": [1, 3, 8, 8]}, ["y"], inits
    )
    return Case(model, {"tpu.concat"})


def _slice(steps: bool) -> Case:
    inits = {
        "st": np.asarray([1, -6], np.int64),
        "en": np.asarray([3, 1000], np.int64),
        "ax": np.asarray([1, 3], np.int64),
    }
    ins = ["x", "st", "en", "ax"]
    if steps:
        inits["sp"] = np.asarray([1, 2], np.int64)
        ins.append("sp")
    return Case(make_model([node("Slice", ins, ["y"])], X, ["y"], inits), {"tpu.slice"})


def _slice_opset9() -> Case:
    model = make_model(
        [node("Slice", ["x"], ["y"], starts=[0, 2], ends=[2, 7], axes=[1, 2])], X, ["y"], opset=9
    )
    return Case(model, {"tpu.slice"})


def _split(opset: int) -> Case:
    if opset >= 18:
        n = node("Split", ["x"], ["y0", "y1", "y2"], axis=1, num_outputs=3)
        model = make_model([n], {"x": [1, 5, 4, 4]}, ["y0", "y1", "y2"], opset=opset)
    elif opset >= 13:
        n = node("Split", ["x", "sp"], ["y0", "y1"], axis=1)
        model = make_model([n], X, ["y0", "y1"], {"sp": np.asarray([1, 3], np.int64)}, opset=opset)
    else:
        n = node("Split", ["x"], ["y0", "y1"], axis=2)
        model = make_model([n], X, ["y0", "y1"], opset=opset)
    return Case(model, {"tpu.slice"})


def _pad(mode: str, opset: int = 13) -> Case:
    if opset < 11:
        model = make_model(
            [node("Pad", ["x"], ["y"], pads=[0, 0, 1, 2, 0, 0, 3, 0], value=0.5)],
            X,
            ["y"],
            opset=opset,
        )
    else:
        inits = {"p": np.asarray([0, 0, 1, 2, 0, 0, 2, 1], np.int64)}
        model = make_model([node("Pad", ["x", "p"], ["y"], mode=mode)], X, ["y"], inits)
    return Case(model, {"tpu.pad"})


def _softmax(opset: int, axis: int) -> Case:
    model = make_model([node("Softmax", ["x"], ["y"], axis=axis)], X, ["y"], opset=opset)
    return Case(model, {"tpu.softmax"})


def _reduce_mean(opset: int) -> Case:
    if opset >= 18:
        model = make_model(
            [node("ReduceMean", ["x", "ax"], ["y"], keepdims=0)],
            X,
            ["y"],
            {"ax": np.asarray([2, 3], np.int64)},
            opset=opset,
        )
    else:
        model = make_model(
            [node("ReduceMean", ["x"], ["y"], axes=[-1], keepdims=1)], X, ["y"], opset=opset
        )
    return Case(model, {"tpu.reduce_mean"})


def _argmax(axis: int, keepdims: int) -> Case:
    """ArgMax; its output is int64 (tpuc gives the indices as f32)."""
    graph = helper.make_graph(
        [node("ArgMax", ["x"], ["y"], axis=axis, keepdims=keepdims)],
        "case",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, X["x"])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return Case(with_output_shapes(model), {"tpu.argmax"})


def _squeeze_unsqueeze(opset: int) -> Case:
    if opset >= 13:
        nodes = [node("Unsqueeze", ["x", "a"], ["u"]), node("Squeeze", ["u", "a"], ["y"])]
        inits = {"a": np.asarray([0, 3], np.int64)}
    else:
        nodes = [
            node("Unsqueeze", ["x"], ["u"], axes=[0, 3]),
            node("Squeeze", ["u"], ["y"], axes=[0, 3]),
        ]
        inits = {}
    return Case(make_model(nodes, X, ["y"], inits, opset=opset), {"tpu.reshape"})


def _gather(index: np.ndarray) -> Case:
    model = make_model([node("Gather", ["x", "i"], ["y"], axis=1)], X, ["y"], {"i": index})
    return Case(model, {"tpu.slice"})


def _pow() -> Case:
    model = make_model(
        [node("Pow", ["x", "e"], ["y"])], X, ["y"], {"e": np.asarray(1.5, np.float32)}
    )
    return Case(model, {"tpu.power"}, positive=True)


def _identity_output() -> Case:
    nodes = [node("Relu", ["x"], ["r"]), node("Identity", ["r"], ["y"])]
    return Case(make_model(nodes, X, ["y"]), {"tpu.relu", "tpu.reshape"})


def _dropout_inside() -> Case:
    nodes = [node("Dropout", ["x"], ["d"]), node("Relu", ["d"], ["y"])]
    return Case(make_model(nodes, X, ["y"], opset=12), {"tpu.relu"}, absent={"tpu.reshape"})


def _upsample(mode: str) -> Case:
    model = make_model(
        [node("Upsample", ["x", "sc"], ["y"], mode=mode)],
        X,
        ["y"],
        {"sc": np.asarray([1, 1, 2, 2], np.float32)},
        opset=9,
    )
    return Case(model, {"tpu.upsample" if mode == "nearest" else "tpu.interp"})


CASES: dict[str, Callable[[], Case]] = {
    # Convolutions
    "conv": lambda: conv((6, 4, 3, 3), pads=[1, 1, 1, 1]),
    "conv_stride_nobias": lambda: conv((6, 4, 3, 3), bias=False, strides=[2, 2]),
    "conv_grouped": lambda: conv((6, 2, 3, 3), group=2, pads=[1, 1, 1, 1]),
    "conv_depthwise": lambda: conv((4, 1, 3, 3), group=4, strides=[2, 2], pads=[1, 1, 1, 1]),
    "conv_dilated": lambda: conv((5, 4, 3, 3), dilations=[2, 2], pads=[2, 2, 2, 2]),
    "conv_asymmetric_pads": lambda: conv((5, 4, 3, 2), pads=[0, 1, 2, 0], strides=[2, 1]),
    "conv_same_upper": lambda: conv((5, 4, 4, 4), auto_pad="SAME_UPPER", strides=[2, 2]),
    "conv_same_lower": lambda: conv(
        (5, 4, 3, 3), auto_pad="SAME_LOWER", strides=[2, 2], in_shape=(1, 4, 7, 7)
    ),
    "conv_1d": lambda: conv(
        (6, 2, 3), in_shape=(1, 4, 16), group=2, pads=[1, 2], strides=[2], dilations=[2]
    ),
    "conv_1d_same": lambda: conv(
        (6, 4, 4), in_shape=(1, 4, 15), auto_pad="SAME_UPPER", strides=[2]
    ),
    "max_pool_1d": lambda: pool(
        "MaxPool", "tpu.pool_max_2d", (1, 4, 15), kernel_shape=[3], strides=[2], ceil_mode=1
    ),
    "avg_pool_1d": lambda: pool(
        "AveragePool", "tpu.pool_avg_2d", (1, 4, 15), kernel_shape=[4], pads=[1, 1]
    ),
    "conv_transpose": lambda: deconv((4, 3, 2, 2), strides=[2, 2]),
    "conv_transpose_pads": lambda: deconv(
        (4, 2, 3, 3), strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]
    ),
    "conv_transpose_grouped": lambda: deconv(
        (4, 1, 4, 4), strides=[2, 2], pads=[1, 1, 1, 1], group=2
    ),
    "conv_transpose_output_shape": lambda: deconv(
        (4, 3, 3, 3), strides=[2, 2], output_shape=[16, 16]
    ),
    "batchnorm": _batchnorm,
    # Activations
    "relu": lambda: unary("Relu", "tpu.relu"),
    "clip_opset13": _clip13,
    "clip_opset13_max_only": _clip13_max_only,
    "clip_opset9": lambda: unary("Clip", "tpu.clip", opset=9, min=0.0, max=6.0),
    "leaky_relu": lambda: unary("LeakyRelu", "tpu.leaky_relu", alpha=0.1),
    "prelu_channel": lambda: _prelu(rand(4, 1, 1)),
    "prelu_shared": lambda: _prelu(rand(1)),
    "sigmoid": lambda: unary("Sigmoid", "tpu.sigmoid"),
    "tanh": lambda: unary("Tanh", "tpu.tanh"),
    "hard_sigmoid": lambda: unary("HardSigmoid", "tpu.hard_sigmoid", alpha=0.25, beta=0.4),
    "hard_swish": lambda: unary("HardSwish", "tpu.hard_swish", opset=14),
    "mish": lambda: unary("Mish", "tpu.mish", opset=18),
    "exp": lambda: unary("Exp", "tpu.exp"),
    "sqrt": lambda: unary("Sqrt", "tpu.sqrt", positive=True),
    "reciprocal": lambda: unary("Reciprocal", "tpu.reciprocal", positive=True),
    "pow": _pow,
    "silu_pattern": _silu,
    "silu_pattern_shared_sigmoid": _silu_shared_sigmoid,
    "hard_swish_pattern": _hard_swish_pattern,
    "mish_pattern": _mish_pattern,
    "hard_swish_decomposed_div": lambda: _hard_swish_decomposed("Div"),
    "hard_swish_decomposed_mul": lambda: _hard_swish_decomposed("Mul"),
    # Element-wise arithmetic
    "add": lambda: binary("Add", [1, 4, 8, 8], [1, 4, 8, 8], {"tpu.eltwise_add"}),
    "add_broadcast": lambda: binary("Add", [1, 4, 8, 8], [1, 1, 8, 8], {"tpu.eltwise_add"}),
    "add_const_channel": lambda: binary("Add", [1, 4, 8, 8], rand(4, 1, 1), {"tpu.scale"}),
    "add_const_scalar_first": lambda: binary("Add", rand(1), [1, 4, 8, 8], {"tpu.scale"}),
    "add_const_full": lambda: binary("Add", [1, 4, 8, 8], rand(8), {"tpu.eltwise_add"}),
    "sub": lambda: binary("Sub", [1, 4, 8, 8], [1, 4, 8, 8], {"tpu.eltwise_add"}),
    "sub_const": lambda: binary("Sub", [1, 4, 8, 8], rand(1, 4, 1, 1), {"tpu.scale"}),
    "sub_from_const": lambda: binary("Sub", rand(4, 1, 1), [1, 4, 8, 8], {"tpu.scale"}),
    "mul": lambda: binary("Mul", [1, 4, 8, 8], [1, 4, 8, 8], {"tpu.eltwise_mul"}),
    "mul_channel_gate": lambda: binary("Mul", [1, 4, 1, 1], [1, 4, 8, 8], {"tpu.broadcast_mul"}),
    "mul_const_scalar": lambda: binary("Mul", [1, 4, 8, 8], rand(1), {"tpu.scale"}),
    "mul_const_full": lambda: binary("Mul", [1, 4, 8, 8], rand(4, 8, 8), {"tpu.eltwise_mul"}),
    "mul_2d_const": lambda: binary("Mul", [3, 5], rand(5), {"tpu.scale"}),
    "mul_const_last_axis": lambda: binary(
        "Mul", [1, 4, 8, 8], rand(1, 1, 1, 8), {"tpu.eltwise_mul"}
    ),
    "div": lambda: binary(
        "Div", [1, 4, 8, 8], [1, 4, 8, 8], {"tpu.reciprocal", "tpu.eltwise_mul"}, positive=True
    ),
    "div_const": lambda: binary("Div", [1, 4, 8, 8], rand(4, 1, 1, low=1, high=2), {"tpu.scale"}),
    "div_const_numerator": lambda: binary(
        "Div",
        np.asarray([2.0], np.float32),
        [1, 4, 8, 8],
        {"tpu.reciprocal", "tpu.scale"},
        positive=True,
    ),
    "neg": lambda: unary("Neg", "tpu.scale"),
    "max_act": lambda: binary("Max", [1, 4, 8, 8], [1, 4, 8, 8], {"tpu.eltwise_max"}),
    "min_const": lambda: binary("Min", [1, 4, 8, 8], np.asarray(0.25, np.float32), {"tpu.clip"}),
    "sum": lambda: Case(
        make_model(
            [node("Sum", ["a", "b", "c"], ["y"])],
            {"a": [1, 4, 8, 8], "b": [1, 4, 8, 8], "c": [1, 4, 8, 8]},
            ["y"],
        ),
        {"tpu.eltwise_add"},
    ),
    # Pooling
    "max_pool": lambda: pool("MaxPool", "tpu.pool_max_2d", kernel_shape=[3, 3], strides=[2, 2]),
    "max_pool_ceil": lambda: pool(
        "MaxPool", "tpu.pool_max_2d", (1, 4, 8, 8), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1
    ),
    "max_pool_same": lambda: pool(
        "MaxPool", "tpu.pool_max_2d", kernel_shape=[5, 5], auto_pad="SAME_UPPER"
    ),
    "max_pool_spp": lambda: pool(
        "MaxPool", "tpu.pool_max_2d", kernel_shape=[9, 9], pads=[4, 4, 4, 4]
    ),
    "avg_pool": lambda: pool(
        "AveragePool", "tpu.pool_avg_2d", kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1]
    ),
    "avg_pool_count_pad": lambda: pool(
        "AveragePool",
        "tpu.pool_avg_2d",
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
        count_include_pad=1,
    ),
    "global_avg_pool": lambda: pool("GlobalAveragePool", "tpu.pool_avg_2d"),
    "global_max_pool": lambda: pool("GlobalMaxPool", "tpu.pool_max_2d"),
    # Matrix products
    "gemm": lambda: _gemm(0),
    "gemm_trans_b_alpha_beta": lambda: _gemm(1, alpha=0.5, beta=2.0),
    "matmul_const": lambda: _matmul_const([3, 7]),
    "matmul_const_3d": lambda: _matmul_const([2, 3, 7]),
    "matmul_act": _matmul_act,
    # Shapes
    "flatten": lambda: Case(
        make_model([node("Flatten", ["x"], ["y"], axis=1)], X, ["y"]), {"tpu.reshape"}
    ),
    "reshape": _reshape,
    "shape_chain_folded": _shape_chain,
    "constant_node_weights": _constant_weights,
    "shuffle_channel_pattern": _shuffle_channel,
    "transpose": lambda: Case(
        make_model([node("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1])], X, ["y"]), {"tpu.permute"}
    ),
    "concat": lambda: _concat(False),
    "concat_with_constant": lambda: _concat(True),
    "slice": lambda: _slice(False),
    "slice_steps": lambda: _slice(True),
    "slice_opset9": _slice_opset9,
    "split_opset11": lambda: _split(11),
    "split_opset13": lambda: _split(13),
    "split_opset18": lambda: _split(18),
    "squeeze_unsqueeze_opset11": lambda: _squeeze_unsqueeze(11),
    "squeeze_unsqueeze_opset13": lambda: _squeeze_unsqueeze(13),
    "gather_scalar": lambda: _gather(np.asarray(2, np.int64)),
    "gather_range": lambda: _gather(np.asarray([1, 2], np.int64)),
    "identity_output": _identity_output,
    "cast_to_float": lambda: Case(
        make_model(
            [node("Cast", ["x"], ["c"], to=TensorProto.FLOAT), node("Relu", ["c"], ["y"])], X, ["y"]
        ),
        {"tpu.relu"},
    ),
    "expand_noop": lambda: Case(
        make_model(
            [node("Expand", ["x", "s"], ["e"]), node("Relu", ["e"], ["y"])],
            X,
            ["y"],
            {"s": np.asarray([1, 4, 1, 1], np.int64)},
        ),
        {"tpu.relu"},
    ),
    "dropout_inside": _dropout_inside,
    "pad_constant": lambda: _pad("constant"),
    "pad_reflect": lambda: _pad("reflect"),
    "pad_edge": lambda: _pad("edge"),
    "pad_opset9": lambda: _pad("constant", opset=9),
    "depth_to_space_dcr": lambda: Case(
        make_model([node("DepthToSpace", ["x"], ["y"], blocksize=2)], X, ["y"]),
        {"tpu.pixel_shuffle"},
    ),
    "depth_to_space_crd": lambda: Case(
        make_model([node("DepthToSpace", ["x"], ["y"], blocksize=2, mode="CRD")], X, ["y"]),
        {"tpu.pixel_shuffle"},
    ),
    "space_to_depth": lambda: Case(
        make_model([node("SpaceToDepth", ["x"], ["y"], blocksize=2)], X, ["y"]), {"tpu.reorg"}
    ),
    # Resizing
    "resize_nearest_scales": lambda: Case(
        resize(scales=[1, 1, 2, 2], mode="nearest"), {"tpu.upsample"}
    ),
    "resize_nearest_asymmetric_floor": lambda: Case(
        resize(
            scales=[1, 1, 3, 2],
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        ),
        {"tpu.upsample"},
    ),
    "resize_nearest_sizes": lambda: Case(
        resize(sizes=[1, 4, 16, 24], mode="nearest"), {"tpu.upsample"}
    ),
    "resize_bilinear": lambda: Case(resize(scales=[1, 1, 2, 2], mode="linear"), {"tpu.interp"}),
    "resize_bilinear_align_corners": lambda: Case(
        resize(sizes=[1, 4, 15, 13], mode="linear", coordinate_transformation_mode="align_corners"),
        {"tpu.interp"},
    ),
    "resize_opset18_axes": lambda: Case(
        make_model(
            [node("Resize", ["x", "", "", "sz"], ["y"], mode="linear", axes=[2, 3])],
            X,
            ["y"],
            {"sz": np.asarray([12, 12], np.int64)},
            opset=18,
        ),
        {"tpu.interp"},
    ),
    "upsample_nearest_opset9": lambda: _upsample("nearest"),
    "resize_nearest_opset10": lambda: Case(
        make_model(
            [node("Resize", ["x", "sc"], ["y"], mode="nearest")],
            X,
            ["y"],
            {"sc": np.asarray([1, 1, 4, 3], np.float32)},
            opset=10,
        ),
        {"tpu.upsample"},
    ),
    "upsample_linear_opset9": lambda: _upsample("linear"),
    # Normalization and reductions
    "softmax_opset13": lambda: _softmax(13, 1),
    "softmax_opset11_last_axis": lambda: _softmax(11, 3),
    "softmax_opset11_axis1": lambda: _softmax(11, 1),
    "reduce_mean": lambda: _reduce_mean(13),
    "reduce_mean_opset18": lambda: _reduce_mean(18),
    "argmax": lambda: _argmax(axis=1, keepdims=1),
    "argmax_last_axis_no_keepdims": lambda: _argmax(axis=-1, keepdims=0),
    "lrn": lambda: Case(
        make_model([node("LRN", ["x"], ["y"], size=3, alpha=1e-3, beta=0.75, bias=2.0)], X, ["y"]),
        {"tpu.lrn"},
    ),
    "lp_normalization": _lp_normalization,
    "normalize_pattern": _normalize_pattern,
    "normalize_sqrt_pattern": _normalize_sqrt_pattern,
}

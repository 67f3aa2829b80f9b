"""Model input preprocessing: how a raw image becomes the network's input tensor.

The description is stored on the model (the `preprocess` dictionary of `tpu.input`, fields as
documented on the op) so that calibration, reference runs and the runtime all build the same
tensor from the same image::

    pre = Preprocess(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), raw_scale=1.0,
                     resize=256, crop=(224, 224), channel_order="rgb")
    x = pre.apply(image_hwc_uint8_rgb)          # float32 [1, 3, 224, 224]

Steps, in order (the vendor toolchain's convention):
1. resize (bilinear, half-pixel centres): `resize` = s scales the shorter side to s keeping the
   aspect ratio (torchvision), (h, w) resizes to h x w; with `keep_aspect_ratio` an (h, w)
   resize scales the image to fit inside and fills the rest with 0 (centred, letterbox);
2. centre crop to `crop` (h, w), the network input's H x W (the converter records it);
3. channel order: the source image is RGB; "bgr" reverses it, "gray" makes one luma channel
   (recorded as pixel_format GRAYSCALE);
4. x = pixel * raw_scale / 255, then (x - mean[c]) / std[c] (or * scale[c]), then * input_scale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

CHANNEL_ORDERS = ("rgb", "bgr", "gray")


@dataclass(frozen=True)
class Preprocess:
    mean: Sequence[float] = (0.0,)
    std: Sequence[float] | None = None
    scale: Sequence[float] | None = None
    raw_scale: float = 255.0
    input_scale: float = 1.0
    channel_order: str = "rgb"
    resize: int | tuple[int, int] | None = None
    keep_aspect_ratio: bool = False
    crop: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.channel_order not in CHANNEL_ORDERS:
            raise ValueError(
                f"preprocess: channel_order must be one of {CHANNEL_ORDERS}, "
                f"got {self.channel_order!r}"
            )
        if self.std is not None and self.scale is not None:
            raise ValueError("preprocess: give either std or scale, not both")
        for what, values in (("std", self.std), ("scale", self.scale)):
            if values is not None and any(float(v) == 0.0 for v in values):
                raise ValueError(f"preprocess: {what} must be non-zero, got {list(values)}")
        for what, value in (("raw_scale", self.raw_scale), ("input_scale", self.input_scale)):
            if not value > 0:
                raise ValueError(f"preprocess: {what} must be positive, got {value}")
        if self.crop is not None and (len(self.crop) != 2 or any(int(d) <= 0 for d in self.crop)):
            raise ValueError(f"preprocess: crop must be two positive sizes, got {self.crop}")
        if self.resize is not None:
            sizes = [self.resize] if isinstance(self.resize, int) else list(self.resize)
            if len(sizes) not in (1, 2) or any(int(d) <= 0 for d in sizes):
                raise ValueError(
                    f"preprocess: resize must be a positive shorter side or (h, w), "
                    f"got {self.resize}"
                )

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
        return self.per_channel(self.mean, "mean") * 255.0 / self.raw_scale

    def raw_scale_factors(self) -> np.ndarray:
        """Factor applied to (raw pixel - raw_mean)."""
        if self.std is not None:
            factor = 1.0 / self.per_channel(self.std, "std")
        elif self.scale is not None:
            factor = self.per_channel(self.scale, "scale")
        else:
            factor = np.ones(self.channels)
        return factor * self.input_scale * self.raw_scale / 255.0

    def with_input_shape(self, shape: Sequence[int]) -> Preprocess:
        """The same preprocessing cropping to the H x W of an NCHW input shape."""
        if len(shape) != 4:
            raise ValueError(f"preprocess: expected an NCHW input shape, got {list(shape)}")
        return replace(self, crop=(int(shape[2]), int(shape[3])))

    def to_dict(self) -> dict[str, Any]:
        """The `preprocess` dictionary recorded on `tpu.input`."""
        result: dict[str, Any] = {
            "mean": [float(v) for v in self.per_channel(self.mean, "mean")],
            "raw_scale": float(self.raw_scale),
            "data_format": "nchw",
        }
        if self.std is not None:
            result["std"] = [float(v) for v in self.per_channel(self.std, "std")]
        if self.scale is not None:
            result["scale"] = [float(v) for v in self.per_channel(self.scale, "scale")]
        if self.input_scale != 1.0:
            result["input_scale"] = float(self.input_scale)
        if self.channel_order == "gray":
            result["pixel_format"] = "GRAYSCALE"
        else:
            result["channel_order"] = self.channel_order
            result["pixel_format"] = "RGB_PLANAR" if self.channel_order == "rgb" else "BGR_PLANAR"
        if self.resize is not None:
            sizes = [self.resize] if isinstance(self.resize, int) else list(self.resize)
            result["resize"] = [int(v) for v in sizes]
            result["keep_aspect_ratio"] = bool(self.keep_aspect_ratio)
        if self.crop is not None:
            result["crop"] = [int(v) for v in self.crop]
        return result

    @classmethod
    def from_dict(
        cls, values: Mapping[str, Any], input_shape: Sequence[int] | None = None
    ) -> Preprocess:
        """Inverse of to_dict (also reads the vendor's `resize_dims`); `input_shape` (NCHW)
        gives the crop size when the dictionary has none."""
        known = {
            "mean",
            "std",
            "scale",
            "raw_scale",
            "input_scale",
            "channel_order",
            "resize",
            "resize_dims",
            "crop",
            "keep_aspect_ratio",
            "aligned",
            "pixel_format",
            "data_format",
        }
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"preprocess: unknown field(s) {sorted(unknown)}")
        if values.get("data_format", "nchw") != "nchw":
            raise ValueError("preprocess: only data_format nchw images are supported")
        pixel_format = str(values.get("pixel_format", ""))
        order = values.get("channel_order", "rgb")
        if pixel_format == "GRAYSCALE":
            order = "gray"
        elif not isinstance(order, str):
            permutation = [int(v) for v in order]
            if permutation == [0, 1, 2]:
                order = "rgb"
            elif permutation == [2, 1, 0]:
                order = "bgr"
            else:
                raise ValueError(f"preprocess: channel permutation {permutation} not supported")
        resize = values.get("resize", values.get("resize_dims"))
        if resize is not None:
            sizes = [int(v) for v in np.asarray(resize).reshape(-1)]
            resize = sizes[0] if len(sizes) == 1 else (sizes[0], sizes[1])
        crop = values.get("crop")

        def numbers(key: str) -> tuple[float, ...] | None:
            value = values.get(key)
            if value is None:
                return None
            return tuple(float(v) for v in np.asarray(value, dtype=np.float64).reshape(-1))

        pre = cls(
            mean=numbers("mean") or (0.0,),
            std=numbers("std"),
            scale=numbers("scale"),
            raw_scale=float(values.get("raw_scale", 255.0)),
            input_scale=float(values.get("input_scale", 1.0)),
            channel_order=str(order),
            resize=resize,
            keep_aspect_ratio=bool(values.get("keep_aspect_ratio", False)),
            crop=None if crop is None else (int(crop[0]), int(crop[1])),
        )
        if input_shape is not None and pre.crop is None:
            pre = pre.with_input_shape(input_shape)
        return pre

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
            size = self.resize_dims(pixels.shape[0], pixels.shape[1])
            if self.keep_aspect_ratio and not isinstance(self.resize, int):
                pixels = letterbox(pixels, size)
            else:
                pixels = resize_bilinear(pixels, size)
        if self.crop is not None:
            pixels = center_crop(pixels, self.crop)
        pixels = self.reorder_channels(pixels)
        planar = np.transpose(pixels, (2, 0, 1)).astype(np.float64)
        mean = self.raw_mean().reshape(-1, 1, 1)
        factor = self.raw_scale_factors().reshape(-1, 1, 1)
        result = ((planar - mean) * factor).astype(np.float32)
        return result[None] if batch else result

    def resize_dims(self, height: int, width: int) -> tuple[int, int]:
        """The size an image of height x width is resized to."""
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
    """Bilinear resize of an H x W x C array with half-pixel centres (no antialiasing)."""
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


def letterbox(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize keeping the aspect ratio to fit inside `size`, centred on a zero background."""
    out_h, out_w = size
    in_h, in_w = pixels.shape[:2]
    ratio = min(out_h / in_h, out_w / in_w)
    fit_h, fit_w = max(1, int(round(in_h * ratio))), max(1, int(round(in_w * ratio)))
    resized = resize_bilinear(pixels, (fit_h, fit_w))
    canvas = np.zeros((out_h, out_w, pixels.shape[2]), dtype=np.float32)
    top, left = (out_h - fit_h) // 2, (out_w - fit_w) // 2
    canvas[top : top + fit_h, left : left + fit_w] = resized
    return canvas


def center_crop(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    height, width = pixels.shape[:2]
    crop_h, crop_w = int(size[0]), int(size[1])
    if crop_h > height or crop_w > width:
        raise ValueError(
            f"preprocess: crop {crop_h}x{crop_w} is larger than the image {height}x{width} "
            "(resize it at least to the network input size)"
        )
    top = (height - crop_h) // 2
    left = (width - crop_w) // 2
    return pixels[top : top + crop_h, left : left + crop_w]


def preprocess_of(module_or_path: Any) -> dict[str, Preprocess]:
    """Reads the `preprocess` dictionaries of the `tpu.input` ops of a module (a tpuc.ir.Module or
    the path of an .mlir file): input name -> Preprocess (cropping to the input's H x W)."""
    from ..ir import (
        ArrayAttr,
        BoolAttr,
        Context,
        DenseF32ArrayAttr,
        DenseF64ArrayAttr,
        DenseI32ArrayAttr,
        DenseI64ArrayAttr,
        DictAttr,
        FloatAttr,
        IntegerAttr,
        Module,
        RankedTensorType,
        StringAttr,
    )

    def convert(attr: Any) -> Any:
        if isinstance(
            attr, (DenseF32ArrayAttr, DenseF64ArrayAttr, DenseI32ArrayAttr, DenseI64ArrayAttr)
        ):
            return list(attr)
        if isinstance(attr, ArrayAttr):
            return [convert(a) for a in attr]
        if isinstance(attr, BoolAttr):
            return bool(attr.value)
        if isinstance(attr, IntegerAttr):
            return int(attr.value)
        if isinstance(attr, FloatAttr):
            return float(attr.value)
        if isinstance(attr, StringAttr):
            return attr.value
        raise ValueError(f"unexpected preprocess entry {attr}")

    def collect(module: Any) -> dict[str, Preprocess]:
        result: dict[str, Preprocess] = {}
        for func_op in module.body.operations:
            for region in func_op.operation.regions:
                for block in region.blocks:
                    for op in block.operations:
                        operation = op.operation
                        if operation.name != "tpu.input":
                            continue
                        if "preprocess" not in operation.attributes:
                            continue
                        name = StringAttr(operation.attributes["name"]).value
                        entries = DictAttr(operation.attributes["preprocess"])
                        values = {
                            entries[i].name: convert(entries[i].attr) for i in range(len(entries))
                        }
                        shape = list(RankedTensorType(operation.results[0].type).shape)
                        result[name] = Preprocess.from_dict(values, input_shape=shape)
        return result

    if isinstance(module_or_path, (str, Path)):
        with Context():
            return collect(Module.parse(Path(module_or_path).read_text()))
    return collect(module_or_path)

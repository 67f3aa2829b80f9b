"""run_calibration: compute the calibration table of an fp32 tpu model.

  run_calibration.py <fp32.mlir> cali_list.txt --calibration_table <out> [--input_num=100]
      [--custom_op_plugin lib] [--method kl|max|percentile] [--percentile 99.99]
      [--histogram_bins 2048] [--seed N] [--jobs N] [--weight_file w.npz] [--no_progress]

cali_list.txt lists one input per line (image, .npy or .npz; see gen_data_list.py). Without
--seed the first --input_num inputs are used, with --seed a seeded random choice of them. The table
is the same for any --jobs. Exits 1 with a message on errors.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from ..calibration import (
    DEFAULT_HISTOGRAM_BINS,
    DEFAULT_KL_MAX_SATURATION,
    DEFAULT_PERCENTILE,
    METHODS,
    CalibrationError,
    CalibrationTableError,
    InputError,
    ModelError,
    NonFiniteActivationError,
    calibrate,
    read_data_list,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_calibration.py", description="Compute int8 thresholds of an fp32 tpu model."
    )
    parser.add_argument("model", help="fp32 .mlir model")
    parser.add_argument("data_list", help="input list, one image/.npy/.npz path per line")
    parser.add_argument(
        "--calibration_table", "--calibration-table", required=True, help="table file to write"
    )
    parser.add_argument(
        "--input_num",
        "--input-num",
        type=int,
        default=0,
        help="number of inputs to use (default 0: all listed)",
    )
    parser.add_argument(
        "--custom_op_plugin",
        "--custom-op-plugin",
        action="append",
        help="custom-op plugin library (repeatable)",
    )
    parser.add_argument("--method", choices=METHODS, default="kl", help="threshold algorithm")
    parser.add_argument(
        "--percentile",
        type=float,
        default=DEFAULT_PERCENTILE,
        help=f"percentile of |x| for --method percentile (default {DEFAULT_PERCENTILE})",
    )
    parser.add_argument(
        "--histogram_bins",
        "--histogram-bins",
        type=int,
        default=DEFAULT_HISTOGRAM_BINS,
        help=f"absolute-value histogram bins (default {DEFAULT_HISTOGRAM_BINS})",
    )
    parser.add_argument("--seed", type=int, default=None, help="pick --input_num inputs at random")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--weight_file", "--weight-file", help="override the model's weight file")
    parser.add_argument(
        "--no_progress", "--no-progress", action="store_true", help="no progress bar"
    )
    parser.add_argument(
        "--kl_max_saturation",
        "--kl-max-saturation",
        type=float,
        default=DEFAULT_KL_MAX_SATURATION,
        help="--method kl: largest fraction of a tensor's values its threshold may saturate "
        f"(default {DEFAULT_KL_MAX_SATURATION:g})",
    )
    parser.add_argument(
        "--no_activation_backward",
        "--no-activation-backward",
        action="store_true",
        help="keep every layer's own threshold (by default a layer feeding only a relu / clip "
        "takes the activation's threshold)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    try:
        items = read_data_list(args.data_list)
        table = calibrate(
            args.model,
            items,
            args.method,
            input_num=args.input_num,
            seed=args.seed,
            jobs=args.jobs,
            percentile=args.percentile,
            histogram_bins=args.histogram_bins,
            weight_file=args.weight_file,
            custom_op_plugin=args.custom_op_plugin,
            progress=not args.no_progress,
            activation_backward=not args.no_activation_backward,
            kl_max_saturation=args.kl_max_saturation,
        )
        table.write(args.calibration_table)
    except (
        CalibrationError,
        CalibrationTableError,
        InputError,
        ModelError,
        NonFiniteActivationError,
        OSError,
    ) as error:
        print(f"run_calibration: error: {error}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - start
    print(
        f"wrote {len(table)} thresholds ({args.method}, {table.metadata['sample number']} inputs) "
        f"to {args.calibration_table} in {elapsed:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""cvi_npz_tool: compare, extract, dump and rename tensors of npz files.

  cvi_npz_tool compare a.npz b.npz [--op_info op_info.csv] [--tolerance=0.99,0.99,0.90]
                       [--excepts n1,n2] [-v | -vv] [--plot out.html] [--save result.csv]
                       [--dequant [--calibration_table table]] [--stats_int8_tensor]
  cvi_npz_tool extract in.npz out.npz name1,name2
  cvi_npz_tool dump a.npz [name]
  cvi_npz_tool rename a.npz old_name new_name [-o out.npz]

compare --dequant: a.npz is an INT8 run dumped with every tensor (int8 codes), b.npz the fp32
run of the same inputs. The tensors of the INT8 layers of op_info_int8.csv (quant INT8) are
dequantized with their thresholds (q * threshold / 127) before the comparison; with only a
calibration table, the tensors of the table that hold int8 codes are. --stats_int8_tensor prints
each dequantized tensor's saturation, zero fraction and distinct codes.

compare exits 0 when every compared tensor is at least SIMILAR, 1 when one is NOT SIMILAR and
2 on usage errors (unreadable files, no tensor in common).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .npz_compare import (
    DEFAULT_TOLERANCE,
    NOT_SIMILAR,
    CompareReport,
    compare_npz,
    int8_code_problem,
    int8_dump_thresholds,
    read_op_info,
)


class ToolError(Exception):
    pass


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise ToolError(f"{path}: no such file") from None
    except Exception as error:  # zip / format errors
        raise ToolError(f"{path}: cannot read npz: {error}") from None


def parse_tolerance(text: str) -> tuple[float, float, float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ToolError(f"--tolerance '{text}': expected cos,corr,euclid numbers") from None
    if len(values) != 3:
        raise ToolError(f"--tolerance '{text}': expected three values cos,corr,euclid")
    return values[0], values[1], values[2]


def _mean(values: list[float]) -> float:
    finite = [v for v in values if not math.isinf(v)]
    return sum(finite) / len(finite) if finite else math.inf


def _fmt(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.6f}"


def print_report(report: CompareReport, verbose: int, int8_stats: bool = False) -> None:
    for r in report.results:
        shown = int8_stats and "int8_levels" in r.stats
        if verbose == 0 and r.verdict != NOT_SIMILAR and not shown:
            continue
        line = f"[{r.name:<40}] {r.verdict:<11}"
        if r.metrics is not None:
            m = r.metrics
            line += (
                f" [cos {_fmt(m.cosine)}, corr {_fmt(m.correlation)}, "
                f"euclid {_fmt(m.euclidean)}, sqnr {m.sqnr_db:.2f} dB]"
            )
        if r.note:
            line += f" ({r.note})"
        print(line)
        if int8_stats and "int8_levels" in r.stats:
            s = r.stats
            print(
                f"    int8 (threshold {s['threshold']:.6g}): saturated "
                f"{100 * s['int8_saturated']:.3f}%, zeros {100 * s['int8_zeros']:.2f}%, "
                f"{int(s['int8_levels'])} distinct codes"
            )
        if verbose >= 2:
            print(f"    shape {list(r.shape_a)} vs {list(r.shape_b)}")
            if r.stats:
                s = r.stats
                print(
                    f"    a: min {s['a_min']:.6g} max {s['a_max']:.6g} mean {s['a_mean']:.6g}; "
                    f"b: min {s['b_min']:.6g} max {s['b_max']:.6g} mean {s['b_mean']:.6g}; "
                    f"max |a-b| {s['max_abs_diff']:.6g}"
                )
    if verbose >= 1 and (report.only_in_a or report.only_in_b):
        print(
            f"not compared: {len(report.only_in_a)} only in first, "
            f"{len(report.only_in_b)} only in second"
        )
        if verbose >= 2:
            for name in report.only_in_a:
                print(f"    only in first: {name}")
            for name in report.only_in_b:
                print(f"    only in second: {name}")
    total = len(report.results)
    print(
        f"{total} compared: {report.count('EQUAL')} equal, {report.count('CLOSE')} close, "
        f"{report.count('SIMILAR')} similar, {report.count(NOT_SIMILAR)} not similar"
    )
    mins = [report.min_metric(k) for k in ("cosine", "correlation", "euclidean")]
    if all(v is not None for v in mins):
        print(
            f"min similarity: cos {_fmt(mins[0])}, corr {_fmt(mins[1])}, "
            f"euclid {_fmt(mins[2])} (tolerance {','.join(str(t) for t in report.tolerance)})"
        )
    rows = [r.metrics for r in report.results if r.metrics is not None]
    if rows:
        print(
            f"mean similarity: cos {_fmt(_mean([m.cosine for m in rows]))}, "
            f"euclid {_fmt(_mean([m.euclidean for m in rows]))}, "
            f"sqnr {_mean([m.sqnr_db for m in rows]):.2f} dB; "
            f"min sqnr {min(m.sqnr_db for m in rows):.2f} dB"
        )
    print("PASSED" if report.passed else "FAILED")


def save_csv(report: CompareReport, path: str | Path, int8: bool = False) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["name", "verdict", "cosine", "correlation", "euclidean", "sqnr_db"]
            + (["threshold", "int8_saturated", "int8_zeros", "int8_levels"] if int8 else [])
        )
        for r in report.results:
            m = r.metrics
            row = [r.name, r.verdict]
            row += [m.cosine, m.correlation, m.euclidean, m.sqnr_db] if m else ["", "", "", ""]
            if int8:
                keys = ("threshold", "int8_saturated", "int8_zeros", "int8_levels")
                row += [r.stats[k] if k in r.stats else "" for k in keys]
            writer.writerow(row)


def cmd_compare(args: argparse.Namespace) -> int:
    a, b = load_npz(args.target), load_npz(args.reference)
    names, thresholds, int8_layers = None, {}, None
    if args.op_info:
        try:
            infos = read_op_info(args.op_info)
        except (OSError, ValueError) as error:
            raise ToolError(f"--op_info: {error}") from None
        names = [i.name for i in infos]
        thresholds = {i.name: i.threshold for i in infos if i.threshold is not None}
        int8_layers = [i.name for i in infos if i.quant.upper() == "INT8"]
    if args.calibration_table:
        from ..calibration.table import CalibrationTable, CalibrationTableError

        try:
            table = CalibrationTable.read(args.calibration_table)
        except (OSError, CalibrationTableError) as error:
            raise ToolError(f"--calibration_table: {error}") from None
        for name, threshold in table.thresholds().items():
            thresholds.setdefault(name, threshold)
    if (args.stats_int8_tensor or args.calibration_table) and not args.dequant:
        raise ToolError("--stats_int8_tensor and --calibration_table go with --dequant")
    dequant: list[str] = []
    excepts = [n for n in (args.excepts or "").split(",") if n]
    if args.dequant:
        recorded, scale_names = int8_dump_thresholds(a, b)
        thresholds.update(recorded)
        excepts += sorted(scale_names)
        if int8_layers is not None:
            dequant = int8_layers
        elif args.calibration_table:
            dequant = [n for n in thresholds if n in a and int8_code_problem(a[n]) is None]
        elif recorded:
            dequant = list(recorded)
        else:
            raise ToolError(
                "--dequant: the target records no int8 scale; give --op_info (op_info_int8.csv) "
                "or --calibration_table"
            )
        dequant = list(set(dequant) | set(recorded))
    report = compare_npz(
        a,
        b,
        names=names,
        thresholds=thresholds,
        tolerance=parse_tolerance(args.tolerance),
        excepts=excepts,
        dequant=dequant,
    )
    if not report.results:
        raise ToolError(f"no tensor name in common between {args.target} and {args.reference}")
    if args.dequant:
        done = sum(1 for r in report.results if r.name in set(dequant))
        print(f"{done} of {len(report.results)} compared tensors dequantized from int8 codes")
    print_report(report, args.verbose, args.stats_int8_tensor)
    if args.save:
        save_csv(report, args.save, int8=bool(args.dequant))
    if args.plot:
        from .npz_plot import write_html

        write_html(report, args.plot, title=f"{args.target} vs {args.reference}")
    return 0 if report.passed else 1


def cmd_extract(args: argparse.Namespace) -> int:
    data = load_npz(args.input)
    names = [n for n in args.names.split(",") if n]
    missing = [n for n in names if n not in data]
    if missing:
        raise ToolError(f"{args.input} has no tensor(s) {missing}; it has {sorted(data)[:20]}")
    np.savez(args.output, **{n: data[n] for n in names})
    return 0


def cmd_dump(args: argparse.Namespace) -> int:
    data = load_npz(args.input)
    if args.name is None:
        for name, array in data.items():
            print(f"{name}: shape {list(array.shape)} dtype {array.dtype}")
        return 0
    if args.name not in data:
        raise ToolError(f"{args.input} has no tensor '{args.name}'")
    array = data[args.name]
    print(f"{args.name}: shape {list(array.shape)} dtype {array.dtype}")
    if array.size:
        flat = array.astype(np.float64).reshape(-1)
        print(
            f"min {flat.min():.6g} max {flat.max():.6g} mean {flat.mean():.6g} std {flat.std():.6g}"
        )
    with np.printoptions(threshold=args.limit, precision=6, suppress=True):
        print(array)
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    data = load_npz(args.input)
    if args.old not in data:
        raise ToolError(f"{args.input} has no tensor '{args.old}'")
    if args.new in data and args.new != args.old:
        raise ToolError(f"{args.input} already has a tensor '{args.new}'")
    renamed = {(args.new if k == args.old else k): v for k, v in data.items()}
    np.savez(args.output or args.input, **renamed)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cvi_npz_tool",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("compare", help="compare the tensors of two npz files")
    p.add_argument("target")
    p.add_argument("reference")
    p.add_argument("--op_info", "--op-info", help="op_info.csv: compare these tensors in order")
    p.add_argument(
        "--tolerance",
        default=",".join(str(t) for t in DEFAULT_TOLERANCE),
        help="minimum cosine,correlation,euclidean similarity",
    )
    p.add_argument("--excepts", help="comma-separated tensor names to skip")
    p.add_argument("--plot", help="write an HTML plot of per-layer similarity")
    p.add_argument("--save", help="write per-tensor results as CSV")
    p.add_argument(
        "--dequant",
        action="store_true",
        help="the target holds int8 codes of the INT8 layers: dequantize them with their "
        "thresholds (from --op_info or --calibration_table) before comparing",
    )
    p.add_argument(
        "--calibration_table",
        "--calibration-table",
        help="thresholds for --dequant (op_info thresholds take precedence)",
    )
    p.add_argument(
        "--stats_int8_tensor",
        "--stats-int8-tensor",
        action="store_true",
        help="with --dequant: print saturation, zeros and distinct codes of each int8 tensor",
    )
    p.add_argument("-v", "--verbose", action="count", default=0)
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser("extract", help="copy some tensors into a new npz")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("names", help="comma-separated tensor names")
    p.set_defaults(func=cmd_extract)
    p = sub.add_parser("dump", help="list tensors, or print one")
    p.add_argument("input")
    p.add_argument("name", nargs="?")
    p.add_argument("--limit", type=int, default=1000, help="print at most this many values")
    p.set_defaults(func=cmd_dump)
    p = sub.add_parser("rename", help="rename a tensor")
    p.add_argument("input")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("-o", "--output", help="write here instead of in place")
    p.set_defaults(func=cmd_rename)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ToolError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def console_main() -> None:
    sys.exit(main())


if __name__ == "__main__":
    console_main()

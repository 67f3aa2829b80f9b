"""cvi_npz_tool: compare, extract, dump and rename tensors of npz files.

  cvi_npz_tool compare a.npz b.npz [--op_info op_info.csv] [--tolerance=0.99,0.99,0.90]
                       [--excepts n1,n2] [-v | -vv] [--plot out.html] [--save result.csv]
  cvi_npz_tool extract in.npz out.npz name1,name2
  cvi_npz_tool dump a.npz [name]
  cvi_npz_tool rename a.npz old_name new_name [-o out.npz]

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


def _fmt(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.6f}"


def print_report(report: CompareReport, verbose: int) -> None:
    for r in report.results:
        if verbose == 0 and r.verdict != NOT_SIMILAR:
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
    print("PASSED" if report.passed else "FAILED")


def save_csv(report: CompareReport, path: str | Path) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "verdict", "cosine", "correlation", "euclidean", "sqnr_db"])
        for r in report.results:
            m = r.metrics
            writer.writerow(
                [r.name, r.verdict]
                + ([m.cosine, m.correlation, m.euclidean, m.sqnr_db] if m else ["", "", "", ""])
            )


def cmd_compare(args: argparse.Namespace) -> int:
    a, b = load_npz(args.target), load_npz(args.reference)
    names, thresholds = None, {}
    if args.op_info:
        try:
            infos = read_op_info(args.op_info)
        except (OSError, ValueError) as error:
            raise ToolError(f"--op_info: {error}") from None
        names = [i.name for i in infos]
        thresholds = {i.name: i.threshold for i in infos if i.threshold is not None}
    excepts = [n for n in (args.excepts or "").split(",") if n]
    report = compare_npz(
        a,
        b,
        names=names,
        thresholds=thresholds,
        tolerance=parse_tolerance(args.tolerance),
        excepts=excepts,
    )
    if not report.results:
        raise ToolError(f"no tensor name in common between {args.target} and {args.reference}")
    print_report(report, args.verbose)
    if args.save:
        save_csv(report, args.save)
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

"""gen_data_list: pick calibration inputs from a folder and write them as a data list.

  gen_data_list.py <image dir> <count> <out list> [--seed N] [--ext .jpg,.png,...]

Files with an image suffix (or the suffixes given with --ext, e.g. .npz) are collected
recursively, sorted by their path relative to the folder, shuffled with numpy's default generator
seeded with --seed (default 0), and the first <count> are written, one absolute path per line.
The same folder, count and seed always give the same list. Exits 1 with a message on bad
arguments or an empty folder.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEFAULT_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")


class DataListError(Exception):
    pass


def collect_files(folder: str | Path, suffixes: Sequence[str] = DEFAULT_SUFFIXES) -> list[Path]:
    """Files under `folder` whose suffix (case-insensitive) is in `suffixes`, sorted by their
    path relative to `folder`."""
    root = Path(folder)
    if not root.is_dir():
        raise DataListError(f"'{root}' is not a folder")
    wanted = {s.lower() if s.startswith(".") else "." + s.lower() for s in suffixes}
    files = [p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in wanted]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def pick(files: Sequence[Path], count: int, seed: int) -> list[Path]:
    """`count` of `files` (all of them if fewer) in a seeded random order."""
    if count <= 0:
        raise DataListError(f"count must be positive, got {count}")
    order = np.random.default_rng(seed).permutation(len(files))
    return [files[int(i)] for i in order[:count]]


def gen_data_list(
    folder: str | Path,
    count: int,
    out: str | Path,
    seed: int = 0,
    suffixes: Sequence[str] = DEFAULT_SUFFIXES,
) -> list[Path]:
    """Writes the list and returns the chosen files."""
    files = collect_files(folder, suffixes)
    if not files:
        raise DataListError(
            f"no input files in '{folder}' (suffixes: {', '.join(sorted(set(suffixes)))})"
        )
    chosen = pick(files, count, seed)
    text = "".join(f"{p.resolve()}\n" for p in chosen)
    try:
        Path(out).write_text(text)
    except OSError as error:
        raise DataListError(f"cannot write '{out}': {error.strerror or error}") from None
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gen_data_list.py",
        description="Pick calibration inputs (sorted, then seeded shuffle) from a folder.",
    )
    parser.add_argument("image_dir", help="folder searched recursively")
    parser.add_argument("count", type=int, help="number of files to list")
    parser.add_argument("out_list", help="list file to write, one path per line")
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed (default 0)")
    parser.add_argument(
        "--ext",
        default=",".join(DEFAULT_SUFFIXES),
        help="comma-separated file suffixes to collect (default: common image formats)",
    )
    args = parser.parse_args(argv)
    suffixes = [s.strip() for s in args.ext.split(",") if s.strip()]
    try:
        chosen = gen_data_list(args.image_dir, args.count, args.out_list, args.seed, suffixes)
    except DataListError as error:
        print(f"gen_data_list: error: {error}", file=sys.stderr)
        return 1
    note = "" if len(chosen) == args.count else f" (only {len(chosen)} available)"
    print(f"wrote {len(chosen)} path(s) to {args.out_list}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

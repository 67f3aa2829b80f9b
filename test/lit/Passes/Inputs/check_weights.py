"""Numeric checks of weight files written by the weight-folding passes (used by the lit tests).

    check_weights.py bn-to-scale IN OUT --stats MEAN VAR GAMMA BETA --eps E --result SCALE BIAS
    check_weights.py fold-conv IN OUT --filter W [--bias B] (--scale S [--shift T] |
                     --bn MEAN VAR GAMMA BETA --eps E) --result FILTER BIAS
    check_weights.py keeps IN OUT      # OUT holds every array of IN, unchanged

IN is the weight file before the pass, OUT the file it wrote. Exits non-zero with a message when
a value differs from the reference computed here in float64 (relative tolerance 1e-5).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

RTOL = 1e-5
ATOL = 1e-6


def load(path: str) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


def expect(name: str, actual: np.ndarray, expected: np.ndarray) -> None:
    if actual.dtype != np.float32:
        sys.exit(f"{name}: dtype {actual.dtype}, expected float32")
    if actual.size != expected.size:
        sys.exit(f"{name}: {actual.size} elements, expected {expected.size}")
    if not np.allclose(actual.reshape(-1), expected.reshape(-1), rtol=RTOL, atol=ATOL):
        sys.exit(
            f"{name}: values differ\n  actual   {actual.reshape(-1)[:8]}\n"
            f"  expected {expected.reshape(-1)[:8]}"
        )


def batch_norm_affine(
    src: dict[str, np.ndarray], stats: list[str], eps: float
) -> tuple[np.ndarray, np.ndarray]:
    mean, var, gamma, beta = (src[name].astype(np.float64).reshape(-1) for name in stats)
    scale = gamma / np.sqrt(var + float(np.float32(eps)))
    return scale, beta - mean * scale


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("check", choices=["bn-to-scale", "fold-conv", "keeps"])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--stats", nargs=4)
    parser.add_argument("--bn", nargs=4)
    parser.add_argument("--eps", type=float, default=1e-5)
    parser.add_argument("--filter")
    parser.add_argument("--bias")
    parser.add_argument("--scale")
    parser.add_argument("--shift")
    parser.add_argument("--result", nargs=2)
    args = parser.parse_args()
    src, out = load(args.input), load(args.output)

    if args.check == "keeps":
        for name, array in src.items():
            if name not in out or not np.array_equal(out[name], array):
                sys.exit(f"array '{name}' of {args.input} is missing or changed in {args.output}")
    elif args.check == "bn-to-scale":
        scale, bias = batch_norm_affine(src, args.stats, args.eps)
        expect(args.result[0], out[args.result[0]], scale)
        expect(args.result[1], out[args.result[1]], bias)
    else:
        if args.bn:
            scale, shift = batch_norm_affine(src, args.bn, args.eps)
        else:
            scale = src[args.scale].astype(np.float64).reshape(-1)
            shift = src[args.shift].astype(np.float64).reshape(-1) if args.shift else 0.0 * scale
        weights = src[args.filter].astype(np.float64)
        bias = src[args.bias].astype(np.float64).reshape(-1) if args.bias else 0.0 * scale
        folded = weights * scale.reshape((-1,) + (1,) * (weights.ndim - 1))
        expect(args.result[0], out[args.result[0]], folded)
        expect(args.result[1], out[args.result[1]], bias * scale + shift)
        if out[args.result[0]].shape != weights.shape:
            sys.exit(
                f"{args.result[0]}: shape {out[args.result[0]].shape}, expected {weights.shape}"
            )
    print(f"{args.check}: ok")


if __name__ == "__main__":
    main()

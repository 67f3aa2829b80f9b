"""Helpers of the interpreter lit tests.

npz_tool.py write <file.npz> name=v0,v1,...:d0xd1x... ...   writes float32 arrays
npz_tool.py print <file.npz>                                  prints name, shape and values
"""

from __future__ import annotations

import sys

import numpy as np


def write(path: str, specs: list[str]) -> None:
    arrays = {}
    for spec in specs:
        name, rest = spec.split("=", 1)
        values, shape = rest.split(":")
        dims = tuple(int(d) for d in shape.split("x"))
        arrays[name] = np.array([float(v) for v in values.split(",")], dtype=np.float32).reshape(
            dims
        )
    np.savez(path, **arrays)


def show(path: str) -> None:
    with np.load(path) as data:
        for name in data.files:
            array = data[name]
            values = " ".join(f"{v:.4g}" for v in array.ravel())
            print(f"{name} {array.dtype} {list(array.shape)}: {values}")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3:])
    else:
        show(sys.argv[2])

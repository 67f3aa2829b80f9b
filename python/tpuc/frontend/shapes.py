"""Output-shape arithmetic of convolution, pooling and broadcasting, following the ONNX spec."""

from __future__ import annotations

import math
from collections.abc import Sequence


def same_pads(in_size: int, kernel_extent: int, stride: int, auto_pad: str) -> tuple[int, int]:
    """(begin, end) padding of auto_pad SAME_UPPER / SAME_LOWER for one spatial dimension."""
    out = math.ceil(in_size / stride)
    total = max((out - 1) * stride + kernel_extent - in_size, 0)
    small = total // 2
    return (small, total - small) if auto_pad == "SAME_UPPER" else (total - small, small)


def window_pads(
    auto_pad: str,
    pads: Sequence[int] | None,
    in_sizes: Sequence[int],
    extents: Sequence[int],
    strides: Sequence[int],
) -> list[int]:
    """ONNX pads [x1_begin, x2_begin, x1_end, x2_end] of a 2-D window op."""
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pairs = [
            same_pads(i, e, s, auto_pad)
            for i, e, s in zip(in_sizes, extents, strides, strict=False)
        ]
        return [pairs[0][0], pairs[1][0], pairs[0][1], pairs[1][1]]
    if auto_pad == "VALID":
        return [0, 0, 0, 0]
    if auto_pad not in ("NOTSET", ""):
        raise ValueError(f"unknown auto_pad {auto_pad!r}")
    return list(pads) if pads else [0, 0, 0, 0]


def window_output(
    in_size: int, pad_begin: int, pad_end: int, extent: int, stride: int, ceil_mode: bool = False
) -> int:
    padded = in_size + pad_begin + pad_end
    if padded < extent:
        raise ValueError(f"window of extent {extent} exceeds padded input {padded}")
    if not ceil_mode:
        return (padded - extent) // stride + 1
    out = math.ceil((padded - extent) / stride) + 1
    # The last window must start inside the input or the begin padding.
    if (out - 1) * stride >= in_size + pad_begin:
        out -= 1
    return out


def broadcast(*shapes: Sequence[int]) -> list[int]:
    rank = max(len(s) for s in shapes)
    result = []
    for axis in range(rank):
        dims = {s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0}
        dims.discard(1)
        if len(dims) > 1:
            raise ValueError(f"shapes {[list(s) for s in shapes]} do not broadcast")
        result.append(dims.pop() if dims else 1)
    return result


def normalize_axis(axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < rank:
        raise ValueError(f"{what} {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def per_channel_size(const_shape: Sequence[int], act_shape: Sequence[int]) -> int | None:
    """If a constant of `const_shape` broadcast against an activation of `act_shape` (rank >= 2)
    varies at most along axis 1 and does not grow the activation, returns the number of values
    along axis 1 (1 = a scalar); else None."""
    rank = len(act_shape)
    if rank < 2 or len(const_shape) > rank:
        return None
    padded = [1] * (rank - len(const_shape)) + list(const_shape)
    for axis, dim in enumerate(padded):
        if axis == 1:
            if dim not in (1, act_shape[1]):
                return None
        elif dim != 1:
            return None
    return padded[1]

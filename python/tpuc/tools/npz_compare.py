"""Tensor-by-tensor comparison of two npz files (fp32 vs reference, int8 vs fp32).

Metrics per tensor (a = target, b = reference):
  cosine similarity    a.b / (|a| |b|)
  correlation          cosine similarity of the mean-centred tensors
  euclidean similarity 1 - |a - b| / |(a + b) / 2|
  SQNR                 10 log10(|b|^2 / |a - b|^2) dB
Verdicts: EQUAL (identical values), CLOSE (np.allclose), SIMILAR (every metric at or above its
tolerance), NOT SIMILAR.

INT8 against fp32 (`dequant`): a target tensor of an INT8 layer holds int8 codes q (dtype int8,
or integral floats in [-128, 127] as an interpreter dump stores them) that stand for
q * threshold / 127; it is dequantized with its layer's threshold (op_info_int8.csv or a
calibration table) before the metrics. A tensor that should hold codes but does not is reported
NOT SIMILAR with the reason, never compared as it is. Int8 statistics per dequantized tensor: the
fraction of codes at -128/127 (saturated), the fraction of zeros and the number of distinct codes.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

EQUAL, CLOSE, SIMILAR, NOT_SIMILAR = "EQUAL", "CLOSE", "SIMILAR", "NOT SIMILAR"
DEFAULT_TOLERANCE = (0.99, 0.99, 0.90)


@dataclass
class OpInfo:
    name: str
    layer_id: int
    quant: str
    threshold: float | None


def read_op_info(path: str | Path) -> list[OpInfo]:
    """op_info.csv: no header, `name,layer_id,quant,threshold` per line."""
    entries = []
    with open(path, newline="") as handle:
        for lineno, row in enumerate(csv.reader(handle), 1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) < 3:
                raise ValueError(f"{path}:{lineno}: expected name,layer_id,quant,threshold")
            threshold = float(row[3]) if len(row) > 3 and row[3].strip() else None
            try:
                layer_id = int(row[1])
            except ValueError as error:
                raise ValueError(
                    f"{path}:{lineno}: layer_id '{row[1]}' is not an integer"
                ) from error
            entries.append(OpInfo(row[0], layer_id, row[2].strip(), threshold))
    return entries


@dataclass
class Metrics:
    cosine: float
    correlation: float
    euclidean: float
    sqnr_db: float


@dataclass
class TensorResult:
    name: str
    verdict: str
    metrics: Metrics | None = None
    shape_a: tuple[int, ...] = ()
    shape_b: tuple[int, ...] = ()
    note: str = ""
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict != NOT_SIMILAR


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 and nb == 0.0:
        return 1.0
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


def similarity(a: np.ndarray, b: np.ndarray) -> Metrics:
    """Metrics of target `a` against reference `b` (same number of elements)."""
    x = np.asarray(a, np.float64).reshape(-1)
    y = np.asarray(b, np.float64).reshape(-1)
    if x.size != y.size:
        raise ValueError(f"sizes differ: {x.size} vs {y.size}")
    cosine = _cos(x, y)
    xc, yc = x - x.mean() if x.size else x, y - y.mean() if y.size else y
    if not np.any(xc) and not np.any(yc):
        correlation = 1.0 if np.allclose(x, y) else 0.0
    else:
        correlation = _cos(xc, yc)
    diff = float(np.linalg.norm(x - y))
    mid = float(np.linalg.norm((x + y) / 2))
    euclidean = 1.0 if diff == 0.0 else (1.0 - diff / mid if mid > 0 else 0.0)
    signal = float(np.sum(y * y))
    noise = float(np.sum((x - y) ** 2))
    if noise == 0.0:
        sqnr = math.inf
    elif signal == 0.0:
        sqnr = -math.inf
    else:
        sqnr = 10.0 * math.log10(signal / noise)
    return Metrics(cosine, correlation, euclidean, sqnr)


def dequantize(array: np.ndarray, threshold: float | None) -> np.ndarray:
    """An int8 tensor with a calibration threshold back to float: x * threshold / 127."""
    if array.dtype == np.int8 and threshold is not None:
        return array.astype(np.float32) * (threshold / 127.0)
    return array


def int8_code_problem(array: np.ndarray) -> str | None:
    """Why `array` is not a tensor of int8 codes (None when it is one)."""
    if array.dtype == np.int8:
        return None
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        return f"dtype {array.dtype} is not numeric"
    if array.size == 0:
        return None
    flat = array.reshape(-1)
    if not np.all(np.isfinite(flat)):
        return "contains inf or nan"
    low, high = float(flat.min()), float(flat.max())
    if low < -128 or high > 127:
        return f"values in [{low:.6g}, {high:.6g}] exceed the int8 range [-128, 127]"
    if not np.array_equal(flat, np.round(flat)):
        return "values are not integers"
    return None


def int8_dump_thresholds(
    a: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray] = {}
) -> tuple[dict[str, float], set[str]]:
    """The thresholds an INT8 interpreter dump records for its int8 tensors: an int8 array
    `name` comes with a float scalar `name_scale` (its step, threshold / 127; `name_scale_`, ...
    when the name is taken by a tensor). Returns {name: threshold} and the scale entries' names."""
    thresholds: dict[str, float] = {}
    scale_names: set[str] = set()
    for name, array in a.items():
        if np.asarray(array).dtype != np.int8:
            continue
        candidate = f"{name}_scale"
        while candidate in a and (candidate in reference or np.asarray(a[candidate]).size != 1):
            candidate += "_"
        scale = a.get(candidate)
        if scale is None or np.asarray(scale).dtype == np.int8:
            continue
        step = float(np.asarray(scale).reshape(-1)[0])
        if step > 0 and math.isfinite(step):
            thresholds[name] = step * 127.0
            scale_names.add(candidate)
    return thresholds, scale_names


def dequantize_codes(array: np.ndarray, threshold: float) -> np.ndarray:
    """int8 codes (any numeric dtype, already checked) to float: q * threshold / 127."""
    return np.asarray(array, np.float64) * (float(threshold) / 127.0)


def int8_stats(codes: np.ndarray) -> dict[str, float]:
    """Saturation (codes at -128 or 127), zero fraction and distinct codes of an int8 tensor."""
    flat = np.asarray(codes).reshape(-1).astype(np.int16)
    if flat.size == 0:
        return {"saturated": 0.0, "zeros": 0.0, "levels": 0.0}
    counts = np.bincount(flat + 128, minlength=256)
    return {
        "saturated": float(counts[0] + counts[255]) / flat.size,
        "zeros": float(counts[128]) / flat.size,
        "levels": float(np.count_nonzero(counts)),
    }


def compare_tensor(
    name: str,
    a: np.ndarray,
    b: np.ndarray,
    tolerance: Sequence[float] = DEFAULT_TOLERANCE,
    threshold: float | None = None,
    *,
    dequant: bool = False,
) -> TensorResult:
    """Compares target `a` with reference `b`. With `dequant`, `a` must hold the int8 codes of
    a layer with `threshold` and is compared dequantized."""
    a, b = np.asarray(a), np.asarray(b)
    int8: dict[str, float] = {}
    if dequant:
        result = TensorResult(name, NOT_SIMILAR, shape_a=tuple(a.shape), shape_b=tuple(b.shape))
        if threshold is None or not threshold > 0:
            result.note = "INT8 layer without a positive threshold: cannot dequantize"
            return result
        problem = int8_code_problem(a)
        if problem is not None:
            result.note = f"not int8 codes ({problem}): cannot dequantize"
            return result
        int8 = int8_stats(a)
        a = dequantize_codes(a, threshold)
    else:
        a = dequantize(a, threshold)
    b = dequantize(b, threshold)
    result = TensorResult(name, NOT_SIMILAR, shape_a=tuple(a.shape), shape_b=tuple(b.shape))
    if a.size != b.size:
        result.note = f"element counts differ: {a.shape} vs {b.shape}"
        return result
    if a.shape != b.shape:
        result.note = f"shapes differ ({a.shape} vs {b.shape}); compared as flat arrays"
    x = a.astype(np.float64).reshape(-1)
    y = b.astype(np.float64).reshape(-1)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        same = np.array_equal(x, y, equal_nan=True)
        result.verdict = EQUAL if same else NOT_SIMILAR
        result.note = (result.note + "; " if result.note else "") + "contains inf or nan"
        return result
    result.metrics = similarity(x, y)
    result.stats = {
        "a_min": float(x.min()) if x.size else 0.0,
        "a_max": float(x.max()) if x.size else 0.0,
        "a_mean": float(x.mean()) if x.size else 0.0,
        "b_min": float(y.min()) if y.size else 0.0,
        "b_max": float(y.max()) if y.size else 0.0,
        "b_mean": float(y.mean()) if y.size else 0.0,
        "max_abs_diff": float(np.max(np.abs(x - y))) if x.size else 0.0,
    }
    if int8:
        result.stats.update({f"int8_{k}": v for k, v in int8.items()})
        result.stats["threshold"] = float(threshold or 0.0)
    m = result.metrics
    if np.array_equal(x, y):
        result.verdict = EQUAL
    elif np.allclose(x, y, rtol=1e-5, atol=1e-7):
        result.verdict = CLOSE
    elif m.cosine >= tolerance[0] and m.correlation >= tolerance[1] and m.euclidean >= tolerance[2]:
        result.verdict = SIMILAR
    return result


@dataclass
class CompareReport:
    results: list[TensorResult]
    only_in_a: list[str]
    only_in_b: list[str]
    tolerance: tuple[float, float, float]

    def count(self, verdict: str) -> int:
        return sum(1 for r in self.results if r.verdict == verdict)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    def min_metric(self, key: str) -> float | None:
        values = [getattr(r.metrics, key) for r in self.results if r.metrics is not None]
        return min(values) if values else None


def compare_npz(
    a: Mapping[str, np.ndarray],
    b: Mapping[str, np.ndarray],
    *,
    names: Iterable[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    tolerance: Sequence[float] = DEFAULT_TOLERANCE,
    excepts: Iterable[str] = (),
    dequant: Iterable[str] = (),
) -> CompareReport:
    """Compares the tensors of `a` and `b` present in both (in `names` order when given, else
    in a's order). The tensors named in `dequant` are int8 codes in `a`, dequantized with their
    `thresholds` before the comparison."""
    skip = set(excepts)
    int8_names = set(dequant)
    order = list(names) if names is not None else list(a.keys())
    results = []
    for name in order:
        if name in skip or name not in a or name not in b:
            continue
        threshold = (thresholds or {}).get(name)
        results.append(
            compare_tensor(name, a[name], b[name], tolerance, threshold, dequant=name in int8_names)
        )
    only_a = [n for n in a if n not in b and n not in skip]
    only_b = [n for n in b if n not in a and n not in skip]
    return CompareReport(results, only_a, only_b, tuple(float(t) for t in tolerance))

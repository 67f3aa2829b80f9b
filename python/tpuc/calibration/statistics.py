"""Streaming activation statistics, accumulated over many inputs and merged across processes.

Calibration runs the model twice over the inputs: the first pass records every tensor's minimum
and maximum (`ActivationRanges`), the second counts absolute values into histograms whose range is
fixed by the first pass (`ActivationHistograms`). Both merge exactly (min/max and integer counts),
so the result does not depend on how the inputs were split between processes or in which order
the parts are merged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from typing import TypeVar

import numpy as np

from .thresholds import DEFAULT_HISTOGRAM_BINS

T = TypeVar("T")


class NonFiniteActivationError(ValueError):
    """A tensor held NaN or infinity on some input; calibration cannot place a threshold."""


def _flat(name: str, value: np.ndarray, sample: str) -> np.ndarray:
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"tensor '{name}' has non-numeric dtype {array.dtype} ({sample})")
    if array.dtype != np.float32 and array.dtype != np.float64:
        array = array.astype(np.float32)
    return array.reshape(-1)


def _check_present(names: list[str], tensors: Mapping[str, np.ndarray], sample: str) -> None:
    for name in names:
        if name not in tensors:
            raise KeyError(f"no tensor '{name}' in the model outputs ({sample})")


def _map(function: Callable[[int], T], count: int, pool: Executor | None) -> list[T]:
    """[function(0), ..., function(count - 1)], on the pool's threads when given."""
    if pool is None:
        return [function(i) for i in range(count)]
    return list(pool.map(function, range(count)))


def _non_finite(name: str, sample: str) -> NonFiniteActivationError:
    return NonFiniteActivationError(f"tensor '{name}' holds NaN or infinity ({sample})")


class ActivationRanges:
    """Per-tensor running minimum and maximum over the inputs seen so far."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names: list[str] = list(names)
        self.minimum = np.full(len(self.names), np.inf, dtype=np.float64)
        self.maximum = np.full(len(self.names), -np.inf, dtype=np.float64)
        self.samples = 0
        self._index = {name: i for i, name in enumerate(self.names)}

    def update(
        self, tensors: Mapping[str, np.ndarray], sample: str = "", pool: Executor | None = None
    ) -> None:
        """Folds one input's tensors in; every name must be present. With `pool` the tensors are
        reduced on its threads (numpy releases the GIL), the result is the same."""

        def reduce(i: int) -> tuple[float, float] | None:
            flat = _flat(self.names[i], tensors[self.names[i]], sample)
            if flat.size == 0:
                return None
            low, high = float(flat.min()), float(flat.max())  # NaN and inf show up here
            if not (math.isfinite(low) and math.isfinite(high)):
                raise _non_finite(self.names[i], sample)
            return low, high

        _check_present(self.names, tensors, sample)
        for i, found in enumerate(_map(reduce, len(self.names), pool)):
            if found is not None:
                self.minimum[i] = min(self.minimum[i], found[0])
                self.maximum[i] = max(self.maximum[i], found[1])
        self.samples += 1

    def merge(self, other: ActivationRanges) -> None:
        if other.names != self.names:
            raise ValueError("cannot merge ranges of different tensor lists")
        np.minimum(self.minimum, other.minimum, out=self.minimum)
        np.maximum(self.maximum, other.maximum, out=self.maximum)
        self.samples += other.samples

    def absmax(self) -> np.ndarray:
        """max(|min|, |max|) per tensor; 0 for a tensor never seen with elements."""
        seen = np.isfinite(self.minimum)
        result = np.zeros(len(self.names), dtype=np.float64)
        result[seen] = np.maximum(np.abs(self.minimum[seen]), np.abs(self.maximum[seen]))
        return result

    def range_of(self, name: str) -> tuple[float, float]:
        i = self._index[name]
        if not np.isfinite(self.minimum[i]):
            return 0.0, 0.0
        return float(self.minimum[i]), float(self.maximum[i])


class ActivationHistograms:
    """Per-tensor histograms of absolute values over fixed ranges [0, absmax[name]].

    Bin k counts values with k <= |x| * bins / absmax < k + 1; |x| == absmax lands in the last
    bin. A tensor whose absmax is 0 counts everything in bin 0. Values above absmax (possible only
    if the inputs differ from the first pass) are counted in the last bin. `zeros` counts the
    values that are exactly 0 (they are in bin 0 too).
    """

    def __init__(
        self, names: Iterable[str], absmax: np.ndarray, bins: int = DEFAULT_HISTOGRAM_BINS
    ) -> None:
        self.names: list[str] = list(names)
        self.absmax = np.asarray(absmax, dtype=np.float64).copy()
        if self.absmax.shape != (len(self.names),):
            raise ValueError("one absmax per tensor name is required")
        if bins < 1:
            raise ValueError(f"histogram bins must be positive, got {bins}")
        self.bins = bins
        self.counts = np.zeros((len(self.names), bins), dtype=np.int64)
        self.zeros = np.zeros(len(self.names), dtype=np.int64)
        self.samples = 0

    def nonzero_counts(self, index: int) -> np.ndarray:
        """The histogram of tensor `index` without its exact zeros."""
        counts = self.counts[index].copy()
        counts[0] -= self.zeros[index]
        return counts

    def bin_width(self, index: int) -> float:
        return float(self.absmax[index]) / self.bins

    def update(
        self, tensors: Mapping[str, np.ndarray], sample: str = "", pool: Executor | None = None
    ) -> None:
        """Counts one input's tensors; every name must be present. With `pool` the tensors are
        counted on its threads (numpy releases the GIL), the counts are the same."""

        def count(i: int) -> tuple[np.ndarray, int]:
            name = self.names[i]
            flat = _flat(name, tensors[name], sample)
            try:
                counts = histogram_abs(flat, float(self.absmax[i]), self.bins)
            except NonFiniteActivationError:
                raise _non_finite(name, sample) from None
            return counts, flat.size - int(np.count_nonzero(flat))

        _check_present(self.names, tensors, sample)
        for i, (counts, zeros) in enumerate(_map(count, len(self.names), pool)):
            self.counts[i] += counts
            self.zeros[i] += zeros
        self.samples += 1

    def merge(self, other: ActivationHistograms) -> None:
        if other.names != self.names or other.bins != self.bins:
            raise ValueError("cannot merge histograms of different tensors or bin counts")
        if not np.array_equal(other.absmax, self.absmax):
            raise ValueError("cannot merge histograms over different ranges")
        self.counts += other.counts
        self.zeros += other.zeros
        self.samples += other.samples


def histogram_abs(values: np.ndarray, absmax: float, bins: int) -> np.ndarray:
    """Counts |values| into `bins` equal bins over [0, absmax] (see ActivationHistograms).
    Raises NonFiniteActivationError if a value is NaN or infinite."""
    if values.size == 0:
        return np.zeros(bins, dtype=np.int64)
    scaled = np.abs(values)
    largest = float(scaled.max())
    if not math.isfinite(largest):
        raise NonFiniteActivationError("values hold NaN or infinity")
    if absmax <= 0.0:
        result = np.zeros(bins, dtype=np.int64)
        result[0] = values.size
        return result
    scaled *= float(bins) / float(absmax)
    if largest * (float(bins) / float(absmax)) >= bins - 1:  # clip |x| == absmax (or beyond)
        np.minimum(scaled, bins - 1, out=scaled)
    index = scaled.astype(np.int32).astype(np.intp)  # two vectorized casts beat one scalar one
    return np.bincount(index, minlength=bins).astype(np.int64, copy=False)

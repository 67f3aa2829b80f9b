"""Streaming statistics: histograms accumulated per input and merged in any split and order equal
the one-shot result; ranges; error cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytest.importorskip("tpuc.calibration", reason="tpuc is not installed")

from tpuc.calibration.statistics import (  # noqa: E402
    ActivationHistograms,
    ActivationRanges,
    NonFiniteActivationError,
    histogram_abs,
)

NAMES = ["conv", "relu", "fc"]


def synthetic_activations(count: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(count):
        conv = rng.normal(scale=2.0, size=(1, 8, 6, 6)).astype(np.float32)
        samples.append(
            {
                "conv": conv,
                "relu": np.maximum(conv, 0.0),
                "fc": rng.laplace(size=(1, 10)).astype(np.float32),
            }
        )
    return samples


def ranges_of(samples: list[dict[str, np.ndarray]]) -> ActivationRanges:
    ranges = ActivationRanges(NAMES)
    for i, sample in enumerate(samples):
        ranges.update(sample, f"sample {i}")
    return ranges


def test_ranges_track_min_max_and_absmax() -> None:
    samples = synthetic_activations(5)
    ranges = ranges_of(samples)
    for i, name in enumerate(NAMES):
        stacked = np.concatenate([s[name].ravel() for s in samples])
        assert ranges.range_of(name) == (float(stacked.min()), float(stacked.max()))
        assert ranges.absmax()[i] == float(np.abs(stacked).max())
    assert ranges.samples == 5


def test_streaming_histograms_equal_one_shot_histograms() -> None:
    samples = synthetic_activations(6)
    absmax = ranges_of(samples).absmax()
    streamed = ActivationHistograms(NAMES, absmax, 256)
    for sample in samples:
        streamed.update(sample)
    for i, name in enumerate(NAMES):
        stacked = np.concatenate([s[name].ravel() for s in samples])
        np.testing.assert_array_equal(streamed.counts[i], histogram_abs(stacked, absmax[i], 256))
        assert streamed.counts[i].sum() == stacked.size


def test_merging_any_split_in_any_order_gives_identical_statistics() -> None:
    samples = synthetic_activations(7, seed=3)
    absmax = ranges_of(samples).absmax()
    reference = ActivationHistograms(NAMES, absmax)
    for sample in samples:
        reference.update(sample)
    reference_ranges = ranges_of(samples)
    for split in ([3, 4], [1, 2, 4], [2, 2, 2, 1]):
        bounds = np.cumsum([0, *split])
        parts = []
        range_parts = []
        for lo, hi in itertools.pairwise(bounds):
            part = ActivationHistograms(NAMES, absmax)
            for sample in samples[lo:hi]:
                part.update(sample)
            parts.append(part)
            range_parts.append(ranges_of(samples[lo:hi]))
        for order in itertools.permutations(range(len(parts))):
            merged = ActivationHistograms(NAMES, absmax)
            merged_ranges = ActivationRanges(NAMES)
            for k in order:
                merged.merge(parts[k])
                merged_ranges.merge(range_parts[k])
            np.testing.assert_array_equal(merged.counts, reference.counts)
            np.testing.assert_array_equal(merged_ranges.minimum, reference_ranges.minimum)
            np.testing.assert_array_equal(merged_ranges.maximum, reference_ranges.maximum)
            assert merged.samples == len(samples)


def test_histogram_binning_edges() -> None:
    values = np.array([0.0, -0.25, 0.5, 0.999, 1.0, -1.0], dtype=np.float32)
    counts = histogram_abs(values, 1.0, 4)
    # [0, .25): 0 | [.25, .5): .25 | [.5, .75): .5 | [.75, 1]: .999, 1, 1
    np.testing.assert_array_equal(counts, [1, 1, 1, 3])
    assert histogram_abs(np.zeros(5, np.float32), 0.0, 4).tolist() == [5, 0, 0, 0]
    # Values beyond the range (inputs that changed between the passes) land in the last bin.
    assert histogram_abs(np.array([3.0], np.float32), 1.0, 4).tolist() == [0, 0, 0, 1]


def test_non_finite_and_missing_tensors_are_reported_by_name() -> None:
    ranges = ActivationRanges(NAMES)
    bad = synthetic_activations(1)[0]
    bad["relu"] = bad["relu"].copy()
    bad["relu"].flat[3] = np.nan
    with pytest.raises(NonFiniteActivationError, match="'relu'.*img.jpg"):
        ranges.update(bad, "img.jpg")
    missing = synthetic_activations(1)[0]
    del missing["fc"]
    with pytest.raises(KeyError, match="'fc'"):
        ActivationHistograms(NAMES, np.ones(3)).update(missing)


def test_merge_rejects_mismatched_statistics() -> None:
    with pytest.raises(ValueError, match="different"):
        ActivationHistograms(NAMES, np.ones(3)).merge(ActivationHistograms(NAMES, np.ones(3), 512))
    with pytest.raises(ValueError, match="ranges"):
        ActivationHistograms(NAMES, np.ones(3)).merge(ActivationHistograms(NAMES, np.full(3, 2.0)))
    with pytest.raises(ValueError, match="different"):
        ActivationRanges(NAMES).merge(ActivationRanges(NAMES[:2]))


def test_histograms_reject_non_finite_values() -> None:
    values = np.array([0.5, np.inf], dtype=np.float32)
    with pytest.raises(NonFiniteActivationError):
        histogram_abs(values, 1.0, 8)
    histograms = ActivationHistograms(["x"], np.ones(1), 8)
    with pytest.raises(NonFiniteActivationError, match="'x'.*second input"):
        histograms.update({"x": np.array([np.nan], dtype=np.float32)}, "second input")


def test_exact_zeros_are_counted_apart() -> None:
    values = np.array([0.0, -0.0, 0.0, 0.001, -0.5, 1.0], dtype=np.float32)
    histograms = ActivationHistograms(["x"], np.ones(1), 4)
    histograms.update({"x": values})
    histograms.update({"x": values[:3]})
    assert histograms.zeros.tolist() == [6]
    assert histograms.counts[0].tolist() == [7, 0, 1, 1]
    assert histograms.nonzero_counts(0).tolist() == [1, 0, 1, 1]
    other = ActivationHistograms(["x"], np.ones(1), 4)
    other.update({"x": np.zeros(5, np.float32)})
    histograms.merge(other)
    assert histograms.zeros.tolist() == [11] and histograms.nonzero_counts(0)[0] == 1

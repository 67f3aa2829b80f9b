"""Threshold algorithms on known distributions, and the closed-form KL search against a direct
per-candidate computation."""

from __future__ import annotations

import numpy as np
import pytest
from calibration_helpers import abs_histogram

pytest.importorskip("tpuc.calibration", reason="tpuc is not installed")

from tpuc.calibration.thresholds import (  # noqa: E402
    MIN_THRESHOLD,
    kl_divergences,
    kl_threshold,
    max_threshold,
    percentile_threshold,
)


def direct_kl(counts: np.ndarray, levels: int = 128) -> np.ndarray:
    """KL(P_i || Q_i) built bin by bin for every candidate i, as the algorithm describes it."""
    h = counts.astype(np.float64)
    total = h.sum()
    result = []
    for i in range(levels, h.size + 1):
        p = h[:i].copy()
        p[i - 1] += h[i:].sum()
        level_of_bin = (np.arange(i) * levels) // i
        q = np.zeros(i)
        for level in range(levels):
            in_level = level_of_bin == level
            targets = in_level & (p > 0)
            if targets.any():
                q[targets] = h[:i][in_level].sum() / targets.sum()
        p /= total
        if q.sum() > 0:
            q /= q.sum()
        q = np.where(q > 1e-12, q, 1e-12)
        used = p > 0
        result.append(float(np.sum(p[used] * np.log(p[used] / q[used]))))
    return np.array(result)


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: rng.normal(size=50_000),
        lambda rng: rng.laplace(size=50_000),
        lambda rng: np.maximum(rng.normal(size=50_000), 0.0),
        lambda rng: np.concatenate([rng.normal(scale=0.01, size=300), [4.0], np.zeros(500)]),
    ],
    ids=["gaussian", "laplacian", "relu-gaussian", "sparse-with-outlier"],
)
def test_kl_closed_form_matches_direct_computation(make) -> None:
    counts, _ = abs_histogram(make(np.random.default_rng(7)), bins=512)
    expected = direct_kl(counts)
    got = kl_divergences(counts)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_kl_threshold_uniform_is_near_max() -> None:
    values = np.random.default_rng(0).uniform(-3.0, 3.0, size=2_000_000)
    counts, width = abs_histogram(values)
    threshold = kl_threshold(counts, width)
    assert threshold >= 0.99 * np.abs(values).max()


def test_kl_threshold_laplacian_is_well_inside_max() -> None:
    values = np.random.default_rng(1).laplace(scale=1.0, size=4_000_000)
    absmax = np.abs(values).max()
    counts, width = abs_histogram(values)
    threshold = kl_threshold(counts, width)
    assert 4.0 < threshold < 0.85 * absmax


def test_kl_threshold_gaussian_with_outliers_ignores_outliers() -> None:
    rng = np.random.default_rng(2)
    values = np.concatenate([rng.normal(size=2_000_000), [40.0, -35.0, 38.0]])
    counts, width = abs_histogram(values)
    threshold = kl_threshold(counts, width)
    # The bulk reaches about 5.5 sigma; the three outliers must not drag the threshold out.
    assert 3.0 < threshold < 8.0


def test_kl_threshold_gaussian_is_inside_max() -> None:
    values = np.random.default_rng(3).normal(size=4_000_000)
    absmax = np.abs(values).max()
    counts, width = abs_histogram(values)
    threshold = kl_threshold(counts, width)
    assert 3.0 < threshold < 0.95 * absmax


def test_kl_threshold_prefers_the_bulk_of_relu_outputs() -> None:
    rng = np.random.default_rng(4)
    values = np.maximum(rng.normal(size=2_000_000), 0.0)
    counts, width = abs_histogram(values)
    threshold = kl_threshold(counts, width, max_saturation=0.01)
    assert threshold < 0.6 * values.max()
    # The default guard lets at most 0.1% of the values saturate.
    guarded = kl_threshold(counts, width)
    assert threshold < guarded and np.mean(values > guarded) <= 0.001


def test_kl_threshold_is_a_bin_edge_and_scale_invariant() -> None:
    values = np.random.default_rng(5).laplace(size=200_000)
    counts, width = abs_histogram(values)
    threshold = kl_threshold(counts, width)
    bins = threshold / width
    assert abs(bins - round(bins)) < 1e-9 and 128 <= round(bins) <= 2048
    assert kl_threshold(counts, width * 10.0) == pytest.approx(threshold * 10.0)


def test_empty_or_zero_range_histograms_give_the_minimum_threshold() -> None:
    assert kl_threshold(np.zeros(2048), 0.01) == MIN_THRESHOLD
    zeros = np.zeros(2048)
    zeros[0] = 100
    assert kl_threshold(zeros, 0.0) == MIN_THRESHOLD
    assert percentile_threshold(np.zeros(2048), 0.1, 99.0) == MIN_THRESHOLD
    assert max_threshold(0.0) == MIN_THRESHOLD
    assert max_threshold(3.5) == 3.5


def test_kl_rejects_too_few_bins_and_bad_counts() -> None:
    with pytest.raises(ValueError, match="at least 128"):
        kl_divergences(np.ones(100))
    with pytest.raises(ValueError, match="non-negative"):
        kl_threshold(np.full(2048, -1.0), 0.1)
    with pytest.raises(ValueError, match="1-D"):
        kl_threshold(np.ones((2, 2048)), 0.1)


@pytest.mark.parametrize("percentile", [50.0, 90.0, 99.0, 99.99, 100.0])
def test_percentile_matches_numpy_within_a_bin(percentile: float) -> None:
    values = np.random.default_rng(6).normal(size=1_000_000)
    counts, width = abs_histogram(values)
    got = percentile_threshold(counts, width, percentile)
    expected = np.percentile(np.abs(values), percentile)
    assert abs(got - expected) <= width


def test_percentile_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="percentile"):
        percentile_threshold(np.ones(2048), 0.1, 0.0)
    with pytest.raises(ValueError, match="percentile"):
        percentile_threshold(np.ones(2048), 0.1, 101.0)


def test_kl_threshold_never_saturates_most_values_of_a_sparse_tensor() -> None:
    # 72 values clustered in [0.1, 0.8]: clipping all of them into one bin would give P == Q.
    values = np.random.default_rng(8).uniform(0.1, 0.8, size=72)
    counts, width = abs_histogram(values)
    unguarded = kl_threshold(counts, width, max_saturation=1.0)
    assert unguarded < 0.2  # the degenerate single-spike candidate
    threshold = kl_threshold(counts, width)
    assert np.mean(values > threshold) <= 0.01
    with pytest.raises(ValueError, match="max_saturation"):
        kl_threshold(counts, width, max_saturation=2.0)

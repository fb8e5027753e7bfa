"""Gap and acceleration statistics (spnlib.stats.speedup) on curves whose answers are known."""
from __future__ import annotations

import numpy as np
import pytest

from spnlib.stats.speedup import acceleration, format_interval, gap_table, iterations_to_fraction, mean_confidence_band


def exponential_curves(rates, runs=10, T=400, seed=0):
    """Curves 1 - exp(-rate t) per depth with small run-to-run jitter in the rate."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    return np.array([[1 - np.exp(-r * (1 + 0.01 * rng.standard_normal()) * t) for _ in range(runs)] for r in rates])


def test_iterations_to_fraction_counts_updates():
    c = np.array([[0.0, 0.5, 0.89, 0.9, 1.0], [0.0, 0.1, 0.2, 0.3, 0.4]])
    assert iterations_to_fraction(c, 0.0, 1.0, 0.9).tolist() == [3.0, np.inf]
    assert iterations_to_fraction(c, np.array([0.0, 0.0]), np.array([1.0, 0.4]), 0.9).tolist() == [3.0, 4.0]
    with pytest.raises(ValueError, match="fraction"):
        iterations_to_fraction(c, 0, 1, 1.5)


def test_twice_the_rate_is_an_acceleration_of_two():
    c = exponential_curves([0.01, 0.02, 0.04])
    acc = acceleration(c, (1, 2, 3), fraction=0.9)
    assert [a.depth for a in acc] == [1, 2, 3]
    assert acc[1].factor == pytest.approx(2, rel=0.03) and acc[2].factor == pytest.approx(4, rel=0.05)
    assert acc[1].low <= acc[1].factor <= acc[1].high and acc[0].factor == 1


def test_gap_table_reports_censoring_and_finals():
    c = exponential_curves([0.002, 0.02], T=300)
    rows, initial, best = gap_table(c, (1, 2))
    assert initial == pytest.approx(0.0) and best == pytest.approx(c[1, :, -1].max())
    slow, fast = rows
    assert slow.reached == (0, 0) and np.isinf(slow.median[0])          # 1 - exp(-0.6) never closes 90 %
    assert fast.reached == (10, 10) and fast.median[0] == pytest.approx(np.log(10) / 0.02, rel=0.03)
    assert fast.final_low <= fast.final_mean <= fast.final_high
    own, *_ = gap_table(c, (1, 2), target="own")
    assert own[0].reached == (10, 10)                                    # each run reaches its own plateau
    with pytest.raises(ValueError, match="unknown gap target"):
        gap_table(c, (1, 2), target="mean")
    with pytest.raises(ValueError, match="n_depths"):
        gap_table(c, (1, 2, 3))


def test_mean_band_brackets_the_mean_and_shrinks_with_more_runs():
    rng = np.random.default_rng(1)
    few, many = rng.normal(0, 1, (5, 3)), rng.normal(0, 1, (200, 3))
    m, lo, hi = mean_confidence_band(few)
    assert np.all(lo <= m) and np.all(m <= hi)
    _, lo2, hi2 = mean_confidence_band(many)
    assert np.all(hi2 - lo2 < hi - lo)


def test_format_interval():
    assert format_interval(12.0, 10.4, 14.6) == "12 [10, 15]"
    assert format_interval(np.inf, 300, np.inf) == "never [300, never]"
    assert format_interval(1.234, 1.1, np.nan, digits=2) == "1.23 [1.10, n/a]"

"""The speed-up estimator (spnlib.stats.speedup) on constructed cases whose answers are known."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spnlib.stats.speedup import (
    Acceleration,
    SpeedUp,
    acceleration,
    first_reaching,
    format_estimate,
    format_interval,
    gap_ends,
    gap_table,
    iterations_to_fraction,
    lower_median,
    mean_confidence_band,
    median_time,
    speedup,
    speedups,
)


def exponential_curves(rates, runs=10, T=400, seed=0):
    """Curves 1 - exp(-rate t) per depth with small run-to-run jitter in the rate."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    return np.array([[1 - np.exp(-r * (1 + 0.01 * rng.standard_normal()) * t) for _ in range(runs)] for r in rates])


def censor(times, horizon):
    """What a run of horizon + 1 recorded values shows of its true time: the time, or inf."""
    t = np.asarray(times, dtype=float)
    return np.where(t <= horizon, t, np.inf)


# ------------------------------------------------------------------ times and medians
def test_iterations_to_fraction_counts_updates():
    c = np.array([[0.0, 0.5, 0.89, 0.9, 1.0], [0.0, 0.1, 0.2, 0.3, 0.4]])
    assert iterations_to_fraction(c, 0.0, 1.0, 0.9).tolist() == [3.0, np.inf]
    assert iterations_to_fraction(c, np.array([0.0, 0.0]), np.array([1.0, 0.4]), 0.9).tolist() == [3.0, 4.0]
    with pytest.raises(ValueError, match="fraction"):
        iterations_to_fraction(c, 0, 1, 1.5)
    with pytest.raises(ValueError, match="threshold"):
        first_reaching(c, np.zeros(3))
    assert first_reaching(np.array([[np.nan, 1.0]]), 0.5).tolist() == [1.0]   # NaN never reaches


def test_lower_median_is_the_update_by_which_half_the_runs_arrive():
    assert lower_median(np.array([5.0, 1.0, 3.0, 2.0])) == 2.0          # 2 of 4 runs have arrived by update 2
    assert lower_median(np.array([5.0, 1.0, 3.0])) == 3.0
    assert lower_median(np.array([1.0, np.inf, np.inf])) == np.inf        # fewer than half arrive: censored
    m = median_time(np.array([10.0, 12.0, np.inf, 11.0]), horizon=99)
    assert (m.value, m.censored, m.reached, m.runs) == (11.0, False, 3, 4)
    c = median_time(np.array([10.0, np.inf, np.inf]), horizon=99)
    assert c.censored and c.value == 99 and c.text() == "more than 99 (1 of 3 runs reach it)"
    with pytest.raises(ValueError, match="times must be in"):
        median_time(np.array([1.0, 200.0]), horizon=99)


# ------------------------------------------------------------------ the speed-up and its interval
def test_exact_ratio_and_degenerate_interval():
    a = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    s = speedup(a, 3 * a, horizon_a=500)
    assert (s.factor, s.bound, s.reached, s.runs) == (3.0, "=", (5, 5), 5)
    assert s.low == s.high == 3.0                                          # every resample: ratio 3
    assert s.above_one and not s.below_one
    assert s.text() == "3.0 (no spread)"


def test_dropping_censored_runs_would_reverse_the_answer():
    # A reaches the target at update 100 in every run; B in 4 of 20 runs at update 150, never in 16.
    # The true speed-up exceeds 499 / 100; dropping B's censored runs would report 1.5.
    a = np.full(20, 100.0)
    b = np.array([150.0] * 4 + [np.inf] * 16)
    s = speedup(a, b, horizon_a=499)
    assert s.bound == ">" and s.factor == pytest.approx(4.99) and np.isinf(s.high)
    assert s.low == pytest.approx(4.99) and s.text() == "more than 5.0 [more than 5.0]"
    slower = speedup(b, a, horizon_a=499)
    assert slower.bound == "<" and slower.factor == pytest.approx(100 / 499) and slower.low == 0
    assert slower.text().startswith("less than 0.20")
    neither = speedup(b, b, horizon_a=499)                   # two arms that both fail: undetermined, not 1
    assert neither.bound == "?" and np.isnan(neither.factor) and neither.text().startswith("undetermined")
    itself = speedups(np.stack([a, b]), 499, reference=1)[1]   # the reference against itself: 1, censored or not
    assert (itself.factor, itself.low, itself.high, itself.bound) == (1.0, 1.0, 1.0, "=")


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 30), horizon=st.integers(20, 200),
       scale=st.floats(0.2, 5.0))
def test_censored_estimate_brackets_the_truth(seed, n, horizon, scale):
    """On true times we then censor, the censored estimator's bound and interval contain what the
    uncensored estimator gives: an exact ratio is exact, a bound is a true bound, and the
    interval contains the uncensored percentile interval (same resamples)."""
    rng = np.random.default_rng(seed)
    true_a = rng.integers(1, 2 * horizon, n).astype(float)
    true_b = np.maximum(1.0, np.round(true_a * scale * rng.uniform(0.7, 1.3, n)))
    truth = speedup(true_a, true_b, horizon_a=int(4 * horizon * max(scale, 1) + 10))
    seen = speedup(censor(true_a, horizon), censor(true_b, horizon), horizon_a=horizon)
    assert truth.bound == "="
    if seen.bound == "=":
        assert seen.factor == pytest.approx(truth.factor)
    elif seen.bound == ">":
        assert truth.factor > seen.factor
    elif seen.bound == "<":
        assert truth.factor < seen.factor
    assert seen.low <= truth.low + 1e-12 and truth.high <= seen.high + 1e-12


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), factor=st.integers(2, 5))
def test_a_known_factor_is_recovered_by_every_arm(seed, factor):
    """Arm k needs exactly factor^k times fewer updates in every run: its speed-up over arm 0 is factor^k."""
    base = np.random.default_rng(seed).integers(1, 8, 15).astype(float) * factor ** 2
    times = np.array([base, base / factor, base / factor ** 2])
    out = speedups(times, horizons=int(base.max()), reference=0)
    assert [s.factor for s in out] == pytest.approx([1.0, factor, factor ** 2])
    assert all(s.low == s.high == s.factor for s in out)


def test_pairing_keeps_the_seeds_together():
    """Run-to-run variation shared by both arms cancels in the paired resamples."""
    hard = np.geomspace(10, 400, 20)                      # problems of very different difficulty
    s = speedup(hard / 2, hard, horizon_a=1000)
    assert s.factor == pytest.approx(2.0) and s.high - s.low < 1e-12


# ------------------------------------------------------------------ targets and tables of curves
def test_one_outlier_run_does_not_move_the_target():
    c = exponential_curves([0.01, 0.02], runs=9)
    base = gap_ends(c, "best")[1][0, 0]
    c_out = c.copy()
    c_out[0, 3] *= 3.0                                       # one run of the slow arm ends three times higher
    assert gap_ends(c_out, "best")[1][0, 0] == base
    assert gap_ends(c_out, "max")[1][0, 0] == pytest.approx(3 * c[0, 3, -1])
    with pytest.raises(ValueError, match="unknown gap target"):
        gap_ends(c, "mean")


def test_twice_the_rate_is_an_acceleration_of_two():
    c = exponential_curves([0.01, 0.02, 0.04])
    acc = acceleration(c, (1, 2, 3), fraction=0.9)
    assert [a.depth for a in acc] == [1, 2, 3] and all(isinstance(a, SpeedUp) for a in acc)
    assert acc[1].factor == pytest.approx(2, rel=0.03) and acc[2].factor == pytest.approx(4, rel=0.05)
    assert acc[1].low <= acc[1].factor <= acc[1].high and acc[0].factor == 1
    with pytest.raises(ValueError, match="reference depth"):
        acceleration(c, (1, 2, 3), reference=4)


def test_acceleration_keeps_its_old_constructor():
    a = Acceleration(3, 0.9, 2.8, 2.5, 3.0)
    assert (a.depth, a.fraction, a.factor, a.low, a.high, a.bound) == (3, 0.9, 2.8, 2.5, 3.0, "=")
    assert a.text() == "2.8 [2.5, 3.0]"


def test_gap_table_reports_censoring_and_finals():
    c = exponential_curves([0.002, 0.02], T=300)
    rows, initial, end = gap_table(c, (1, 2))
    assert initial == pytest.approx(0.0) and end == pytest.approx(np.median(c[1, :, -1]))
    slow, fast = rows
    assert slow.reached == (0, 0) and np.isinf(slow.median[0])          # 1 - exp(-0.6) never closes 90 %
    assert slow.text(0) == "more than 299 (0 of 10 runs reach it)"
    assert fast.reached[0] == 10 and fast.median[0] == pytest.approx(np.log(10) / 0.02, rel=0.03)
    assert fast.final_low <= fast.final_mean <= fast.final_high
    own, *_ = gap_table(c, (1, 2), target="own")
    assert own[0].reached == (10, 10)                                    # each run reaches its own plateau
    with pytest.raises(ValueError, match="n_depths"):
        gap_table(c, (1, 2, 3))


def test_mean_band_brackets_the_mean_and_shrinks_with_more_runs():
    rng = np.random.default_rng(1)
    few, many = rng.normal(0, 1, (5, 3)), rng.normal(0, 1, (200, 3))
    m, lo, hi = mean_confidence_band(few)
    assert np.all(lo <= m) and np.all(m <= hi)
    _, lo2, hi2 = mean_confidence_band(many)
    assert np.all(hi2 - lo2 < hi - lo)
    with pytest.raises(ValueError, match="level"):
        mean_confidence_band(few, level=1.5)


# ------------------------------------------------------------------ printing
def test_precision_follows_the_interval():
    assert format_estimate(2.79, 2.48, 3.04) == "2.8 [2.5, 3.0]"
    assert format_estimate(1.134, 1.09, 1.16) == "1.13 [1.09, 1.16]"
    assert format_estimate(382.0, 340.0, 416.0) == "382 [340, 416]"
    assert format_estimate(2.0000001, 1.9999999, 2.0000003) == "2.000 (interval narrower than 0.001)"
    assert format_estimate(1.0, 1.0, 1.0) == "1.0 (no spread)"
    assert format_estimate(2.1, 1.6, np.inf) == "2.1 [1.6, no upper bound]"
    assert format_estimate(np.nan, 1.0, 1.0) == "undetermined"


def test_words_instead_of_inf_and_nan():
    assert SpeedUp(0.99, 2.1, 1.63, np.inf, ">").text() == "more than 2.1 [more than 1.6]"
    assert SpeedUp(0.9, 2.2, 2.02, np.inf).text() == "2.2 [more than 2.0]"
    assert SpeedUp(0.9, 0.4, 0.0, 0.7).text() == "0.40 [less than 0.70]"
    for text in (SpeedUp(0.99, 2.1, 1.63, np.inf, ">").text(), format_interval(np.inf, 300, np.inf),
                 format_interval(1.0, 0.5, np.nan)):
        assert "inf" not in text and "n/a" not in text and "never [" not in text
    assert format_interval(12.0, 10.4, 14.6) == "12 [10, 15]"
    assert format_interval(np.inf, 300, np.inf) == "never (interval from 300)"
    assert format_interval(1.234, 1.1, np.inf, digits=2) == "1.23 [1.10, no upper bound]"

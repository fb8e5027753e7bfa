"""Tests for spnlib.stats.intervals: t quantiles, intervals, log-log slopes, bands."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spnlib.stats.intervals import (
    Interval,
    fit_loglog_slope,
    mean_interval,
    t_quantile,
)

matplotlib.use("Agg")


def _t_cdf(x: float, df: int, n: int = 200_000) -> float:
    """CDF of Student's t by numeric integration of its density (independent of the table)."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    grid = np.linspace(0.0, x, n + 1)
    dens = c * (1 + grid**2 / df) ** (-(df + 1) / 2)
    return 0.5 + float(np.trapezoid(dens, grid))


@pytest.mark.parametrize("df", [1, 2, 3, 5, 9, 17, 30, 31, 60, 200])
def test_t_quantile_has_upper_tail_two_and_a_half_percent(df):
    assert _t_cdf(t_quantile(df), df) == pytest.approx(0.975, abs=2e-4)


@pytest.mark.parametrize("df", [0, -1, 2.5])
def test_t_quantile_rejects_bad_degrees_of_freedom(df):
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_quantile(df)


def test_mean_interval_known_values():
    iv = mean_interval([1.0, 2.0, 3.0])
    half = 4.3027 * 1.0 / math.sqrt(3)
    assert (iv.estimate, iv.low, iv.high, iv.n) == pytest.approx((2.0, 2.0 - half, 2.0 + half, 3))
    assert iv.excludes(5.0) and not iv.excludes(2.5)
    assert str(iv) == "2 [-0.484, 4.48]"


def test_mean_interval_covers_the_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    hits = sum(not mean_interval(rng.normal(3.0, 2.0, 5)).excludes(3.0) for _ in range(4000))
    assert 0.93 < hits / 4000 < 0.97


@pytest.mark.parametrize("values", [[1.0], [], [1.0, np.nan], [1.0, np.inf]])
def test_mean_interval_rejects_too_few_or_non_finite(values):
    with pytest.raises(ValueError):
        mean_interval(values)


@settings(max_examples=50, deadline=None)
@given(slope=st.floats(-3, 3), intercept=st.floats(-5, 5), n=st.integers(3, 12))
def test_fit_recovers_an_exact_power_law(slope, intercept, n):
    etas = np.logspace(-6, -1, n)
    fit = fit_loglog_slope(etas, 10**intercept * etas**slope)
    assert fit.slope.estimate == pytest.approx(slope, abs=1e-9)
    assert fit.intercept == pytest.approx(intercept, abs=1e-8)
    assert fit.max_abs_residual < 1e-8


def test_fit_interval_widens_with_noise_and_covers_truth():
    rng = np.random.default_rng(0)
    etas = np.logspace(-5, -1, 9)
    fit = fit_loglog_slope(etas, etas**2 * 10 ** rng.normal(0, 0.1, 9))
    assert fit.slope.low < 2 < fit.slope.high
    assert fit.slope.high - fit.slope.low > 0.01


@pytest.mark.parametrize("etas, errors", [([1, 2], [1, 2]), ([1, 2, 3], [1, 0, 2]), ([1, -2, 3], [1, 2, 3]),
                                          ([1, 2, 3], [1, 2])])
def test_fit_rejects_bad_input(etas, errors):
    with pytest.raises(ValueError):
        fit_loglog_slope(etas, errors)


def test_interval_is_a_frozen_record():
    from dataclasses import FrozenInstanceError
    iv = Interval(1.0, 0.5, 1.5, 4)
    assert iv.as_tuple() == (1.0, 0.5, 1.5)
    with pytest.raises(FrozenInstanceError):
        iv.estimate = 2.0

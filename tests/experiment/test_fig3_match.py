"""Matching a variant to the paper's Fig. 3 (spnlib.experiment.fig3_match): bands, pair maxima, coverage."""
from __future__ import annotations

import numpy as np
import pytest

from spnlib.experiment.fig3_match import coverage, match_paper, pair_maxima, quantile_band


def test_pair_maxima_are_the_released_scripts_summary_of_every_pair():
    c = np.array([[0.0, 3.0], [1.0, 1.0], [2.0, 0.0]])
    assert np.array_equal(pair_maxima(c), [[1, 3], [2, 3], [2, 1]])
    with pytest.raises(ValueError, match="two runs"):
        pair_maxima(c[:1])


def test_quantile_band_and_coverage():
    c = np.arange(101.0)[:, None] * np.ones((1, 4))
    low, high = quantile_band(c, 0.9)
    assert np.allclose(low, 5) and np.allclose(high, 95)
    assert coverage(np.array([4.0, 5.0, 50.0, 96.0]), low, high) == 0.5
    with pytest.raises(ValueError, match="level"):
        quantile_band(c, 1.0)
    with pytest.raises(ValueError, match="runs >= 2"):
        quantile_band(c[:1])


def test_a_reference_drawn_like_the_runs_is_mostly_covered_and_a_shifted_one_is_not():
    rng = np.random.default_rng(0)
    T = 200
    sym = np.linspace(-10, -9, T)
    runs = sym + np.maximum(0, np.arange(T) - 20)[None, :] * rng.uniform(0.005, 0.01, (40, 1))
    paper = np.stack([runs[0], runs[1] + 3.0])
    m = match_paper(np.stack([runs[2:], runs[2:]]), paper, sym, depths=(1, 2), n_boot=50)
    assert m[0].coverage[0] > 0.8 and m[1].coverage[0] < 0.2
    assert m[0].departure[3] >= 21 and m[0].paper_departure == 22
    assert set(m[0].values) == {100, 200}                   # iterations past the end are left out
    lo, hi = m[0].values[100][1:]
    assert lo <= m[0].values[100][0] <= hi and m[0].paper_values[100] == paper[0, 99]


def test_band_distance_is_zero_inside_the_band_and_the_gap_outside():
    T = 120
    sym = np.full(T, -11.0)
    runs = np.stack([np.linspace(-11, -7, T) + s for s in np.linspace(-0.5, 0.5, 21)])
    paper = np.stack([runs[10], runs[10] + 2.0, runs[10] - 2.0])
    m = match_paper(np.stack([runs, runs, runs]), paper, sym, n_boot=10)
    lo, hi = m[0].values[100][1:]
    assert m[0].band_distance(100) == 0.0
    assert m[1].band_distance(100) == pytest.approx(paper[1, 99] - hi)
    assert m[2].band_distance(100) == pytest.approx(lo - paper[2, 99])
    with pytest.raises(ValueError, match="no band at iteration 500"):
        m[0].band_distance(500)

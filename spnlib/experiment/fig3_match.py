"""How well a symmetry-breaking variant matches the paper's Fig. 3: bands, coverage, departures.

A variant whose symmetry breaks at round-off level gives a different curve for every draw (seed),
so the paper's curve is compared with the *distribution* of curves: a central quantile band over
the draws (not a min-max envelope, whose edges are single extreme runs and move from machine to
machine), and, since the released script plots the element-wise maximum of its two runs, the same
band over the maxima of all pairs of draws. The coverage of a paper curve is the share of its 500
points inside the band, with a percentile-bootstrap interval over the draws.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.experiment.symmetry import departure_iteration
from spnlib.stats.speedup import bootstrap_indices

__all__ = ["BAND_LEVEL", "REPORT_ITERATIONS", "quantile_band", "pair_maxima", "coverage", "DepthMatch",
           "match_paper"]

BAND_LEVEL = 0.9
"""Central share of the draws inside the band (the 5 % and 95 % quantiles per iteration)."""

REPORT_ITERATIONS = (100, 200, 500)
"""Iterations (from 1) at which values are reported."""


def quantile_band(curves: np.ndarray, level: float = BAND_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Per iteration, the (1 - level) / 2 and (1 + level) / 2 quantiles over runs; curves (runs, T)."""
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] < 2:
        raise ValueError(f"need curves of shape (runs >= 2, T), got {c.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    low, high = np.quantile(c, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return low, high


def pair_maxima(curves: np.ndarray) -> np.ndarray:
    """The released script's summary for every pair of runs: element-wise maxima, (n (n - 1) / 2, T)."""
    c = np.asarray(curves, dtype=np.float64)
    i, j = np.triu_indices(c.shape[0], k=1)
    if i.size == 0:
        raise ValueError("need at least two runs to form a pair")
    return np.maximum(c[i], c[j])


def coverage(reference: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Share of the points of ``reference`` inside [low, high]."""
    r = np.asarray(reference, dtype=np.float64)
    return float(np.mean((r >= low) & (r <= high)))


@dataclass(frozen=True)
class DepthMatch:
    """One depth of a variant against the paper.

    Attributes
    ----------
    depth, runs : int
    departure : (median, low quartile, high quartile, min, max) of the iteration each run leaves the
        symmetric curve (None-free: runs that never leave count as T + 1).
    paper_departure : int or None
    values : dict iteration -> (median, band low, band high) over runs.
    pair_values : the same for the maxima of pairs of runs.
    paper_values : dict iteration -> the paper's value.
    coverage, pair_coverage : (point, low, high): share of the paper's points inside the band of the
        runs / of the pair maxima, with a bootstrap interval over runs.
    """

    depth: int
    runs: int
    departure: tuple[float, float, float, int, int]
    paper_departure: int | None
    values: dict
    pair_values: dict
    paper_values: dict
    coverage: tuple[float, float, float]
    pair_coverage: tuple[float, float, float]

    def band_distance(self, iteration: int) -> float:
        """How far (nats) the paper's value at ``iteration`` lies outside the band of the runs (0 inside)."""
        if iteration not in self.values:
            raise ValueError(f"no band at iteration {iteration}; the match has {sorted(self.values)}")
        _, low, high = self.values[iteration]
        p = self.paper_values[iteration]
        return float(max(low - p, p - high, 0.0))


def _coverage_interval(runs: np.ndarray, paper: np.ndarray, pairs: bool, level: float, n_boot: int,
                       seed: int) -> tuple[float, float, float]:
    def cov(c: np.ndarray) -> float:
        return coverage(paper, *quantile_band(pair_maxima(c) if pairs else c, level))

    boots = np.array([cov(runs[idx]) for idx in bootstrap_indices(runs.shape[0], n_boot, seed)])
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return cov(runs), float(lo), float(hi)


def match_paper(curves: np.ndarray, paper: np.ndarray, symmetric: np.ndarray, depths: Sequence[int] = (1, 2, 3),
                level: float = BAND_LEVEL, iterations: Sequence[int] = REPORT_ITERATIONS, n_boot: int = 200,
                seed: int = 0) -> list[DepthMatch]:
    """Compare the runs of a variant (n_depths, runs, T) with the paper's curves (n_depths, T).

    ``symmetric`` is the faithful (symmetric) curve, from which departures are measured.
    """
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 3 or c.shape[0] != len(depths) or np.asarray(paper).shape[0] < len(depths):
        raise ValueError(f"need curves (n_depths, runs, T) for depths {tuple(depths)}, got {c.shape}")
    T = c.shape[2]
    iterations = [int(t) for t in iterations if 1 <= t <= T]
    out = []
    for L, runs, ref in zip(depths, c, paper):
        ref = np.asarray(ref)[:T]
        dep = np.array([departure_iteration(r, symmetric) or T + 1 for r in runs])
        pm = pair_maxima(runs)

        def summary(x: np.ndarray) -> dict:
            lo, hi = quantile_band(x, level)
            return {t: (float(np.median(x[:, t - 1])), float(lo[t - 1]), float(hi[t - 1])) for t in iterations}

        out.append(DepthMatch(
            int(L), runs.shape[0],
            (float(np.median(dep)), float(np.quantile(dep, 0.25)), float(np.quantile(dep, 0.75)),
             int(dep.min()), int(dep.max())),
            departure_iteration(ref, symmetric), summary(runs), summary(pm),
            {t: float(ref[t - 1]) for t in iterations},
            _coverage_interval(runs, ref, False, level, n_boot, seed),
            _coverage_interval(runs, ref, True, level, n_boot, seed)))
    return out

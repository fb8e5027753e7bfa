"""How much faster? Iterations to close a share of the gap, acceleration factors, bands - with intervals.

All intervals are percentile bootstraps over runs (seeds) with a fixed seed, so
the book's numbers are reproducible. Runs are *paired* across depths (run r of
every depth uses the same seed), and the acceleration factors resample runs
jointly for all depths.

Iterations are counted as updates: "t iterations" means the value recorded
after t updates (the curve's entry t, 0-based; the paper's iteration t + 1).
A run that never reaches a threshold counts as needing infinitely many.

Defined in the book's chapter "Beyond the single figure".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["bootstrap_indices", "mean_confidence_band", "first_reaching", "iterations_to_fraction", "GapRow",
           "gap_table",
           "Acceleration", "acceleration", "format_interval", "TARGETS"]


def bootstrap_indices(n: int, n_boot: int = 2000, seed: int = 0) -> np.ndarray:
    """(n_boot, n) indices of resampled runs (with replacement)."""
    if n < 1:
        raise ValueError("need at least one run to bootstrap")
    return np.random.default_rng(seed).integers(0, n, (n_boot, n))


def mean_confidence_band(curves: np.ndarray, level: float = 0.95, n_boot: int = 2000, seed: int = 0
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean curve over runs with a bootstrap ``level`` confidence band.

    Parameters
    ----------
    curves : ndarray, shape (runs, T)

    Returns
    -------
    mean, low, high : ndarray, shape (T,)
    """
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"curves must be (runs, T), got shape {c.shape}")
    means = c[bootstrap_indices(c.shape[0], n_boot, seed)].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha], axis=0)
    return c.mean(axis=0), low, high


def first_reaching(curves: np.ndarray, threshold: float | np.ndarray, increasing: bool = True) -> np.ndarray:
    """Per curve (row), the first index t with ``curves[r, t] >= threshold`` (``<=`` if not
    ``increasing``, for a loss); inf if the curve never gets there (a censored run).

    ``threshold`` is a number or one per row. Indices count updates: t = 0 is the start.
    """
    c = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    th = np.asarray(threshold, dtype=np.float64)
    th = th[:, None] if th.ndim else th
    reached = c >= th if increasing else c <= th
    return np.where(reached.any(axis=1), reached.argmax(axis=1), np.inf).astype(float)


def iterations_to_fraction(curves: np.ndarray, initial: float | np.ndarray, target: float | np.ndarray,
                           fraction: float) -> np.ndarray:
    """Updates each run needs to close ``fraction`` of the gap from ``initial`` to ``target``.

    ``initial`` and ``target`` are numbers or one per run.

    Returns
    -------
    ndarray, shape (runs,)
        The first t with ``curves[r, t] >= initial + fraction * (target - initial)``; inf if never.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    initial, target = np.asarray(initial, dtype=np.float64), np.asarray(target, dtype=np.float64)
    return first_reaching(curves, initial + fraction * (target - initial))


TARGETS = ("best", "own")
"""Gap targets: the best final LLH over every run and depth of the setting, or each run's own final LLH."""


def _gap_ends(c: np.ndarray, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Per (depth, run): start and end of the gap, shape (n_depths, runs) each."""
    if target == "best":
        return np.full(c.shape[:2], c[:, :, 0].mean()), np.full(c.shape[:2], c[:, :, -1].max())
    if target == "own":
        return c[:, :, 0], c[:, :, -1]
    raise ValueError(f"unknown gap target {target!r}; choose one of {', '.join(TARGETS)}")


def _median_interval(values: np.ndarray, idx: np.ndarray, level: float) -> tuple[float, float, float]:
    boots = np.median(values[idx], axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(boots, [alpha, 1 - alpha], method="inverted_cdf")
    return float(np.median(values)), float(low), float(high)


@dataclass(frozen=True)
class GapRow:
    """Per depth: median updates to close each share of the gap [interval], runs reaching it, final LLH."""

    depth: int
    fractions: tuple[float, ...]
    median: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    reached: tuple[int, ...]
    runs: int
    final_mean: float
    final_low: float
    final_high: float


def gap_table(curves: np.ndarray, depths: Sequence[int], fractions: Sequence[float] = (0.9, 0.99),
              target: str = "best", level: float = 0.95, n_boot: int = 2000,
              seed: int = 0) -> tuple[list[GapRow], float, float]:
    """Iterations needed to close 90 % and 99 % of the gap between the initial and the best final LLH.

    Parameters
    ----------
    curves : ndarray, shape (n_depths, runs, T)
        The runs of one setting.
    target : str
        ``"best"`` (default): the gap runs from the mean initial value to the best final
        value over all depths and runs, a common target so depths compare fairly.
        ``"own"``: each run's gap ends at its own final value (speed to its own plateau).

    Returns
    -------
    rows : list of GapRow
    initial, best : float
        Mean initial value and best final value over the setting.
    """
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 3 or c.shape[0] != len(depths):
        raise ValueError(f"curves must be (n_depths, runs, T) with {len(depths)} depths, got {c.shape}")
    start, end = _gap_ends(c, target)
    idx = bootstrap_indices(c.shape[1], n_boot, seed)
    rows = []
    for L, runs, a, b in zip(depths, c, start, end):
        needed = [iterations_to_fraction(runs, a, b, q) for q in fractions]
        stats = [_median_interval(n, idx, level) for n in needed]
        finals = runs[:, -1]
        fm = finals[idx].mean(axis=1)
        alpha = (1 - level) / 2
        median, low, high = (tuple(s[i] for s in stats) for i in range(3))
        rows.append(GapRow(int(L), tuple(fractions), median, low, high,
                           tuple(int(np.isfinite(n).sum()) for n in needed),
                           runs.shape[0], float(finals.mean()), float(np.quantile(fm, alpha)),
                           float(np.quantile(fm, 1 - alpha))))
    return rows, float(c[:, :, 0].mean()), float(c[:, :, -1].max())


@dataclass(frozen=True)
class Acceleration:
    """Speed-up of depth L over the reference depth: ratio of median updates needed, with interval."""

    depth: int
    fraction: float
    factor: float
    low: float
    high: float


def acceleration(curves: np.ndarray, depths: Sequence[int], fraction: float = 0.9, reference: int = 1,
                 target: str = "best", level: float = 0.95, n_boot: int = 2000,
                 seed: int = 0) -> list[Acceleration]:
    """median(updates, reference depth) / median(updates, depth L) for every depth, paired bootstrap.

    A factor 2 means depth L needs half the updates of the reference to close
    ``fraction`` of the gap (``target`` as in :func:`gap_table`). A reference that never
    reaches the target makes the factor infinite; neither reaching it gives NaN.
    """
    c = np.asarray(curves, dtype=np.float64)
    depths = [int(L) for L in depths]
    if reference not in depths:
        raise ValueError(f"the reference depth {reference} is not among {depths}")
    start, end = _gap_ends(c, target)
    needed = np.array([iterations_to_fraction(r, a, b, fraction) for r, a, b in zip(c, start, end)])
    idx = bootstrap_indices(c.shape[1], n_boot, seed)
    ref = depths.index(reference)
    with np.errstate(invalid="ignore", divide="ignore"):
        point = np.median(needed[ref]) / np.median(needed, axis=1)
        boots = np.median(needed[ref][idx], axis=1)[:, None] / np.median(needed[:, idx], axis=2).T
    boots = np.where(np.isnan(boots), 1.0, boots)     # inf / inf: neither reaches the target
    alpha = (1 - level) / 2
    low, high = np.quantile(boots, [alpha, 1 - alpha], axis=0, method="inverted_cdf")
    return [Acceleration(L, fraction, float(point[i]), float(low[i]), float(high[i]))
            for i, L in enumerate(depths)]


def format_interval(value: float, low: float, high: float, digits: int = 0, inf: str = "never") -> str:
    """``"value [low, high]"`` with ``digits`` decimals; infinity prints as ``inf`` ("never")."""
    def f(x: float) -> str:
        if np.isnan(x):
            return "n/a"
        return inf if np.isinf(x) else f"{x:.{digits}f}"
    return f"{f(value)} [{f(low)}, {f(high)}]"

"""The book's one speed-up estimator: censored times to a target, ratios of medians, paired bootstrap.

Every chapter that says "faster" measures it with the functions of this module, defined in
the methods page "How speed is measured":

1. **Time to a target.** A run's time is the first update t (0-based: the value recorded
   after t updates) at which its curve reaches the target (:func:`first_reaching`). A run
   that never reaches it within its T recorded values is *censored at the horizon*
   H = T - 1: its time is only known to exceed H. It is kept, never dropped.
2. **The target** closes a share q (90 % and 99 %, :data:`~spnlib.tolerances.GAP_FRACTIONS`)
   of the gap from the start to an end value. For curves of several arms (depths,
   optimisers) the default end is ``"best"``: the best arm's *median* final value
   (:func:`gap_ends`), which one outlier run cannot move, which at least half of the best
   arm's runs reach by construction, and which adding a worse arm does not change.
   A study whose optimum is known (linear regression) or computed independently
   (Claim 1) passes its targets explicitly.
3. **Median time.** The median of n times is the ceil(n/2)-th smallest ("the update by
   which half of the runs have reached the target"). It is exact as long as at least half
   of the runs reach the target, because every censored time exceeds every observed one;
   otherwise the median is itself censored: it is only known to exceed H.
4. **Speed-up of A over B** = median time of B / median time of A (> 1: A is faster).
   If B's median is censored the ratio is a lower bound ("more than H_B / m_A"); if A's
   is, an upper bound ("less than m_B / H_A"); if both are, it is undetermined.
5. **Interval.** A percentile bootstrap over runs, *paired*: run r of every arm uses the
   same seed, and each resample draws seeds, so all arms of a seed stay together. A
   resample whose ratio is only bounded enters the lower end with its lower bound (0 for
   an upper bound) and the upper end with its upper bound (unbounded for a lower bound):
   the interval [q_a(lower ends), q_{1-a}(upper ends)] contains the percentile interval
   of every completion of the censored times. Without censoring it is the ordinary
   percentile interval. Resamples and seeds are fixed (reproducible numbers).
6. **Printing** uses the precision the interval supports and words for bounds
   (:meth:`SpeedUp.text`, :func:`format_estimate`).

Defined in the book's page "Methods: how speed is measured".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil, isfinite

import numpy as np

from spnlib.stats.printing import format_estimate, format_interval, ratio_interval, two_digits
from spnlib.tolerances import GAP_FRACTIONS

__all__ = ["bootstrap_indices", "mean_confidence_band", "first_reaching", "iterations_to_fraction",
           "TARGETS", "gap_ends", "lower_median", "MedianTime", "median_time", "SpeedUp", "speedup",
           "speedups", "GapRow", "gap_table", "Acceleration", "acceleration", "format_estimate",
           "format_interval", "N_BOOT", "LEVEL"]

N_BOOT = 2000
"""Bootstrap resamples of every interval (with the fixed seed 0)."""

LEVEL = 0.95
"""Default coverage of the intervals."""


def bootstrap_indices(n: int, n_boot: int = N_BOOT, seed: int = 0) -> np.ndarray:
    """(n_boot, n) indices of resampled runs (with replacement)."""
    if n < 1:
        raise ValueError("need at least one run to bootstrap")
    return np.random.default_rng(seed).integers(0, n, (n_boot, n))


def _alpha(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"the interval's level must lie in (0, 1), got {level!r}")
    return (1 - level) / 2


def mean_confidence_band(curves: np.ndarray, level: float = LEVEL, n_boot: int = N_BOOT, seed: int = 0
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean curve over runs with a bootstrap ``level`` confidence band; curves (runs, T) -> 3 x (T,)."""
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"curves must be (runs, T), got shape {c.shape}")
    means = c[bootstrap_indices(c.shape[0], n_boot, seed)].mean(axis=1)
    alpha = _alpha(level)
    low, high = np.quantile(means, [alpha, 1 - alpha], axis=0)
    return c.mean(axis=0), low, high


# ------------------------------------------------------------------ 1. time to a target
def first_reaching(curves: np.ndarray, threshold: float | np.ndarray, increasing: bool = True) -> np.ndarray:
    """Per curve (row), the first index t with ``curves[r, t] >= threshold`` (``<=`` if not
    ``increasing``, for a loss); inf if the curve never gets there (censored at its horizon).

    ``threshold`` is a number or one per row. Indices count updates: t = 0 is the start.
    NaN values never reach a threshold.
    """
    c = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    th = np.asarray(threshold, dtype=np.float64)
    if th.ndim > 1 or (th.ndim == 1 and th.shape[0] != c.shape[0]):
        raise ValueError(f"threshold must be a number or one per curve ({c.shape[0]}), got shape {th.shape}")
    th = th[:, None] if th.ndim else th
    reached = c >= th if increasing else c <= th
    return np.where(reached.any(axis=1), reached.argmax(axis=1), np.inf).astype(float)


def iterations_to_fraction(curves: np.ndarray, initial: float | np.ndarray, target: float | np.ndarray,
                           fraction: float) -> np.ndarray:
    """Updates each run needs to close ``fraction`` of the gap from ``initial`` to ``target``.

    ``initial`` and ``target`` are numbers or one per run. Returns, per run, the first t with
    ``curves[r, t] >= initial + fraction * (target - initial)``; inf if never (censored).
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    initial, target = np.asarray(initial, dtype=np.float64), np.asarray(target, dtype=np.float64)
    return first_reaching(curves, initial + fraction * (target - initial))


# ------------------------------------------------------------------ 2. the target
TARGETS = ("best", "max", "own")
"""Gap ends for curves of several arms (:func:`gap_ends`): ``"best"`` (the default) the best
arm's median final value; ``"max"`` the largest final value of any run (outlier-sensitive,
kept to show the difference); ``"own"`` each run's own final value (speed to its own plateau)."""


def gap_ends(curves: np.ndarray, target: str = "best") -> tuple[np.ndarray, np.ndarray]:
    """Start and end of the gap for every (arm, run) of curves (arms, runs, T); two (arms, runs) arrays.

    The start is the mean initial value over all runs and arms (``"own"``: each run's own).
    The end: see :data:`TARGETS`.
    """
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 3:
        raise ValueError(f"curves must be (arms, runs, T), got shape {c.shape}")
    if target == "own":
        return c[:, :, 0], c[:, :, -1]
    if target == "best":
        end = float(np.max(np.median(c[:, :, -1], axis=1)))
    elif target == "max":
        end = float(c[:, :, -1].max())
    else:
        raise ValueError(f"unknown gap target {target!r}; choose one of {', '.join(TARGETS)}")
    return np.full(c.shape[:2], c[:, :, 0].mean()), np.full(c.shape[:2], end)


# ------------------------------------------------------------------ 3. median time
def lower_median(times: np.ndarray, axis: int = -1) -> np.ndarray:
    """The ceil(n/2)-th smallest of n times along ``axis`` (inf = censored sorts last)."""
    t = np.sort(np.asarray(times, dtype=np.float64), axis=axis)
    n = t.shape[axis]
    if n < 1:
        raise ValueError("need at least one time")
    return np.take(t, ceil(n / 2) - 1, axis=axis)


def _check_times(times: np.ndarray, horizon: int) -> np.ndarray:
    t = np.asarray(times, dtype=np.float64)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"times must be a non-empty 1-D array (one per run), got shape {t.shape}")
    if int(horizon) != horizon or horizon < 0:
        raise ValueError(f"the horizon must be an integer >= 0 (the last update observed), got {horizon!r}")
    finite = t[np.isfinite(t)]
    if np.isnan(t).any() or np.any(finite < 0) or np.any(finite > horizon):
        raise ValueError(f"times must be in [0, {horizon}] or inf (censored), got {t.tolist()}")
    return t


@dataclass(frozen=True)
class MedianTime:
    """Median updates to a target over runs, with a bootstrap interval.

    ``value`` is the median (if ``censored``: the horizon H, the median being more than H);
    ``low``/``high`` the interval (``high`` inf: no upper bound within the horizon).
    """

    value: float
    censored: bool
    low: float
    high: float
    reached: int
    runs: int
    horizon: int
    level: float = LEVEL

    def text(self) -> str:
        """e.g. "382 [340, 416]", "293 [286, more than 499]", "more than 499 (8 of 20 runs reach it)"."""
        if self.censored:
            return f"more than {self.horizon} ({self.reached} of {self.runs} runs reach it)"
        high = f"more than {self.horizon}" if np.isinf(self.high) else f"{self.high:.0f}"
        return f"{self.value:.0f} [{self.low:.0f}, {high}]"


def median_time(times: np.ndarray, horizon: int, level: float = LEVEL, n_boot: int = N_BOOT,
                seed: int = 0) -> MedianTime:
    """The median of censored ``times`` (inf = not reached by update ``horizon``) with its interval."""
    t = _check_times(times, horizon)
    boots = lower_median(t[bootstrap_indices(t.size, n_boot, seed)], axis=1)
    alpha = _alpha(level)
    low, high = np.quantile(boots, [alpha, 1 - alpha], method="inverted_cdf")
    m = float(lower_median(t))
    return MedianTime(float(horizon) if np.isinf(m) else m, bool(np.isinf(m)), float(low), float(high),
                      int(np.isfinite(t).sum()), int(t.size), int(horizon), level)


# ------------------------------------------------------------------ 4-5. speed-up and interval
BOUNDS = {"=": "exact", ">": "lower bound", "<": "upper bound", "?": "undetermined"}


@dataclass(frozen=True)
class SpeedUp:
    """Speed-up of arm A over arm B: median updates of B / median updates of A (> 1: A is faster).

    Attributes
    ----------
    fraction : float
        The share of the gap the target closes.
    factor : float
        The estimate; with ``bound`` ">" a lower bound, "<" an upper bound, "?" NaN.
    low, high : float
        The interval (0 / inf: unbounded on that side).
    bound : str
        One of "=", ">", "<", "?" (:data:`BOUNDS`).
    reached : tuple of int
        Runs of (A, B) that reach the target.
    runs : int
        Paired runs (seeds).
    """

    fraction: float
    factor: float
    low: float
    high: float
    bound: str = "="
    reached: tuple[int, int] = (0, 0)
    runs: int = 0
    level: float = LEVEL

    @property
    def estimate(self) -> float:
        """``factor`` (the name :class:`~spnlib.stats.intervals.Interval` uses)."""
        return self.factor

    @property
    def above_one(self) -> bool:
        """The interval lies above 1 (A is faster)."""
        return bool(self.low > 1)

    @property
    def below_one(self) -> bool:
        """The interval lies below 1 (A is slower)."""
        return bool(self.high < 1)

    def text(self) -> str:
        """The estimate in words at the precision its interval supports, e.g. "2.8 [2.5, 3.0]",
        "more than 2.1 [more than 1.6]", "0.9 [less than 1.3]" (see :func:`format_estimate`)."""
        if self.bound == "?":
            return (f"undetermined: neither reaches {self.fraction:.0%} of the gap in half of the runs "
                    f"({self.reached[0]} and {self.reached[1]} of {self.runs})")
        if self.bound == ">":
            return f"more than {two_digits(self.factor)} [{ratio_interval(self.low, self.high)}]"
        if self.bound == "<":
            return f"less than {two_digits(self.factor)} [{ratio_interval(self.low, self.high)}]"
        if self.low <= 0 or not isfinite(self.high):
            return f"{two_digits(self.factor)} [{ratio_interval(self.low, self.high)}]"
        return format_estimate(self.factor, self.low, self.high)


def _ratios(ma: np.ndarray, mb: np.ndarray, ha: float, hb: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends of mb / ma where inf marks a censored median (ha, hb: the horizons)."""
    fa, fb = np.isfinite(ma), np.isfinite(mb)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.where(fa & fb, mb / np.where(fa, ma, 1.0), np.nan)
        more = hb / np.where(fa, ma, 1.0)                        # B censored: ratio > hb / ma
        less = np.where(fb, mb, 0.0) / ha                        # A censored: ratio < mb / ha
    lower = np.where(fa & fb, exact, np.where(fa, more, 0.0))
    upper = np.where(fa & fb, exact, np.where(fb, less, np.inf))
    lower, upper = np.where(np.isnan(lower), 0.0, lower), np.where(np.isnan(upper), np.inf, upper)  # 0 / 0
    return lower, upper


def speedups(times: np.ndarray, horizons: int | Sequence[int], reference: int = 0,
             fraction: float = GAP_FRACTIONS[0], level: float = LEVEL, n_boot: int = N_BOOT,
             seed: int = 0) -> list[SpeedUp]:
    """Speed-up of every arm over arm ``reference``: times (arms, runs), paired by run (seed).

    ``times[a, r]`` is the first update at which run r of arm a reaches the target, inf if not
    by ``horizons[a]`` (one per arm, or one for all). All arms share the bootstrap resamples.
    """
    t = np.asarray(times, dtype=np.float64)
    if t.ndim != 2:
        raise ValueError(f"times must be (arms, runs), got shape {t.shape}")
    h = np.broadcast_to(np.asarray(horizons), (t.shape[0],))
    for a in range(t.shape[0]):
        _check_times(t[a], int(h[a]))
    if not 0 <= reference < t.shape[0]:
        raise ValueError(f"reference arm {reference} is not among the {t.shape[0]} arms")
    idx = bootstrap_indices(t.shape[1], n_boot, seed)
    med = lower_median(t, axis=1)                                  # (arms,)
    boots = lower_median(t[:, idx], axis=2)                        # (arms, n_boot)
    alpha = _alpha(level)
    out = []
    ref = reference
    for a in range(t.shape[0]):
        if a == ref:                                               # the reference against itself: 1
            out.append(SpeedUp(float(fraction), 1.0, 1.0, 1.0, "=", (int(np.isfinite(t[a]).sum()),) * 2,
                               int(t.shape[1]), level))
            continue
        lower, upper = _ratios(boots[a], boots[ref], float(h[a]), float(h[ref]))
        low = float(np.quantile(lower, alpha, method="inverted_cdf"))
        high = float(np.quantile(upper, 1 - alpha, method="inverted_cdf"))
        fa, fb = bool(np.isfinite(med[a])), bool(np.isfinite(med[ref]))
        pl, pu = _ratios(med[a:a + 1], med[ref:ref + 1], float(h[a]), float(h[ref]))
        if fa and fb:
            bound, factor = "=", float(pl[0])
        elif fa:
            bound, factor = ">", float(pl[0])
        elif fb:
            bound, factor = "<", float(pu[0])
        else:
            bound, factor = "?", float("nan")
        if bound == "=" and (factor == 0 or np.isinf(factor)):   # a median of 0 updates: target met at start
            bound, factor = "?", float("nan")
        out.append(SpeedUp(float(fraction), factor, low, high, bound,
                           (int(np.isfinite(t[a]).sum()), int(np.isfinite(t[ref]).sum())), int(t.shape[1]), level))
    return out


def speedup(times_a: np.ndarray, times_b: np.ndarray, horizon_a: int, horizon_b: int | None = None,
            fraction: float = GAP_FRACTIONS[0], level: float = LEVEL, n_boot: int = N_BOOT,
            seed: int = 0) -> SpeedUp:
    """Speed-up of A over B (median updates of B / median updates of A) from paired, censored times."""
    a, b = np.asarray(times_a, dtype=np.float64), np.asarray(times_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired runs: times_a and times_b need the same shape, got {a.shape} and {b.shape}")
    hb = horizon_a if horizon_b is None else horizon_b
    return speedups(np.stack([a, b]), [horizon_a, hb], reference=1, fraction=fraction, level=level,
                    n_boot=n_boot, seed=seed)[0]


# ------------------------------------------------------------------ tables for curves of several arms
@dataclass(frozen=True)
class GapRow:
    """Per depth (arm): median updates to close each share of the gap [interval], runs reaching it,
    and the final value's mean [interval]. A censored median is inf in ``median`` (see ``times``)."""

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
    times: tuple[MedianTime, ...] = ()

    def text(self, i: int = 0) -> str:
        """The median time to ``fractions[i]`` in words (:meth:`MedianTime.text`)."""
        return self.times[i].text()


def _curve_times(c: np.ndarray, fraction: float, target: str) -> np.ndarray:
    start, end = gap_ends(c, target)
    return np.array([iterations_to_fraction(r, a, b, fraction) for r, a, b in zip(c, start, end)])


def gap_table(curves: np.ndarray, depths: Sequence[int], fractions: Sequence[float] = GAP_FRACTIONS,
              target: str = "best", level: float = LEVEL, n_boot: int = N_BOOT,
              seed: int = 0) -> tuple[list[GapRow], float, float]:
    """Median updates to close each share of the gap, per depth, for curves (n_depths, runs, T).

    ``target`` as in :func:`gap_ends` (default: the best depth's median final value).
    Returns the rows, the gap's start (mean initial value) and its end (the target; for
    ``"own"`` the best median final value, for reference).
    """
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 3 or c.shape[0] != len(depths):
        raise ValueError(f"curves must be (n_depths, runs, T) with {len(depths)} depths, got {c.shape}")
    H = c.shape[2] - 1
    needed = [_curve_times(c, q, target) for q in fractions]           # each (depths, runs)
    idx = bootstrap_indices(c.shape[1], n_boot, seed)
    alpha = _alpha(level)
    rows = []
    for i, (L, runs) in enumerate(zip(depths, c)):
        mts = tuple(median_time(n[i], H, level, n_boot, seed) for n in needed)
        fm = runs[:, -1][idx].mean(axis=1)
        rows.append(GapRow(int(L), tuple(fractions), tuple(np.inf if m.censored else m.value for m in mts),
                           tuple(m.low for m in mts), tuple(m.high for m in mts), tuple(m.reached for m in mts),
                           runs.shape[0], float(runs[:, -1].mean()), float(np.quantile(fm, alpha)),
                           float(np.quantile(fm, 1 - alpha)), mts))
    end = gap_ends(c, "best" if target == "own" else target)[1]
    return rows, float(c[:, :, 0].mean()), float(end[0, 0])


@dataclass(frozen=True)
class Acceleration(SpeedUp):
    """Speed-up of depth L over the reference depth (a :class:`SpeedUp` that knows its depth).

    Constructed as ``Acceleration(depth, fraction, factor, low, high)`` plus the optional
    fields of :class:`SpeedUp`.
    """

    depth: int = 0

    def __init__(self, depth: int, fraction: float, factor: float, low: float, high: float, bound: str = "=",
                 reached: tuple[int, int] = (0, 0), runs: int = 0, level: float = LEVEL) -> None:
        super().__init__(fraction, factor, low, high, bound, reached, runs, level)
        object.__setattr__(self, "depth", int(depth))


def acceleration(curves: np.ndarray, depths: Sequence[int], fraction: float = GAP_FRACTIONS[0],
                 reference: int = 1, target: str = "best", level: float = LEVEL, n_boot: int = N_BOOT,
                 seed: int = 0) -> list[Acceleration]:
    """Speed-up of every depth over the ``reference`` depth to ``fraction`` of the gap (:func:`speedups`).

    Curves (n_depths, runs, T), runs paired across depths; ``target`` as in :func:`gap_ends`.
    """
    c = np.asarray(curves, dtype=np.float64)
    depths = [int(L) for L in depths]
    if reference not in depths:
        raise ValueError(f"the reference depth {reference} is not among {depths}")
    if c.ndim != 3 or c.shape[0] != len(depths):
        raise ValueError(f"curves must be (n_depths, runs, T) with {len(depths)} depths, got {c.shape}")
    sp = speedups(_curve_times(c, fraction, target), c.shape[2] - 1, depths.index(reference), fraction,
                  level, n_boot, seed)
    return [Acceleration(L, s.fraction, s.factor, s.low, s.high, s.bound, s.reached, s.runs, s.level)
            for L, s in zip(depths, sp)]

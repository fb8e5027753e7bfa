"""Spread over seeds: means with t-intervals and log-log slope fits.

Small statistics helpers shared by the chapters "Overparameterization in linear
regression" and "Numerical verification of the dynamics": every effect in those
chapters is reported over several seeds with an interval, and every first-order
check as a fitted slope on log-log axes.

Defined in the book's chapter "Overparameterization in linear regression".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import sqrt

import numpy as np

__all__ = ["Interval", "SlopeFit", "fit_loglog_slope", "mean_interval", "t_quantile"]

# Two-sided 95 % quantiles t_{0.975, df} of Student's t for df = 1..30 (standard table values).
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
         2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
         2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


def t_quantile(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom (95 % two-sided).

    Table values for df <= 30, the Cornish-Fisher expansion around 1.959964 beyond.
    """
    if int(df) != df or df < 1:
        raise ValueError(f"degrees of freedom must be an integer >= 1, got {df!r}")
    df = int(df)
    if df <= 30:
        return _T975[df - 1]
    z = 1.959963984540054
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Interval:
    """An estimate with a 95 % interval ``(low, high)`` over ``n`` values."""

    estimate: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.estimate:.3g} [{self.low:.3g}, {self.high:.3g}]"

    def as_tuple(self) -> tuple[float, float, float]:
        """``(estimate, low, high)``."""
        return (self.estimate, self.low, self.high)

    def excludes(self, value: float) -> bool:
        """True if ``value`` lies outside the interval."""
        return not self.low <= value <= self.high


def mean_interval(values: Sequence[float]) -> Interval:
    """The mean of ``values`` with a 95 % Student-t interval (needs at least two finite values)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size < 2:
        raise ValueError(f"need at least two values for an interval, got {v.size}")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite (drop or report diverged runs first)")
    m, se = float(v.mean()), float(v.std(ddof=1) / sqrt(v.size))
    h = t_quantile(v.size - 1) * se
    return Interval(m, m - h, m + h, int(v.size))


@dataclass(frozen=True)
class SlopeFit:
    """A least-squares line log10(error) = intercept + slope * log10(eta).

    Attributes
    ----------
    slope : Interval
        The slope with its 95 % t-interval from the regression's standard error.
    intercept : float
    max_abs_residual : float
        Largest deviation of a point from the line, in decades.
    """

    slope: Interval
    intercept: float
    max_abs_residual: float


def fit_loglog_slope(etas: Sequence[float] | np.ndarray, errors: Sequence[float] | np.ndarray) -> SlopeFit:
    """Fit the slope of ``errors`` against ``etas`` on log-log axes.

    An error that is O(eta^2) gives slope 2; a wrong first-order term gives slope 1.

    Raises
    ------
    ValueError
        If fewer than three points, or any eta or error is not finite and > 0.
    """
    x, y = np.asarray(etas, dtype=np.float64), np.asarray(errors, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or x.size < 3:
        raise ValueError(f"need two 1-D arrays of the same length >= 3, got shapes {x.shape}, {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(x > 0) and np.all(np.isfinite(y)) and np.all(y > 0)):
        raise ValueError("etas and errors must be finite and > 0 for a log-log fit")
    lx, ly = np.log10(x), np.log10(y)
    A = np.column_stack([np.ones_like(lx), lx])
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ coef
    df = x.size - 2
    s2 = float(resid @ resid) / df
    se = sqrt(s2 / float(((lx - lx.mean()) ** 2).sum()))
    h = t_quantile(df) * se
    slope = float(coef[1])
    return SlopeFit(Interval(slope, slope - h, slope + h, int(x.size)), float(coef[0]),
                    float(np.max(np.abs(resid))))

"""Printing an estimate with the precision its interval supports, and words for what is not a number.

Used by :mod:`spnlib.stats.speedup` (:meth:`~spnlib.stats.speedup.SpeedUp.text`) and by any
table that shows an estimate with its interval:

* the last digit resolves the interval into about five steps or more;
* an interval narrower than the last digit printed says so instead of repeating the digits;
* bounds ("more than 2.1"), unbounded ends ("no upper bound") and undetermined values are
  written in words, never as ``inf`` or ``nan``.

Defined in the book's page "Methods: how speed is measured".
"""
from __future__ import annotations

from math import ceil, floor, isfinite, log10

import numpy as np

__all__ = ["format_estimate", "format_interval", "ratio_interval", "two_digits"]


def _decimals(width: float, max_decimals: int = 3) -> int:
    """Decimals that resolve an interval of ``width`` into about five or more steps of the last digit."""
    if not (isfinite(width) and width > 0):
        return max_decimals
    return int(min(max_decimals, max(0, ceil(-log10(width / 5)))))


def two_digits(x: float, max_decimals: int = 3) -> str:
    """``x`` to two significant digits (for a bound, which has no interval to set its precision)."""
    d = 0 if x == 0 or abs(x) >= 10 else min(max_decimals, max(0, 1 - floor(log10(abs(x)))))
    return f"{x:.{d}f}"


def format_estimate(value: float, low: float, high: float, max_decimals: int = 3) -> str:
    """``"value [low, high]"`` with the decimals the interval's width supports, words for the rest.

    * the last digit resolves the interval into about five steps or more: 2.79 [2.48, 3.04]
      prints as "2.8 [2.5, 3.0]", 1.13 [1.09, 1.16] as "1.13 [1.09, 1.16]";
    * an interval narrower than ``10**-max_decimals`` prints as "2.000 (interval narrower than 0.001)";
    * all three equal: "1.0 (no spread)"; NaN: "undetermined"; an infinite end: "no upper bound"
      ("no lower bound"), the value then to two significant digits.
    """
    if np.isnan(value) or np.isnan(low) or np.isnan(high):
        return "undetermined"
    if not isfinite(value):
        return "unbounded" if value > 0 else "unbounded below"
    if low == high == value:
        return f"{two_digits(value, max_decimals)} (no spread)"
    if not (isfinite(low) and isfinite(high)):
        lo = "no lower bound" if not isfinite(low) else two_digits(low, max_decimals)
        hi = "no upper bound" if not isfinite(high) else two_digits(high, max_decimals)
        return f"{two_digits(value, max_decimals)} [{lo}, {hi}]"
    if high - low < 10.0 ** -max_decimals:
        return f"{value:.{max_decimals}f} (interval narrower than {10.0 ** -max_decimals:g})"
    d = _decimals(high - low, max_decimals)
    return f"{value:.{d}f} [{low:.{d}f}, {high:.{d}f}]"


def ratio_interval(low: float, high: float) -> str:
    """A ratio's interval in words: 0 and inf are the unbounded ends that censoring leaves."""
    if low <= 0 and not isfinite(high):
        return "unbounded"
    if not isfinite(high):
        return f"more than {two_digits(low)}"
    if low <= 0:
        return f"less than {two_digits(high)}"
    d = _decimals(high - low)
    return f"{low:.{d}f}, {high:.{d}f}"


def format_interval(value: float, low: float, high: float, digits: int = 0, inf: str = "never") -> str:
    """``"value [low, high]"`` with ``digits`` decimals; infinite or undefined parts in words.

    An infinite value prints as ``inf`` ("never") with the interval's finite end, an
    infinite upper end as "no upper bound", NaN as "undetermined". Prefer
    :meth:`SpeedUp.text` / :meth:`MedianTime.text`, which also choose the precision.
    """
    def f(x: float) -> str:
        return f"{x:.{digits}f}"
    if np.isnan(value):
        return "undetermined"
    if np.isinf(value):
        return inf + (f" (interval from {f(low)})" if isfinite(low) else "")
    lo = "undetermined" if np.isnan(low) else f(low)
    hi = "undetermined" if np.isnan(high) else "no upper bound" if np.isinf(high) else f(high)
    return f"{f(value)} [{lo}, {hi}]"

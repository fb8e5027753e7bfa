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

from math import ceil, floor, isfinite, isnan, log10
from typing import Literal

import numpy as np

__all__ = ["Bound", "decimals_for", "format_number", "format_estimate", "format_interval", "ratio_interval",
           "two_digits"]

Bound = Literal["=", ">", "<"]
"""A number as such ("="), a lower bound (">": the quantity is more than it, e.g. censored at a
horizon) or an upper bound ("<": less than it)."""


def decimals_for(width: float, max_decimals: int = 3) -> int:
    """Decimals whose last digit divides an interval of ``width`` into about five steps or more
    (at most ``max_decimals``; none for a width of 5 or more)."""
    if not (isfinite(width) and width > 0):
        return max_decimals
    return int(min(max_decimals, max(0, ceil(-log10(width / 5)))))


def format_number(x: float, decimals: int | None = None, max_decimals: int = 3) -> str:
    """``x`` with ``decimals`` decimals, or (None) to two significant digits and at most
    ``max_decimals`` decimals (numbers of 10 or more as integers). Never "inf" or "nan":
    ``ValueError`` for those, which need words (see :func:`format_estimate`)."""
    if not isfinite(x):
        raise ValueError(f"{x} is not a finite number; say in words what it means")
    if decimals is None:
        decimals = 0 if x == 0 or abs(x) >= 10 else min(max_decimals, max(0, 1 - floor(log10(abs(x)))))
    return f"{x:.{decimals}f}"


def two_digits(x: float, max_decimals: int = 3) -> str:
    """``x`` to two significant digits (for a bound, which has no interval to set its precision)."""
    return format_number(x, None, max_decimals)


def _end(x: float, bound: Bound, decimals: int, side: str) -> str:
    if isnan(x):
        return "undetermined"
    if not isfinite(x):
        return f"no {side} bound"
    text = format_number(x, decimals)
    return {"=": text, ">": f"more than {text}", "<": f"less than {text}"}[bound]


def format_estimate(value: float, low: float | None = None, high: float | None = None, *,
                    bound: Bound = "=", low_bound: Bound = "=", high_bound: Bound = "=",
                    max_decimals: int = 3, undetermined: str = "undetermined") -> str:
    """An estimate and its interval, ``"value [low, high]"``, at the precision the interval supports.

    The book's one formatter of an estimate (:mod:`spnlib.views.tables` re-exports it for tables).

    Parameters
    ----------
    value : float
        The estimate; NaN prints ``undetermined`` (e.g. "not applicable: the reference depth").
    low, high : float, optional
        The interval; -inf / inf is an unbounded end ("no lower bound" / "no upper bound").
        Without an interval the value prints to two significant digits.
    bound, low_bound, high_bound : {"=", ">", "<"}
        Whether the value or an end is a number as such or a bound: ">" prints "more than x"
        (a time censored at the horizon, a ratio over a censored median), "<" "less than x".
    max_decimals : int
        Never more decimals than this.

    The last digit divides the interval into about five steps or more (:func:`decimals_for`):
    2.79 [2.48, 3.04] prints "2.8 [2.5, 3.0]", 1.13 [1.09, 1.16] "1.13 [1.09, 1.16]",
    96 [72, 146] "96 [72, 146]". An interval of width zero prints "2.0 (no spread)"; one
    narrower than the last allowed decimal "2.000 (interval narrower than 0.001)". With an open
    or censored end the interval has no width, and the numbers get two significant digits:
    "more than 2.1 [1.6, no upper bound]". An infinite estimate is refused (``ValueError``):
    it needs words, e.g. the finite bound it exceeds with ``bound=">"``.
    """
    if isnan(value) or (low is not None and isnan(low)) or (high is not None and isnan(high)):
        return undetermined
    if not isfinite(value):
        raise ValueError("an infinite estimate needs words: pass the finite bound it exceeds "
                         "(e.g. the horizon) with bound='>'")
    prefix = {"=": "", ">": "more than ", "<": "less than "}[bound]
    if low is None or high is None:
        return prefix + format_number(value, max_decimals=max_decimals)
    if isfinite(low) and isfinite(high) and low_bound == high_bound == "=":
        width = high - low
        if width == 0 and low == value:
            return f"{prefix}{format_number(value, max_decimals=max_decimals)} (no spread)"
        if width < 10.0 ** -max_decimals:
            return f"{prefix}{value:.{max_decimals}f} (interval narrower than {10.0 ** -max_decimals:g})"
        decimals = decimals_for(width, max_decimals)
    else:   # an interval with an open or censored end has no width: two significant digits
        decimals = len(format_number(value, max_decimals=max_decimals).partition(".")[2])
    return (f"{prefix}{format_number(value, decimals)} "
            f"[{_end(low, low_bound, decimals, 'lower')}, {_end(high, high_bound, decimals, 'upper')}]")


def ratio_interval(low: float, high: float) -> str:
    """A ratio's interval in words: 0 and inf are the unbounded ends that censoring leaves."""
    if low <= 0 and not isfinite(high):
        return "unbounded"
    if not isfinite(high):
        return f"more than {two_digits(low)}"
    if low <= 0:
        return f"less than {two_digits(high)}"
    d = decimals_for(high - low)
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

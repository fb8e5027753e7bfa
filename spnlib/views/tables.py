"""Markdown tables for the book: one writer, one escaper, and numbers printed as a reader wants them.

Tables displayed with ``IPython.display.Markdown`` render in Jupyter and, parsed as MyST,
in the book (math and links included); nbval compares their plain text.

:func:`format_estimate` prints an estimate with the precision its interval supports and says in
words what a number cannot (a censored value, an unbounded end, no estimate), so that no cell
reads "inf", "nan", "n/a" or "never"; :func:`python_internals` finds such leftovers (the book's
browser test runs it on every table cell). It takes plain numbers and flags, whatever computed
them (e.g. :mod:`spnlib.stats.speedup`).

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from math import ceil, floor, isfinite, isnan, log10
from typing import Any, Literal

__all__ = ["markdown_table", "table_cell", "format_estimate", "format_number", "decimals_for",
           "python_internals", "python_reprs"]

Bound = Literal["=", ">", "<"]
"""A number as such ("="), a lower bound (">": the quantity is more than it, e.g. censored at a
horizon) or an upper bound ("<": less than it)."""


def table_cell(text: Any) -> str:
    """Text made safe for one cell of a Markdown table: one line, no bare '|' (escaped in
    prose, \\vert inside $math$)."""
    parts = re.split(r"(\$[^$]*\$)", str(text).replace("\n", " "))
    return "".join(p.replace("|", r"\vert ") if p.startswith("$") else p.replace("|", r"\|") for p in parts)


def markdown_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A Markdown table, every cell passed through :func:`table_cell`."""
    if any(len(r) != len(headers) for r in rows):
        raise ValueError(f"every row needs {len(headers)} cells")
    lines = ["| " + " | ".join(table_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(table_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


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
    "more than 2.1 [1.6, no upper bound]".
    """
    if isnan(value):
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


_REPRS = re.compile(
    r"\{'[^']*'\s*:|\{\"[^\"]*\"\s*:"                                   # a dict's repr
    r"|\b(?:array|np\.float64|np\.int64|Fraction|defaultdict|Counter)\("     # other reprs
    r"|<[\w.]+ object at 0x[0-9a-f]+>")                                     # an object's default repr
_INTERNALS = re.compile(
    r"(?<![\w.])(?:[-+]?inf|nan|NaN|None|n/a|True|False)(?![\w])"         # reprs and placeholders
    r"|\bnever\s*\[|,\s*never\]"                                         # "never [480, never]"
    r"|\{'[^']*'\s*:"                                                     # a dict's repr
    r"|\b(?:array|np\.float64|np\.int64|Fraction)\(")                     # other reprs


def python_internals(text: str) -> list[str]:
    """What in ``text`` (a table cell, a printed line) reads as Python rather than words:
    ``inf``, ``nan``, ``n/a``, ``None``, ``True``/``False``, "never" as an interval's end, a dict's
    or an array's repr."""
    return [m.group(0) for m in _INTERNALS.finditer(text)]


def python_reprs(text: str) -> list[str]:
    """Reprs in printed output (``text``: what a cell printed or returned): a dict's, an
    array's, ``np.float64(...)``, ``<... object at 0x...>``. Say it in a sentence or a table."""
    return [m.group(0) for m in _REPRS.finditer(text)]

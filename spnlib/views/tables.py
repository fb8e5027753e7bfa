"""Markdown tables for the book: one writer, one escaper, and numbers printed as a reader wants them.

Tables displayed with ``IPython.display.Markdown`` render in Jupyter and, parsed as MyST,
in the book (math and links included); nbval compares their plain text.

:func:`format_estimate` (the book's one estimate formatter, defined in :mod:`spnlib.stats.printing`
and re-exported here with :func:`format_number` and :func:`decimals_for`) prints an estimate with
the precision its interval supports and says in words what a number cannot (a censored value, an
unbounded end, no estimate), so that no cell reads "inf", "nan", "n/a" or "never";
:func:`python_internals` finds such leftovers (the book's browser test runs it on every table cell).

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from spnlib.stats.printing import Bound, decimals_for, format_estimate, format_number

__all__ = ["markdown_table", "table_cell", "format_estimate", "format_number", "decimals_for", "Bound",
           "python_internals", "python_reprs"]


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

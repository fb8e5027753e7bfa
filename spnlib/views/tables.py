"""Markdown tables for the book: one writer, one escaper.

Tables displayed with ``IPython.display.Markdown`` render in Jupyter and, parsed as MyST,
in the book (math and links included); nbval compares their plain text.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["markdown_table", "table_cell"]


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

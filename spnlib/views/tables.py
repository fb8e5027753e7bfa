"""Small presentation helpers: results as Markdown tables for the book.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

from typing import Any, Sequence

__all__ = ["markdown_table"]


def markdown_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A Markdown table (renders in Jupyter and in the book; plain text in nbval)."""
    if any(len(r) != len(headers) for r in rows):
        raise ValueError(f"every row needs {len(headers)} cells")
    lines = ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)

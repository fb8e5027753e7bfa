"""Writing the report: Markdown table, links to the section of the book that shows each claim.

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spnlib.report.model import Claim, Row, Status
from spnlib.views.tables import markdown_table

__all__ = ["heading_anchor", "chapter_headings", "section_link", "report_markdown", "ReproducibilityReport"]


def heading_anchor(heading: str) -> str:
    """The anchor MyST gives a heading (GitHub style): lower case, spaces to '-', punctuation
    dropped; inline math is not part of it, inline code is (without the backticks)."""
    text = re.sub(r"\$[^$]*\$", "", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("`", "").replace("*", "")
    return re.sub(r"[^\w\u4e00-\u9fff\- ]", "", text.lower().replace(" ", "-"))


def chapter_headings(source: Path) -> list[str]:
    """Headings (levels 1-3) of a chapter, an .ipynb (markdown cells) or a .md file."""
    if source.suffix == ".ipynb":
        cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = source.read_text(encoding="utf-8")
    text = re.sub(r"^(```|:::).*?^\1", "", text, flags=re.MULTILINE | re.DOTALL)       # no code fences
    return [m.group(2).strip() for m in re.finditer(r"^(#{1,3}) +(.+)$", text, flags=re.MULTILINE)]


def section_link(claim: Claim, book_dir: Path) -> str:
    """A Markdown link to the chapter (and section, if its heading exists) that shows a claim;
    plain text if the chapter is not in ``book_dir`` yet."""
    for suffix in (".ipynb", ".md"):
        source = book_dir / f"{claim.chapter}{suffix}"
        if source.exists():
            break
    else:
        return f"{claim.chapter} (not yet written)"
    headings = chapter_headings(source)
    title = headings[0] if headings else claim.chapter
    if claim.heading and claim.heading in headings:
        return f"[{title}: {claim.heading}]({source.name}#{heading_anchor(claim.heading)})"
    return f"[{title}]({source.name})"


def report_markdown(rows: Sequence[Row], book_dir: Path | str = ".") -> str:
    """The report as a Markdown table (MyST: math and links render in the book)."""
    book_dir = Path(book_dir)
    cells = [[f"**{row.claim.label}**: {row.claim.statement}", row.finding.status.value,
              row.finding.evidence, section_link(row.claim, book_dir)] for row in rows]
    return markdown_table(cells, ["Claim", "Verdict", "Evidence (computed when this page was built)", "Shown in"])


@dataclass
class ReproducibilityReport:
    """The computed report. Displays as a Markdown table in Jupyter and in the book; its
    text form (what nbval compares) lists each claim with its verdict."""
    rows: list[Row]
    book_dir: Path

    def counts(self) -> dict[str, int]:
        return {s.value: sum(r.finding.status is s for r in self.rows) for s in Status}

    def _repr_markdown_(self) -> str:
        return report_markdown(self.rows, self.book_dir)

    def __repr__(self) -> str:
        return "\n".join(f"{r.claim.label}: {r.finding.status.value}" for r in self.rows)

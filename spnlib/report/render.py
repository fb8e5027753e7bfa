"""Writing the report: one table per kind of claim, the counts, the glossary, the thresholds, the detail.

The table (what nbval compares) holds only machine-robust evidence; the machine-dependent numbers
behind it are a separate object, :class:`ReportDetail`, which the introduction shows in a cell
nbval does not compare. Links go to the section of the book that shows each claim.

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spnlib.report.model import STATUS_MEANING, Claim, Kind, Row, Status
from spnlib.views.tables import markdown_table

__all__ = ["heading_anchor", "chapter_headings", "link", "section_link", "report_markdown", "Counts",
           "ReportDetail", "ReproducibilityReport"]


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


def link(chapter: str, heading: str, book_dir: Path) -> str:
    """A Markdown link to a chapter (and section, if its heading exists); plain text if the
    chapter is not in ``book_dir`` yet."""
    for suffix in (".ipynb", ".md"):
        source = book_dir / f"{chapter}{suffix}"
        if source.exists():
            break
    else:
        return f"{chapter} (not yet written)"
    headings = chapter_headings(source)
    title = headings[0] if headings else chapter
    if heading and heading in headings:
        return f"[{title}: {heading}]({source.name}#{heading_anchor(heading)})"
    return f"[{title}]({source.name})"


def section_link(claim: Claim, book_dir: Path) -> str:
    """A link to the section of the book that shows a claim."""
    return link(claim.chapter, claim.heading, book_dir)


def _table(rows: Sequence[Row], book_dir: Path) -> str:
    cells = [[f"**{row.claim.label}**: {row.claim.statement}", row.finding.status.value,
              row.finding.evidence, section_link(row.claim, book_dir)] for row in rows]
    return markdown_table(cells, ["Claim", "Verdict", "Evidence (computed when this page was built)", "Shown in"])


def report_markdown(rows: Sequence[Row], book_dir: Path | str = ".") -> str:
    """The report as Markdown (MyST: math and links render in the book): what each status means,
    one table per kind of claim, the glossary of the words the rows use, and the thresholds."""
    from spnlib.report.glossary import glossary_markdown
    from spnlib.report.thresholds import thresholds_markdown
    book_dir = Path(book_dir)
    used = {r.finding.status for r in rows}
    parts = ["**Verdicts.** " + "; ".join(f"*{s.value}*: {m}" for s, m in STATUS_MEANING.items() if s in used) + "."]
    for kind in Kind:
        mine = [r for r in rows if r.claim.kind is kind]
        if mine:
            parts += [f"**{kind.value.capitalize()}** ({len(mine)})", _table(mine, book_dir)]
    parts += ["**Terms used above.**", glossary_markdown(rows, book_dir),
              "**Thresholds.** Every threshold a verdict depends on is a stated choice:", thresholds_markdown()]
    return "\n\n".join(parts)


@dataclass(frozen=True)
class Counts:
    """Verdicts counted per kind of claim (a table, never a raw dict on the page)."""
    table: dict[Kind, dict[Status, int]]

    @classmethod
    def of(cls, rows: Sequence[Row]) -> Counts:
        return cls({k: {s: sum(r.claim.kind is k and r.finding.status is s for r in rows) for s in Status}
                    for k in Kind})

    def __getitem__(self, kind: Kind) -> dict[Status, int]:
        return self.table[kind]

    def total(self, kind: Kind) -> int:
        return sum(self.table[kind].values())

    def _statuses(self) -> list[Status]:
        return [s for s in Status if any(self.table[k][s] for k in Kind)]

    def _repr_markdown_(self) -> str:
        cols = self._statuses()
        return markdown_table([[k.value] + [str(self.table[k][s]) for s in cols] + [str(self.total(k))]
                               for k in Kind], ["kind of claim"] + [s.value for s in cols] + ["all"])

    def __repr__(self) -> str:
        return "\n".join(f"{k.value}: " + ", ".join(f"{self.table[k][s]} {s.value}" for s in self._statuses()
                                                    if self.table[k][s]) + f" (of {self.total(k)})" for k in Kind)


@dataclass(frozen=True)
class ReportDetail:
    """The machine-dependent numbers behind the table's evidence (chaotic runs): point estimates
    and intervals whose last digits differ between machines. Shown in an uncompared cell."""
    rows: list[Row]

    def _repr_markdown_(self) -> str:
        cells = [[f"**{r.claim.label}**: {r.claim.statement}", r.finding.detail] for r in self.rows if r.finding.detail]
        return markdown_table(cells, ["Claim", "Numbers behind the verdict (this machine)"])

    def __repr__(self) -> str:
        return "\n".join(f"[{r.claim.key}] {r.finding.detail}" for r in self.rows if r.finding.detail)


@dataclass
class ReproducibilityReport:
    """The computed report. Displays as Markdown in Jupyter and in the book; its text form (what
    nbval compares besides) lists each claim's key, label and verdict, one per line."""
    rows: list[Row]
    book_dir: Path

    def counts(self) -> Counts:
        return Counts.of(self.rows)

    def detail(self) -> ReportDetail:
        return ReportDetail(self.rows)

    def status(self, key: str) -> Status:
        for r in self.rows:
            if r.claim.key == key:
                return r.finding.status
        raise KeyError(f"no claim {key!r} in the report; it has {[r.claim.key for r in self.rows]}")

    def summary(self):
        """The summary paragraph, written from the statuses (:mod:`spnlib.report.summary`)."""
        from spnlib.report.summary import Summary
        return Summary(self.rows)

    def _repr_markdown_(self) -> str:
        return report_markdown(self.rows, self.book_dir)

    def __repr__(self) -> str:
        return "\n".join(f"[{r.claim.key}] {r.claim.label}: {r.finding.status.value}" for r in self.rows)

"""Summaries that follow from the verdicts, and a check that the book's prose does not contradict them.

* :class:`Summary` writes the introduction's summary paragraph from the computed statuses, one
  sentence per kind of claim, so it cannot say "reproduced" where the table does not.
* :func:`verdict_claims` reads prose (a chapter's summary, the conclusion) clause by clause and
  finds where it says that a claim of the report holds or does not; :func:`contradictions`
  compares those statements with the statuses. A clause that says a claim is reproduced (or
  holds) needs a status in :data:`~spnlib.report.model.SUPPORTS`; one that says it is not needs a
  status in :data:`~spnlib.report.model.CONTRADICTS`. A positive clause about a printed equation
  whose status is "paper error" is allowed when it names the corrected form.
* :func:`summary_prose` extracts the prose that is checked: the sections of a chapter headed
  "Summary", "Verdict..." or "What we see", and the whole of a Markdown page.

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from spnlib.report.model import CONTRADICTS, SUPPORTS, Kind, Row, Status

__all__ = ["Summary", "MENTIONS", "VerdictClaim", "verdict_claims", "contradictions", "summary_prose",
           "statuses_from_output", "SUMMARY_HEADINGS"]

_PHRASE = {Status.REPRODUCED: ("is reproduced as stated", "are reproduced as stated"),
           Status.CONDITIONS: ("holds only under conditions", "hold only under conditions"),
           Status.NOT_REPRODUCED: ("is not reproduced", "are not reproduced"),
           Status.PAPER_ERROR: ("is a paper error", "are paper errors"),
           Status.GAP: ("rests on a gap in the paper's argument", "rest on gaps in the paper's argument"),
           Status.PENDING: ("is not yet tested", "are not yet tested")}
_NUMBER = {0: "none", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
           9: "nine", 10: "ten", 11: "eleven", 12: "twelve"}


def _count(n: int) -> str:
    return _NUMBER.get(n, str(n))


def _names(rows: Sequence[Row]) -> str:
    names = [r.claim.short or r.claim.label for r in rows]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class Summary:
    """The summary paragraph, written from the statuses (Markdown; its text form is the same)."""
    rows: Sequence[Row]

    def sentences(self) -> list[str]:
        out = []
        for kind in Kind:
            mine = [r for r in self.rows if r.claim.kind is kind]
            if not mine:
                continue
            parts = []
            for status in Status:
                hit = [r for r in mine if r.finding.status is status]
                if hit:
                    verb = _PHRASE[status][len(hit) > 1]
                    which = "" if len(hit) == len(mine) and status is Status.REPRODUCED else f" ({_names(hit)})"
                    parts.append(f"{_count(len(hit))}{which} {verb}")
            if not any(r.finding.status is Status.REPRODUCED for r in mine):
                parts.insert(0, f"none {_PHRASE[Status.REPRODUCED][1]}")
            listing = parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + "; and " + parts[-1]
            out.append(f"Of the {_count(len(mine))} {kind.value} of the paper, {listing}.")
        return out

    def _repr_markdown_(self) -> str:
        return " ".join(self.sentences())

    def __repr__(self) -> str:
        return " ".join(self.sentences())


# --------------------------------------------------------------- reading prose
_EQ_KEYS = {1: "eq1", 2: "eq2", 3: "eq3", 4: "eq4", 5: "eq5", 6: "eq6", 7: "eq7", 8: "eq8-9", 9: "eq8-9",
            10: "eq10", 11: "eq11-12", 12: "eq11-12", 13: "eq13", 14: "eq14"}

MENTIONS: dict[str, str] = {
    "obs1": r"Observation 1(?!'s)",
    "claim1": r"Claim 1(?!'s premise)",
    "trees": r"induced trees",
    "fig3": r"paper's curves|Fig(?:ure)? 3\b|\bthe figure\b",
    "fig3-runs": r"\btwo (?:identical )?runs\b|\b2 (?:independent )?re-runs\b|\bboth runs\b",
    "fig3-faster": r"(?:deeper|more (?:consecutive )?(?:sum )?layers)[^.;]{0,60}\bfaster\b",
    "fig3-half": r"\bhalf (?:of )?the (?:iterations|updates)\b",
    "sec21-update": r"end-to-end update",
}
"""How prose refers to each claim of the report (besides "Eq. n" / "Eqs. n-m", read as numbers)."""

_POSITIVE = re.compile(r"\breproduc(?:es|ed|e)\b|\bholds?\b|\bis right\b|\bsupported\b|\bconfirm\w*", re.I)
_NEGATIVE = re.compile(r"\bnot\b[^.;]{0,30}\b(?:reproduc\w*|hold|holds|supported|follow)\b|\bdoes not hold\b"
                       r"|\bmisprinted\b|\bwrong\b|\bcontradict\w*|\bcannot\b|\bnever\b|\bfails?\b", re.I)
_CORRECTED = re.compile(r"\bcorrect(?:ed|ion)\b|\bwith\b[^.;]*\b(?:carry|on the left)\b|\bread with\b", re.I)
_ABBREVIATIONS = {"et al.": "et al", "e.g.": "eg", "i.e.": "ie", "Eqs.": "Eqs", "Eq.": "Eq", "Fig.": "Fig",
                  "Sec.": "Sec", "cf.": "cf", "vs.": "vs"}


@dataclass(frozen=True)
class VerdictClaim:
    """A clause of prose that says a claim holds (``positive``) or does not."""
    key: str
    positive: bool
    corrected: bool        # the clause names a corrected form
    text: str
    source: str


def _normalise(text: str) -> str:
    text = re.sub(r"\{eq\}`paper-eq-(\d+)`", r"\1", text)
    text = re.sub(r"\{(?:doc|ref|cite:p|cite:t|cite)\}`[^`]*`", "", text)
    for long, short in _ABBREVIATIONS.items():
        text = text.replace(long, short)
    return text.replace("*", "")


def _equation_keys(clause: str) -> set[str]:
    keys = set()
    for m in re.finditer(r"\bEqs? ((?:\d+(?:[-–]\d+)?)(?:(?:, | and | or )\d+(?:[-–]\d+)?)*)(?!'s)\b(?!-)", clause):
        for part in re.split(r", | and | or ", m.group(1)):
            lo, _, hi = part.replace("–", "-").partition("-")
            for n in range(int(lo), int(hi or lo) + 1):
                if n in _EQ_KEYS:
                    keys.add(_EQ_KEYS[n])
    return keys


def _mentions(clause: str) -> set[str]:
    return _equation_keys(clause) | {k for k, p in MENTIONS.items() if re.search(p, clause, flags=re.I)}


def verdict_claims(prose: str, source: str = "") -> list[VerdictClaim]:
    """Every clause of ``prose`` that says a claim of the report holds or does not.

    Clauses are split at sentence ends and semicolons; a clause with a verdict but no mention of a
    claim inherits the claims of the clause before it in the same sentence ("...; X reproduces them").
    """
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n[ \t]*-[ \t]+|\n[ \t]*\n", _normalise(prose)):
        previous: set[str] = set()
        for clause in re.split(r";\s+", re.sub(r"\s+", " ", sentence)):
            keys = _mentions(clause) or previous
            previous = keys or previous
            negative, positive = _NEGATIVE.search(clause), _POSITIVE.search(clause)
            if not keys or not (negative or positive):
                continue
            corrected = bool(_CORRECTED.search(clause))
            out += [VerdictClaim(k, not negative, corrected, clause.strip(), source) for k in sorted(keys)]
    return out


def contradictions(claims: Iterable[VerdictClaim], statuses: dict[str, Status]) -> list[str]:
    """The clauses whose statement disagrees with the computed status (as readable lines)."""
    bad = []
    for c in claims:
        status = statuses.get(c.key)
        if status is None:
            continue
        if c.positive:
            ok = status in SUPPORTS or (status is Status.PAPER_ERROR and c.corrected)
        else:
            ok = status in CONTRADICTS
        if not ok:
            said = "holds / reproduced" if c.positive else "does not hold / not reproduced"
            bad.append(f"{c.source}: says {c.key} {said}, the report says {status.value}: \"{c.text}\"")
    return bad


SUMMARY_HEADINGS = re.compile(r"^(Summary|Verdict.*|What we see|In short.*)$")
"""Headings of the sections whose prose is checked against the report."""


def summary_prose(source: Path) -> str:
    """The checked prose of a page: in a notebook, the Markdown of the sections whose heading
    matches :data:`SUMMARY_HEADINGS` (up to the next heading of the same or a higher level); in
    a Markdown page, all of it."""
    if source.suffix != ".ipynb":
        return source.read_text(encoding="utf-8")
    cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
    text = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    out, level = [], 0
    for line in text.splitlines():
        m = re.match(r"^(#{1,6}) +(.+)$", line)
        if m:
            if SUMMARY_HEADINGS.match(m.group(2).strip()):
                level = len(m.group(1))
                continue
            if level and len(m.group(1)) <= level:
                level = 0
        if level:
            out.append(line)
    return "\n".join(out)


def statuses_from_output(notebook: Path) -> dict[str, Status]:
    """The statuses the introduction computed when it was built, read from its committed output
    (the report's text form, ``[key] label: status`` per line; nbval checks that output against a
    fresh computation)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    by_value = {s.value: s for s in Status}
    found: dict[str, Status] = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            text = "".join(output.get("data", {}).get("text/plain", ""))
            for m in re.finditer(r"^\[([\w.-]+)\] [^\n]*: ([^\n:]+)$", text, flags=re.MULTILINE):
                if m.group(2) in by_value:
                    found[m.group(1)] = by_value[m.group(2)]
    return found

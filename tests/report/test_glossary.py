"""Tests of the report's glossary and thresholds (spnlib.report.glossary, spnlib.report.thresholds).

Every word a row prints that a reader cannot know (a variant's name, "carry", "gap", "band", ...)
must be defined on the page, and every threshold a rule uses must be listed there.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

from spnlib.report import Claim, Finding, Kind, Row, Status, default_claims, empirical, rules
from spnlib.report.glossary import TERMS, glossary_markdown, terms_used
from spnlib.report.thresholds import THRESHOLDS, thresholds_markdown

BOOK = Path(__file__).resolve().parents[2] / "book"

JARGON = ("ulp", "perturbed", "random-structure", "released-order", "roundoff", "updated", "carry", "gap", "band",
          "speed-up", "replay", "chaotic", "first order", "induced tree", "of its own", "not distinguishable",
          "same-class", "one curve", "variant")
"""Words the rows use that a reader of the paper does not know; each must match a glossary term."""


def row(evidence: str, detail: str = "") -> Row:
    claim = Claim("k", "Fig. 3", "s", "experiment", "", lambda ev: Finding(Status.REPRODUCED, ""), Kind.EMPIRICAL)
    return Row(claim, Finding(Status.CONDITIONS, evidence, detail))


def test_every_jargon_word_has_a_term() -> None:
    for word in JARGON:
        assert any(t.found_in(word) for t in TERMS), f"no glossary term matches {word!r}"


def test_every_protocol_is_defined() -> None:
    from spnlib.experiment.protocols import PROTOCOLS
    for name in PROTOCOLS:
        assert any(t.found_in(name) or t.found_in(f"{name} protocol") for t in TERMS), f"{name!r} has no term"
    defined = {t.name: t.definition for t in TERMS}
    assert defined["perturbed"] == PROTOCOLS["perturbed"].label      # the label, not a second wording


def test_glossary_lists_only_the_terms_used(tmp_path: Path) -> None:
    rows = [row("faster: ulp; not faster: random-structure", "×2.79 [2.48, 3.04]")]
    names = [t.name for t in terms_used(rows)]
    assert "ulp" in names and "random-structure" in names and "speed-up" in names
    assert "carry" not in names and "perturbed" not in names
    text = glossary_markdown(rows, BOOK)
    assert text.count("\n") == len(names) - 1 and all(line.startswith("- **") for line in text.splitlines())
    assert "](beyond.ipynb#robustness-over-seeds)" in text


def test_glossary_links_reach_existing_headings() -> None:
    from spnlib.report.render import chapter_headings
    for t in TERMS:
        if t.chapter:
            headings = chapter_headings(BOOK / f"{t.chapter}.ipynb")
            assert t.heading in headings, f"{t.name}: no heading {t.heading!r} in {t.chapter}"


def test_every_threshold_a_rule_uses_is_on_the_page() -> None:
    listed = {t.name for t in THRESHOLDS}
    aliases = {"IDENTITY_TOLERANCE": "ROUNDOFF", "REPLAY_TOLERANCE": "EXACT_RTOL", "FIG3_TOLERANCE": "FIG3_NATS",
               "GAP_FRACTION": "GAP_FRACTIONS", "TRACKING": "TRACKING_RTOL"}
    source = inspect.getsource(rules) + inspect.getsource(empirical)
    used = set(re.findall(r"\b([A-Z][A-Z0-9]*_[A-Z0-9_]+|HALF|TRACKING)\b", source))
    used -= {"HOLDS_FIRST_ORDER", "MAX_RESIDUAL_CHARS", "FASTER", "NOT_FASTER", "HALF_OR_FEWER", "NOT_HALF",
             "NOT_REPRODUCED", "PAPER_ERROR"}
    for name in used:
        assert aliases.get(name, name) in listed, f"{name} decides a verdict but is not listed on the page"
    text = thresholds_markdown()
    assert all(f"`{t.name}`" in text for t in THRESHOLDS)


def test_the_registry_rows_use_only_defined_words() -> None:
    """Statements of the registry: every jargon word they use is defined (evidence is checked
    on the built page, in the introduction's output)."""
    rows = [Row(c, Finding(Status.REPRODUCED, "")) for c in default_claims()]
    used = " ".join(r.claim.statement for r in rows)
    for word in JARGON:
        if re.search(re.escape(word), used, flags=re.I):
            assert any(t.found_in(word) for t in terms_used(rows))

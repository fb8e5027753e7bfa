"""Tests of the reproducibility report (spnlib.report, spnlib.report.rules).

The rules are tested on synthetic evidence whose verdict is known by construction; the
rendering against MyST's own heading slugs and Markdown table rules; and the whole report
once on NLTCS, for the verdicts that are facts rather than judgements.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pytest

from spnlib.report import (
    Claim,
    Finding,
    ReproducibilityReport,
    Row,
    Status,
    chapter_headings,
    default_claims,
    heading_anchor,
    report_markdown,
    rules,
    section_link,
)
from spnlib.views.tables import table_cell

EXACT, FIRST, FAILS, NA = "holds exactly", "holds to first order in η", "does not hold", "not applicable"


class FakeEvidence(SimpleNamespace):
    """Just the attributes the rules read (the real Evidence computes them)."""
    TREES: ClassVar[dict] = {"A": None, "B": None}

    def equation(self, name: str) -> list[dict]:
        rows = [r for r in self.equations if r["equation"] == name]
        if not rows:
            raise LookupError(name)
        return rows


def rows_of(name: str, *verdicts: str, residual: str = "", condition: str = "") -> list[dict]:
    return [{"equation": name, "decomposition": tree, "verdict": v, "where": "k = 1" if v == FAILS else "",
             "residual": residual if v == FAILS else "", "condition": condition}
            for tree, v in zip("ABC", verdicts)]


# ------------------------------------------------------------------ equation rules
@pytest.mark.parametrize("verdicts, status", [
    ((EXACT, EXACT), Status.REPRODUCED),
    ((EXACT, NA), Status.REPRODUCED),
    ((EXACT, FAILS), Status.CONDITIONS),
    ((FAILS, FAILS), Status.PAPER_ERROR),
    ((FIRST, EXACT), Status.CONDITIONS),     # an exact claim that holds only to first order somewhere
])
def test_equation_rule(verdicts, status) -> None:
    ev = FakeEvidence(equations=rows_of("Eq. 5", *verdicts, residual=r"\eta^{2} x"))
    finding = rules.equation_rule("Eq. 5")(ev)
    assert finding.status is status
    if FAILS in verdicts:
        assert r"$\eta^{2} x$" in finding.evidence and "(k = 1)" in finding.evidence


def test_equation_rule_accepts_first_order_when_the_paper_writes_approx() -> None:
    ev = FakeEvidence(equations=rows_of("Eq. 10", FIRST, FIRST))
    assert rules.equation_rule("Eq. 10", rules.HOLDS_FIRST_ORDER)(ev).status is Status.REPRODUCED


def test_equation_rule_refuses_what_it_cannot_judge() -> None:
    with pytest.raises(LookupError):
        rules.equation_rule("Eq. 99")(FakeEvidence(equations=rows_of("Eq. 5", EXACT)))
    with pytest.raises(LookupError, match="applies to none"):
        rules.equation_rule("Eq. 5")(FakeEvidence(equations=rows_of("Eq. 5", NA, NA)))


def test_long_or_piped_residuals_stay_out_of_the_table() -> None:
    long = FakeEvidence(equations=rows_of("Eq. 5", FAILS, residual="x + " * 40))
    piped = FakeEvidence(equations=rows_of("Eq. 5", FAILS, residual=r"\left|x\right|"))
    assert "derived" not in rules.equation_rule("Eq. 5")(long).evidence
    assert "derived" not in rules.equation_rule("Eq. 5")(piped).evidence


def test_tex_conditions_become_math() -> None:
    ev = FakeEvidence(equations=rows_of("Eq. 7", EXACT, condition="w^{[l]}_j ≠ 0"))
    assert "$w^{[l]}_j ≠ 0$" in rules.equation_rule("Eq. 7")(ev).evidence


def test_eq13_rule() -> None:
    printed_a, printed_b = "Eq. 13 (reading a)", "Eq. 13 (reading b)"
    broken = rows_of(printed_a, FIRST, FAILS) + rows_of(printed_b, FAILS, FIRST)
    fixed = rows_of("Eq. 13 corrected", FIRST, FIRST)
    finding = rules.eq13(FakeEvidence(equations=broken + fixed))
    assert finding.status is Status.PAPER_ERROR
    assert "reading a: fails on B" in finding.evidence and "corrected form" in finding.evidence
    good = rows_of(printed_a, FIRST, EXACT) + rows_of(printed_b, FAILS, FAILS) + fixed
    assert rules.eq13(FakeEvidence(equations=good)).status is Status.REPRODUCED


def test_eq14_rule() -> None:
    printed, fixed = "Eq. 14 as printed", "Eq. 14 with w^(t+1) on the left"
    typo = rows_of(printed, FAILS, FAILS) + rows_of(fixed, FIRST, FIRST, condition="w_k^(1) = 0")
    finding = rules.eq14(FakeEvidence(equations=typo))
    assert finding.status is Status.PAPER_ERROR and "w_k^(1) = 0" in finding.evidence
    wrong = rows_of(printed, FAILS, FAILS) + rows_of(fixed, FAILS, FIRST)
    assert rules.eq14(FakeEvidence(equations=wrong)).status is Status.NOT_REPRODUCED


# -------------------------------------------------------- linear, networks, experiment
def test_linear_rules() -> None:
    checks = {"grad_w = ...": True, "chain rule: ...": True, "end-to-end: ...": True, "remainder = ...": True}
    assert rules.linear_gradients(FakeEvidence(linear=checks)).status is Status.REPRODUCED
    assert rules.linear_update(FakeEvidence(linear=checks)).status is Status.CONDITIONS
    wrong = {**checks, "grad_w = ...": False, "end-to-end: ...": False}
    assert rules.linear_gradients(FakeEvidence(linear=wrong)).status is Status.PAPER_ERROR
    assert rules.linear_update(FakeEvidence(linear=wrong)).status is Status.PAPER_ERROR
    with pytest.raises(LookupError):
        rules.linear_update(FakeEvidence(linear={"grad_w": True}))


def test_network_identity_rule() -> None:
    rule = rules.network_identity("expressiveness", "two networks")
    assert rule(FakeEvidence(network_checks={"expressiveness": 3e-16})).status is Status.REPRODUCED
    assert rule(FakeEvidence(network_checks={"expressiveness": 1e-6})).status is Status.NOT_REPRODUCED


def acc(depth: int, factor: float, low: float, high: float) -> SimpleNamespace:
    return SimpleNamespace(depth=depth, fraction=0.9, factor=factor, low=low, high=high)


def experiment(spread: float, variants: dict[str, tuple[float, float, float]], curves=None,
               worst: float = 2.0, runs_identical: bool = True) -> FakeEvidence:
    faithful = SimpleNamespace(depth_spread=spread, runs_identical=runs_identical, final=-9.34,
                               paper_final=np.array([-7.06, -7.04, -7.05]),
                               comparison={"max_abs_difference": np.array([worst, worst, worst])})
    reports = [SimpleNamespace(protocol=name, acceleration_90=[acc(1, 1.0, 1.0, 1.0), acc(3, *f)],
                               curves=curves if curves is not None else np.zeros((4, 2, 500)))
               for name, f in variants.items()]
    return FakeEvidence(faithful=faithful, acceleration=reports)


def test_depth_rules() -> None:
    mixed = experiment(0.0, {"a": (2.8, 2.5, 3.0), "b": (1.1, 0.9, 1.2)})
    assert rules.deeper_is_faster(mixed).status is Status.CONDITIONS
    assert rules.half_the_iterations(mixed).status is Status.CONDITIONS
    assert "a ×2.80 [2.50, 3.00]" in rules.half_the_iterations(mixed).evidence
    slow = experiment(0.0, {"a": (1.2, 1.1, 1.3), "b": (1.0, 0.9, 1.1)})
    assert rules.deeper_is_faster(slow).status is Status.CONDITIONS
    assert rules.half_the_iterations(slow).status is Status.NOT_REPRODUCED
    none = experiment(0.0, {"b": (1.0, 0.9, 1.1)})
    assert rules.deeper_is_faster(none).status is Status.NOT_REPRODUCED
    everywhere = experiment(0.5, {"a": (1.5, 1.2, 1.8)})
    assert rules.deeper_is_faster(everywhere).status is Status.REPRODUCED


def test_fig3_rule() -> None:
    from spnlib.experiment.protocols import paper_fig3
    paper = paper_fig3()
    around = np.stack([np.stack([paper[min(L, 2)] - 0.01, paper[min(L, 2)] + 0.01]) for L in range(4)])
    covered = experiment(0.0, {"v": (1, 1, 1)}, curves=around)
    assert rules.fig3_curves(covered).status is Status.CONDITIONS
    missed = experiment(0.0, {"v": (1, 1, 1)}, curves=around - 1.0)
    finding = rules.fig3_curves(missed)
    assert finding.status is Status.NOT_REPRODUCED and "covers 0/0/0 %" in finding.evidence
    assert rules.fig3_curves(experiment(0.0, {}, worst=0.01)).status is Status.REPRODUCED


def test_two_runs_rule() -> None:
    assert rules.two_runs(experiment(0.0, {})).status is Status.PAPER_ERROR
    assert rules.two_runs(experiment(0.0, {}, runs_identical=False)).status is Status.REPRODUCED


def observation_summary(residual: float, carry: float, no_carry: float) -> dict:
    run = {"eq14_exact_residual_max": residual, "drift[exact]": 1e-15, "share_of_change": {"carry": carry},
           "drift[exact, no carry]": no_carry}
    return {"L = 2": run, "L = 3": run}


def test_observation1_rule() -> None:
    rule = rules.observation1
    assert rule(FakeEvidence(observation1=observation_summary(1e-13, 0.7, 0.4))).status is Status.CONDITIONS
    assert rule(FakeEvidence(observation1=observation_summary(1e-13, 0.01, 0.001))).status is Status.REPRODUCED
    assert rule(FakeEvidence(observation1=observation_summary(1e-3, 0.7, 0.4))).status is Status.NOT_REPRODUCED
    assert "70%-70% of a step" in rule(FakeEvidence(observation1=observation_summary(1e-13, 0.7, 0.4))).evidence


def claim_summary(residual: float, private: float) -> dict:
    kind = {"value_residual_max": residual, "step_residual_max": 1e-15, "private_fraction_max": private,
            "deep_speedup@0.99": (0.22, 0.08, 0.6)}
    return {"shared": kind, "tree-shaped": kind}


def test_claim1_rule() -> None:
    shared = rules.claim1(FakeEvidence(claim1=claim_summary(1e-14, 0.0)))
    assert shared.status is Status.NOT_REPRODUCED and "no trees have a weight of their own" in shared.evidence
    assert "shared ×0.22 [0.08, 0.60]" in shared.evidence
    assert rules.claim1(FakeEvidence(claim1=claim_summary(1e-14, 1.0))).status is Status.REPRODUCED
    assert "misses" in rules.claim1(FakeEvidence(claim1=claim_summary(1e-3, 1.0))).evidence


# ------------------------------------------------------------------------ rendering
@pytest.mark.parametrize("heading", ["Many steps: Observation 1", "The released code's protocol",
                                     "Fig. 2: the same weights, decomposed", 'What "near zero" means here',
                                     "Plain vs overparameterized gradient descent"])
def test_heading_anchor_matches_myst(heading: str) -> None:
    from myst_parser.mdit_to_docutils.base import default_slugify
    assert heading_anchor(heading) == default_slugify(heading)


def test_heading_anchor_drops_math_and_markup() -> None:
    assert heading_anchor("Depth $L$ and `eta`") == "depth--and-eta"
    assert heading_anchor("See [the code](x.md)") == "see-the-code"


def test_chapter_headings_and_links(tmp_path: Path) -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Title\n\n## One step\n"},
             {"cell_type": "code", "metadata": {}, "source": "# not a heading", "outputs": [],
              "execution_count": None},
             {"cell_type": "markdown", "metadata": {}, "source": "```\n# in a fence\n```\n### Deeper\n"}]
    (tmp_path / "chap.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                                     "nbformat_minor": 5}))
    (tmp_path / "page.md").write_text("# Page\n\n## Part\n")
    assert chapter_headings(tmp_path / "chap.ipynb") == ["Title", "One step", "Deeper"]
    assert chapter_headings(tmp_path / "page.md") == ["Page", "Part"]

    def claim(chapter: str, heading: str) -> Claim:
        return Claim("k", "Eq. 1", "s", chapter, heading, lambda ev: Finding(Status.REPRODUCED, ""))
    assert section_link(claim("chap", "One step"), tmp_path) == "[Title: One step](chap.ipynb#one-step)"
    assert section_link(claim("chap", "Renamed"), tmp_path) == "[Title](chap.ipynb)"
    assert section_link(claim("page", ""), tmp_path) == "[Page](page.md)"
    assert section_link(claim("missing", "x"), tmp_path) == "missing (not yet written)"


def test_table_cell_keeps_one_cell() -> None:
    assert table_cell("a | b\nc") == r"a \| b c"
    assert table_cell(r"$|x|$ and |y|") == r"$\vert x\vert $ and \|y\|"


def test_report_markdown_and_text(tmp_path: Path) -> None:
    claim = Claim("k", "Eq. 2", "a | b", "nowhere", "", lambda ev: Finding(Status.REPRODUCED, "e"))
    rows = [Row(claim, Finding(Status.REPRODUCED, "x | y")), Row(claim, Finding(Status.PAPER_ERROR, "$|z|$"))]
    table = report_markdown(rows, tmp_path).splitlines()
    assert len(table) == 4
    for line in table:   # four cells: five unescaped pipes
        assert len([i for i, ch in enumerate(line) if ch == "|" and line[i - 1:i] != "\\"]) == 5
    report = ReproducibilityReport(rows, tmp_path)
    assert repr(report) == "Eq. 2: reproduced\nEq. 2: paper error"
    assert report.counts()["paper error"] == 1


def test_registry() -> None:
    claims = default_claims()
    assert len({c.key for c in claims}) == len(claims)
    chapters = {"linear_networks", "spns", "derivation", "verification", "experiment", "beyond"}
    assert {c.chapter for c in claims} <= chapters
    labels = " ".join(c.label for c in claims)
    for eq in ("Eq. 1", "Eq. 2", "Eqs. 3-4", "Eq. 5", "Eq. 6", "Eq. 7", "Eqs. 8-9", "Eq. 10",
               "Eqs. 11-12", "Eq. 13", "Eq. 14", "Fig. 3", "Sec. 2.1", "Observation 1", "Claim 1"):
        assert eq in labels


def test_every_claim_links_to_a_heading_of_its_chapter() -> None:
    """A renamed heading would quietly turn a section link into a chapter link; catch it."""
    book = Path(__file__).resolve().parents[2] / "book"
    for claim in default_claims():
        headings = chapter_headings(book / f"{claim.chapter}.ipynb")
        assert claim.heading in headings, f"{claim.label}: no heading {claim.heading!r} in {claim.chapter}"


# --------------------------------------------------------------------- on NLTCS
@pytest.mark.slow
def test_the_report_on_nltcs(nltcs_train: np.ndarray) -> None:
    """The verdicts that are facts: Eq. 2 is exact, decomposing keeps the function, an SPN is
    the mixture of its induced trees, the released runs are identical, Eq. 1 counts log f(*)
    once; every row has evidence. (Claim 1's two-minute study and the experiment's variants
    run in the introduction, not here.)"""
    from spnlib.data.counted import CountedData
    from spnlib.report import reproducibility_report
    cheap = [c for c in default_claims() if c.key in ("eq1", "eq2", "eq3-4", "trees", "fig3-runs", "obs1")]
    report = reproducibility_report(CountedData.from_array(nltcs_train), claims=cheap,
                                    book_dir=Path(__file__).resolve().parents[2] / "book")
    status = {row.claim.key: row.finding.status for row in report.rows}
    assert status["eq2"] is Status.REPRODUCED
    assert status["eq3-4"] is Status.REPRODUCED and status["trees"] is Status.REPRODUCED
    assert status["fig3-runs"] is Status.PAPER_ERROR
    assert status["eq1"] is Status.PAPER_ERROR          # log f(*) once instead of N times
    assert status["obs1"] in (Status.REPRODUCED, Status.CONDITIONS)
    assert all(row.finding.evidence for row in report.rows)
    assert report._repr_markdown_().count("\n") == len(report.rows) + 1

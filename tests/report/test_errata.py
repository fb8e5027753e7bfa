"""Tests of the errata page (spnlib.report.errata).

The corrected equations the page writes out are checked against the derivation by the module
itself; here those checks are shown to catch a wrong erratum, and the items to follow the rows.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spnlib.report import errata as er
from spnlib.report.evidence import Evidence

BOOK = Path(__file__).resolve().parents[2] / "book"


def test_the_written_eq14_matches_the_unrolled_recursion() -> None:
    assert er.eq14_general_check(4)


def test_the_eq14_check_catches_a_wrong_coefficient(monkeypatch) -> None:
    from spnlib.symbolic import eq14
    real = eq14.momentum_coefficients

    def off_by_one(u, t, lhs_next=True):
        mus, carry = real(u, t, lhs_next)
        return {m: v * (1 + u.lam[0]) for m, v in mus.items()}, carry
    monkeypatch.setattr(eq14, "momentum_coefficients", off_by_one)
    assert not er.eq14_general_check(3)


def test_the_corrected_objectives_hold_and_the_printed_ones_do_not() -> None:
    ev = Evidence()                            # lazy: the symbolic checks load no data
    assert er.objective_checks(ev) == {"Eq. 1": True, "Eq. 4": True}
    rows = {(r["equation"], r["decomposition"]): r for r in ev.objective_checks}
    assert all(rows[("Eq. 4", t)]["verdict"] == "does not hold" for t in ev.TREES)
    assert all(rows[("Eq. 2 vs corrected Eq. 1", t)]["verdict"] == "holds exactly" for t in ev.TREES)


@pytest.mark.slow
def test_errata_on_nltcs(nltcs_train: np.ndarray) -> None:
    """Every item has a printed form, a correction and linked evidence; the equations are checked."""
    from spnlib.data.counted import CountedData
    e = er.errata(Evidence(CountedData.from_array(nltcs_train)), BOOK)
    items = [i for s in e.sections() for i in s.items]
    assert [i.title.split(",")[0] for i in e.equations.items] == ["Eq. 1", "Eq. 4", "Eq. 13", "Eq. 14"]
    assert all(i.printed and i.corrected and i.evidence for i in items)
    assert all("CHECK FAILED" not in i.evidence for i in items)
    assert all(i.links for i in items)
    assert any("v0.1.3" in i.corrected and "v0.1.2" in i.printed for i in e.protocol.items)
    observation, claim = e.claims.items
    assert "leaf weights" in observation.corrected and "weight of their own" in claim.corrected

"""Verdicts are computed: they follow the encodings, and a perturbed equation changes its verdict."""
from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from strategies import decompositions

from spnlib.structure.decomposition import balanced, shallow
from spnlib.symbolic import printed as pe
from spnlib.symbolic.derivation import Derivation
from spnlib.symbolic.verdicts import Verdict, check_equations, compare_exact, compare_first_order, verdict_table

FIG2 = balanced((2, 2))
UNBALANCED = ((0, 1), 2, ((3, 4), 5))


def _verdicts(structure, **kw) -> dict[str, Verdict]:
    return {c.equation: c.verdict for c in check_equations(structure, **kw)}


def test_fig2_verdicts():
    v = _verdicts(FIG2)
    assert v["Eq. 1"] == v["Eq. 1-2"] == Verdict.FAILS
    for eq in ("Eq. 2", "Eq. 5", "Eq. 6", "Eq. 7", "Eq. 8-9"):
        assert v[eq] == Verdict.EXACT, eq
    for eq in ("Eq. 10", "Eq. 11-12", "Eq. 13 (L = Eq. 3's upper index)", "Eq. 13 corrected",
               "Eq. 14 with w^(t+1) on the left"):
        assert v[eq] == Verdict.FIRST_ORDER, eq
    assert v["Eq. 13 (L = sum layers)"] == v["Eq. 14 as printed"] == Verdict.FAILS


def test_deeper_and_unbalanced_verdicts():
    deep, unb = _verdicts(balanced((2, 2, 2))), _verdicts(UNBALANCED)
    for eq in ("Eq. 5", "Eq. 6", "Eq. 8-9", "Eq. 10", "Eq. 11-12"):
        assert deep[eq] == Verdict.NOT_APPLICABLE, eq     # stated for w_k = w^[0] w^[1] only
    for v in (deep, unb):
        assert v["Eq. 7"] == Verdict.EXACT
        assert v["Eq. 13 (L = sum layers)"] == v["Eq. 13 (L = Eq. 3's upper index)"] == Verdict.FAILS
        assert v["Eq. 13 corrected"] == Verdict.FIRST_ORDER
    assert unb["Eq. 5"] == unb["Eq. 6"] == Verdict.EXACT   # on its depth-2 components
    assert _verdicts(shallow(3))["Eq. 13 corrected"] == Verdict.EXACT  # a shallow step is linear in eta


def test_residuals_name_the_error():
    checks = {c.equation: c for c in check_equations(balanced((2, 2, 2)))}
    s = Derivation(balanced((2, 2, 2))).spn
    (u0, u1, _), g1 = s.path(0), s.shallow_grads[0]
    # "L = sum layers" counts rho's term twice; "Eq. 3's index" has the wrong rho for three layers
    assert sp.expand(checks["Eq. 13 (L = sum layers)"].residual + s.eta * u0 ** 2 * g1) == 0
    assert sp.expand(checks["Eq. 13 (L = Eq. 3's upper index)"].residual
                     - s.eta * u0 ** 2 * (u1 ** 2 - 1) * g1) == 0
    eq1 = checks["Eq. 1"].residual
    assert sp.expand(eq1 - (1 - s.N) * sp.log(s.f_star)) == 0


@pytest.mark.parametrize("name, perturbed, before, after", [
    ("eq2", lambda s, k: s.comp_x[k] / s.f_x + s.comp_star[k] / s.f_star, Verdict.EXACT, Verdict.FAILS),
    ("eq5", lambda s, k: (pe.eq5(s, k)[0], 2 * pe.eq5(s, k)[1]), Verdict.EXACT, Verdict.FAILS),
    ("eq7", lambda s, l, j: pe.eq7(s, l, j) * s.layer_weights[l][j], Verdict.EXACT, Verdict.FAILS),
    ("eq9", lambda s, k: pe.eq9(s, k) + s.eta ** 2, Verdict.EXACT, Verdict.FIRST_ORDER),
    ("eq11", lambda s, k: pe.eq11(s, k) + s.eta * s.path(k)[0] * s.shallow_grads[k], Verdict.FIRST_ORDER,
     Verdict.FAILS),
])
def test_perturbing_a_printed_equation_changes_its_verdict(name, perturbed, before, after):
    label = {"eq2": "Eq. 2", "eq5": "Eq. 5", "eq7": "Eq. 7", "eq9": "Eq. 8-9", "eq11": "Eq. 11-12"}[name]
    assert _verdicts(FIG2)[label] == before
    assert _verdicts(FIG2, overrides={name: perturbed})[label] == after


def test_repairing_eq13_makes_it_hold():
    """Feeding the corrected form in as 'printed' turns the failing verdict around."""
    def repaired(s, k, reading="sum layers"):
        return pe.eq13_corrected(s, k)
    v = _verdicts(UNBALANCED, overrides={"eq13": repaired})
    assert v["Eq. 13 (L = sum layers)"] == Verdict.FIRST_ORDER


def test_compare_first_order_orders():
    der = Derivation(FIG2)
    eta, x = der.spn.eta, der.spn.layer_weights[0][0]
    assert compare_first_order(der, 1 + eta * x, 1 + eta * x)[0] == Verdict.EXACT
    verdict, r = compare_first_order(der, (1 + eta * x) ** 3, 1 + 3 * eta * x)
    assert verdict == Verdict.FIRST_ORDER and sp.simplify(r.removeO() - 3 * eta ** 2 * x ** 2) == 0
    assert r.getO() is not None                        # eta^3 remains
    verdict, r = compare_first_order(der, 1 + eta * x, 1 + 2 * eta * x)
    assert verdict == Verdict.FAILS and sp.expand(r + eta * x) == 0


def test_compare_exact_uses_the_actual_sums_before_declaring_a_failure():
    """f(x)/f(x) - 1 is 0 only once f(x) is the actual sum: no false 'does not hold'."""
    der = Derivation(FIG2)
    s = der.spn
    assert compare_exact(der, s.f_x / s.g(), 1) == 0
    assert compare_exact(der, s.f_x, 2 * s.f_x) != 0


def test_verdict_table_is_data():
    rows = verdict_table([("Fig. 2", FIG2), UNBALANCED])
    assert {r["decomposition"] for r in rows} == {"Fig. 2", str(UNBALANCED)}
    assert all(set(r) == {"equation", "claim", "decomposition", "verdict", "where", "residual", "corrected",
                          "condition"} for r in rows)
    assert all(isinstance(v, str) for r in rows for v in r.values())
    failing = [r for r in rows if r["verdict"] == Verdict.FAILS.value]
    assert failing and all(r["residual"] for r in failing)
    eq13 = next(r for r in rows if r["equation"] == "Eq. 13 (L = sum layers)" and r["decomposition"] == "Fig. 2")
    assert "\\rho" in eq13["corrected"] and "\\lambda" in eq13["corrected"]
    plain = verdict_table([FIG2], latex=False)
    assert any("w0_0" in r["residual"] for r in plain)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dec=decompositions(max_components=7))
def test_general_verdicts_on_random_trees(dec):
    v = _verdicts(dec)
    assert v["Eq. 2"] == v["Eq. 7"] == Verdict.EXACT
    assert v["Eq. 13 corrected"] in (Verdict.EXACT, Verdict.FIRST_ORDER)
    assert v["Eq. 13 (L = sum layers)"] == Verdict.FAILS          # rho's term is always counted twice
    assert v["Eq. 14 as printed"] == Verdict.FAILS

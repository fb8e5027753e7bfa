"""The printed equations' encodings: where they apply, and how they relate to each other."""
from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from strategies import decompositions

from spnlib.structure.decomposition import balanced
from spnlib.symbolic import printed as pe
from spnlib.symbolic.derivation import Derivation, SymbolicSPN


def test_fig2_forms_apply_to_depth_two_components_only():
    s = SymbolicSPN(((0, 1), 2, ((3, 4), 5)))
    assert pe.fig2_components(s) == [0, 1, 5]
    assert pe.eq6_components(s) == [0, 1]       # C_6's parent also holds a sum node
    assert pe.fig2_components(SymbolicSPN(balanced((2, 2, 2)))) == []


def test_eq5_and_eq6_as_printed_for_fig2():
    s = SymbolicSPN(balanced((2, 2)))
    w, g = s.layer_weights, s.shallow_grads
    assert pe.eq5(s, 2) == ((1, 2), w[0][1] * g[2])
    assert pe.eq6(s, 3) == ((0, 1), w[1][2] * g[2] + w[1][3] * g[3])
    assert sp.expand(pe.eq7(s, 0, 1) - pe.eq6(s, 3)[1]) == 0   # Eq. 7 contains Eq. 6


def test_eq13_readings_on_fig2():
    """Eq. 3's reading of L reduces Eq. 13 to Eq. 11 on Fig. 2; the sum-layers reading adds a term."""
    s = SymbolicSPN(balanced((2, 2)))
    for k in range(4):
        assert sp.expand(pe.eq13(s, k, "eq3")[0] - pe.eq11(s, k)) == 0
        extra = pe.eq13(s, k, "sum layers")[0] - pe.eq11(s, k)
        u1, d1 = s.path(k)[1], s.path_grads(k)[1]
        assert sp.expand(extra - s.eta * d1 / u1 * s.weight(k)) == 0
    with pytest.raises(KeyError):
        pe.eq13(s, 0, "layers")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dec=decompositions(max_components=7))
def test_corrected_eq13_is_the_derived_rho_and_lambda(dec):
    der = Derivation(dec)
    s, sub = der.spn, der.gradient_substitution()
    for k in range(s.n_components):
        _, rho, lam = pe.eq13_corrected(s, k)
        assert sp.expand(rho - der.rho[k]) == 0
        assert sp.expand(sp.cancel(lam.xreplace(sub) - der.lam[k])) == 0
        multiplicative = pe.eq13_multiplicative(s, k).xreplace(sub)
        assert sp.expand(multiplicative - s.weight(k) - s.eta * der.first_order[k]) == 0

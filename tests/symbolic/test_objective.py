"""Eq. 1: the partition-function term once vs once per sample."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from spnlib.structure.decomposition import balanced, shallow
from spnlib.symbolic import printed as pe
from spnlib.symbolic.derivation import Derivation
from spnlib.symbolic.objective import corrected_eq1, eq1_gradient_residual, eq1_residual, scaling_identity, split_sum


@pytest.fixture(scope="module")
def der():
    return Derivation(balanced((2, 2)))


def test_printed_eq1_misses_n_minus_one_partition_terms(der):
    s = der.spn
    assert sp.expand(eq1_residual(der, pe.eq1(s)) - (1 - s.N) * sp.log(s.f_star)) == 0
    star = {s.f_star: s.f_shallow(star=True)}
    assert eq1_residual(der, corrected_eq1(der).xreplace(star)) == 0


def test_eq2_is_the_per_sample_gradient_of_the_corrected_eq1_only(der):
    s = der.spn
    r = eq1_gradient_residual(der, pe.eq1(s), k=2)
    assert sp.expand(r - (s.N - 1) * s.comp_star[2] / s.f_star) == 0
    assert eq1_gradient_residual(der, corrected_eq1(der).xreplace({s.f_star: s.f_shallow(star=True)}), k=2) == 0


def test_scaling_identity(der):
    ids = scaling_identity(der, pe.eq1(der.spn))
    assert ids["one sample"] == 0 and ids["Eq. 1 corrected"] == 0
    assert sp.expand(ids["Eq. 1 as printed"] - (der.spn.N - 1)) == 0


def test_printed_objective_grows_without_bound_numerically():
    """With N = 3 concrete samples, scaling w by c adds (N - 1) log c to the printed Eq. 1."""
    der = Derivation(shallow(2))
    s = der.spn
    rng = np.random.default_rng(0)
    values = {x: sp.Float(v) for x, v in zip((*s.shallow_weights, *s.comp_star), rng.uniform(0.5, 2, 4))}
    samples = {s.comp_xn[k + 1, n]: sp.Float(rng.uniform(0.1, 1)) for k in range(2) for n in range(1, 4)}
    printed = pe.eq1(s).subs(s.N, 3).doit().xreplace(samples)
    at = lambda c: float(printed.xreplace({**values, **{w: c * values[w] for w in s.shallow_weights}}))  # noqa: E731
    assert at(10.0) - at(1.0) == pytest.approx(2 * np.log(10.0), rel=1e-12)


def test_split_sum_refuses_other_limits(der):
    s = der.spn
    with pytest.raises(ValueError, match="expected a sum"):
        split_sum(sp.Sum(s.n, (s.n, 0, s.N)), s.n, s.N)

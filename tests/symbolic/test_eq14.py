"""Eq. 14: the unrolled first-order recursion, the momentum coefficients, and when first order is accurate."""
from __future__ import annotations

import pytest
import sympy as sp

from spnlib.structure.decomposition import balanced
from spnlib.symbolic.derivation import Derivation
from spnlib.symbolic.eq14 import heavy_ball_match, momentum_coefficients, relative_step, scaling_degree, unroll


def test_unrolled_weights_are_past_gradients_times_growth_factors():
    """w^{(t)} = prod (1 + lambda) w^{(1)} + sum_tau rho^{(tau)} prod_{s>tau} (1 + lambda^{(s)}) nabla^{(tau)}."""
    u = unroll(4)
    for t in range(2, 6):
        for tau in range(1, t):
            closed = u.rho[tau - 1] * sp.Mul(*[1 + u.lam[s - 1] for s in range(tau + 1, t)])
            assert sp.expand(u.coefficient(t, tau) - closed) == 0
        init = sp.Mul(*[1 + u.lam[s - 1] for s in range(1, t)])
        assert sp.expand(sp.diff(u.at(t), u.w_init) - init) == 0


def test_momentum_coefficients_and_the_initial_value_term():
    u = unroll(4)
    t = 4
    mu, residual = momentum_coefficients(u, t)
    for tau in range(1, t):
        expected = u.lam[t - 1] * u.rho[tau - 1] * sp.Mul(*[1 + u.lam[s - 1] for s in range(tau + 1, t)])
        (value,) = [v for m, v in mu.items() if m.name == f"mu_{t}_{tau}"]
        assert sp.expand(value - expected) == 0
    assert sp.expand(residual - u.lam[t - 1] * sp.Mul(*[1 + l for l in u.lam[:t - 1]]) * u.w_init) == 0


def test_printed_eq14_cannot_hold():
    u = unroll(3)
    _, residual = momentum_coefficients(u, 3, lhs_next=False)
    assert sp.expand(residual + u.rho[2] * u.grad[2]) == 0


def test_without_lambda_there_is_no_momentum():
    mu, residual = momentum_coefficients(unroll(3, no_lambda=True), 3)
    assert residual == 0 and all(v == 0 for v in mu.values())


def test_constant_rho_lambda_are_never_heavy_ball_momentum():
    solutions = heavy_ball_match(3)
    rho, lam, beta = sp.symbols("rho lambda beta", real=True)
    assert solutions == [{sp.Symbol("alpha", real=True): rho, beta: 0, lam: 0}]


def test_relative_step_is_the_responsibility_difference():
    der = Derivation(((0, 1), 2, ((3, 4), 5)))
    for key, (a, b) in relative_step(der).items():
        assert sp.cancel(sp.together(der.spn.concrete(a - b))) == 0, key


def test_scaling_degrees():
    der = Derivation(balanced((2, 2)))
    u = der.spn.layer_weights[0][0]
    assert scaling_degree(der, der.layer_gradient[(0, 0)]) == -1
    assert scaling_degree(der, der.layer_gradient[(0, 0)] / u) == -2
    unbalanced = Derivation((0, (1, 2)))
    assert scaling_degree(unbalanced, unbalanced.layer_gradient[(0, 0)]) is None


def test_unroll_refuses_bad_input():
    with pytest.raises(ValueError, match="at least one step"):
        unroll(0)
    with pytest.raises(IndexError):
        unroll(2).at(4)
    with pytest.raises(IndexError):
        momentum_coefficients(unroll(2), 3)

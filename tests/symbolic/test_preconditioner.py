"""The end-to-end update of a two-layer decomposition as a preconditioner per sibling group (any start)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from spnlib.structure.decomposition import Decomposition, balanced, released, shallow
from spnlib.symbolic.conservation import closed_form_velocity
from spnlib.symbolic.derivation import Derivation
from spnlib.symbolic.preconditioner import arora_form, group_preconditioner, same, uniform_start
from spnlib.tolerances import EXACT_RTOL


def numeric_velocity(dec: Decomposition, layers: list[np.ndarray], grad_w: np.ndarray) -> np.ndarray:
    """J J^T g with J = dw/du built entry by entry from the paths (independent of SymPy)."""
    u = np.concatenate(layers)
    offsets = np.concatenate([[0], np.cumsum(dec.layer_sizes)])
    J = np.zeros((dec.n_components, u.size))
    for k, path in enumerate(dec.paths):
        idx = [offsets[l] + j for l, j in enumerate(path)]
        for i in idx:
            J[k, i] = np.prod([u[m] for m in idx if m != i])
    return J @ (J.T @ grad_w)


def evaluate(pre, expr: sp.Expr, w: np.ndarray, g: np.ndarray, Q: np.ndarray) -> float:
    s = pre.spn
    numbers = [*w, *g, *Q]
    sub = dict(zip([*s.shallow_weights, *s.shallow_grads, *pre.constants], [sp.Float(x, 30) for x in numbers]))
    return float(sp.N(pre.explicit(expr).xreplace(sub), 30))


def check_against_numbers(tree, seed: int) -> None:
    """Random positive layers: the derived velocity in (w, nabla_w, Q) equals J J^T nabla_w at those layers."""
    dec = Decomposition(tree)
    rng = np.random.default_rng(seed)
    layers = [rng.uniform(0.3, 2.0, n) for n in dec.layer_sizes]
    w = dec.component_weights(layers)
    g = rng.normal(size=dec.n_components)
    pre = group_preconditioner(dec)
    # Q_g from the layers: the incoming edge squared minus the out-edges squared
    Q = []
    for comps in pre.groups:
        a = layers[0][dec.paths[comps[0]][0]]
        b = np.array([layers[1][dec.paths[k][1]] for k in comps])
        Q.append(a ** 2 - np.sum(b ** 2))
    expected = numeric_velocity(dec, layers, g)
    got = np.array([evaluate(pre, v, w, g, np.array(Q)) for v in pre.velocity])
    np.testing.assert_allclose(got, expected, rtol=EXACT_RTOL)
    rates = [evaluate(pre, a, w, g, np.array(Q)) for a in pre.rates]
    np.testing.assert_allclose(rates, [layers[0][dec.paths[c[0]][0]] ** 2 for c in pre.groups], rtol=EXACT_RTOL)


@pytest.mark.parametrize("tree", [((0, 1), (2, 3)), ((0, 1, 2, 3), (4, 5, 6, 7)), ((0, 1), 2), ((0,), (1, 2, 3), 4)])
def test_velocity_in_w_and_q_is_j_jt_at_the_true_layers(tree):
    check_against_numbers(tree, seed=1)


@settings(max_examples=6, deadline=None)
@given(sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3), roots=st.integers(0, 2), seed=st.integers(0, 99))
def test_random_two_layer_trees(sizes, roots, seed):
    k, tree = 0, []
    for n in sizes:
        tree.append(tuple(range(k, k + n)))
        k += n
    tree += list(range(k, k + roots))
    check_against_numbers(tuple(tree), seed)


def test_fig2_rate_and_momentum_are_the_papers_rho_and_lambda():
    der = Derivation(balanced((2, 2)))
    pre = group_preconditioner(der)
    s, A = pre.spn, pre.rates[0]
    assert pre.rho[0] == s.eta * A
    w, g = s.shallow_weights, s.shallow_grads
    assert sp.simplify(pre.lam[0] - s.eta * (w[0] * g[0] + w[1] * g[1]) / A) == 0
    # rho nabla + lambda w is eta times the velocity (the split of Eq. 12)
    assert all(sp.simplify(r * gk + m * wk - s.eta * v) == 0
               for r, m, v, wk, gk in zip(pre.rho, pre.lam, pre.velocity, w, g))
    assert pre.recovered == {"w(u(w, Q)) = w": True, "every law gives its Q_g": True}


@pytest.mark.parametrize("tree", [balanced((2, 2)), released(2)])
def test_balanced_start_is_arora_per_group_and_the_sigma_closed_form(tree):
    der = Derivation(tree)
    pre = group_preconditioner(der)
    at_balance = [pre.balanced(v) for v in pre.velocity]
    assert all(map(same, at_balance, arora_form(der.spn)))
    assert all(map(same, at_balance, closed_form_velocity(der)))
    s = der.spn
    norm = sp.sqrt(sum(w ** 2 for w in s.shallow_weights[:len(pre.groups[0])]))
    assert same(pre.balanced(pre.rate_values[0]), norm)


def test_same_tells_different_expressions_apart():
    s = Derivation(balanced((2, 2))).spn
    w = s.shallow_weights
    assert same(sp.sqrt(w[0] ** 2) * 2, 2 * w[0]) and not same(w[0], w[1])


@pytest.mark.parametrize("tree, ratio", [(balanced((2, 2)), sp.sqrt(2)), (released(2), 2)])
def test_released_start_rate_is_the_papers_and_the_balanced_form_overestimates_it(tree, ratio):
    pre = group_preconditioner(tree)
    scale = sp.Symbol("s", positive=True)
    start = uniform_start(pre, scale)
    n = len(pre.groups[0])
    assert start[pre.constants[0]] == scale ** 2 * (1 - n)
    rate = sp.simplify(pre.explicit(pre.rho[0]).xreplace(start))
    assert sp.simplify(rate - pre.spn.eta * scale ** 2) == 0
    assert sp.simplify(pre.balanced(pre.rho[0]).xreplace(start) / rate - ratio) == 0


def test_components_under_the_root_are_plain_gradient_ascent():
    pre = group_preconditioner(((0, 1), 2))
    s = pre.spn
    assert pre.velocity[2] == s.shallow_grads[2] and pre.rho[2] == s.eta and pre.lam[2] == 0
    assert arora_form(s)[2] == s.shallow_grads[2]
    flat = group_preconditioner(shallow(3))
    assert flat.groups == () and flat.velocity == tuple(flat.spn.shallow_grads)


def test_deeper_trees_are_refused_with_the_way_out():
    with pytest.raises(ValueError, match="recover_layers"):
        group_preconditioner(balanced((2, 2, 2)))


def test_latex_names_the_constants_one_based():
    pre = group_preconditioner(balanced((2, 2)))
    assert pre.latex(pre.rho[2]) == "A_{2} \\eta"
    assert "Q_{1}" in pre.latex(pre.rate_values[0])

"""The symbolic derivation against the numeric core (an independent computation)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import RTOL_EXACT, RTOL_FD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import decompositions

from spnlib.data.counted import CountedData
from spnlib.numeric import evaluate
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.structure import builders
from spnlib.structure.decomposition import Decomposition, InvalidDecompositionError, balanced, shallow
from spnlib.structure.graph import SPN
from spnlib.symbolic.derivation import MAX_COMPONENTS, Derivation, SymbolicSPN, as_decomposition, derive

TREES = [shallow(3), balanced((2, 2)), balanced((2, 2, 2)), balanced((3, 2)), balanced((2, 1, 2)),
         Decomposition(((0, 1), 2, ((3, 4), 5))), Decomposition((0, (1, (2, (3, 4)))))]


def _random_problem(dec: Decomposition, rng: np.random.Generator, D: int = 4, N: int = 30, scale: float = 1.0):
    K = dec.n_components
    leaf = rng.uniform(0.2, 1.0, (K, D, 2))
    X = rng.integers(0, 2, (N, D))
    layers = tuple(scale * rng.uniform(0.3, 1.5, n) for n in dec.layer_sizes)
    return leaf, X, layers


def _component_values(leaf: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """C_k(x_n) = prod_d theta_{k,d,x_nd} and C_k(*) = prod_d (theta_{k,d,0} + theta_{k,d,1})."""
    D = X.shape[1]
    cx = np.prod(leaf[:, np.arange(D), X], axis=2).T           # (N, K)
    return cx, np.prod(leaf.sum(axis=2), axis=1)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


# ------------------------------------------------------------ structure
def test_symbols_and_weights_follow_the_decomposition():
    s = SymbolicSPN(balanced((2, 2)))
    assert len(s.layer_weights) == 2 and [len(r) for r in s.layer_weights] == [2, 4]
    w = s.layer_weights
    assert s.weight(2) == w[0][1] * w[1][2]          # phi(2, 0) = 1, phi(2, 1) = 2 (0-based)
    assert s.latex(s.weight(0)) == "w^{[0]}_{1} w^{[1]}_{1}"   # 1-based in LaTeX, as in the paper
    assert sp.expand(s.g() - s.decomposed(s.f_shallow())) == 0  # g(x) = f(x) with w_k decomposed (Eq. 4)


def test_unbalanced_paths_have_their_own_depths():
    s = SymbolicSPN(((0, 1), 2, ((3, 4), 5)))
    assert [s.depth(k) for k in range(6)] == [2, 2, 1, 3, 3, 2]
    assert s.weight(2) == s.layer_weights[0][1]      # a component directly under the root


@pytest.mark.parametrize("bad, message", [
    ((), "no children"),
    (((0, 1), ()), "no children"),
    (((0, 1), (1, 2)), "reached twice"),
    (3, "L >= 1"),
    ("((0, 1), 2)", "nested tuple"),
    (((0, 2), 3), "missing"),
    (((0, -1),), "negative"),
])
def test_bad_structures_are_refused_with_a_clear_message(bad, message):
    with pytest.raises(InvalidDecompositionError, match=message):
        Derivation(bad)


def test_a_structure_that_contains_itself_is_not_a_tree():
    node: list = [0, 1]
    node.append(node)
    with pytest.raises(InvalidDecompositionError, match="not a tree"):
        as_decomposition([node])


def test_a_shared_sub_tree_reaches_its_components_twice():
    shared = (1, 2)
    with pytest.raises(InvalidDecompositionError, match="reached twice"):
        as_decomposition(((0, shared), shared))


def test_too_many_components_are_refused():
    with pytest.raises(ValueError, match="at most"):
        SymbolicSPN(shallow(MAX_COMPONENTS + 1))


# ------------------------------------------------------------ derivation
@pytest.mark.parametrize("dec", TREES, ids=str)
def test_chain_rule_form_equals_the_concrete_gradient(dec):
    """d/dw^{[l]} log-likelihood = sum_k nabla_{w_k} dw_k/dw^{[l]} with nabla_{w_k} from Eq. 2."""
    der = Derivation(dec)
    s = der.spn
    eq2 = {g: s.decomposed(e) for g, e in zip(s.shallow_grads, der.shallow_gradient)}
    for key, concrete in der.layer_gradient.items():
        diff = s.concrete(concrete - der.chain_gradient[key].xreplace(eq2))
        assert sp.cancel(sp.together(diff)) == 0, key


def test_update_is_a_polynomial_of_degree_depth_in_eta():
    der = Derivation(((0, 1), 2, ((3, 4), 5)))
    for k in range(6):
        poly = sp.Poly(sp.expand(der.update[k]), der.spn.eta)
        assert poly.degree() == der.spn.depth(k)
        assert sp.expand(poly.coeff_monomial(der.spn.eta) - der.first_order[k]) == 0


def test_rho_and_lambda_split_the_first_order_term():
    der = derive(balanced((2, 2, 2)))
    s = der.spn
    for k in range(s.n_components):
        recombined = der.rho[k] * s.shallow_grads[k] + der.lam[k] * s.weight(k)
        assert sp.expand(recombined - s.eta * der.first_order[k]) == 0
        assert not der.rho[k].free_symbols & set(s.shallow_grads)


# ------------------------------------------------------- against the core
@pytest.mark.parametrize("dec", TREES, ids=str)
def test_lambdified_gradient_equals_the_fast_path(dec):
    rng = np.random.default_rng(7)
    leaf, X, layers = _random_problem(dec, rng)
    _, grad = FactorisedMixture(dec, X.shape[1]).llh_and_grad(MixtureParams(leaf, layers), CountedData.from_array(X))
    symbolic = Derivation(dec).gradient_function()(layers, *_component_values(leaf, X))
    for l, (a, b) in enumerate(zip(symbolic, grad.layers)):
        assert _rel(a, b) < RTOL_EXACT, l


@pytest.mark.parametrize("dec", [balanced((2, 2)), Decomposition(((0, 1), 2, ((3, 4), 5)))], ids=str)
def test_lambdified_gradient_equals_the_general_evaluator_with_bernoulli_components(dec):
    """A second independent reference: the graph evaluator on decomposed_spn, Bernoulli leaves."""
    rng = np.random.default_rng(3)
    D, K = 3, dec.n_components
    comps = [builders.factorised_component(D, f"C{k + 1}", bernoulli=rng.uniform(0.1, 0.9, D)) for k in range(K)]
    layers = [rng.uniform(0.2, 1.5, n) for n in dec.layer_sizes]
    net = builders.decomposed_spn(dec, comps, layers)
    X = rng.integers(0, 2, (25, D))
    _, grad = evaluate.log_likelihood_and_gradient(net.spn, X)
    cx = np.exp(np.stack([evaluate.log_value(SPN(c), X) for c in comps], axis=1))
    cs = np.exp([evaluate.log_partition(SPN(c)) for c in comps])
    symbolic = Derivation(dec).gradient_function()(layers, cx, cs)
    for l, idx in enumerate(net.layer_index):
        assert _rel(symbolic[l], grad[idx]) < RTOL_EXACT, l


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dec=decompositions(max_components=6), seed=st.integers(0, 2**16))
def test_lambdified_gradient_on_random_decompositions(dec, seed):
    rng = np.random.default_rng(seed)
    leaf, X, layers = _random_problem(dec, rng, D=3, N=12)
    _, grad = FactorisedMixture(dec, 3).llh_and_grad(MixtureParams(leaf, layers), CountedData.from_array(X))
    symbolic = Derivation(dec).gradient_function()(layers, *_component_values(leaf, X))
    for a, b in zip(symbolic, grad.layers):
        assert np.max(np.abs(a - b)) <= RTOL_EXACT * max(np.max(np.abs(b)), 1e-300) + 1e-14


def _core_step(dec: Decomposition, leaf, X, layers, eta: float) -> np.ndarray:
    """w_k after one numeric gradient-ascent step on the layer weights (no clipping), recombined."""
    data = CountedData.from_array(X)
    _, grad = FactorisedMixture(dec, X.shape[1]).llh_and_grad(MixtureParams(leaf, layers), data)
    stepped = np.append(np.concatenate([u + eta * g for u, g in zip(layers, grad.layers)]), 1.0)
    return np.prod(stepped[dec.flat_index], axis=1)


def _shallow_gradient(dec: Decomposition, leaf, X, layers) -> np.ndarray:
    w = dec.component_weights(layers)
    model = FactorisedMixture(shallow(dec.n_components), X.shape[1])
    _, grad = model.llh_and_grad(MixtureParams(leaf, (w,)), CountedData.from_array(X))
    return grad.layers[0]


@pytest.mark.parametrize("dec", TREES, ids=str)
def test_first_order_coefficient_is_the_finite_difference_limit_of_a_core_step(dec):
    rng = np.random.default_rng(11)
    leaf, X, layers = _random_problem(dec, rng)
    w = dec.component_weights(layers)
    c1 = Derivation(dec).first_order_function()(layers, _shallow_gradient(dec, leaf, X, layers))
    # (w(eta) - w(0)) / eta -> c1: the forward difference converges at rate eta ...
    errors = [_rel((_core_step(dec, leaf, X, layers, eta) - w) / eta, c1) for eta in (1e-3, 1e-4, 1e-5)]
    assert errors[-1] < 1e-4
    if dec.n_layers > 1:      # (a shallow step is exactly linear in eta: nothing left to converge)
        assert errors[0] > errors[1] > errors[2]
    # ... and the central difference (w(h) - w(-h)) / 2h at rate h^2
    h = 1e-5
    central = (_core_step(dec, leaf, X, layers, h) - _core_step(dec, leaf, X, layers, -h)) / (2 * h)
    assert _rel(central, c1) < RTOL_FD


def test_second_order_coefficient_matches_the_core():
    dec = Decomposition(((0, 1), 2, ((3, 4), 5)))
    der = Derivation(dec)
    s = der.spn
    rng = np.random.default_rng(5)
    leaf, X, layers = _random_problem(dec, rng)
    args = [*(u for _, _, u in s.all_layer_weights()), *s.shallow_grads]
    values = [*np.concatenate(layers), *_shallow_gradient(dec, leaf, X, layers)]
    c2 = np.array([float(sp.lambdify(args, der.series(k, 2)[2])(*values)) for k in range(6)])
    h = 1e-3
    w = dec.component_weights(layers)
    second = (_core_step(dec, leaf, X, layers, h) - 2 * w + _core_step(dec, leaf, X, layers, -h)) / (2 * h * h)
    assert _rel(second, c2) < RTOL_FD


def test_numeric_functions_check_their_inputs():
    der = Derivation(balanced((2, 2)))
    grad, c1 = der.gradient_function(), der.first_order_function()
    layers = [np.ones(2), np.ones(4)]
    with pytest.raises(ValueError, match="shape"):
        grad(layers, np.ones((3, 5)), np.ones(4))
    with pytest.raises(ValueError, match="layer 1 needs 4"):
        grad([np.ones(2), np.ones(3)], np.ones((3, 4)), np.ones(4))
    with pytest.raises(ValueError, match="4 shallow gradients"):
        c1(layers, np.ones(3))

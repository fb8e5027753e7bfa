"""Log-space evaluation, partition function, log-likelihood and gradients (spnlib.numeric.evaluate)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import RTOL_EXACT, RTOL_FD
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import random_data, random_weights, spns

from spnlib.data.counted import CountedData
from spnlib.numeric.evaluate import (
    compile_spn,
    log_likelihood,
    log_likelihood_and_gradient,
    log_partition,
    log_value,
    logsumexp,
)
from spnlib.structure.builders import decomposed_spn, factorised_component, random_spn
from spnlib.structure.decomposition import balanced
from spnlib.structure.graph import SPN, Indicator, Sum


def all_states(d: int) -> np.ndarray:
    return np.array(list(itertools.product([0, 1], repeat=d)), dtype=np.int8)


def central_differences(spn: SPN, X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """d mean-LLH / dw by central differences with a step relative to each weight."""
    compiled = compile_spn(spn)
    out = np.empty_like(w)
    for i in range(len(w)):
        h = 1e-5 * w[i]
        up, down = w.copy(), w.copy()
        up[i] += h
        down[i] -= h
        out[i] = (log_likelihood(compiled, X, up).mean - log_likelihood(compiled, X, down).mean) / (2 * h)
    return out


@given(spns(), st.integers(0, 2**31 - 1), st.sampled_from([0.0, 0.3]))
@settings(max_examples=40, deadline=None)
def test_gradient_equals_finite_differences(spn, seed, missing):
    rng = np.random.default_rng(seed)
    w = random_weights(spn, rng)
    X = random_data(rng, 30, spn.n_variables, missing)
    _, grad = log_likelihood_and_gradient(spn, X, w)
    fd = central_differences(spn, X, w)
    scale = np.max(np.abs(grad))
    assert np.max(np.abs(fd - grad)) <= RTOL_FD * max(scale, 1e-12)


@given(spns(max_variables=6), st.integers(0, 2**31 - 1))
@settings(max_examples=40, deadline=None)
def test_partition_function_is_the_sum_over_all_states(spn, seed):
    w = random_weights(spn, np.random.default_rng(seed))
    states = all_states(spn.n_variables)
    total = logsumexp(log_value(spn, states, w), axis=0)
    assert total == pytest.approx(log_partition(spn, w), rel=RTOL_EXACT, abs=RTOL_EXACT)


@given(spns(max_variables=5), st.integers(0, 2**31 - 1))
@settings(max_examples=40, deadline=None)
def test_every_marginal_equals_the_brute_force_sum(spn, seed):
    rng = np.random.default_rng(seed)
    w = random_weights(spn, rng)
    D = spn.n_variables
    states = all_states(D)
    spn = compile_spn(spn)
    joint = log_value(spn, states, w)
    for hidden in itertools.chain.from_iterable(itertools.combinations(range(D), r) for r in range(D + 1)):
        evidence = rng.integers(0, 2, D)
        query = evidence.astype(float)
        query[list(hidden)] = np.nan
        visible = [d for d in range(D) if d not in hidden]
        match = np.all(states[:, visible] == evidence[visible], axis=1)
        brute = logsumexp(joint[match], axis=0)
        assert log_value(spn, query[None, :], w)[0] == pytest.approx(brute, rel=RTOL_EXACT, abs=RTOL_EXACT)


def test_missing_as_nan_or_minus_one():
    spn = random_spn(4, seed=3, depth=2)
    X = np.array([[0, -1, 1, -1], [1, 1, -1, 0]])
    np.testing.assert_array_equal(log_value(spn, X), log_value(spn, np.where(X < 0, np.nan, X).astype(float)))


def test_tiny_weights_do_not_underflow():
    """A chain of 40 sum nodes with weight 1e-300 each: f = 1e-12000, far below float64."""
    node = Sum([Indicator(0, 0), Indicator(0, 1)], [0.25, 0.75], name="leafsum")
    for i in range(40):
        node = Sum([node], [1e-300], name=f"S{i}")
    spn = SPN(node)
    X = np.array([[0], [1], [-1]])
    expected = 40 * np.log(1e-300) + np.log([0.25, 0.75, 1.0])
    np.testing.assert_allclose(log_value(spn, X), expected, rtol=1e-14)
    llh, grad = log_likelihood_and_gradient(spn, X[:2])
    assert np.all(np.isfinite(grad)) and np.isfinite(llh.mean)
    # the LLH is invariant to the scale of the chain weights, so their gradients are exactly 0
    chain = np.concatenate([spn.weights_of(grad, f"S{i}") for i in range(40)])
    assert np.max(np.abs(chain * 1e-300)) < 1e-10   # relative to each term's size 1/w = 1e300


def test_scaling_a_root_weight_vector_is_exact_in_log_space():
    comps = [factorised_component(3, f"C{k}") for k in range(4)]
    dspn = decomposed_spn(balanced((4,)), comps, [np.full(4, 1e-300)])
    ref = decomposed_spn(balanced((4,)), [factorised_component(3, f"C{k}") for k in range(4)], [np.ones(4)])
    X = random_data(np.random.default_rng(1), 10, 3, 0.2)
    np.testing.assert_allclose(log_value(dspn.spn, X), log_value(ref.spn, X) + np.log(1e-300), rtol=1e-13)


@given(spns(), st.integers(0, 2**31 - 1))
@settings(max_examples=25, deadline=None)
def test_counted_data_equals_full_data(spn, seed):
    rng = np.random.default_rng(seed)
    w = random_weights(spn, rng)
    X = random_data(rng, 60, spn.n_variables, 0.1)
    l1, g1 = log_likelihood_and_gradient(spn, X, w)
    l2, g2 = log_likelihood_and_gradient(compile_spn(spn), CountedData.from_array(X), w)
    assert l1.mean == pytest.approx(l2.mean, rel=RTOL_EXACT)
    np.testing.assert_allclose(g1, g2, rtol=RTOL_EXACT, atol=1e-13)
    assert l1.total == pytest.approx(60 * l1.mean, rel=1e-12)


def test_gradient_with_a_zero_weight_is_still_exact():
    """A zero weight: the gradient of the dead edge is finite and matches finite differences."""
    x0, x1 = Indicator(0, 0), Indicator(0, 1)
    spn = SPN(Sum([Sum([x0, x1], [1.0, 0.0], name="A"), Sum([x0, x1], [0.5, 0.5], name="B")], [1.0, 1.0]))
    X = np.array([[0], [1], [1]])
    _, grad = log_likelihood_and_gradient(spn, X)
    w = spn.weights()
    h = 1e-6
    for i in range(len(w)):
        up = w.copy()
        up[i] += h
        down = w.copy()
        down[i] = max(w[i] - h, 0.0)
        fd = (log_likelihood(spn, X, up).mean - log_likelihood(spn, X, down).mean) / (up[i] - down[i])
        assert fd == pytest.approx(grad[i], rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("X, message", [
    (np.array([[0, 2]]), "not 0, 1 or missing"),
    (np.array([[0.5, 1.0]]), "not 0, 1 or missing"),
    (np.array([["a", "b"]]), "dtype"),
    (np.zeros((1, 1)), "columns"),
    (np.zeros((1, 3)), "columns"),
    (np.zeros((2, 2, 2)), "2-D"),
])
def test_bad_data(X, message):
    spn = random_spn(2, seed=0)
    with pytest.raises(ValueError, match=message):
        log_value(spn, X)


def test_zero_probability_sample_has_no_gradient():
    spn = SPN(Sum([Indicator(0, 0)], [1.0]))
    assert log_value(spn, np.array([[1]]))[0] == -np.inf
    with pytest.raises(ValueError, match="sample 0 has probability 0"):
        log_likelihood_and_gradient(spn, np.array([[1]]))


def test_bad_counts_and_weights():
    spn = random_spn(2, seed=0)
    X = np.array([[0, 1], [1, 1]])
    with pytest.raises(ValueError, match="counts"):
        log_likelihood(spn, X, counts=[1.0, -1.0])
    with pytest.raises(ValueError, match="own counts"):
        log_likelihood(spn, CountedData.from_array(X), counts=[1.0, 1.0])
    with pytest.raises(ValueError, match="finite and >= 0"):
        log_likelihood(spn, X, weights=np.full(spn.n_weights, np.nan))


def test_a_decomposed_spn_is_accepted_everywhere_and_other_types_are_named():
    from spnlib.numeric.induced_trees import count_induced_trees
    from spnlib.structure.builders import released_spn
    net = released_spn(2, n_variables=3, n_components=4)
    X = random_data(np.random.default_rng(0), 10, 3, 0.2)
    np.testing.assert_array_equal(log_value(net, X), log_value(net.spn, X))
    assert log_partition(net) == log_partition(net.spn)
    assert log_likelihood(net, X) == log_likelihood(net.spn, X)
    l1, g1 = log_likelihood_and_gradient(net, X)
    l2, g2 = log_likelihood_and_gradient(compile_spn(net), X)
    assert l1 == l2 and np.array_equal(g1, g2)
    assert count_induced_trees(net) == 4 * 2 ** 3     # a component, and one indicator per variable
    with pytest.raises(TypeError, match="expected an SPN .* got ndarray"):
        log_value(np.ones(3), X)
    with pytest.raises(TypeError, match="got list"):
        compile_spn([net])


@pytest.mark.parametrize("columns", [2, 3, 5])
def test_data_need_exactly_one_column_per_variable(columns):
    spn = random_spn(3, seed=0)
    X = np.zeros((2, columns), dtype=int)
    if columns == 3:
        assert np.all(np.isfinite(log_value(spn, X)))
        return
    hint = r", e\.g\. X\[:, :3\]" if columns > 3 else r"$"
    for fn in (lambda: log_value(spn, X), lambda: log_likelihood(spn, X),
               lambda: log_likelihood_and_gradient(spn, CountedData.from_array(X))):
        with pytest.raises(ValueError, match=rf"data have {columns} columns but the SPN has 3 variables .*{hint}"):
            fn()

"""Tests for spnlib.studies.claim1: trees as an overparameterized mixture, step equality, speed runs."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import random_data, spns

from spnlib.data.counted import CountedData
from spnlib.numeric.evaluate import log_likelihood_and_gradient, log_value
from spnlib.numeric.induced_trees import TooManyTreesError
from spnlib.stats.speedup import first_reaching
from spnlib.structure.builders import (
    decomposed_spn,
    factorised_component,
    indicator_pairs,
    random_spn,
)
from spnlib.structure.decomposition import balanced
from spnlib.studies.claim1 import (
    Arm,
    TreeMixture,
    em_reference,
    overparameterize,
    projected_ascent,
    sharing_summary,
    step_equality,
    train_arms,
    tree_step,
)

D = 5


@pytest.fixture(scope="module")
def data():
    return CountedData.from_array(random_data(np.random.default_rng(2), 300, D))


def spn_for(seed, shared=True, leaf="bernoulli"):
    return random_spn(D, seed, depth=2, n_sums=2, shared=shared, leaf=leaf)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), shared=st.booleans(), leaf=st.sampled_from(["bernoulli", "indicator"]))
def test_mixture_of_trees_is_the_spn(seed, shared, leaf):
    rows = CountedData.from_array(random_data(np.random.default_rng(seed), 40, D))
    spn = spn_for(seed, shared, leaf)
    m = TreeMixture(spn, rows)
    theta = spn.weights()
    np.testing.assert_allclose(m.log_values(m.tree_weights(theta)), log_value(spn, rows.rows, theta), rtol=1e-10)
    llh, grad = m.deep_llh_and_grad(theta)
    ref, ref_grad = log_likelihood_and_gradient(spn, rows, theta)
    assert llh == pytest.approx(ref.mean, rel=1e-10)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-8, atol=1e-12 * np.abs(ref_grad).max())


def test_free_gradient_equals_finite_differences(data):
    m = TreeMixture(spn_for(1), data)
    W = m.tree_weights(m.spn.weights())
    _, g = m.free_llh_and_grad(W)
    rng = np.random.default_rng(0)
    for i in rng.choice(m.n_trees, 5, replace=False):
        h = 1e-6 * W[i]
        e = np.zeros_like(W)
        e[i] = h
        fd = (m.free_llh_and_grad(W + e)[0] - m.free_llh_and_grad(W - e)[0]) / (2 * h)
        assert g[i] == pytest.approx(fd, rel=1e-5)


def test_log_space_path_matches_and_zero_probability_is_refused(data):
    m = TreeMixture(spn_for(2), data)
    W = m.tree_weights(m.spn.weights())
    llh, g = m.free_llh_and_grad(W)
    ref, gref = m.free_llh_and_grad(W, log_space=True)
    assert llh == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(g, gref, rtol=1e-9)
    ind = TreeMixture(spn_for(2, leaf="indicator"), data)      # each tree is one state: one-hot W misses rows
    one_hot = np.zeros(ind.n_trees)
    one_hot[0] = 1.0
    with pytest.raises(ValueError, match="probability 0"):
        ind.free_llh_and_grad(one_hot)


def test_step_equality_core_vs_trees(data):
    for shared in (True, False):
        residual = step_equality(TreeMixture(spn_for(3, shared), data), eta=0.05, n_steps=8)
        assert residual.shape == (9,) and residual[0] == 0 and residual.max() < 1e-10


def test_sharing_summary_for_fig2_and_random_spns():
    # Fig. 2 with indicator components has trees that pick one leaf per variable: check the counts only
    comps = [factorised_component(2, f"C{k}", indicators=indicator_pairs(2)) for k in range(4)]
    net = decomposed_spn(balanced((2, 2)), comps)
    X = CountedData.from_array(np.array([[0, 1], [1, 1]]))
    s = sharing_summary(TreeMixture(net.spn, X))
    assert s["n_trees"] == 4 * 4 and s["n_weights"] == 6 + 4 * 2 * 2
    assert s["private_fraction"] == 0.0           # every edge is shared by at least two trees
    s2 = sharing_summary(TreeMixture(spn_for(4), CountedData.from_array(np.zeros((1, D), int))))
    assert s2["rank"] <= s2["n_weights"] < s2["n_trees"] and s2["trees_per_weight_min"] >= 1


def test_tree_step_first_order_and_split(data):
    m = TreeMixture(spn_for(5), data)
    theta = m.spn.weights()
    errs = []
    for eta in (1e-4, 1e-5):
        s = tree_step(m, theta, eta)
        np.testing.assert_allclose(s["own"] + s["cross"], s["first_order"], rtol=1e-12, atol=1e-300)
        errs.append(np.linalg.norm(s["exact"] - s["first_order"]))
    assert errs[0] / errs[1] == pytest.approx(100, rel=1e-2)      # O(eta^2)


def test_projected_ascent_and_iterations():
    f = lambda x: (-float(np.sum((x - 2.0) ** 2)), -2 * (x - 2.0))
    llh, clipped = projected_ascent(f, np.array([1.0, 0.5]), 0.25, 10, floor=0.1)
    assert llh[-1] > llh[0] and clipped == 0 and llh[-1] == pytest.approx(0, abs=1e-3)
    g = lambda x: (0.0, -np.ones_like(x))
    _, clipped = projected_ascent(g, np.array([1.0]), 1.0, 3, floor=0.5)
    assert clipped == 3
    np.testing.assert_array_equal(first_reaching(np.array([[1, 2, 3], [0, 0, 0]]), 2), [1, np.inf])
    with pytest.raises(ValueError, match="floor"):
        projected_ascent(f, np.ones(2), 0.1, 2, floor=0.0)
    with pytest.raises(ValueError, match="eta"):
        projected_ascent(f, np.ones(2), -0.1, 2, floor=0.1)


@settings(max_examples=25, deadline=None)
@given(spn=spns(max_variables=5, leaf="bernoulli"), seed=st.integers(0, 1000))
def test_overparameterized_spn_has_the_same_functions_and_the_chain_rule_gradient(spn, seed):
    rng = np.random.default_rng(seed)
    rows = CountedData.from_array(random_data(rng, 30, spn.n_variables))
    over = overparameterize(spn)
    theta = spn.weights() * rng.uniform(0.5, 2.0, spn.n_weights)
    for balance in (1.0, 0.01):
        phi = over.start(theta, balance)
        np.testing.assert_allclose(over.theta(phi), theta, rtol=1e-13)
        np.testing.assert_allclose(log_value(over.spn, rows.rows, phi), log_value(spn, rows.rows, theta), atol=1e-12)
    phi = over.start(theta) * rng.uniform(0.5, 2.0, over.spn.n_weights)        # any deeper weights
    ref, ref_grad = log_likelihood_and_gradient(over.spn, rows, phi)            # the core on the deeper graph
    llh, g = log_likelihood_and_gradient(spn, rows, over.theta(phi))
    assert llh.mean == pytest.approx(ref.mean, abs=1e-12)
    np.testing.assert_allclose(over.gradient(phi, g), ref_grad, rtol=1e-9, atol=1e-12 * (1 + np.abs(ref_grad).max()))


def test_overparameterize_decomposes_wide_sum_nodes_only():
    spn = random_spn(6, 0, depth=2, n_sums=2, shared=True, leaf="bernoulli")
    over = overparameterize(spn)
    wide = sum(len(s.children) for s in spn.sum_nodes if len(s.children) >= 4)
    assert (over.second >= 0).sum() == wide > 0
    assert over.spn.n_weights == spn.n_weights + 2 * sum(len(s.children) >= 4 for s in spn.sum_nodes)
    phi = over.start(spn.weights(), balance=1.0)
    dec = over.second >= 0
    for a in np.unique(over.first[dec]):                        # balanced: a_g^2 = sum_j b_j^2
        assert phi[a] ** 2 == pytest.approx(np.sum(phi[over.second[dec & (over.first == a)]] ** 2))
    with pytest.raises(ValueError, match="n_groups"):
        overparameterize(spn, min_children=3)
    with pytest.raises(ValueError, match="balance"):
        over.start(spn.weights(), balance=0.0)


def test_batched_gradient_equals_the_single_one_also_where_rows_underflow(data):
    m = TreeMixture(spn_for(11, shared=False), data)
    rng = np.random.default_rng(3)
    thetas = m.spn.weights() * np.exp(rng.normal(0, 12, (4, m.spn.n_weights)))    # extreme: log-space rows
    llh, grad, counts = m.llh_and_grad_batch(thetas)
    for k, th in enumerate(thetas):
        ref, g = m.deep_llh_and_grad(th)
        assert llh[k] == pytest.approx(ref, rel=1e-12)
        np.testing.assert_allclose(grad[k], g, rtol=1e-8, atol=1e-10 * np.abs(g).max())
    with pytest.raises(ValueError, match="> 0"):
        m.llh_and_grad_batch(np.zeros((1, m.spn.n_weights)))


def test_em_reference_is_a_local_maximum(data):
    m = TreeMixture(spn_for(12), data)
    theta = m.spn.weights()
    level, steps = em_reference(m, theta, tol=1e-12, max_steps=5000)
    assert 0 < steps < 5000 and level > m.deep_llh_and_grad(theta)[0]
    adam = Arm("Adam", rule="adam")
    curves, _, _ = train_arms(m, overparameterize(m.spn), [(adam, 0.03)], 3000)
    assert curves[0].max() <= level + 1e-6 and curves[0, -1] == pytest.approx(level, abs=1e-3)


def test_train_arms_equals_independent_loops(data):
    spn = spn_for(13)
    m, over = TreeMixture(spn, data), overparameterize(spn)
    configs = [(Arm("gd"), 0.3), (Arm("deep", "overparameterized"), 0.3), (Arm("adam", rule="adam"), 0.01),
               (Arm("momentum", rule="momentum"), 0.05)]
    curves, clipped, early = train_arms(m, over, configs, 12, floor=1e-8)
    assert curves.shape == (4, 13) and clipped.shape == early.shape == (4,)
    plain, _ = projected_ascent(m.deep_llh_and_grad, spn.weights(), 0.3, 12, 1e-8)
    np.testing.assert_allclose(curves[0], plain, rtol=1e-12)

    def core(phi):                                # the deeper SPN through the core's backward pass
        llh, g = log_likelihood_and_gradient(over.spn, data, phi)
        return llh.mean, g
    deep, _ = projected_ascent(core, over.start(spn.weights()), 0.3, 12, 1e-8)
    np.testing.assert_allclose(curves[1], deep, rtol=1e-10)
    x, mom, v, ref = spn.weights(), 0.0, 0.0, []                # Adam written out
    for t in range(1, 13):
        llh, g = m.deep_llh_and_grad(x)
        ref.append(llh)
        mom, v = 0.9 * mom + 0.1 * g, 0.999 * v + 0.001 * g * g
        x = np.maximum(x + 0.01 * (mom / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8), 1e-8)
    np.testing.assert_allclose(curves[2, :12], ref, rtol=1e-12)
    with pytest.raises(ValueError, match="rule"):
        Arm("x", rule="sgd")
    with pytest.raises(ValueError, match="model"):
        Arm("x", model="free")


def test_bad_input_is_refused(data):
    spn = spn_for(9)
    with pytest.raises(TypeError, match="CountedData"):
        TreeMixture(spn, np.zeros((2, D)))
    with pytest.raises(ValueError, match="variables"):
        TreeMixture(spn, CountedData.from_array(np.zeros((2, D - 1), int)))
    with pytest.raises(TooManyTreesError):
        TreeMixture(spn, data, max_trees=3)
    m = TreeMixture(spn, data)
    with pytest.raises(ValueError, match="tree weights"):
        m.free_llh_and_grad(np.ones(m.n_trees + 1))
    with pytest.raises(ValueError, match="tree weights"):
        m.free_llh_and_grad(np.zeros(m.n_trees))
    theta = spn.weights()
    theta[0] = 0.0
    with pytest.raises(ValueError, match="> 0"):
        m.deep_llh_and_grad(theta)
    with pytest.raises(ValueError, match="eta"):
        step_equality(m, 0.0, 3)
    with pytest.raises(ValueError, match="eta"):
        tree_step(m, spn.weights(), np.nan)

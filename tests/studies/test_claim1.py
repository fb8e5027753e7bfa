"""Tests for spnlib.studies.claim1: trees as an overparameterized mixture, step equality, speed runs."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import random_data

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
    TreeMixture,
    projected_ascent,
    sharing_summary,
    speed_comparison,
    step_equality,
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


def test_speed_comparison_routes_agree_and_summaries(data):
    spns = [spn_for(s) for s in (6, 7, 8)]
    a = speed_comparison(spns, data, [0.1, 1.0], [0.01, 0.1], 15, route="core")
    b = speed_comparison(spns, data, [0.1, 1.0], [0.01, 0.1], 15, route="trees")
    np.testing.assert_allclose(a.deep, b.deep, rtol=1e-9)
    np.testing.assert_allclose(a.free, b.free, rtol=1e-12)
    assert a.deep.shape == (3, 2, 16) and a.clipped_free.shape == (3, 2)
    d, f = a.iterations(0.9)
    assert d.shape == (3,) and np.all(a.deep[np.arange(3), a.chosen_etas(0.9)[0], d.astype(int)] >= a.targets(0.9))
    iv, unfinished = a.deep_speedup(0.9)
    ok = np.isfinite(d) & np.isfinite(f)
    assert unfinished == int((~ok).sum())
    if iv is not None:
        assert iv.estimate == pytest.approx(np.exp(np.mean(np.log(f[ok] / d[ok]))))
    cd, cf = a.best_curves(0.9)
    assert cd.shape == cf.shape == (3, 16)
    with pytest.raises(ValueError, match="fraction"):
        a.targets(0.0)
    with pytest.raises(ValueError, match="route"):
        speed_comparison(spns, data, [0.1], [0.1], 2, route="fast")


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

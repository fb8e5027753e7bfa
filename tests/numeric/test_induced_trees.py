"""Induced trees (spnlib.numeric.induced_trees): Definition 1 and f(x) = sum over trees."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import random_data, random_weights, spns

from spnlib.numeric.evaluate import log_value
from spnlib.numeric.induced_trees import TooManyTreesError, count_induced_trees, induced_trees, trees_log_value
from spnlib.structure.builders import decomposed_spn, factorised_component, random_spn
from spnlib.structure.decomposition import balanced
from spnlib.structure.graph import Sum


@given(spns(max_variables=4), st.integers(0, 2**31 - 1))
@settings(max_examples=40, deadline=None)
def test_sum_over_trees_equals_the_network(spn, seed):
    if count_induced_trees(spn) > 5000:
        return
    rng = np.random.default_rng(seed)
    w = random_weights(spn, rng)
    trees = induced_trees(spn)
    assert len(trees) == count_induced_trees(spn)
    X = random_data(rng, 15, spn.n_variables, 0.2)
    np.testing.assert_allclose(trees_log_value(trees, X, w), log_value(spn, X, w), rtol=1e-12, atol=1e-12)
    for t in trees:
        # Definition 1: one leaf per variable of the root's scope, each sum contributes one edge
        assert sorted(leaf.variable for leaf in t.leaves) == sorted(spn.scope(spn.root))
        assert len(set(t.weight_indices)) == len(t.weight_indices)


def test_fig2_trees_are_the_components_with_product_weights():
    comps = [factorised_component(1, f"C{k}", np.array([[1.0, 1.0]])) for k in range(4)]
    dspn = decomposed_spn(balanced((2, 2)), comps, [np.array([2.0, 3.0]), np.array([5.0, 7.0, 11.0, 13.0])])
    trees = induced_trees(dspn.spn)
    assert len(trees) == 8  # 4 components x 2 indicator choices of the leaf sum
    w = dspn.spn.weights()
    component_mass = {}
    for t in trees:
        top = [i for i in t.weight_indices if any(i in idx for idx in dspn.layer_index)]
        component_mass.setdefault(tuple(sorted(top)), 0.0)
        component_mass[tuple(sorted(top))] += t.weight(w)
    assert sorted(component_mass.values()) == sorted([2 * 5 * 2, 2 * 7 * 2, 3 * 11 * 2, 3 * 13 * 2])


def test_too_many_trees_is_refused_with_the_count():
    spn = random_spn(8, seed=0, depth=3, n_sums=2, n_splits=2)
    n = count_induced_trees(spn)
    with pytest.raises(TooManyTreesError, match=str(n)):
        induced_trees(spn, max_trees=n - 1)


def test_counting_matches_a_hand_count():
    spn = random_spn(2, seed=0, depth=1, n_sums=2)
    # root sum over 4 products (2 x 2 sums), each sum over 2 indicators: 4 * 2 * 2 trees
    assert isinstance(spn.root, Sum)
    assert count_induced_trees(spn) == 16

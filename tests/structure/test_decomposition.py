"""Weight decompositions (spnlib.structure.decomposition): phi(k, l) and Eq. (3)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import decompositions

from spnlib.structure.decomposition import (
    Decomposition,
    InvalidDecompositionError,
    balanced,
    random_decomposition,
    released,
    shallow,
)


def test_fig2_phi_matches_the_paper():
    """The paper (1-based): phi(k, 0) = ceil(k / 2), phi(k, 1) = k."""
    dec = balanced((2, 2))
    for k in range(1, 5):
        assert dec.phi(k - 1, 0) + 1 == math.ceil(k / 2)
        assert dec.phi(k - 1, 1) + 1 == k
    assert dec.n_layers == 2 and dec.layer_sizes == (2, 4) and dec.is_balanced


@pytest.mark.parametrize("L, sizes", [(1, (8,)), (2, (2, 4)), (3, (2, 2, 2))])
def test_released_structures(L, sizes):
    """PAPER.md: phi(k, l) = ceil(k / (K / n_l)) with n_l weights at level l (1-based)."""
    dec = released(L)
    assert dec.n_components == 8 and dec.n_layers == L
    level_weights = np.cumprod(sizes)
    assert dec.layer_sizes == tuple(level_weights)
    for k in range(1, 9):
        for l, n_l in enumerate(level_weights):
            assert dec.phi(k - 1, l) + 1 == math.ceil(k / (8 / n_l))


def test_component_weights_are_products_along_paths():
    dec = Decomposition(((0, 1), 2, (3, (4, 5))))
    layers = [np.array([2.0, 3.0, 5.0]), np.array([7.0, 11.0, 13.0, 17.0]), np.array([19.0, 23.0])]
    expected = [2 * 7, 2 * 11, 3, 5 * 13, 5 * 17 * 19, 5 * 17 * 23]
    np.testing.assert_array_equal(dec.component_weights(layers), expected)
    assert dec.sharing(0, 2) == (3, 4, 5)
    assert [dec.depth(k) for k in range(6)] == [2, 2, 1, 2, 3, 3]
    assert not dec.is_balanced


@given(decompositions())
@settings(max_examples=80, deadline=None)
def test_random_decompositions_are_consistent(dec):
    K = dec.n_components
    assert sorted(sum((list(dec.sharing(0, j)) for j in range(dec.layer_sizes[0])), [])) == list(range(K))
    for l, size in enumerate(dec.layer_sizes):
        for j in range(size):
            for k in dec.sharing(l, j):
                assert dec.phi(k, l) == j
    # each layer's weights are used by disjoint groups of components
    ones = [np.ones(n) for n in dec.layer_sizes]
    np.testing.assert_array_equal(dec.component_weights(ones), np.ones(K))
    # the last weight on each path is the component's own (no other component uses it)
    for k in range(K):
        assert dec.sharing(dec.depth(k) - 1, dec.paths[k][-1]) == (k,)


@pytest.mark.parametrize("tree, message", [
    (3, "L >= 1"),
    ((), "no children"),
    ((0, (1, ())), "no children"),
    ((0, 1, 1), "reached twice"),
    ((0, 2), "missing \\[1\\]"),
    ((0, -1), "negative"),
    ((0, "a"), "neither"),
    ((0, True), "not a component"),
])
def test_invalid_trees(tree, message):
    with pytest.raises(InvalidDecompositionError, match=message):
        Decomposition(tree)


def test_invalid_builders_and_weights():
    with pytest.raises(InvalidDecompositionError, match="L < 1"):
        balanced(())
    with pytest.raises(InvalidDecompositionError, match="L < 1"):
        released(0)
    with pytest.raises(InvalidDecompositionError, match="equal groups"):
        released(3, n_components=6)
    with pytest.raises(InvalidDecompositionError):
        shallow(0)
    dec = balanced((2, 2))
    with pytest.raises(ValueError, match="expected 2 layer"):
        dec.component_weights([np.ones(2)])
    with pytest.raises(ValueError, match="layer 1 needs 4"):
        dec.component_weights([np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match=">= 0"):
        dec.component_weights([np.ones(2), -np.ones(4)])
    with pytest.raises(IndexError):
        shallow(3).phi(0, 1)


def test_random_decomposition_is_reproducible():
    assert random_decomposition(9, seed=4).tree == random_decomposition(9, seed=4).tree

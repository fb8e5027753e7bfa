"""Builders (spnlib.structure.builders): Fig. 1/2 networks, released structures, random SPNs."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import decompositions, random_data

from spnlib.numeric.evaluate import log_value
from spnlib.structure.builders import decomposed_spn, factorised_component, random_spn, random_spn_size, released_spn
from spnlib.structure.decomposition import balanced, shallow
from spnlib.structure.graph import Bernoulli, Sum


def components(K: int, D: int, rng: np.random.Generator):
    return [factorised_component(D, f"C{k + 1}", rng.uniform(0.1, 1.0, (D, 2))) for k in range(K)]


@given(decompositions(), st.integers(0, 10_000))
@settings(max_examples=40, deadline=None)
def test_decomposed_spn_equals_the_shallow_mixture_with_product_weights(dec, seed):
    """Eq. (3): the overparameterized SPN computes sum_k (prod_l w^[l]_phi(k,l)) C_k(x)."""
    rng = np.random.default_rng(seed)
    K, D = dec.n_components, 3
    leaf = rng.uniform(0.1, 1.0, (K, D, 2))
    layers = [rng.uniform(0.1, 2.0, n) for n in dec.layer_sizes]
    deep = decomposed_spn(dec, [factorised_component(D, f"C{k}", leaf[k]) for k in range(K)], layers)
    flat = decomposed_spn(shallow(K), [factorised_component(D, f"C{k}", leaf[k]) for k in range(K)],
                          [dec.component_weights(layers)])
    X = random_data(rng, 20, D, 0.2)
    np.testing.assert_allclose(log_value(deep.spn, X), log_value(flat.spn, X), rtol=1e-12)
    # the layer-weight map reads back exactly the weights we put in
    for got, want in zip(deep.layer_weights(deep.spn.weights()), layers):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(deep.component_weights(deep.spn.weights()), dec.component_weights(layers))


def test_fig2_names_and_shape():
    dspn = decomposed_spn(balanced((2, 2)), [factorised_component(2, f"C{k + 1}") for k in range(4)])
    names = [n.name for n in dspn.spn.nodes if isinstance(n, Sum) and "." not in n.name]
    assert names == ["S[1]_1", "S[1]_2", "root"]
    np.testing.assert_array_equal(dspn.layer_weights(dspn.spn.weights())[0], [0.5, 0.5])


@pytest.mark.parametrize("L", [1, 2, 3])
def test_released_spn(L):
    r = released_spn(L)
    np.testing.assert_allclose(r.component_weights(r.spn.weights()), np.full(8, 1e-4 ** L))
    assert r.spn.n_variables == 16
    # all-1/2 leaf sums: every state has the same probability, so the LLH is 16 log(1/2)
    X = random_data(np.random.default_rng(0), 5, 16)
    from spnlib.numeric.evaluate import log_likelihood
    assert log_likelihood(r.spn, X).mean == pytest.approx(16 * np.log(0.5), rel=1e-12)


def test_random_spn_shared_is_a_dag_and_reproducible():
    a, b = random_spn(6, seed=5, depth=3), random_spn(6, seed=5, depth=3)
    np.testing.assert_array_equal(a.weights(), b.weights())
    parents: dict[int, int] = {}
    for n in a.nodes:
        for c in n.children:
            parents[id(c)] = parents.get(id(c), 0) + 1
    assert max(parents.get(id(n), 0) for n in a.nodes if n.children) > 1  # a shared inner node
    tree = random_spn(6, seed=5, depth=3, shared=False)
    assert all(parents_count <= 1 for parents_count in _inner_parent_counts(tree))


def _inner_parent_counts(spn):
    counts: dict[int, int] = {}
    for n in spn.nodes:
        for c in n.children:
            if c.children:
                counts[id(c)] = counts.get(id(c), 0) + 1
    return counts.values()


def test_bernoulli_components_and_bad_arguments():
    comp = factorised_component(3, "C", bernoulli=[0.2, 0.5, 0.9])
    assert all(isinstance(c, Bernoulli) for c in comp.children)
    with pytest.raises(ValueError, match="shape"):
        factorised_component(3, "C", leaf_weights=np.ones((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        factorised_component(3, "C", bernoulli=[0.5])
    with pytest.raises(ValueError, match="K = 4"):
        decomposed_spn(balanced((2, 2)), [factorised_component(2, "C")])
    with pytest.raises(ValueError, match="leaf must be"):
        random_spn(3, seed=0, leaf="gaussian")
    with pytest.raises(ValueError, match="n_variables >= 1"):
        random_spn(0, seed=0)


@given(st.integers(1, 7), st.integers(0, 1000), st.integers(0, 3), st.integers(1, 3), st.integers(1, 2),
       st.booleans(), st.sampled_from(["indicator", "bernoulli"]))
@settings(max_examples=40, deadline=None)
def test_random_spn_size_is_the_size_of_the_built_spn(D, seed, depth, n_sums, n_splits, shared, leaf):
    kwargs = dict(depth=depth, n_sums=n_sums, n_splits=n_splits, shared=shared, leaf=leaf)
    assert random_spn_size(D, seed, **kwargs) == random_spn(D, seed, max_edges=None, **kwargs).count()


def test_random_spn_states_its_size_and_refuses_above_the_limit():
    with pytest.raises(ValueError, match=r"would have 1,543,194 edges and 688,571 nodes, more than "
                                         r"max_edges = 200,000; pass a larger max_edges \(or None\)"):
        random_spn(8, seed=0, depth=4, n_sums=3, n_splits=2, shared=False)
    size = random_spn_size(6, seed=1, depth=3, n_sums=2, shared=False)
    with pytest.raises(ValueError, match=f"would have {size['edges']:,} edges"):
        random_spn(6, seed=1, depth=3, n_sums=2, shared=False, max_edges=size["edges"] - 1)
    assert random_spn(6, seed=1, depth=3, n_sums=2, shared=False, max_edges=size["edges"]).count() == size
    with pytest.raises(ValueError, match=r"more than 20 edges \(counting stopped there\)"):
        random_spn(6, seed=1, depth=3, n_sums=2, shared=False, max_edges=2)

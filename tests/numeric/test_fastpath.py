"""Fast path (spnlib.numeric.fastpath) against the general evaluator."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import RTOL_EXACT
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import decompositions, random_data

from spnlib.data.counted import CountedData
from spnlib.numeric.evaluate import log_likelihood_and_gradient
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.structure.decomposition import balanced, released, shallow


def random_params(model: FactorisedMixture, rng: np.random.Generator, scale: float = 1.0) -> MixtureParams:
    dec = model.decomposition
    return MixtureParams(rng.uniform(0.05, 1.0, (model.n_components, model.n_variables, 2)),
                         tuple(scale * rng.uniform(0.05, 2.0, n) for n in dec.layer_sizes))


def assert_same(model, params, data, X):
    llh, grad = model.llh_and_grad(params, data)
    dspn, order = model.to_spn(params)
    llh_ref, grad_ref = log_likelihood_and_gradient(dspn.spn, X)
    assert llh.mean == pytest.approx(llh_ref.mean, rel=RTOL_EXACT)
    assert model.log_likelihood(params, data).mean == pytest.approx(llh_ref.mean, rel=RTOL_EXACT)
    # Relative per entry, except where the entry is a cancellation: d/dw_i is the difference of a
    # data term and a partition term, each at most 1/w_i in size (w dF/dw <= F). An entry that is 0
    # in exact arithmetic (a lone root weight, or identical components at initialisation) is
    # compared on that natural scale: 1e-10 relative to 1e-3 / w_i.
    weights = params.flatten()[order]
    tolerance = RTOL_EXACT * np.maximum(np.abs(grad_ref), 1e-3 / weights)
    assert np.all(np.abs(grad.flatten()[order] - grad_ref) <= tolerance)


@given(decompositions(max_components=6), st.integers(0, 2**31 - 1), st.sampled_from([0.0, 0.25]),
       st.sampled_from([1.0, 1e-4]))
@settings(max_examples=40, deadline=None)
def test_fast_path_equals_general_evaluator_on_random_data(dec, seed, missing, scale):
    rng = np.random.default_rng(seed)
    model = FactorisedMixture(dec, 5)
    X = random_data(rng, 80, 5, missing)
    assert_same(model, random_params(model, rng, scale), CountedData.from_array(X), X)


@pytest.mark.parametrize("dec", [shallow(8), released(2), released(3), balanced((2, 2, 2))])
def test_fast_path_equals_general_evaluator_on_nltcs(dec, nltcs_train):
    rng = np.random.default_rng(7)
    model = FactorisedMixture(dec, 16)
    assert_same(model, random_params(model, rng), CountedData.from_array(nltcs_train), nltcs_train)
    assert_same(model, model.initial_params(), CountedData.from_array(nltcs_train), nltcs_train)


def test_counted_data_of_nltcs(nltcs_train):
    data = CountedData.from_array(nltcs_train)
    assert nltcs_train.shape == (16181, 16)
    assert len(data.counts) == 2671 and data.n_samples == 16181


def test_flatten_roundtrip_and_initial_params():
    model = FactorisedMixture(released(3), 4)
    p = model.initial_params()
    q = model.unflatten(p.flatten())
    np.testing.assert_array_equal(q.leaf, p.leaf)
    assert all(np.array_equal(a, b) for a, b in zip(q.layers, p.layers))
    np.testing.assert_allclose(model.component_weights(p), np.full(8, 1e-12))
    with pytest.raises(ValueError, match="shape"):
        model.unflatten(np.ones(3))


def test_bad_inputs():
    model = FactorisedMixture(shallow(2), 3)
    data = CountedData.from_array(np.array([[0, 1, 1], [1, 0, 0]]))
    p = model.initial_params()
    with pytest.raises(ValueError, match="leaf weights > 0"):
        model.llh_and_grad(MixtureParams(np.zeros((2, 3, 2)), p.layers), data)
    with pytest.raises(ValueError, match="shape"):
        model.llh_and_grad(MixtureParams(np.ones((2, 2, 2)), p.layers), data)
    with pytest.raises(ValueError, match=">= 0"):
        model.llh_and_grad(MixtureParams(p.leaf, (np.array([1.0, -1.0]),)), data)
    with pytest.raises(ValueError, match="variables"):
        model.llh_and_grad(p, CountedData.from_array(np.zeros((2, 4), dtype=int)))
    with pytest.raises(TypeError, match="CountedData"):
        model.llh_and_grad(p, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="at least one variable"):
        FactorisedMixture(shallow(2), 0)


def test_spn_layout_round_trip_and_the_general_gradient_in_the_fast_layout():
    rng = np.random.default_rng(3)
    dec = released(3, 8)
    model = FactorisedMixture(dec, 3)
    p = random_params(model, rng)
    dspn, order = model.to_spn(p)
    np.testing.assert_array_equal(order, model.spn_order)
    np.testing.assert_array_equal(model.to_spn_layout(p), dspn.spn.weights())
    back = model.from_spn_layout(dspn.spn.weights())
    np.testing.assert_array_equal(back.flatten(), p.flatten())
    # the flat SPN layout runs from the leaves up: a component's leaf sums first, the root's weights last
    labels = dspn.spn.edge_labels()
    assert labels[:2] == ["C1.x0->[x0=0]", "C1.x0->[x0=1]"] and labels[-2:] == ["root->S[1]_1", "root->S[1]_2"]
    X = random_data(rng, 40, 3, 0.1)
    data = CountedData.from_array(X)
    _, g_general = log_likelihood_and_gradient(dspn, data)
    _, g_fast = model.llh_and_grad(p, data)
    converted = model.from_spn_layout(g_general)
    np.testing.assert_allclose(converted.leaf, g_fast.leaf, rtol=RTOL_EXACT, atol=1e-12)
    for a, b in zip(converted.layers, g_fast.layers):
        np.testing.assert_allclose(a, b, rtol=RTOL_EXACT)
    with pytest.raises(ValueError, match="SPN weight vector has shape"):
        model.from_spn_layout(np.ones(3))


def test_to_spn_accepts_zero_leaf_weights_for_the_general_evaluator():
    model = FactorisedMixture(shallow(2), 2)
    p = model.initial_params()
    leaf = p.leaf.copy()
    leaf[0, 1, 0] = 0.0
    dspn, _ = model.to_spn(MixtureParams(leaf, p.layers))
    assert dspn.spn.weights().min() == 0.0
    with pytest.raises(ValueError, match=r"theta\[k=0, d=1, v=0\] is 0.*general evaluator accepts it"):
        model.llh_and_grad(MixtureParams(leaf, p.layers), CountedData.from_array(np.array([[0, 1]])))

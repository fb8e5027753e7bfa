"""MixtureBatch (spnlib.numeric.batched) against FactorisedMixture, model by model."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import RTOL_EXACT
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import random_data

from spnlib.data.counted import CountedData
from spnlib.numeric.batched import BatchParams, MixtureBatch
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.structure.decomposition import balanced, random_decomposition, released, shallow


def random_mixture_params(dec, D, rng, scale=1.0):
    return MixtureParams(rng.uniform(0.05, 1.0, (dec.n_components, D, 2)),
                         tuple(scale * rng.uniform(0.05, 2.0, n) for n in dec.layer_sizes))


def assert_batch_matches(decs, D, params, data):
    batch = MixtureBatch(decs, D)
    stacked = batch.stack(params)
    llh, grad = batch.llh_and_grad(stacked, data)
    _, log_grad = batch.llh_and_log_grad(stacked, data)
    assert np.allclose(batch.log_likelihood(stacked, data), llh, rtol=RTOL_EXACT, atol=0)
    for m, (dec, p) in enumerate(zip(decs, params)):
        ref_llh, ref = FactorisedMixture(dec, D).llh_and_grad(p, data)
        assert llh[m] == pytest.approx(ref_llh.mean, rel=RTOL_EXACT)
        got = batch.unstack(grad)[m].flatten()
        weights = p.flatten()
        # entries that cancel (exactly 0 in exact arithmetic) are compared on their natural scale 1/w
        tolerance = RTOL_EXACT * np.maximum(np.abs(ref.flatten()), 1e-3 / weights)
        assert np.all(np.abs(got - ref.flatten()) <= tolerance)
        got_log = batch.unstack(log_grad)[m].flatten()
        assert np.all(np.abs(got_log - weights * ref.flatten()) <= tolerance * weights)


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=4), st.integers(1, 6), st.integers(0, 2**31 - 1),
       st.sampled_from([0.0, 0.25]), st.sampled_from([1.0, 1e-4]))
@settings(max_examples=30, deadline=None)
def test_batch_equals_fast_path_for_random_models(tree_seeds, K, seed, missing, scale):
    rng = np.random.default_rng(seed)
    D = 4
    decs = [random_decomposition(K, s) for s in tree_seeds]
    X = random_data(rng, 60, D, missing)
    params = [random_mixture_params(d, D, rng, scale) for d in decs]
    assert_batch_matches(decs, D, params, CountedData.from_array(X))


def test_batch_equals_fast_path_on_nltcs_released_structures(nltcs_train):
    rng = np.random.default_rng(3)
    decs = [released(1), released(2), released(3), released(4), balanced((2, 2, 2))]
    params = [random_mixture_params(d, 16, rng) for d in decs]
    assert_batch_matches(decs, 16, params, CountedData.from_array(nltcs_train))


def test_small_column_blocks_give_the_same_result(monkeypatch):
    import spnlib.numeric.batched as batched
    rng = np.random.default_rng(0)
    data = CountedData.from_array(random_data(rng, 500, 6, 0.1))
    decs = [shallow(3), balanced((3, 1))]
    params = [random_mixture_params(d, 6, rng) for d in decs]
    whole = MixtureBatch(decs, 6)
    llh, grad = whole.llh_and_grad(whole.stack(params), data)
    monkeypatch.setattr(batched, "_BLOCK_ELEMENTS", 1)      # blocks of 16 distinct rows
    monkeypatch.setattr(batched, "_MIN_BLOCK_WIDTH", 16)
    blocked = MixtureBatch(decs, 6)
    assert len(blocked._prepare(data).blocks) > 1
    llh2, grad2 = blocked.llh_and_grad(blocked.stack(params), data)
    assert np.allclose(llh, llh2, rtol=1e-12) and np.allclose(grad.leaf, grad2.leaf, rtol=1e-10)
    assert np.allclose(grad.layers, grad2.layers, rtol=1e-10)


def test_stack_unstack_roundtrip_and_initial_params():
    decs = [released(1), released(3)]
    batch = MixtureBatch(decs, 5)
    p = batch.initial_params()
    assert p.leaf.shape == (2, 8, 5, 2) and p.layers.shape == (8 + 2 + 4 + 8,)
    assert np.all(p.leaf == 0.5) and np.all(p.layers == 1e-4)
    back = batch.unstack(p)
    assert [len(b.layers) for b in back] == [1, 3]
    again = batch.stack(back)
    assert np.array_equal(again.leaf, p.leaf) and np.array_equal(again.layers, p.layers)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="same number of components"):
        MixtureBatch([shallow(3), shallow(4)], 2)
    with pytest.raises(ValueError, match="at least one model"):
        MixtureBatch([], 2)
    batch = MixtureBatch([shallow(2)], 3)
    p = batch.initial_params()
    data = CountedData.from_array(np.array([[0, 1, 1], [1, 0, 0]]))
    with pytest.raises(ValueError, match="finite and > 0"):
        batch.llh_and_grad(BatchParams(-p.leaf, p.layers), data)
    with pytest.raises(ValueError, match="shape"):
        batch.llh_and_grad(BatchParams(p.leaf[:, :1], p.layers), data)
    with pytest.raises(ValueError, match="variables"):
        batch.llh_and_grad(p, CountedData.from_array(np.array([[0, 1]])))
    with pytest.raises(TypeError, match="CountedData"):
        batch.llh_and_grad(p, np.array([[0, 1, 1]]))


def test_one_decomposition_is_a_batch_of_one_and_the_top_level_names():
    import spnlib
    assert spnlib.MixtureBatch is MixtureBatch and spnlib.BatchParams is BatchParams
    rng = np.random.default_rng(5)
    data = CountedData.from_array(random_data(rng, 30, 3, 0.1))
    one, listed = MixtureBatch(released(2, 4), 3), MixtureBatch([released(2, 4)], 3)
    p = one.initial_params()
    p.leaf[:] = rng.uniform(0.1, 1, p.leaf.shape)
    llh1, g1 = one.llh_and_grad(p, data)
    llh2, g2 = listed.llh_and_grad(p, data)
    assert np.array_equal(llh1, llh2) and np.array_equal(g1.leaf, g2.leaf) and np.array_equal(g1.layers, g2.layers)


def test_refusals_name_the_weight():
    batch = MixtureBatch([shallow(2), released(2, 2)], 2)
    p = batch.initial_params()
    data = CountedData.from_array(np.array([[0, 1], [1, 1]]))
    p.leaf[1, 0, 1, 0] = np.inf
    with pytest.raises(ValueError, match=r"theta\[m=1, k=0, d=1, v=0\] is inf"):
        batch.llh_and_grad(p, data)
    p = batch.initial_params()
    p.layers[4] = -1.0          # model 0 has 2 layer weights; model 1 (2, 1) has w^[0]_0, w^[0]_1, w^[1]_0, ...
    with pytest.raises(ValueError, match=r"layer weight \(model 1, w\^\[1\]_0\) is -1.0"):
        batch.log_likelihood(p, data)
    p.layers[4] = 0.0           # a zero layer weight is fine: component 0 of model 1 has weight 0
    llh, g = batch.llh_and_grad(p, data)
    assert np.all(np.isfinite(llh)) and np.all(np.isfinite(g.layers)) and np.all(g.leaf[1, 0] == 0)


def faithful_reference() -> np.ndarray:
    """The faithful protocol's curves before the exactness rewrite, (3, 500); provenance in the file."""
    from pathlib import Path
    lines = (Path(__file__).with_name("faithful_curves_879c929.csv").read_text().splitlines())
    rows = [line.split(",") for line in lines if line and not line.startswith(("#", "iteration"))]
    return np.array([[float(v) for v in r[1:]] for r in rows]).T


def test_the_faithful_protocol_curves_stay_within_roundoff_of_the_recorded_ones(nltcs_train):
    """The released protocol (L = 1, 2, 3, 500 iterations) through MixtureBatch, against its curves as
    recorded before the fast paths were made exact and faster: the change is round-off only."""
    from spnlib.experiment.protocols import get_protocol, run_protocol
    from spnlib.tolerances import ROUNDOFF
    curves = run_protocol(get_protocol("released"), CountedData.from_array(nltcs_train), (1, 2, 3)).train
    assert np.array_equal(curves[:, 0], curves[:, 1])            # the two runs are one
    assert np.max(np.abs(curves[:, 0] - faithful_reference())) <= ROUNDOFF

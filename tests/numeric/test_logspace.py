"""Both fast paths at extreme and skewed weights (what spnlib.numeric.logspace is for).

Ground truth is twofold and independent of the fast paths: the general evaluator on the equivalent
SPN, and a 40-digit mpmath evaluator (``mp_reference``) that returns each gradient as its two terms.
A gradient entry must match data term - partition term to EXACT_RTOL of the larger term (a
difference of two terms cannot be known better than that in any floating point), or, below the
smallest normal float64, to an absolute FLOOR. No NumPy RuntimeWarning may escape.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import RTOL_EXACT
from hypothesis import given, settings
from hypothesis import strategies as st
from mp_reference import reference
from strategies import random_data

from spnlib.data.counted import CountedData
from spnlib.numeric.batched import MixtureBatch
from spnlib.numeric.evaluate import log_likelihood_and_gradient, logsumexp
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.numeric.logspace import (
    GradientOverflowError,
    exclusive_log_sums,
    log_sums_by_state,
    scaled_log_sums,
    trusted_sum_threshold,
)
from spnlib.structure.decomposition import random_decomposition, released, shallow

FLOOR = 1e3 * np.finfo(np.float64).tiny
"""Absolute agreement demanded where the exact terms are below the normal float64 range."""

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


# ---------------------------------------------------------------- the helpers
def test_log_sums_by_state_equals_brute_force():
    rng = np.random.default_rng(0)
    log_terms = rng.uniform(-2000, 10, (3, 40))
    states = rng.integers(0, 3, (4, 40))
    states[1] = 0                                   # variable 1: no row in state 1 or 2
    got = log_sums_by_state(log_terms, states)
    for f in range(3):
        for d in range(4):
            for s in range(3):
                sel = log_terms[f, states[d] == s]
                want = -np.inf if sel.size == 0 else sel.max() + np.log(np.sum(np.exp(sel - sel.max())))
                assert got[f, d, s] == pytest.approx(want, rel=1e-14) or (want == got[f, d, s] == -np.inf)


def test_log_sums_by_state_computes_only_what_is_asked():
    rng = np.random.default_rng(1)
    log_terms = rng.uniform(-50, 0, (2, 30))
    states = rng.integers(0, 3, (3, 30))
    which = np.zeros((2, 3, 3), dtype=bool)
    which[1, 2, 0] = which[0, 0, 2] = True
    got = log_sums_by_state(log_terms, states, which)
    full = log_sums_by_state(log_terms, states)
    np.testing.assert_array_equal(got[which], full[which])
    assert np.all(np.isnan(got[~which]))


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_scaled_log_sums_equal_brute_force_even_across_2000_nats(missing):
    rng = np.random.default_rng(2)
    X = random_data(rng, 60, 4, missing)
    data = CountedData.from_array(X)
    U = len(data.counts)
    log_terms = rng.uniform(-5, 0, (3, U))
    log_terms[1, data.rows[:, 2] == 1] -= 2000.0     # one state of one variable far below the rest
    log_terms[2, 0] = -np.inf
    got, totals = scaled_log_sums(log_terms, data)
    want = log_sums_by_state(log_terms, data.states_t[:, :-1])
    np.testing.assert_allclose(got, want, rtol=1e-14)
    np.testing.assert_allclose(totals, logsumexp(log_terms, axis=1), rtol=1e-14)
    assert got[1, 2, 1] < -1990


def test_exclusive_log_sums_leave_one_out_and_keep_minus_infinity():
    a = np.array([[1.0, 2.0, 4.0], [-np.inf, 3.0, 5.0], [7.0, 0.0, 0.0]])
    np.testing.assert_array_equal(exclusive_log_sums(a), [[6.0, 5.0, 3.0], [8.0, -np.inf, -np.inf], [0.0, 7.0, 7.0]])
    np.testing.assert_array_equal(exclusive_log_sums(np.array([[3.0], [-np.inf]])), [[0.0], [0.0]])


def test_trusted_threshold_scales_with_the_number_of_rows():
    assert trusted_sum_threshold(1) == pytest.approx(2.2250738585072014e-295)
    assert trusted_sum_threshold(1000) == pytest.approx(1000 * trusted_sum_threshold(1))


# ----------------------------------------------------- checking one model
def batch_grad(dec, params, data, log=False):
    batch = MixtureBatch(dec, data.n_variables)
    method = batch.llh_and_log_grad if log else batch.llh_and_grad
    llh, g = method(batch.stack([params]), data)
    return float(llh[0]), batch.unstack(g)[0]


def fast_grad(dec, params, data):
    llh, g = FactorisedMixture(dec, data.n_variables).llh_and_grad(params, data)
    return llh.mean, g


def general_grad(dec, params, data):
    model = FactorisedMixture(dec, data.n_variables)
    dspn, _ = model.to_spn(params)
    llh, g = log_likelihood_and_gradient(dspn.spn, data)
    return llh.mean, model.from_spn_layout(g)


def largest_error(grad: MixtureParams, ref, log: bool = False) -> float:
    """max |grad - (data - partition)| / max(|data|, |partition|), with FLOOR below the normal range.

    ``log``: ``grad`` is the gradient with respect to the log weights (terms times the weight).
    """
    worst = 0.0
    leaf_d, leaf_p, layer_d, layer_p = (ref.log_terms if log else
                                        (ref.leaf_data, ref.leaf_partition, ref.layer_data, ref.layer_partition))
    pairs = [(grad.leaf, leaf_d, leaf_p)] + list(zip(grad.layers, layer_d, layer_p))
    for i, (g, d, p) in enumerate(pairs):
        assert np.all(np.isfinite(g))
        err = np.abs(g - (d - p))
        scale = np.maximum(np.abs(d), np.abs(p))
        assert np.all(err <= RTOL_EXACT * scale + FLOOR), f"layer {i - 1}" if i else "leaves"
        worst = max(worst, float(np.max(np.where(scale > FLOOR / RTOL_EXACT, err / np.maximum(scale, 1e-300), 0))))
    return worst


def check_all(dec, params, data):
    ref = reference(dec.paths, params.leaf, params.layers, data.rows, data.counts)
    errors = {}
    for name, fn in (("batch", batch_grad), ("factorised", fast_grad), ("general", general_grad)):
        llh, g = fn(dec, params, data)
        assert llh == pytest.approx(ref.llh, rel=RTOL_EXACT, abs=RTOL_EXACT), name
        errors[name] = largest_error(g, ref)
    llh, lg = batch_grad(dec, params, data, log=True)
    errors["batch-log"] = largest_error(lg, ref, log=True)
    return errors


def extreme_params(dec, D, rng, mode: str, span: float) -> MixtureParams:
    """Weights 10^e: ``span`` bounds |e|; modes spread them, skew each leaf pair, or push the layers."""
    K = dec.n_components
    if mode == "spread":
        leaf = 10.0 ** rng.uniform(-span, span, (K, D, 2))
        layers = tuple(10.0 ** rng.uniform(-span, span, n) for n in dec.layer_sizes)
    elif mode == "skewed":                            # (10^-a, 10^a) or (10^a, 10^-a) per leaf
        a = rng.uniform(0, span, (K, D))
        sign = rng.choice([-1.0, 1.0], (K, D))
        leaf = np.stack([10.0 ** (-sign * a), 10.0 ** (sign * a)], axis=2)
        layers = tuple(rng.uniform(0.1, 1.0, n) for n in dec.layer_sizes)
    elif mode == "layers":                            # moderate leaves, extreme layer weights
        leaf = rng.uniform(0.05, 1.0, (K, D, 2))
        layers = tuple(10.0 ** rng.uniform(-span, span, n) for n in dec.layer_sizes)
    else:                                             # "one": a single extreme leaf pair in a normal model
        leaf = rng.uniform(0.05, 1.0, (K, D, 2))
        leaf[rng.integers(K), rng.integers(D)] = (10.0 ** -span, 10.0 ** span)
        layers = tuple(rng.uniform(0.1, 1.0, n) for n in dec.layer_sizes)
    return MixtureParams(np.clip(leaf, 1e-300, 1e300), tuple(np.clip(w, 1e-300, 1e300) for w in layers))


@given(st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**31 - 1),
       st.sampled_from(["spread", "skewed", "layers", "one"]), st.sampled_from([8.0, 12.0, 50.0, 104.0, 300.0]),
       st.sampled_from([0.0, 0.2]))
@settings(max_examples=120, deadline=None)
def test_fast_paths_match_the_mpmath_reference_and_the_general_evaluator(K, D, seed, mode, span, missing):
    rng = np.random.default_rng(seed)
    dec = random_decomposition(K, seed % 1000)
    data = CountedData.from_array(random_data(rng, 25, D, missing))
    errors = check_all(dec, extreme_params(dec, D, rng, mode, span), data)
    assert max(errors.values()) <= RTOL_EXACT


# ------------------------------------------------- the cases on NLTCS
@pytest.fixture(scope="module")
def nltcs(nltcs_train):
    return CountedData.from_array(nltcs_train)


@pytest.mark.parametrize("value", [1e-104, 1e-300, 1e103, 1e300])
def test_released_l3_with_extreme_layer_weights(value, nltcs):
    dec = released(3)
    params = FactorisedMixture(dec, 16).initial_params(layer_weight=value)
    _, ref = general_grad(dec, params, nltcs)
    # Every component is identical, so every layer gradient is 0 exactly; its two terms are
    # sum_k r_k / u = (K_below / K) / u. The leaf gradients are those of the L = 1 network.
    _, shallow_ref = general_grad(shallow(8), FactorisedMixture(shallow(8), 16).initial_params(), nltcs)
    for fn in (batch_grad, fast_grad):
        llh, g = fn(dec, params, nltcs)
        # rel: 4.5e-13 was measured under OPENBLAS_CORETYPE=Nehalem (1.9e-13 natively); issue 16's bound is 1e-10
        assert llh == pytest.approx(16 * np.log(0.5), rel=RTOL_EXACT)
        np.testing.assert_allclose(g.leaf, shallow_ref.leaf, rtol=1e-12, atol=1e-13)
        for w, gw in zip(params.layers, g.layers):
            assert np.all(np.abs(gw) <= RTOL_EXACT / w)
        # the general evaluator's own round-off here is ~2e-13 (log weights near -720 per path);
        # the leaf gradients' terms are at most 2 (S / theta, theta = 1/2)
        np.testing.assert_allclose(g.leaf, ref.leaf, rtol=0, atol=2 * RTOL_EXACT)


@pytest.mark.parametrize("L", [1, 3])
def test_one_leaf_at_1e_minus_300_and_1e300(L, nltcs, nltcs_train):
    dec = released(L)
    p = FactorisedMixture(dec, 16).initial_params()
    leaf = p.leaf.copy()
    leaf[0, 0] = (1e-300, 1e300)
    params = MixtureParams(leaf, p.layers)
    # by hand: C1 is negligible on rows with x0 = 0, so there d log f / d theta_{1,0,0} = (1/2)^15 /
    # (7 (1/2)^16) = 2/7; it is 0 on rows with x0 = 1, and the partition term is about 1e-300
    by_hand = 2 / 7 * np.mean(nltcs_train[:, 0] == 0)
    for fn in (batch_grad, fast_grad, general_grad):
        _, g = fn(dec, params, nltcs)
        assert g.leaf[0, 0, 0] == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize("pair", [(1e-8, 1.0), (1e-12, 1e12), (1e-150, 1e150)])
def test_skewed_leaf_on_nltcs_agrees_with_the_general_evaluator(pair, nltcs):
    dec = released(3)
    p = FactorisedMixture(dec, 16).initial_params()
    leaf = p.leaf.copy()
    leaf[0, 0] = pair
    params = MixtureParams(leaf, p.layers)
    _, ref = general_grad(dec, params, nltcs)
    for fn in (batch_grad, fast_grad):
        _, g = fn(dec, params, nltcs)
        # entries that are 0 exactly (identical components' layer weights) compared on their scale 1/u
        tol = RTOL_EXACT * np.maximum(np.abs(ref.leaf), 1.0)
        assert np.all(np.abs(g.leaf - ref.leaf) <= tol)
        for gw, rw, w in zip(g.layers, ref.layers, params.layers):
            assert np.all(np.abs(gw - rw) <= RTOL_EXACT * np.maximum(np.abs(rw), 1 / w))


# ---------------------------------------------------------- limits and refusals
def test_a_gradient_beyond_float64_is_refused_by_name_but_its_log_gradient_is_exact():
    rng = np.random.default_rng(1)
    dec = shallow(1)              # one component: d log f / d theta_v = [x_d = v] / theta_v - 1 / s
    data = CountedData.from_array(random_data(rng, 20, 3))
    leaf = rng.uniform(0.1, 1.0, (1, 3, 2))
    leaf[0, 1, 0] = 1e-310
    params = MixtureParams(leaf, (np.array([0.7]),))
    with pytest.raises(GradientOverflowError, match=r"theta\[m=0, k=0, d=1, v=0\] = 1e-310"):
        batch_grad(dec, params, data)
    with pytest.raises(GradientOverflowError, match=r"theta\[k=0, d=1, v=0\] = 1e-310"):
        fast_grad(dec, params, data)
    ref = reference(dec.paths, params.leaf, params.layers, data.rows, data.counts)
    _, lg = batch_grad(dec, params, data, log=True)
    assert largest_error(lg, ref, log=True) <= RTOL_EXACT
    # a lone root weight: its gradient is exactly 0, but its two terms are 1 / u = 2e319
    tiny_root = MixtureParams(rng.uniform(0.1, 1.0, (1, 3, 2)), (np.array([5e-320]),))
    with pytest.raises(GradientOverflowError, match=r"w\^\[0\]_0\) = 5e-320"):
        batch_grad(dec, tiny_root, data)
    with pytest.raises(GradientOverflowError, match=r"w\^\[0\]_0 = 5e-320"):
        fast_grad(dec, tiny_root, data)
    # a tiny weight whose component is negligible has an ordinary gradient: no refusal
    dec2 = shallow(2)
    leaf2 = rng.uniform(0.1, 1.0, (2, 3, 2))
    leaf2[1, 1, 0] = 1e-310
    ok = MixtureParams(leaf2, (np.array([0.5, 0.5]),))
    assert max(check_all(dec2, ok, data).values()) <= RTOL_EXACT


def test_zero_layer_weights_agree_with_the_reference():
    rng = np.random.default_rng(2)
    dec = released(3, 8)
    data = CountedData.from_array(random_data(rng, 20, 3, 0.1))
    layers = [rng.uniform(0.1, 1, n) for n in dec.layer_sizes]
    layers[1][0] = 0.0          # C1..C4 get weight 0
    layers[2][5] = 0.0          # and C6
    params = MixtureParams(rng.uniform(0.1, 1.0, (8, 3, 2)), tuple(layers))
    errors = check_all(dec, params, data)
    assert max(errors.values()) <= RTOL_EXACT
    with pytest.raises(ValueError, match="every component weight"):
        batch_grad(dec, MixtureParams(params.leaf, (np.zeros(2), *layers[1:])), data)


def test_a_zero_leaf_weight_is_refused_with_the_reason():
    dec = shallow(2)
    data = CountedData.from_array(np.array([[0, 1], [1, 1]]))
    leaf = np.full((2, 2, 2), 0.5)
    leaf[1, 0, 1] = 0.0
    params = MixtureParams(leaf, (np.ones(2),))
    for fn, where in ((batch_grad, r"m=0, k=1, d=0, v=1"), (fast_grad, r"k=1, d=0, v=1")):
        with pytest.raises(ValueError, match=where + r"\] is 0.*log-odds.*general evaluator accepts it"):
            fn(dec, params, data)
    llh, _ = general_grad(dec, params, data)       # what the error message points to works
    assert np.isfinite(llh)
    # and a tiny weight in its place is computed exactly
    leaf[1, 0, 1] = 1e-300
    assert max(check_all(dec, MixtureParams(leaf, (np.ones(2),)), data).values()) <= RTOL_EXACT


def test_no_component_recomputed_at_ordinary_weights(nltcs, monkeypatch):
    """The exact recomputation costs nothing on the book's runs: it never triggers at sane weights."""
    calls = []
    monkeypatch.setattr("spnlib.numeric.batched.scaled_log_sums", lambda *a: calls.append(1))
    rng = np.random.default_rng(4)
    decs = [released(L) for L in (1, 2, 3, 4)]
    batch = MixtureBatch(decs, 16)
    p = batch.initial_params()
    p.leaf[:] = rng.uniform(1e-4, 5.0, p.leaf.shape)
    p.layers[:] = rng.uniform(1e-4, 5.0, p.layers.shape)
    batch.llh_and_grad(p, nltcs)
    batch.llh_and_log_grad(p, nltcs)
    assert not calls
    assert logsumexp(np.array([-np.inf]), axis=0) == -np.inf


def test_column_blocks_and_the_per_row_shift_at_extreme_weights(monkeypatch):
    """Many column blocks, and the forward pass's fallback to a per-row shift (every row far below the
    bound of its model: variable 0 is always 0 in the data while theta_{k,0,1} / theta_{k,0,0} = 1e300)."""
    import spnlib.numeric.batched as batched
    monkeypatch.setattr(batched, "_BLOCK_ELEMENTS", 1)      # blocks of 16 distinct rows
    monkeypatch.setattr(batched, "_MIN_BLOCK_WIDTH", 16)
    calls = []
    original = batched.MixtureBatch._block_forward

    def counting(self, co, block):
        calls.append(float((np.exp(co.coef @ block[0]).reshape(self.n_models, self.n_components, -1)
                            .sum(axis=1)).min()))
        return original(self, co, block)

    monkeypatch.setattr(batched.MixtureBatch, "_block_forward", counting)
    redone = []
    exact_sums = batched.MixtureBatch._exact_sums
    monkeypatch.setattr(batched.MixtureBatch, "_exact_sums", lambda self, co, prep, rows, log_f: (
        redone.append(len(rows)), exact_sums(self, co, prep, rows, log_f))[1])
    rng = np.random.default_rng(6)
    dec = released(2, 4)
    X = random_data(rng, 150, 6, 0.1)
    X[:, 0] = 0
    data = CountedData.from_array(X)
    leaf = 10.0 ** rng.uniform(-100, 100, (4, 6, 2))
    leaf[:, 0] = (1e-150, 1e150)
    leaf[3, 1:] = 1e-200                                    # C4 is negligible everywhere: redone exactly
    params = MixtureParams(leaf, tuple(10.0 ** rng.uniform(-50, 50, n) for n in dec.layer_sizes))
    assert len(MixtureBatch(dec, 6)._prepare(data).blocks) > 3
    ref = reference(dec.paths, params.leaf, params.layers, data.rows, data.counts)
    for log in (False, True):
        llh, g = batch_grad(dec, params, data, log=log)
        assert llh == pytest.approx(ref.llh, rel=RTOL_EXACT)
        assert largest_error(g, ref, log=log) <= RTOL_EXACT
    assert min(calls) < batched._SMALLEST_TOTAL          # the fallback ran
    assert redone and min(redone) > 0                    # and components were redone across blocks

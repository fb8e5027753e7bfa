"""The released code's summation order (spnlib.experiment.released_order): exact, and round-off only."""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from spnlib.data.counted import CountedData
from spnlib.experiment.protocols import get_protocol, run_protocol
from spnlib.experiment.released_order import (
    ReleasedOrder,
    component_orders,
    explicit_leaf_gradient,
    sibling_sums,
)
from spnlib.experiment.training import Optimiser, train
from spnlib.numeric.batched import BatchParams, MixtureBatch
from spnlib.numeric.evaluate import log_likelihood_and_gradient
from spnlib.numeric.fastpath import FactorisedMixture
from spnlib.structure.decomposition import released
from spnlib.tolerances import EXACT_RTOL

RNG = np.random.default_rng(11)
ROWS = RNG.integers(0, 2, (60, 6))
DATA = CountedData.from_array(ROWS)


def loop_sums(t: np.ndarray) -> np.ndarray:
    """out[p] = ((0 + t_0) + t_1) + ... over q != p, a plain Python loop."""
    out = np.empty_like(t)
    for p in range(t.shape[0]):
        s = np.zeros(t.shape[1:])
        for q in range(t.shape[0]):
            if q != p:
                s = s + t[q]
        out[p] = s
    return out


@given(arrays(np.float64, st.tuples(st.integers(1, 17), st.integers(1, 4), st.integers(1, 5)),
              elements=st.floats(-20, 0, allow_nan=False)))
@settings(max_examples=80, deadline=None)
def test_sibling_sums_add_in_exactly_the_order_of_a_loop(t):
    assert np.array_equal(sibling_sums(t), loop_sums(t))


def test_component_orders():
    o = component_orders([3, 4, 3], 8, 16)
    assert o.shape == (3, 8, 16)
    assert np.array_equal(np.sort(o, axis=2), np.broadcast_to(np.arange(16), o.shape))
    assert np.array_equal(o[0], o[2]) and not np.array_equal(o[0], o[1])     # same seed, same orders
    assert len({tuple(k) for k in o[0]}) == 8                                 # a different order per component
    assert np.array_equal(component_orders([1], 2, 5, "identity")[0], np.tile(np.arange(5), (2, 1)))
    with pytest.raises(ValueError, match="order kind"):
        component_orders([1], 2, 5, "sorted")


def model(seed: int = 0):
    batch = MixtureBatch([released(1), released(3)], 6)
    rng = np.random.default_rng(seed)
    p = batch.initial_params()
    p.leaf[:] = rng.uniform(0.05, 1.0, p.leaf.shape)
    p.layers[:] = rng.uniform(1e-4, 1.0, p.layers.shape)
    return batch, p


def reference_terms(batch, p, m):
    """log theta, log s, log w, log f, log f(*) of model m, by plain loops in child order."""
    K, D = batch.n_components, batch.n_variables
    lt, ls = np.log(p.leaf[m]), np.log(p.leaf[m].sum(axis=2))
    lw = batch.component_log_weights(p.layers)[m]
    rows = DATA.rows.astype(int)
    log_c = np.array([[sum(lt[k, d, r[d]] for d in range(D)) for r in rows] for k in range(K)]) + lw[:, None]
    log_f = np.log(np.exp(log_c - log_c.max(0)).sum(0)) + log_c.max(0)
    log_zk = ls.sum(axis=1) + lw
    log_z = np.log(np.exp(log_zk - log_zk.max()).sum()) + log_zk.max()
    return lt, ls, lw, rows, log_f, log_z


def exact_difference(batch, p, m, orders):
    """sum_n w_n [x_nd = v] (exp E^pi - exp E^id) - (exp Ez^pi - exp Ez^id), exponents as the loops round
    them, the exponentials and sums in 40-digit arithmetic (mpmath)."""
    K, D = batch.n_components, batch.n_variables
    lt, ls, lw, rows, log_f, log_z = reference_terms(batch, p, m)
    w = DATA.counts / DATA.n_samples
    mpmath.mp.dps = 40
    out = np.zeros((K, D, 2))
    for k in range(K):
        for d in range(D):
            def exps(order, k=k, d=d):
                a, b = np.zeros(rows.shape[0]), 0.0
                for q in order:
                    if q != d:
                        a = a + lt[k, q][rows[:, q]]
                        b = b + ls[k, q]
                return (lw[k] + a) - log_f, (lw[k] + b) - log_z
            (e_pi, z_pi), (e_id, z_id) = exps(orders[k]), exps(range(D))
            part = mpmath.exp(z_pi) - mpmath.exp(z_id)
            for v in (0, 1):
                s = mpmath.fsum(mpmath.mpf(float(w[n])) * (mpmath.exp(e_pi[n]) - mpmath.exp(e_id[n]))
                                for n in range(rows.shape[0]) if rows[n, d] == v)
                out[k, d, v] = float(s - part)
    return out


def test_the_correction_is_the_exact_difference_of_the_two_orders():
    batch, p = model(1)
    orders = component_orders([5, 6], 8, 6)
    corr = ReleasedOrder(batch, DATA, orders).correction(p)
    assert np.any(corr != 0)
    for m in range(2):
        ref = exact_difference(batch, p, m, orders[m])
        scale = np.abs(ref).max()
        assert scale > 0
        # the exponents agree bit for bit; what is left is the rounding of the final products and sums
        assert np.abs(corr[m] - ref).max() <= 1e-12 * scale


def test_identity_orders_give_exactly_zero_and_the_faithful_protocol_bit_for_bit():
    batch, p = model(2)
    ident = ReleasedOrder(batch, DATA, component_orders([0, 0], 8, 6, "identity"))
    assert np.all(ident.correction(p) == 0)
    faithful = get_protocol("released").with_changes(iterations=40)
    same = get_protocol("released-order").with_changes(iterations=40, sibling_order="identity")
    a = run_protocol(faithful, DATA, (1, 2, 3))
    b = run_protocol(same, DATA, (1, 2, 3))
    assert np.array_equal(a.train, b.train)


def test_one_step_moves_the_fast_gradient_by_round_off_only_and_matches_the_julia_style_gradient():
    batch, p = model(3)
    orders = component_orders([7, 8], 8, 6)
    _, g = batch.llh_and_grad(p, DATA)
    fast = g.leaf.copy()
    ReleasedOrder(batch, DATA, orders)(p, g)
    # measured bound: the correction is below 4 ulp of the largest leaf gradient
    assert np.abs(g.leaf - fast).max() <= 4 * np.finfo(float).eps * np.abs(fast).max()
    for m in range(2):
        lt, ls, lw, rows, log_f, log_z = reference_terms(batch, p, m)
        julia = explicit_leaf_gradient(lt, ls, lw, rows, DATA.counts / DATA.n_samples, log_f, log_z, orders[m])
        assert np.allclose(g.leaf[m], julia, rtol=1e-12, atol=1e-14)
        # and the general evaluator on the equivalent SPN
        spn, order = FactorisedMixture(batch.decompositions[m], 6).to_spn(batch.unstack(p)[m])
        _, general = log_likelihood_and_gradient(spn.spn, DATA)
        ours = np.concatenate([g.leaf[m].ravel(), g.layers[batch.layer_offsets[m]:batch.layer_offsets[m + 1]]])
        assert np.allclose(general, ours[order], rtol=EXACT_RTOL, atol=EXACT_RTOL * np.abs(ours).max())


def test_the_first_iteration_is_exactly_symmetric_whatever_the_order():
    """At the released start every sibling term is log(1/2) (data) or 0 (partition): any order sums them alike."""
    batch = MixtureBatch([released(1), released(2)], 6)
    p = batch.initial_params()
    corr = ReleasedOrder(batch, DATA, component_orders([1, 2], 8, 6)).correction(p)
    assert np.all(corr == 0)


def test_from_the_second_iteration_hash_orders_make_identical_components_differ():
    batch = MixtureBatch([released(1), released(3)], 6)
    p = train(batch, DATA, batch.initial_params(), Optimiser("projected", 0.01), 1).params
    assert np.all(np.ptp(p.leaf, axis=1) == 0)                  # still identical components
    corr = ReleasedOrder(batch, DATA, component_orders([1, 2], 8, 6)).correction(p)
    assert np.any(np.ptp(corr, axis=1) != 0)                     # ... but their gradients now differ
    assert np.all(ReleasedOrder(batch, DATA, component_orders([1, 2], 8, 6, "identity")).correction(p) == 0)


def test_log_space_hook_scales_by_the_weights():
    batch, p = model(4)
    hook = ReleasedOrder(batch, DATA, component_orders([1, 2], 8, 6))
    g = BatchParams(np.zeros_like(p.leaf), np.zeros_like(p.layers))
    hook(p, g, log_space=True)
    assert np.array_equal(g.leaf, hook.correction(p) * p.leaf)


def test_bad_input_is_refused():
    batch, _ = model(5)
    with pytest.raises(ValueError, match="shape"):
        ReleasedOrder(batch, DATA, np.zeros((2, 8, 5), dtype=int))
    bad = component_orders([1, 2], 8, 6)
    bad[0, 0, 0] = bad[0, 0, 1]
    with pytest.raises(ValueError, match="permutation"):
        ReleasedOrder(batch, DATA, bad)
    missing = CountedData.from_array(np.array([[0, 1, -1, 0, 1, 1], [1, 1, 0, 0, 0, 1]]))
    with pytest.raises(ValueError, match="missing"):
        ReleasedOrder(batch, missing, component_orders([1, 2], 8, 6))
    with pytest.raises(TypeError, match="CountedData"):
        ReleasedOrder(batch, ROWS, component_orders([1, 2], 8, 6))
    with pytest.raises(ValueError, match="summation order"):
        get_protocol("released").with_changes(sibling_order="random")

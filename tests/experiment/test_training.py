"""Training loops (spnlib.experiment.training): against the general evaluator and an independent hand computation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from spnlib.data.counted import CountedData
from spnlib.experiment.training import Optimiser, check_eta, train
from spnlib.numeric.batched import BatchParams, MixtureBatch
from spnlib.numeric.evaluate import log_likelihood_and_gradient
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.structure.decomposition import balanced, released, shallow

TINY = np.array([[0, 1], [1, 1], [0, 0], [1, 1], [0, 1]])


def hand_run(theta, u0, u1, X, eta, iterations, floor=1e-4):
    """The released protocol for K = 4 components under two sum layers (2, 2), in plain Python loops."""
    theta = [[list(v) for v in comp] for comp in theta]
    u0, u1 = list(u0), list(u1)
    K, D, N = 4, len(X[0]), len(X)
    values = []
    for _ in range(iterations):
        w = [u0[k // 2] * u1[k] for k in range(K)]
        C = [[math.prod(theta[k][d][x[d]] for d in range(D)) for x in X] for k in range(K)]
        Cs = [math.prod(theta[k][d][0] + theta[k][d][1] for d in range(D)) for k in range(K)]
        f = [sum(w[k] * C[k][n] for k in range(K)) for n in range(N)]
        fs = sum(w[k] * Cs[k] for k in range(K))
        values.append(sum(math.log(v) for v in f) / N - math.log(fs))
        g_theta = [[[sum(w[k] * C[k][n] / f[n] * (X[n][d] == v) for n in range(N)) / N / theta[k][d][v]
                     - w[k] * Cs[k] / (fs * (theta[k][d][0] + theta[k][d][1])) for v in (0, 1)]
                    for d in range(D)] for k in range(K)]
        g_w = [sum(C[k][n] / f[n] for n in range(N)) / N - Cs[k] / fs for k in range(K)]
        g_u1 = [u0[k // 2] * g_w[k] for k in range(K)]
        g_u0 = [sum(u1[k] * g_w[k] for k in range(K) if k // 2 == j) for j in range(2)]
        theta = [[[max(theta[k][d][v] + eta * g_theta[k][d][v], floor) for v in (0, 1)] for d in range(D)]
                 for k in range(K)]
        u0 = [max(a + eta * g, floor) for a, g in zip(u0, g_u0)]
        u1 = [max(a + eta * g, floor) for a, g in zip(u1, g_u1)]
    return values, theta, u0, u1


@pytest.mark.parametrize("init", ["released", "perturbed"])
def test_faithful_protocol_first_iterations_equal_a_hand_computation(init):
    rng = np.random.default_rng(1)
    if init == "released":
        theta, u0, u1, eta = np.full((4, 2, 2), 0.5), np.full(2, 1e-4), np.full(4, 1e-4), 0.01
    else:   # asymmetric start and a large step, so layer gradients are non-zero and the clip engages
        theta, u0, u1, eta = rng.uniform(0.2, 0.8, (4, 2, 2)), rng.uniform(0.1, 1, 2), rng.uniform(0.1, 1, 4), 0.5
    values, theta_h, u0_h, u1_h = hand_run(theta.tolist(), u0, u1, TINY.tolist(), eta, 4)
    batch = MixtureBatch([balanced((2, 2))], 2)
    params = BatchParams(theta[None].copy(), np.concatenate([u0, u1]))
    result = train(batch, CountedData.from_array(TINY), params, Optimiser("projected", eta), 4)
    assert np.allclose(result.train_llh[0], values, rtol=1e-12, atol=0)
    assert np.allclose(result.params.leaf[0], theta_h, rtol=1e-12, atol=0)
    # At the symmetric start the exact layer gradients are 0, a difference of two terms of size
    # 1 / (K u) = 2500; each implementation's round-off moves the weights by ~eta * 2500 * 1e-16.
    assert np.allclose(result.params.layers, u0_h + u1_h, rtol=1e-12, atol=1e-13)
    if init == "perturbed":
        assert np.any(np.array(u0_h + u1_h) == 1e-4) or np.any(np.array(theta_h) == 1e-4)


@pytest.mark.parametrize("dec", [shallow(8), released(2), released(3)])
def test_fast_path_step_equals_general_evaluator_step(dec, nltcs_train):
    rng = np.random.default_rng(5)
    model = FactorisedMixture(dec, 16)
    p = MixtureParams(rng.uniform(0.05, 1.0, (8, 16, 2)), tuple(rng.uniform(1e-4, 0.5, n) for n in dec.layer_sizes))
    batch = MixtureBatch([dec], 16)
    eta = 0.01
    result = train(batch, CountedData.from_array(nltcs_train), batch.stack([p]), Optimiser("projected", eta), 1)
    dspn, order = model.to_spn(p)
    weights = dspn.spn.weights()
    llh, grad = log_likelihood_and_gradient(dspn.spn, nltcs_train, weights)
    expected = np.maximum(weights + eta * grad, 1e-4)
    got = batch.unstack(result.params)[0].flatten()[order]
    assert result.train_llh[0, 0] == pytest.approx(llh.mean, rel=1e-12)
    assert np.allclose(got, expected, rtol=1e-12, atol=0)


def test_log_momentum_and_adam_rules_follow_their_formulas():
    data = CountedData.from_array(TINY)
    batch = MixtureBatch([released(1, 2)], 2)
    rng = np.random.default_rng(2)
    p0 = BatchParams(rng.uniform(0.2, 0.8, (1, 2, 2, 2)), rng.uniform(0.2, 0.8, 2))
    # log rule: log v <- log v + eta v g
    _, g = batch.llh_and_grad(p0, data)
    r = train(batch, data, p0, Optimiser("log", 0.3), 1)
    assert np.allclose(r.params.leaf, p0.leaf * np.exp(0.3 * p0.leaf * g.leaf), rtol=1e-13)
    # momentum: two steps by hand
    v_leaf, v_lay, p = np.zeros_like(p0.leaf), np.zeros_like(p0.layers), p0.copy()
    for _ in range(2):
        _, g = batch.llh_and_grad(p, data)
        v_leaf, v_lay = 0.9 * v_leaf + g.leaf, 0.9 * v_lay + g.layers
        p = BatchParams(np.maximum(p.leaf + 0.05 * v_leaf, 1e-4), np.maximum(p.layers + 0.05 * v_lay, 1e-4))
    r = train(batch, data, p0, Optimiser("momentum", 0.05), 2)
    assert np.allclose(r.params.leaf, p.leaf, rtol=1e-13) and np.allclose(r.params.layers, p.layers, rtol=1e-13)
    # Adam: two steps by hand
    m = [np.zeros_like(p0.leaf), np.zeros_like(p0.layers)]
    v, p = [np.zeros_like(p0.leaf), np.zeros_like(p0.layers)], p0.copy()
    for t in (1, 2):
        _, g = batch.llh_and_grad(p, data)
        new = []
        for i, (w, gg) in enumerate(((p.leaf, g.leaf), (p.layers, g.layers))):
            m[i] = 0.9 * m[i] + 0.1 * gg
            v[i] = 0.999 * v[i] + 0.001 * gg**2
            new.append(np.maximum(w + 0.02 * (m[i] / (1 - 0.9**t)) / (np.sqrt(v[i] / (1 - 0.999**t)) + 1e-8), 1e-4))
        p = BatchParams(*new)
    r = train(batch, data, p0, Optimiser("adam", 0.02), 2)
    assert np.allclose(r.params.leaf, p.leaf, rtol=1e-12) and np.allclose(r.params.layers, p.layers, rtol=1e-12)


def test_per_model_learning_rates_equal_separate_runs():
    data = CountedData.from_array(TINY)
    batch1 = MixtureBatch([released(2, 4)], 2)
    both = MixtureBatch([released(2, 4)] * 2, 2)
    p = both.initial_params()
    p.leaf *= np.random.default_rng(0).uniform(0.9, 1.1, p.leaf.shape)
    r = train(both, data, p, Optimiser("projected", np.array([0.01, 0.2])), 5)
    for m, eta in enumerate((0.01, 0.2)):
        single = BatchParams(p.leaf[m:m + 1].copy(), p.layers[both.layer_offsets[m]:both.layer_offsets[m + 1]].copy())
        r1 = train(batch1, data, single, Optimiser("projected", eta), 5)
        assert np.allclose(r.train_llh[m], r1.train_llh[0], rtol=1e-13)


def test_gradient_noise_is_round_off_sized_and_seeded():
    data = CountedData.from_array(TINY)
    batch = MixtureBatch([released(2, 4)], 2)
    p = batch.initial_params()
    exact = train(batch, data, p, Optimiser(), 3)
    a = train(batch, data, p, Optimiser(), 3, gradient_noise=2.0**-53, noise_seed=1)
    b = train(batch, data, p, Optimiser(), 3, gradient_noise=2.0**-53, noise_seed=1)
    assert np.array_equal(a.train_llh, b.train_llh)
    assert np.allclose(a.train_llh, exact.train_llh, rtol=1e-13)
    assert np.array_equal(exact.params.leaf[0, 0], exact.params.leaf[0, 1])     # exact: identical components
    c = train(batch, data, p, Optimiser(), 3, gradient_noise=1e-9, noise_seed=1)
    assert not np.array_equal(c.params.leaf[0, 0], c.params.leaf[0, 1])        # noise: they differ


@pytest.mark.parametrize("eta", [0, -0.01, float("nan"), float("inf"), "fast"])
def test_eta_must_be_positive_and_finite(eta):
    with pytest.raises(ValueError, match="learning rate eta"):
        check_eta(eta)
    with pytest.raises(ValueError, match="learning rate eta"):
        Optimiser("projected", eta)


def test_bad_training_arguments():
    data = CountedData.from_array(TINY)
    batch = MixtureBatch([shallow(2)], 2)
    p = batch.initial_params()
    with pytest.raises(ValueError, match="unknown update rule"):
        Optimiser("sgd")
    with pytest.raises(ValueError, match="iterations"):
        train(batch, data, p, Optimiser(), 0)
    with pytest.raises(ValueError, match="below the floor"):
        train(batch, data, BatchParams(p.leaf * 1e-5, p.layers), Optimiser(), 1)
    with pytest.raises(ValueError, match="one learning rate or 1"):
        train(batch, data, p, Optimiser("projected", np.array([0.1, 0.2])), 1)
    with pytest.raises(ValueError, match="gradient_noise"):
        train(batch, data, p, Optimiser(), 1, gradient_noise=2.0)


def test_gradient_hook_sees_every_gradient_and_its_additions_count():
    batch = MixtureBatch([released(1)], 2)
    data = CountedData.from_array(TINY)
    calls = []

    def hook(params, grad, log_space):
        calls.append(log_space)
        grad.leaf += 1.0                     # a constant push on every leaf weight

    plain = train(batch, data, batch.initial_params(), Optimiser("projected", 0.01), 3)
    pushed = train(batch, data, batch.initial_params(), Optimiser("projected", 0.01), 3, gradient_hook=hook)
    assert calls == [False] * 3
    assert np.allclose(pushed.params.leaf - plain.params.leaf, 0.03, atol=1e-3)
    train(batch, data, batch.initial_params(), Optimiser("log", 0.01), 2, gradient_hook=hook)
    assert calls[-2:] == [True, True]


def test_a_leaf_floor_of_its_own():
    opt = Optimiser("projected", 0.5, floor=1e-4, leaf_floor=1e-8)
    assert opt.floor_leaf == 1e-8 and Optimiser().floor_leaf == 1e-4
    with pytest.raises(ValueError, match="leaf-weight floor"):
        Optimiser(leaf_floor=0.0)
    batch = MixtureBatch([released(1)], 2)
    p = batch.initial_params()
    p.leaf[0, :, 0, 0] = 1e-6                # below the layer floor, above the leaf floor: allowed
    res = train(batch, CountedData.from_array(TINY), p, opt, 3)
    assert res.params.leaf.min() >= 1e-8 and res.params.layers.min() >= 1e-4


def test_log_storage_round_trips_every_weight_and_keeps_identical_components_identical():
    batch = MixtureBatch([released(2)], 2)
    data = CountedData.from_array(TINY)
    plain = train(batch, data, batch.initial_params(), Optimiser("projected", 0.05), 4)
    logged = train(batch, data, batch.initial_params(), Optimiser("projected", 0.05, log_storage=True), 4)
    assert np.allclose(plain.params.leaf, logged.params.leaf, rtol=1e-13)
    assert np.all(np.ptp(logged.params.leaf, axis=1) == 0)
    one = train(batch, data, batch.initial_params(), Optimiser("projected", 0.05), 1).params
    two = train(batch, data, batch.initial_params(), Optimiser("projected", 0.05, log_storage=True), 1).params
    assert np.array_equal(two.leaf, np.exp(np.log(one.leaf)))

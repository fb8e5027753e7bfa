"""Tests for spnlib.studies.observation1: runs, Eq. 14 reconstruction, the explicit optimiser."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import random_data

from spnlib.data.counted import CountedData
from spnlib.numeric.evaluate import log_likelihood_and_gradient
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.structure.decomposition import balanced, random_decomposition, released, shallow
from spnlib.studies.observation1 import (
    VARIANTS,
    MomentumForm,
    adaptive_momentum_ascent,
    coefficients,
    component_groups,
    drift,
    fit_rho_lambda,
    momentum_form,
    near_zero_params,
    train_overparameterized,
)

D = 5


@pytest.fixture(scope="module")
def data():
    return CountedData.from_array(random_data(np.random.default_rng(1), 400, D))


@pytest.fixture(scope="module")
def run3(data):
    dec = released(3)
    return train_overparameterized(dec, data, near_zero_params(dec, D, 0.3, seed=0), eta=1e-3, n_steps=40)


def synthetic(T, groups, rng):
    """w^{(t+1)} = w + rho g + lambda w with known per-group rho, lambda and random g."""
    K = sum(len(g) for g in groups)
    rho, lam = np.zeros((T, K)), np.zeros((T, K))
    for g in groups:
        rho[:, g] = rng.uniform(0.01, 0.1, (T, 1))
        lam[:, g] = rng.uniform(-0.05, 0.05, (T, 1))
    G = rng.normal(size=(T + 1, K))
    W = [rng.uniform(0.5, 1.0, K)]
    for t in range(T):
        W.append(W[-1] + rho[t] * G[t] + lam[t] * W[-1])
    return np.array(W), G, rho, lam


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), T=st.integers(1, 30))
def test_momentum_form_reproduces_the_recursion(seed, T):
    rng = np.random.default_rng(seed)
    W, G, rho, lam = synthetic(T, [np.arange(3), np.arange(3, 5)], rng)
    form = momentum_form(rho, lam, W[0])
    np.testing.assert_allclose(form.predicted_changes(G), np.diff(W, axis=0), rtol=1e-10, atol=1e-12)
    assert np.all(form.residual(W, G) < 1e-10)
    assert np.all(np.triu(form.mu[..., 0]) == 0)          # only past gradients, tau < t


def test_momentum_weights_closed_form():
    rho, lam = np.array([[0.1], [0.2], [0.3]]), np.array([[0.5], [-0.2], [0.1]])
    mu = momentum_form(rho, lam, np.array([2.0])).mu[..., 0]
    assert mu[1, 0] == pytest.approx(-0.2 * 0.1)
    assert mu[2, 0] == pytest.approx(0.1 * 0.1 * (1 - 0.2))
    assert mu[2, 1] == pytest.approx(0.1 * 0.2)


def test_fit_recovers_known_coefficients_from_a_synthetic_run():
    rng = np.random.default_rng(7)
    groups = [np.array([0, 1, 2]), np.array([3, 4]), np.array([5])]
    W, G, rho, lam = synthetic(25, groups, rng)
    rho_fit, lam_fit, residual = fit_rho_lambda(W, G, groups)
    np.testing.assert_allclose(rho_fit[:, :5], rho[:, :5], rtol=1e-8)
    np.testing.assert_allclose(lam_fit[:, :5], lam[:, :5], rtol=1e-8, atol=1e-12)
    assert np.all(np.isnan(rho_fit[:, 5])) and np.all(residual < 1e-10)
    _, _, res_one = fit_rho_lambda(W, G, [np.arange(6)])      # one shared scalar cannot fit
    assert np.median(res_one) > 1e-3


def test_component_groups():
    assert [g.tolist() for g in component_groups(released(3))] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert [g.tolist() for g in component_groups(shallow(3))] == [[0, 1, 2]]
    groups = component_groups(random_decomposition(9, seed=2))
    assert sorted(np.concatenate(groups).tolist()) == list(range(9))


def test_run_matches_the_general_evaluator(data, run3):
    dec, T = released(3), 2
    model = FactorisedMixture(dec, D)
    dspn, order = model.to_spn(run3.initial)
    flat = run3.initial.flatten()[order]
    for t in range(T + 1):
        np.testing.assert_allclose(dspn.component_weights(flat), run3.weights[t], rtol=1e-10)
        llh, grad = log_likelihood_and_gradient(dspn.spn, data, flat)
        assert llh.mean == pytest.approx(run3.llh[t], rel=1e-10)
        flat = flat + run3.eta * grad


def test_upper_products_and_relative_steps(run3):
    P = run3.upper_products()
    u0, u1 = run3.layers[0], run3.layers[1]
    np.testing.assert_allclose(P[:, 0], u0[:, 0] * u1[:, 0])
    np.testing.assert_allclose(P[:, 7], u0[:, 1] * u1[:, 3])
    assert run3.relative_steps().shape == (40,) and np.all(run3.relative_steps() > 0)


def test_exact_coefficients_describe_the_run(run3):
    form = coefficients(run3, "exact")
    assert np.max(form.residual(run3.weights, run3.shallow_grads)) < 1e-9
    P, eta = run3.upper_products(), run3.eta
    t, tau = 30, 12
    assert form.mu[t, tau] == pytest.approx(eta * (P[t + 1] - P[t]) * P[tau], rel=1e-9)
    rho_fit, _, residual = fit_rho_lambda(run3.weights, run3.shallow_grads, component_groups(released(3)))
    np.testing.assert_allclose(rho_fit, form.rho, rtol=1e-6)
    assert np.max(residual) < 1e-9
    first = coefficients(run3, "first order")
    assert 1e-9 < np.max(first.residual(run3.weights, run3.shallow_grads)) < 1e-2
    assert np.all(coefficients(run3, "exact, no carry").carry == 0)
    with pytest.raises(ValueError, match="unknown variant"):
        coefficients(run3, "Eq. 99")
    assert set(VARIANTS) >= {"exact", "first order", "printed (Eq. 13)", "plain gradient"}


def test_explicit_optimiser_is_plain_ascent_with_constant_rate_and_no_momentum(data):
    K, T, eta = 4, 6, 2e-3
    rng = np.random.default_rng(3)
    start = MixtureParams(rng.uniform(0.3, 0.7, (K, D, 2)), (rng.uniform(0.5, 1.0, K),))
    form = MomentumForm(np.full((T, K), eta), np.zeros((T, K)), np.zeros((T, T, K)), np.zeros((T, K)))
    run = adaptive_momentum_ascent(data, start, form, leaf_eta=eta)
    model = FactorisedMixture(shallow(K), D)
    p = start
    for t in range(T + 1):
        llh, g = model.llh_and_grad(p, data)
        np.testing.assert_allclose(run.weights[t], p.layers[0], rtol=1e-12)
        assert run.llh[t] == pytest.approx(llh.mean, rel=1e-12)
        p = MixtureParams(p.leaf + eta * g.leaf, (p.layers[0] + eta * g.layers[0],))


def test_explicit_optimiser_with_exact_schedule_tracks_the_deep_run(run3, data):
    start = MixtureParams(run3.initial.leaf, (run3.weights[0],))
    shallow_run = adaptive_momentum_ascent(data, start, coefficients(run3, "exact"), leaf_eta=run3.eta)
    assert np.max(drift(run3.weights, shallow_run.weights)) < 1e-10
    np.testing.assert_allclose(shallow_run.llh, run3.llh, rtol=1e-10)


def test_invalid_steps_raise_or_stop(data):
    dec = balanced((2, 2))
    start = near_zero_params(dec, D, 1e-3, seed=0)
    with pytest.raises(ValueError, match="step 0"):
        train_overparameterized(dec, data, start, eta=1.0, n_steps=5)
    run = train_overparameterized(dec, data, start, eta=1.0, n_steps=5, on_invalid="stop")
    assert run.stopped_at == 0 and run.weights.shape == (1, 4)


def test_bad_input_is_refused(data, run3):
    dec = balanced((2, 2))
    start = near_zero_params(dec, D, 0.3, seed=0)
    for eta in (0.0, -1.0, np.nan):
        with pytest.raises(ValueError, match="eta"):
            train_overparameterized(dec, data, start, eta=eta, n_steps=3)
    with pytest.raises(ValueError, match="n_steps"):
        train_overparameterized(dec, data, start, eta=0.1, n_steps=0)
    with pytest.raises(ValueError, match="on_invalid"):
        train_overparameterized(dec, data, start, eta=0.1, n_steps=2, on_invalid="ignore")
    with pytest.raises(ValueError, match=r"\(T, K\)"):
        momentum_form(np.ones((3, 2)), np.ones((3, 3)), np.ones(2))
    with pytest.raises(ValueError, match="1 \\+ lambda"):
        momentum_form(np.ones((2, 1)), np.full((2, 1), -1.5), np.ones(1))
    with pytest.raises(ValueError, match="shallow"):
        adaptive_momentum_ascent(data, start, coefficients(run3), leaf_eta=0.1)
    with pytest.raises(ValueError, match="components"):
        adaptive_momentum_ascent(data, MixtureParams(start.leaf, (np.ones(4),)), coefficients(run3), leaf_eta=0.1)
    with pytest.raises(ValueError, match="weights must be"):
        fit_rho_lambda(np.ones((3, 2)), np.ones((1, 2)), [np.arange(2)])
    with pytest.raises(ValueError, match="scale"):
        near_zero_params(dec, D, 0.0, seed=0)


def test_drift():
    ref = np.array([[1.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(drift(ref, ref + np.array([[0.1, 0.0], [0.0, 0.5]])), [0.1, 0.1])

"""Tests for spnlib.studies.end_to_end: the laws on the numeric core, layer recovery, the optimiser."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import decompositions, random_data

from spnlib.data.counted import CountedData
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.structure.decomposition import balanced, random_decomposition, released, shallow
from spnlib.studies.end_to_end import (
    FIRST_ORDER_SLOPE,
    TRACKING_RTOL,
    balanced_layers,
    balanced_start,
    conservation_drift,
    conserved,
    end_to_end_ascent,
    generators,
    incidence,
    loglog_slope,
    node_constants,
    noether_residual,
    recover_layers,
    tracking,
    velocity,
)
from spnlib.studies.observation1 import near_zero_params, train_overparameterized
from spnlib.studies.verification import end_to_end_study
from spnlib.symbolic.conservation import end_to_end_velocity
from spnlib.symbolic.derivation import Derivation
from spnlib.tolerances import EXACT_RTOL, ROUNDOFF

D = 5
UNBALANCED = random_decomposition(8, 8)          # ((0, 1), ((2, 3), (4, 5, 6)), 7)
LOW, HIGH = FIRST_ORDER_SLOPE


@pytest.fixture(scope="module")
def data():
    return CountedData.from_array(random_data(np.random.default_rng(1), 400, D))


def random_layers(dec, rng, low=0.2, high=2.0):
    return [rng.uniform(low, high, n) for n in dec.layer_sizes]


def test_generators_keep_w_and_the_root_scales_it():
    for dec in (balanced((2, 2)), released(3), UNBALANCED, shallow(4)):
        A, G = incidence(dec), generators(dec)
        assert A.shape == (dec.n_components, dec.n_weights) and np.all(A.sum(axis=1) == [len(p) for p in dec.paths])
        np.testing.assert_array_equal(A @ G[:-1].T, 0)            # node laws: every log w_k unchanged
        np.testing.assert_array_equal(A @ G[-1], 1)               # root law: every log w_k + log c


@settings(max_examples=25, deadline=None)
@given(dec=decompositions(), seed=st.integers(0, 10_000))
def test_layers_are_recovered_from_w_and_the_constants(dec, seed):
    u = random_layers(dec, np.random.default_rng(seed))
    back = recover_layers(dec, dec.component_weights(u), node_constants(dec, u))
    for a, b in zip(back, u):
        np.testing.assert_allclose(a, b, rtol=EXACT_RTOL)


def test_recovery_rejects_bad_input():
    dec = balanced((2, 2))
    with pytest.raises(ValueError, match="mixture weights > 0"):
        recover_layers(dec, np.array([1.0, 0.0, 1.0, 1.0]), np.zeros(2))
    with pytest.raises(ValueError, match="node constants"):
        recover_layers(dec, np.ones(4), np.zeros(3))


@pytest.mark.parametrize("dec", [balanced((2, 2)), released(2), released(3), balanced((3, 2, 2))])
def test_balanced_closed_form_is_the_root_finding_at_zero_constants(dec):
    u = balanced_start(dec, 0.7, seed=3)
    assert np.max(np.abs(node_constants(dec, u))) < ROUNDOFF
    w = dec.component_weights(u)
    for a, b, c in zip(balanced_layers(dec, w), recover_layers(dec, w, np.zeros(len(node_constants(dec, u)))), u):
        np.testing.assert_allclose(a, c, rtol=EXACT_RTOL)
        np.testing.assert_allclose(b, c, rtol=EXACT_RTOL)


def test_fig2_balanced_velocity_is_the_closed_form():
    """dw = ||w_g|| g + w (w . g) / ||w_g|| per group (the brief's form), against the general J J^T."""
    dec, rng = balanced((2, 2)), np.random.default_rng(5)
    w, g = rng.uniform(0.1, 2.0, 4), rng.normal(size=4)
    v = velocity(dec, balanced_layers(dec, w), g)
    for grp in (slice(0, 2), slice(2, 4)):
        n = np.linalg.norm(w[grp])
        np.testing.assert_allclose(v[grp], n * g[grp] + w[grp] * (w[grp] @ g[grp]) / n, rtol=EXACT_RTOL)


@pytest.mark.parametrize("dec", [released(3), UNBALANCED])
def test_velocity_matches_the_symbolic_derivation(dec):
    der = Derivation(dec)
    s = der.spn
    u_syms = [v for _, _, v in s.all_layer_weights()]
    fn = sp.lambdify([*u_syms, *s.shallow_grads], list(end_to_end_velocity(der)), modules="numpy")
    rng = np.random.default_rng(2)
    u, g = random_layers(dec, rng), rng.normal(size=dec.n_components)
    np.testing.assert_allclose(velocity(dec, u, g), np.array(fn(*np.concatenate(u), *g), dtype=float),
                               rtol=EXACT_RTOL)


@pytest.mark.parametrize("dec", [released(3), UNBALANCED])
def test_velocity_is_the_chain_rule_of_the_layer_gradient(dec, data):
    """J J^T g_w = J g_u with g_u from the numeric core's backward pass; rho_only is P_k^2 g_k."""
    rng = np.random.default_rng(4)
    params = MixtureParams(rng.uniform(0.3, 0.7, (dec.n_components, D, 2)), tuple(random_layers(dec, rng)))
    _, g_deep = FactorisedMixture(dec, D).llh_and_grad(params, data)
    w = dec.component_weights(params.layers)
    _, g_flat = FactorisedMixture(shallow(dec.n_components), D).llh_and_grad(MixtureParams(params.leaf, (w,)), data)
    u = np.concatenate(params.layers)
    J = incidence(dec) * w[:, None] / u[None, :]
    np.testing.assert_allclose(velocity(dec, params.layers, g_flat.layers[0]), J @ np.concatenate(g_deep.layers),
                               rtol=1e-9, atol=1e-12)
    bottom = np.array([np.concatenate(params.layers)[dec.flat_index[k, dec.depth(k) - 1]]
                       for k in range(dec.n_components)])
    np.testing.assert_allclose(velocity(dec, params.layers, g_flat.layers[0], rho_only=True),
                               (w / bottom) ** 2 * g_flat.layers[0], rtol=EXACT_RTOL)


@pytest.mark.parametrize("dec", [balanced((2, 2)), released(3), UNBALANCED])
def test_noether_identity_on_the_numeric_core(dec, data):
    rng = np.random.default_rng(6)
    params = MixtureParams(rng.uniform(0.3, 0.7, (dec.n_components, D, 2)), tuple(random_layers(dec, rng)))
    assert np.max(noether_residual(dec, params, data)) < ROUNDOFF


def test_one_step_changes_each_quantity_by_eta_squared_times_its_gradient_form(data):
    """Q(u + eta g) - Q(u) = eta^2 sum_i s_i g_i^2 (the O(eta) term vanishes by the identity)."""
    dec, eta = UNBALANCED, 1e-2
    rng = np.random.default_rng(7)
    params = MixtureParams(rng.uniform(0.3, 0.7, (dec.n_components, D, 2)), tuple(random_layers(dec, rng)))
    _, grad = FactorisedMixture(dec, D).llh_and_grad(params, data)
    new = [u + eta * g for u, g in zip(params.layers, grad.layers)]
    change = conserved(dec, new) - conserved(dec, params.layers)
    predicted = eta ** 2 * generators(dec) @ np.concatenate(grad.layers) ** 2
    scale = np.abs(generators(dec)) @ np.concatenate(params.layers) ** 2
    np.testing.assert_allclose(change / scale, predicted / scale, rtol=1e-6, atol=ROUNDOFF)


def test_conservation_drift_over_a_fixed_time_vanishes_like_eta(data):
    dec = released(3)
    params = near_zero_params(dec, D, 0.5, seed=1)
    drifts = [np.max(conservation_drift(train_overparameterized(dec, data, params, eta, int(round(0.5 / eta)),
                                                                 train_leaves=False)))
              for eta in (1e-2, 1e-3)]
    assert LOW < loglog_slope([1e-2, 1e-3], drifts) < HIGH


def test_end_to_end_optimiser_starts_at_the_deep_layers_and_uses_only_w0_and_constants(data):
    dec = UNBALANCED
    rng = np.random.default_rng(8)
    params = MixtureParams(rng.uniform(0.3, 0.7, (dec.n_components, D, 2)), tuple(random_layers(dec, rng, 0.5, 1.0)))
    run = end_to_end_ascent(data, dec, params.leaf, dec.component_weights(params.layers),
                            node_constants(dec, params.layers), 1e-3, 5)
    for got, want in zip(run.layers, params.layers):
        np.testing.assert_allclose(got[0], want, rtol=EXACT_RTOL)
    # the recovered layers keep the constants along the run
    for t in range(6):
        Q = node_constants(dec, [lay[t] for lay in run.layers])
        np.testing.assert_allclose(Q, node_constants(dec, params.layers), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("start", ["balanced", "released"])
@pytest.mark.parametrize("train_leaves", [False, True])
def test_end_to_end_tracks_the_deep_run_to_first_order(data, start, train_leaves):
    dec = released(3)
    leaf = near_zero_params(dec, D, 1.0, seed=2).leaf
    layers = balanced_start(dec, 1.0, seed=2) if start == "balanced" else dec.constant_layer_weights(1.0)
    tr = tracking(data, dec, MixtureParams(leaf, tuple(layers)), [0.1, 0.01], time=1.0, train_leaves=train_leaves)
    assert LOW < tr.slopes()["deviation"] < HIGH
    assert tr.deviation[-1] < TRACKING_RTOL
    assert tr.deviation[-1] < 1e-2 * tr.movement[-1]
    if start == "released":      # the balanced closed form does not describe an unbalanced start, at any eta
        assert tr.controls["balanced form"][-1] > 0.5 * tr.controls["balanced form"][0] > 10 * tr.deviation[0]
    assert tr.controls["rate only"][-1] > 10 * tr.deviation[0]


def test_fixed_leaf_tracking_is_invariant_under_a_common_scale(data):
    """u -> s u with eta -> s^2 eta leaves every w / ||w|| trajectory and deviation unchanged."""
    dec = balanced((2, 2))
    leaf = near_zero_params(dec, D, 1.0, seed=3).leaf
    runs = [tracking(data, dec, MixtureParams(leaf, tuple(dec.constant_layer_weights(s))), [0.05 * s ** 2],
                     time=0.5 * s ** 2, controls=()) for s in (1.0, 1e-4)]
    np.testing.assert_allclose(runs[0].deviation, runs[1].deviation, rtol=1e-6)
    np.testing.assert_allclose(runs[0].llh_gap, runs[1].llh_gap, rtol=1e-6)


def test_end_to_end_ascent_rejects_bad_input(data):
    dec = balanced((2, 2))
    leaf = near_zero_params(dec, D, 1.0, seed=0).leaf
    with pytest.raises(ValueError, match="on_invalid"):
        end_to_end_ascent(data, dec, leaf, np.ones(4), np.zeros(2), 0.1, 3, on_invalid="ignore")
    with pytest.raises(ValueError, match="leaf weights"):
        end_to_end_ascent(data, dec, leaf[:3], np.ones(4), np.zeros(2), 0.1, 3)
    with pytest.raises(ValueError, match="made a weight <= 0"):
        end_to_end_ascent(data, dec, leaf, np.full(4, 1e-4), np.zeros(2), 10.0, 50)
    with pytest.raises(ValueError, match="unknown control"):
        tracking(data, dec, MixtureParams(leaf, tuple(dec.constant_layer_weights(1.0))), [0.1], 0.2,
                 controls=("momentum",))


def test_end_to_end_study_summary(data):
    study = end_to_end_study(data, structures={"Fig. 2": balanced((2, 2)), "unbalanced": UNBALANCED},
                             etas=(0.1, 0.01), time=0.5, scale=1.0, trained_structures=("Fig. 2",),
                             trained_etas=(0.01, 0.001), trained_time=0.2)
    summary = study.summary()
    assert set(summary) == {"Fig. 2 | balanced | leaves fixed", "Fig. 2 | released | leaves fixed",
                            "unbalanced | balanced | leaves fixed", "unbalanced | released | leaves fixed",
                            "Fig. 2 | balanced | leaves trained", "Fig. 2 | released | leaves trained"}
    assert all(LOW < s["slopes"]["deviation"] < HIGH for s in summary.values())
    assert "control[balanced form]_min_eta" not in summary["unbalanced | released | leaves fixed"]
    assert max(study.noether.values()) < ROUNDOFF
    ev = study.evidence()
    assert LOW < ev["slope_fixed"][0] <= ev["slope_fixed"][1] < HIGH and LOW < ev["slope_trained"][0]
    assert ev["deviation_fixed"] < TRACKING_RTOL and ev["noether"] < ROUNDOFF
    assert ev["balanced_form_on_released"] > 10 * ev["deviation_fixed"]

"""Tests for spnlib.studies.dynamics: exact one-step changes vs first-order forms."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import decompositions, random_data

from spnlib.data.counted import CountedData
from spnlib.numeric.evaluate import log_likelihood_and_gradient
from spnlib.numeric.fastpath import FactorisedMixture
from spnlib.structure.decomposition import balanced, random_decomposition, released, shallow
from spnlib.studies.dynamics import (
    FORMS,
    eta_grid,
    exact_change,
    first_order_coefficients,
    first_order_error,
    one_step_errors,
    one_step_state,
    predicted_change,
    random_params,
    slope_study,
)

D = 5


@pytest.fixture(scope="module")
def data():
    return CountedData.from_array(random_data(np.random.default_rng(0), 300, D))


def state_for(dec, data, seed=0):
    return one_step_state(FactorisedMixture(dec, D), random_params(dec, D, seed), data)


def test_exact_change_equals_a_step_of_the_general_evaluator(data):
    dec = released(3)
    model = FactorisedMixture(dec, D)
    params = random_params(dec, D, 1)
    dspn, order = model.to_spn(params)
    flat = params.flatten()[order]
    _, grad = log_likelihood_and_gradient(dspn.spn, data, flat)
    eta = 1e-2
    stepped = dspn.with_layer_weights(flat, dspn.layer_weights(flat + eta * grad))
    expected = dspn.component_weights(stepped) - dspn.component_weights(flat)
    np.testing.assert_allclose(exact_change(state_for(dec, data, 1), eta), expected, rtol=1e-9)


def test_shallow_gradient_obeys_eq7_for_the_bottom_weight(data):
    dec = random_decomposition(7, seed=3)
    s = state_for(dec, data, 2)
    for k in range(dec.n_components):
        l, j = dec.depth(k) - 1, dec.phi(k, dec.depth(k) - 1)
        assert s.layer_grads[l][j] == pytest.approx(s.weights[k] / s.layers[l][j] * s.shallow_grad[k], rel=1e-10)


def test_chain_rule_is_the_derivative_of_the_exact_change(data):
    s = state_for(released(3), data, 4)
    h = 1e-6
    plus = np.prod(np.append(np.concatenate([u + h * g for u, g in zip(s.layers, s.layer_grads)]), 1.0)
                   [s.decomposition.flat_index], axis=1)
    minus = np.prod(np.append(np.concatenate([u - h * g for u, g in zip(s.layers, s.layer_grads)]), 1.0)
                    [s.decomposition.flat_index], axis=1)
    np.testing.assert_allclose(predicted_change(s, 1.0, "chain rule"), (plus - minus) / (2 * h), rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(dec=decompositions(max_components=7), seed=st.integers(0, 1000))
def test_corrected_form_equals_chain_rule_on_any_decomposition(dec, seed):
    data = CountedData.from_array(random_data(np.random.default_rng(seed), 60, D))
    s = state_for(dec, data, seed)
    np.testing.assert_allclose(predicted_change(s, 0.1, "corrected rho, lambda"),
                               predicted_change(s, 0.1, "chain rule"), rtol=1e-9, atol=1e-14)


def test_printed_form_is_right_for_fig2_and_wrong_for_three_layers(data):
    fig2 = state_for(balanced((2, 2)), data)
    np.testing.assert_allclose(first_order_coefficients(fig2, 0.1, "printed (Eq. 13)"),
                               first_order_coefficients(fig2, 0.1, "corrected rho, lambda"), rtol=1e-12)
    deep = state_for(released(3), data)
    rho_printed, _ = first_order_coefficients(deep, 0.1, "printed (Eq. 13)")
    rho_corrected, _ = first_order_coefficients(deep, 0.1, "corrected rho, lambda")
    np.testing.assert_allclose(rho_corrected, 0.1 * (deep.layers[0][deep.decomposition.flat_index[:, 0]] *
                                                     deep.layers[1][deep.decomposition.flat_index[:, 1] - 2]) ** 2)
    assert not np.allclose(rho_printed, rho_corrected)


def test_error_slopes(data):
    s = state_for(released(3), data, 5)
    etas = eta_grid(s, 1e-6, 1e-2, 7)
    from spnlib.stats.intervals import fit_loglog_slope
    slopes = {f: fit_loglog_slope(etas, e).slope.estimate for f, e in one_step_errors(s, etas).items()}
    assert slopes["chain rule"] == pytest.approx(2, abs=0.01)
    assert slopes["corrected rho, lambda"] == pytest.approx(2, abs=0.01)
    for f in ("printed (Eq. 13)", "printed, sum over all layers", "plain gradient"):
        assert slopes[f] == pytest.approx(1, abs=0.01)


def test_eta_grid_spans_the_requested_relative_steps(data):
    s = state_for(balanced((2, 3)), data)
    grid = eta_grid(s, 1e-5, 1e-1, 5)
    scale = max(np.max(np.abs(g / u)) for u, g in zip(s.layers, s.layer_grads))
    np.testing.assert_allclose(grid * scale, np.logspace(-5, -1, 5))


def test_slope_study_table_and_random_structures(data):
    study = slope_study({"Fig. 2": balanced((2, 2)), "random": lambda seed: random_decomposition(6, seed)},
                        data, seeds=[0, 1, 2], forms=["corrected rho, lambda", "plain gradient"], n_etas=5)
    rows = study.table()
    assert len(rows) == 4 and rows[0][:2] == ["Fig. 2", "corrected rho, lambda"]
    assert rows[0][2] == pytest.approx(2, abs=0.01) and rows[0][3] <= rows[0][2] <= rows[0][4]
    assert study.errors[("random", "plain gradient")].shape == (3, 5)
    assert study.etas["Fig. 2"].shape == (3, 5)


def test_bad_input_is_refused(data):
    s = state_for(balanced((2, 2)), data)
    for eta in (0.0, -1e-3, np.inf):
        with pytest.raises(ValueError, match="eta"):
            exact_change(s, eta)
        with pytest.raises(ValueError, match="eta"):
            predicted_change(s, eta, "chain rule")
    with pytest.raises(ValueError, match="unknown form"):
        first_order_coefficients(s, 0.1, "Eq. 99")
    with pytest.raises(ValueError):
        eta_grid(s, 1e-2, 1e-6)
    with pytest.raises(ValueError, match="two seeds"):
        slope_study({"x": balanced((2, 2))}, data, seeds=[0])
    with pytest.raises(ValueError):
        random_params(shallow(3), D, 0, low=0.0)


def test_forms_are_documented():
    assert set(FORMS) == {"chain rule", "corrected rho, lambda", "printed (Eq. 13)",
                          "printed, sum over all layers", "plain gradient"}


def test_first_order_error_depends_on_eta_over_scale_squared():
    dec = balanced((2, 2))
    base = first_order_error(dec, 1e-3, 1.0)
    assert first_order_error(dec, 1e-5, 0.1) == pytest.approx(base, rel=1e-6)   # same eta / s^2
    assert first_order_error(dec, 1e-4, 1.0) == pytest.approx(base / 10, rel=0.05)
    assert first_order_error(dec, 1e-2, 1e-2) > 0.5                             # eta / s^2 = 100


@pytest.mark.parametrize("eta, scale", [(0.0, 1.0), (-1e-3, 1.0), (1e-3, 0.0)])
def test_first_order_error_refuses_bad_input(eta, scale):
    with pytest.raises(ValueError, match="must be > 0"):
        first_order_error(balanced((2, 2)), eta, scale)

"""Tests for spnlib.studies.effective_rate: rho(t) / eta = w_2(t)^2 along gradient descent on w_1 w_2."""
from __future__ import annotations

import numpy as np
import pytest

from spnlib.studies.effective_rate import effective_rates, start_weights
from spnlib.studies.linear import (
    compare_descent,
    descent_curves,
    lp_minimum,
    overparameterized_gradients,
    regression_problem,
)
from spnlib.tolerances import EXACT_RTOL


@pytest.mark.parametrize("init_scale", [0.0, 1.0])
def test_start_is_the_start_of_compare_descent(init_scale):
    """The same problems and the same w(0) as the speed study: its loss curves are reproduced."""
    seed, p, eta, c = 3, 4, 0.01, 0.5
    comp = compare_descent(p, [seed], [eta], 50, (c,), init_scale=init_scale, n_samples=40, n_features=4)
    X, y = regression_problem(seed, n_samples=40, n_features=4)
    _, best = lp_minimum(X, y, p)
    mine = descent_curves(X, y, p, [eta], 50, start_weights(seed, 4, init_scale), w2_0=c)[0] - best
    np.testing.assert_allclose(mine, comp.excess[1, 0, 0], rtol=EXACT_RTOL, atol=0)


def test_ratio_follows_w2_of_hand_made_steps():
    """w_2(t)^2 against gradient steps taken by hand with the chain-rule gradients (another route)."""
    seed, p, eta, c, n = 1, 4, 0.02, 1.0, 30
    rates = effective_rates(p, [seed], eta, n, w2_0=c, init_scale=1.0, n_samples=30, n_features=3)
    X, y = regression_problem(seed, n_samples=30, n_features=3)
    w1, w2 = start_weights(seed, 3, 1.0) / c, c
    expected = [w2 ** 2]
    for _ in range(n):
        g1, g2 = overparameterized_gradients(w1, w2, X, y, p)
        w1, w2 = w1 - eta * g1, w2 - eta * g2
        expected.append(w2 ** 2)
    np.testing.assert_allclose(rates.ratio[0], expected, rtol=EXACT_RTOL)
    assert rates.ratio[0, 0] == c ** 2 and rates.n_diverged == 0 and rates.seeds == (1,)


def test_a_diverging_run_is_counted_and_its_rate_is_not_a_number():
    rates = effective_rates(4, [0, 1], 50.0, 20, w2_0=2.0, init_scale=1.0, n_samples=30, n_features=3)
    assert rates.diverged.all() and rates.n_diverged == 2
    assert np.isnan(rates.ratio[:, -1]).all() and np.isfinite(rates.ratio[:, 0]).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"eta": 0.0}, "eta"), ({"eta": np.inf}, "eta"), ({"n_steps": 0}, "n_steps"),
    ({"seeds": []}, "at least one"), ({"init_scale": -1.0}, "init_scale"),
])
def test_bad_input_is_refused(kwargs, message):
    args = {"p": 4, "seeds": [0], "eta": 0.01, "n_steps": 5, **kwargs}
    with pytest.raises(ValueError, match=message):
        effective_rates(**args)


def test_rho_quantiles_skip_diverged_runs():
    """rho = eta w_2^2, and its quantiles are taken over the runs that converge only."""
    rates = effective_rates(4, [0, 1, 2], 0.02, 10, w2_0=2.0, init_scale=1.0, n_samples=30, n_features=3)
    np.testing.assert_allclose(rates.rho, 0.02 * rates.ratio, rtol=0)
    assert rates.rho[0, 0] == pytest.approx(0.08)
    ok = ~rates.diverged
    expected = np.median(rates.rho[ok, 10]) if ok.any() else np.nan
    np.testing.assert_equal(rates.rho_quantiles(10, (0.5,))[0], expected)
    with pytest.raises(ValueError, match="step"):
        rates.rho_quantiles(11)

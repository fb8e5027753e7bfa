"""Tests for spnlib.studies.linear: the SymPy derivation, the numeric step, gradient descent runs."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from spnlib.stats.intervals import fit_loglog_slope
from spnlib.stats.speedup import first_reaching, lower_median, speedups
from spnlib.studies.linear import (
    compare_descent,
    derive_linear,
    descent_curves,
    end_to_end_step,
    linear_speed_study,
    lp_gradient,
    lp_loss,
    lp_minimum,
    overparameterized_gradients,
    regression_problem,
)


@pytest.fixture(scope="module")
def derivation():
    return derive_linear(2)


def test_every_printed_formula_checks_out(derivation):
    assert derivation.checks and all(derivation.checks.values()), derivation.checks


def test_checks_can_fail():
    """A wrong 'printed' formula must be reported as False (the check is not vacuous)."""
    d = derive_linear(1)
    wrong = d.grad_w[0] - (d.x[0] * d.w[0] - d.y) ** d.p * d.x[0]
    assert sp.simplify(wrong) != 0


@pytest.mark.parametrize("p", [2, 4])
def test_symbolic_gradients_equal_finite_differences(derivation, p):
    d = derivation
    rng = np.random.default_rng(p)
    vals = dict(zip(list(d.x) + list(d.w1), rng.normal(size=4)))
    vals[d.y], vals[d.w2], vals[d.p] = 0.3, 0.8, p
    loss = ((d.x.T * d.w1)[0] * d.w2 - d.y) ** d.p / d.p
    f = sp.lambdify([list(d.w1), d.w2], loss.subs({k: v for k, v in vals.items() if k not in (*d.w1, d.w2)}))
    w1, w2, h = np.array([vals[s] for s in d.w1]), vals[d.w2], 1e-6
    fd_w1 = [(f(w1 + h * e, w2) - f(w1 - h * e, w2)) / (2 * h) for e in np.eye(2)]
    fd_w2 = (f(w1, w2 + h) - f(w1, w2 - h)) / (2 * h)
    np.testing.assert_allclose([float(g.subs(vals)) for g in d.grad_w1], fd_w1, rtol=1e-6, atol=1e-9)
    assert float(d.grad_w2.subs(vals)) == pytest.approx(fd_w2, rel=1e-6, abs=1e-9)


def test_symbolic_gradient_matches_numpy(derivation):
    d = derivation
    rng = np.random.default_rng(3)
    X, y, w = rng.normal(size=(1, 2)), rng.normal(size=1), rng.normal(size=2)
    subs = {**dict(zip(d.x, X[0])), **dict(zip(d.w, w)), d.y: y[0], d.p: 4}
    np.testing.assert_allclose([float(g.subs(subs)) for g in d.grad_w], lp_gradient(w, X, y, 4), rtol=1e-12)


def test_remainder_is_second_order(derivation):
    d = derivation
    assert all(sp.simplify(sp.diff(r, d.eta).subs(d.eta, 0)) == 0 for r in d.remainder)
    assert any(sp.simplify(sp.diff(r, d.eta, 2)) != 0 for r in d.remainder)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.sampled_from([2, 4]))
def test_numpy_gradients_equal_finite_differences(seed, p):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    w1, w2, h = rng.normal(size=3), float(rng.uniform(0.5, 2)), 1e-6
    g1, g2 = overparameterized_gradients(w1, w2, X, y, p)
    fd1 = [(lp_loss((w1 + h * e) * w2, X, y, p) - lp_loss((w1 - h * e) * w2, X, y, p)) / (2 * h) for e in np.eye(3)]
    fd2 = (lp_loss(w1 * (w2 + h), X, y, p) - lp_loss(w1 * (w2 - h), X, y, p)) / (2 * h)
    np.testing.assert_allclose(g1, fd1, rtol=1e-5, atol=1e-6)
    assert g2 == pytest.approx(fd2, rel=1e-5, abs=1e-6)


def test_end_to_end_step_first_order_and_exact():
    X, y = regression_problem(0, n_samples=50, n_features=4)
    w1, w2 = np.array([0.3, -0.2, 0.1, 0.5]), 0.7
    etas = np.logspace(-5, -2, 6)
    errs = [np.linalg.norm(r["exact"] - r["first_order"]) for r in (end_to_end_step(w1, w2, X, y, 4, e) for e in etas)]
    assert fit_loglog_slope(etas, errs).slope.estimate == pytest.approx(2.0, abs=0.01)
    r = end_to_end_step(w1, w2, X, y, 4, 1e-2)
    np.testing.assert_allclose(r["exact"], r["with_remainder"], rtol=1e-12, atol=1e-15)
    assert r["rho"] == pytest.approx(1e-2 * w2**2)


@pytest.mark.parametrize("eta", [0.0, -1.0, np.nan])
def test_end_to_end_step_rejects_bad_eta(eta):
    X, y = regression_problem(0, n_samples=5, n_features=2)
    with pytest.raises(ValueError, match="eta"):
        end_to_end_step(np.ones(2), 1.0, X, y, 2, eta)


def test_bad_problems_are_refused():
    X, y = regression_problem(0, n_samples=5, n_features=2)
    with pytest.raises(ValueError, match="even"):
        lp_loss(np.ones(2), X, y, 3)
    with pytest.raises(ValueError, match="shapes"):
        lp_gradient(np.ones(2), X, y[:-1], 2)
    with pytest.raises(ValueError, match="learning rates"):
        descent_curves(X, y, 2, [0.1, -0.1], 3, np.zeros(2))
    with pytest.raises(ValueError, match="w0"):
        descent_curves(X, y, 2, [0.1], 3, np.zeros(3))
    with pytest.raises(ValueError, match="w2_0"):
        descent_curves(X, y, 2, [0.1], 3, np.zeros(2), w2_0=0.0)
    with pytest.raises(ValueError):
        regression_problem(0, condition=0.5)
    with pytest.raises(ValueError, match="n_features"):
        derive_linear(0)


@pytest.mark.parametrize("p", [2, 4])
def test_lp_minimum_has_zero_gradient_and_is_lowest(p):
    X, y = regression_problem(1)
    w, value = lp_minimum(X, y, p)
    assert np.max(np.abs(lp_gradient(w, X, y, p))) < 1e-10
    rng = np.random.default_rng(0)
    assert all(lp_loss(w + 1e-3 * rng.normal(size=w.size), X, y, p) > value for _ in range(20))


def test_descent_curves_match_an_explicit_loop():
    X, y = regression_problem(2, n_samples=30, n_features=3)
    w0, eta = np.array([0.1, 0.0, -0.1]), 0.05
    curves, w2s = descent_curves(X, y, 4, [eta], 5, w0, w2_0=2.0, return_w2=True)
    w1, w2, losses, w2_path = w0 / 2.0, 2.0, [], []
    for _ in range(6):
        losses.append(lp_loss(w1 * w2, X, y, 4))
        w2_path.append(w2)
        g1, g2 = overparameterized_gradients(w1, w2, X, y, 4)
        w1, w2 = w1 - eta * g1, w2 - eta * g2
    np.testing.assert_allclose(curves[0], losses, rtol=1e-12)
    np.testing.assert_allclose(w2s[0], w2_path, rtol=1e-12)
    plain = descent_curves(X, y, 2, [eta], 3, w0)
    w, ref = w0.copy(), []
    for _ in range(4):
        ref.append(lp_loss(w, X, y, 2))
        w = w - eta * lp_gradient(w, X, y, 2)
    np.testing.assert_allclose(plain[0], ref, rtol=1e-12)


def test_diverged_runs_are_frozen_at_inf():
    X, y = regression_problem(0)
    curves = descent_curves(X, y, 4, [0.01, 100.0], 50, np.zeros(10))
    assert np.all(np.isfinite(curves[0])) and np.isinf(curves[1, -1])
    assert first_reaching(curves, 0.0, increasing=False)[1] == np.inf


def test_first_reaching_a_loss_target():
    its = first_reaching(np.array([[3.0, 2.0, 1.0], [3.0, 3.0, 3.0]]), 2.0, increasing=False)
    np.testing.assert_array_equal(its, [1, np.inf])


def test_compare_descent_shapes_and_speedups():
    c = compare_descent(4, seeds=[0, 1, 2], etas=[0.05, 0.1, 0.2], n_steps=300, w2_inits=(0.5, 1.0), n_samples=60)
    assert c.methods == ("plain", "w1 w2, w2(0) = 0.5", "w1 w2, w2(0) = 1")
    assert c.iterations.shape == (3, 3, 3) and c.excess.shape == (3, 3, 3, 301)
    its, etas = c.best()
    assert its.shape == (3, 3) and set(np.unique(etas)) <= {0.05, 0.1, 0.2}
    np.testing.assert_allclose(c.speedup("w1 w2, w2(0) = 1"), its[0] / its[2])
    for m, method in enumerate(c.methods[1:], start=1):
        s, unfinished = c.speedup_interval(method)
        assert unfinished == int((~(np.isfinite(its[0]) & np.isfinite(its[m]))).sum())
        if s.bound == "=":        # the ratio of median iterations, censored runs kept
            assert s.factor == pytest.approx(lower_median(its[0]) / lower_median(its[m]))
            assert s.low <= s.factor <= s.high
    with pytest.raises(ValueError, match="tolerance"):
        compare_descent(2, [0], [0.1], 5, tolerance=2.0)


def test_linear_speed_study_tunes_on_held_out_problems():
    etas = [0.02, 0.05, 0.1, 0.2]
    st_ = linear_speed_study(4, etas, 200, w2_inits=(1.0,), seeds=[0, 1, 2], tuning_seeds=[7, 8], n_samples=60)
    assert st_.methods == ("plain", "w1 w2, w2(0) = 1") and st_.excess.shape == (2, 3, 201)
    tune = compare_descent(4, [7, 8], etas, 200, (1.0,), n_samples=60)
    for m in range(2):                          # the rate with the fewest median updates to 99 % on 7, 8
        t99 = [lower_median(first_reaching(tune.excess[m, :, j], 0.01 * tune.excess[m, :, j, 0], increasing=False))
               for j in range(len(etas))]
        assert st_.tuning_times[m].tolist() == t99
        stable = np.isfinite(tune.excess[m, :, :, -1]).all(axis=0)
        assert st_.stable[m].tolist() == stable.tolist() and stable[list(etas).index(st_.tuned_eta[m])]
        assert t99[list(etas).index(st_.tuned_eta[m])] == min(t for t, ok in zip(t99, stable) if ok)
    evaluation = compare_descent(4, [0, 1, 2], [st_.tuned_eta[1]], 200, (1.0,), n_samples=60)
    np.testing.assert_allclose(st_.excess[1], evaluation.excess[1, :, 0])
    times = st_.times(0.9)
    assert times.shape == (2, 3)
    for m, r in zip(*np.nonzero(np.isfinite(times))):
        t = int(times[m, r])
        assert st_.excess[m, r, t] <= 0.1 * st_.excess[m, r, 0] < st_.excess[m, r, t - 1]
    assert np.all(np.isinf(st_.excess[np.isinf(times), -1]) | (st_.excess[np.isinf(times), -1] > 0))
    ups = st_.speedups(0.9)
    assert ups[1].text() == speedups(times, 200, 0, 0.9)[1].text()
    assert [m.runs for m in st_.median_times(0.99)] == [3, 3]
    with pytest.raises(ValueError, match="held out"):
        linear_speed_study(2, etas, 10, seeds=[0, 1], tuning_seeds=[1, 2])
    with pytest.raises(ValueError, match="fraction"):
        st_.times(1.0)

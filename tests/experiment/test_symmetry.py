"""Symmetry diagnostics (spnlib.experiment.symmetry)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from spnlib.data.counted import CountedData
from spnlib.experiment.protocols import get_protocol, run_protocol
from spnlib.experiment.symmetry import (
    departure_iteration,
    drift,
    growth_per_iteration,
    independent_llh,
    reference_run,
    symmetry_trace,
    ulp_perturbation,
)
from spnlib.numeric.batched import MixtureBatch
from spnlib.numeric.fastpath import FactorisedMixture
from spnlib.structure.decomposition import released

rng = np.random.default_rng(4)
X = rng.integers(0, 2, (300, 5)) * (rng.random((300, 5)) < 0.7)
DATA = CountedData.from_array(X)


def test_independent_llh_is_the_best_product_of_bernoullis():
    p = X.mean(axis=0)
    brute = np.mean([sum(np.log(p[d] if x[d] else 1 - p[d]) for d in range(5)) for x in X])
    assert independent_llh(DATA) == pytest.approx(brute, rel=1e-12)
    # and no other product of Bernoullis does better (a grid around the optimum)
    for shift in itertools.product((-0.05, 0.05), repeat=2):
        q = p.copy()
        q[:2] += shift
        assert np.mean(np.log(np.where(X == 1, q, 1 - q)).sum(axis=1)) < independent_llh(DATA)


def test_identical_components_stay_identical_and_layer_gradients_vanish():
    decs = [released(L) for L in (1, 2, 3)]
    trace = symmetry_trace(decs, DATA, MixtureBatch(decs, 5).initial_params(), iterations=200)
    assert np.all(trace.leaf_spread == 0) and np.all(trace.weight_spread == 0)
    assert np.all(trace.layer_gradient <= 1e-12 * trace.gradient_scale)
    assert np.allclose(trace.gradient_scale[:, 0], 1 / (8 * 1e-4))
    # every depth follows the same curve, which stays below the ceiling of one product of Bernoullis
    assert np.abs(trace.llh - trace.llh[0]).max() < 1e-12
    assert trace.llh.max() < independent_llh(DATA)


def test_one_ulp_breaks_the_symmetry():
    decs = [released(1)]
    p = MixtureBatch(decs, 5).initial_params()
    q = ulp_perturbation(p, seed=0)
    moved = q.leaf != p.leaf
    assert 0 < moved.mean() < 1 and np.all(q.leaf[moved] == np.nextafter(0.5, 1))
    trace = symmetry_trace(decs, DATA, q, eta=0.05, iterations=150)
    assert trace.leaf_spread[0, 0] > 0 and trace.leaf_spread[0, -1] > 1e-3
    assert growth_per_iteration(trace.leaf_spread[0]) > 1.5


def test_departure_and_growth_on_known_series():
    a = np.zeros(10)
    b = a.copy()
    b[6:] = 1.0
    assert departure_iteration(b, a) == 7 and departure_iteration(a, a) is None
    s = 1e-15 * 3.0 ** np.arange(40)
    assert growth_per_iteration(s) == pytest.approx(3.0, rel=1e-9)
    assert np.isnan(growth_per_iteration(np.zeros(5)))
    d = drift(a, b, tolerance=0.5)
    assert d.first_iteration == 7 and d.max_difference == 1.0


def test_reference_run_equals_the_batched_protocol():
    curves = run_protocol(get_protocol("released").with_changes(iterations=40), DATA, (1, 3), runs=1)
    for i, L in enumerate((1, 3)):
        ref = reference_run(released(L), DATA, FactorisedMixture(released(L), 5).initial_params(), iterations=40)
        assert np.allclose(ref, curves.train[i, 0], rtol=1e-12, atol=0)

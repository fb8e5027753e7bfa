"""The shared identity checks of the chapter "Sum-product networks" and the report."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spnlib.numeric import evaluate
from spnlib.studies.identities import all_queries, all_states, identity_checks, paper_networks, random_rows
from spnlib.tolerances import FD_RTOL, ROUNDOFF


def test_the_identities_hold_on_the_paper_networks():
    checks = identity_checks(paper_networks(2019))
    assert checks.partition < ROUNDOFF and checks.expressiveness < ROUNDOFF and checks.induced_trees < ROUNDOFF
    assert checks.marginals < ROUNDOFF and checks.n_marginals == 3 ** 3
    assert checks.n_trees == 4 * 2 ** 3
    assert checks.gradient < FD_RTOL


def test_the_marginal_check_sees_a_wrong_marginal(monkeypatch):
    """Independent of the evaluator: if f(x0 = 1, rest missing) were off, the check reports it."""
    nets = paper_networks(2019)
    log_value = evaluate.log_value

    def off(spn, x):
        out = log_value(spn, x)
        return out + 1e-3 * ((x == -1).sum(axis=1) == 2)     # marginals over two variables shifted
    monkeypatch.setattr(evaluate, "log_value", off)
    assert identity_checks(nets).marginals == pytest.approx(1e-3, rel=1e-6)


def test_queries_and_rows():
    q = all_queries(2)
    assert q.shape == (9, 2) and len({tuple(r) for r in q}) == 9 and set(q.ravel()) == {0, 1, -1}
    assert np.array_equal(random_rows(3, 5, seed=1), random_rows(3, 5, seed=1)) and random_rows(3).shape == (200, 3)
    with pytest.raises(ValueError, match="3\\^D"):
        all_queries(13)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_the_identities_hold_for_any_leaf_weights_and_size(seed, n_variables):
    checks = identity_checks(paper_networks(seed, n_variables), seed=seed)
    assert max(checks.partition, checks.marginals, checks.expressiveness, checks.induced_trees) < ROUNDOFF
    assert checks.n_marginals == 3 ** n_variables and checks.n_trees == 4 * 2 ** n_variables
    assert checks.gradient < FD_RTOL


def test_the_checks_can_fail():
    """A network whose w_k are not Fig. 2's products: the expressiveness check sees it."""
    from spnlib.structure import builders
    from spnlib.structure.decomposition import shallow
    nets = paper_networks(3)
    uniform = builders.decomposed_spn(shallow(4), nets.components, [np.full(4, 0.25)])
    broken = type(nets)(nets.components, nets.fig1, nets.fig2, uniform)   # not Fig. 2's products
    assert identity_checks(broken).expressiveness > 1e-3


def test_fig2_weights_are_the_products_of_its_layer_weights():
    nets = paper_networks(2019)
    np.testing.assert_allclose(nets.fig2.component_weights(nets.fig2.spn.weights()), [0.1, 0.4, 0.2, 0.3])
    assert evaluate.log_partition(nets.fig2.spn) == pytest.approx(evaluate.log_partition(nets.fig1.spn), abs=1e-12)


def test_all_states_and_bad_sizes():
    s = all_states(3)
    assert s.shape == (8, 3) and len({tuple(r) for r in s}) == 8
    with pytest.raises(ValueError, match="2\\^D"):
        all_states(0)
    with pytest.raises(ValueError, match="K = 4"):
        paper_networks(shallow_weights=(0.5, 0.5))


def test_the_gradient_check_sees_a_wrong_gradient(monkeypatch):
    """A gradient 1 % off (finite differences unchanged) is reported: 1 % of the largest |w dL/dw|."""
    exact = evaluate.log_likelihood_and_gradient
    nets = paper_networks(2019)
    w = nets.fig2.spn.weights()
    largest = np.max(np.abs(w * exact(nets.fig2.spn, random_rows(3), w)[1]))

    def off(spn, data, weights=None):
        llh, grad = exact(spn, data, weights)
        return llh, 1.01 * grad
    monkeypatch.setattr(evaluate, "log_likelihood_and_gradient", off)
    assert identity_checks(nets).gradient == pytest.approx(0.01 * largest, rel=1e-3)

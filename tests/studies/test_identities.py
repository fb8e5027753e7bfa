"""The shared identity checks of the chapter "Sum-product networks" and the report."""
from __future__ import annotations

import numpy as np
import pytest

from spnlib.numeric import evaluate
from spnlib.studies.identities import all_states, identity_checks, paper_networks
from spnlib.tolerances import ROUNDOFF


def test_the_identities_hold_on_the_paper_networks():
    checks = identity_checks(paper_networks(2019))
    assert checks.partition < ROUNDOFF and checks.expressiveness < ROUNDOFF and checks.induced_trees < ROUNDOFF
    assert checks.n_trees == 4 * 2 ** 3
    assert checks.gradient < 1e-7


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

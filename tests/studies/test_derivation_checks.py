"""The one-line checks of the derivation chapter (spnlib.studies.derivation_checks)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from spnlib.structure.decomposition import balanced, released, shallow
from spnlib.studies.derivation_checks import (
    decomposition_reproduces_f,
    expansion_summary,
    momentum_term_ratio,
    responsibility_identity,
    velocity_is_first_order,
)
from spnlib.symbolic.derivation import Derivation

TREES = [shallow(3), balanced((2, 2)), released(3), ((0, 1), 2, ((3, 4), 5))]


def test_the_identities_hold_on_the_chapters_trees():
    assert decomposition_reproduces_f(TREES)
    assert responsibility_identity(TREES)
    assert velocity_is_first_order(TREES)


def test_the_checks_can_fail():
    """A wrong first-order coefficient (c_1 doubled) is caught; so is a wrong decomposition of g."""
    der = Derivation(balanced((2, 2)))
    der.first_order = tuple(2 * c for c in der.first_order)      # overrides the cached property
    assert not velocity_is_first_order([der])
    bad = Derivation(balanced((2, 2)))
    bad.spn.g = lambda star=False: sp.Integer(0)                  # type: ignore[method-assign]
    assert not decomposition_reproduces_f([bad])


def test_one_momentum_term_is_the_dropped_second_order_term_on_fig2():
    assert momentum_term_ratio(balanced((2, 2))) == 1


def constructed(constant: float, etas, scales) -> np.ndarray:
    """Errors exactly constant * eta / s^2 up to 1, two identical seeds."""
    ratio = np.asarray(etas)[None, :] / np.asarray(scales)[:, None] ** 2
    err = np.minimum(constant * ratio, 1.0)
    return np.stack([err, err], axis=1)


def test_expansion_summary_on_a_constructed_grid():
    etas, scales = np.logspace(-6, 0, 7), (1.0, 0.1, 0.01, 0.001)
    errors = constructed(0.02, etas, scales)
    errors[0, :, 0] = 0.5                                  # eta / s^2 = 1e-6: below the floor, ignored
    out = expansion_summary(errors, etas, scales)
    assert out.per_ratio == pytest.approx((0.02, 0.02)) and out.spread == pytest.approx(0.0, abs=1e-12)
    assert out.large_error == 1.0
    errors[1, :, 0] *= 1.1                                 # s = 0.1, eta = 1e-6: eta / s^2 = 1e-4
    assert expansion_summary(errors, etas, scales).spread == pytest.approx(0.1)


def test_expansion_summary_rejects_bad_input():
    etas, scales = np.logspace(-6, 0, 7), (1.0, 0.1)
    with pytest.raises(ValueError, match="do not match"):
        expansion_summary(np.zeros((2, 3, 6)), etas, scales)
    with pytest.raises(ValueError, match="needs points"):
        expansion_summary(constructed(0.02, etas[:3], (1.0,)), etas[:3], (1.0,))

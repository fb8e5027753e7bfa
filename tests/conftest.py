"""Shared fixtures and tolerances for the spnlib tests."""
from __future__ import annotations

import numpy as np
import pytest

# Shared float tolerances (one place, so they are stated once and can be audited).
RTOL_EXACT = 1e-10      # two exact computations of the same quantity (e.g. two evaluators)
RTOL_FD = 1e-6          # analytic gradient vs central finite differences


@pytest.fixture(autouse=True)
def _seed_numpy() -> None:
    """Every test starts from the same global NumPy seed (tests use their own Generators too)."""
    np.random.seed(0)


@pytest.fixture(scope="session")
def nltcs_train() -> np.ndarray:
    """NLTCS training split via the loader (SPNLIB_DATA points at the DEBD files in CI)."""
    from spnlib.data.debd import load_debd
    return load_debd("nltcs", "train", download=False)

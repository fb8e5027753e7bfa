"""Shared fixtures and tolerances for the spnlib tests."""
from __future__ import annotations

import numpy as np
import pytest

from spnlib.tolerances import EXACT_RTOL as RTOL_EXACT  # noqa: F401  (the tests' names for them)
from spnlib.tolerances import FD_RTOL as RTOL_FD  # noqa: F401


@pytest.fixture(autouse=True)
def _seed_numpy() -> None:
    """Every test starts from the same global NumPy seed (tests use their own Generators too)."""
    np.random.seed(0)


@pytest.fixture(scope="session")
def nltcs_train() -> np.ndarray:
    """NLTCS training split via the loader (SPNLIB_DATA points at the DEBD files in CI)."""
    from spnlib.data.debd import load_debd
    return load_debd("nltcs", "train", download=False)

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


@pytest.fixture
def small_data(monkeypatch):
    """Every explorer training (spnlib.experiment.explore) on a small random dataset, with an empty
    cache of settings before and after; yields that dataset."""
    import spnlib.experiment.explore as explore
    from spnlib.data.counted import CountedData

    data = CountedData.from_array(np.random.default_rng(0).integers(0, 2, (60, 4)))
    monkeypatch.setattr(explore, "load_counted", lambda name, split="train": data)
    explore.settings_curves.cache_clear()
    yield data
    explore.settings_curves.cache_clear()

"""Shared fixtures and tolerances for the spnlib tests."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from spnlib.tolerances import EXACT_RTOL as RTOL_EXACT  # noqa: F401  (the tests' names for them)
from spnlib.tolerances import FD_RTOL as RTOL_FD  # noqa: F401

# Property tests draw the same examples on every run and every machine ("reproducible", the
# default, used by `make test` and CI): a red suite can be re-run and shows the same failure.
# HYPOTHESIS_PROFILE=explore draws fresh random examples each run, to look for new failures.
# Neither profile times anything: no per-example deadline, and the health check that fails when
# generating examples is slow (a busy machine) is off.
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("reproducible", derandomize=True, database=None, print_blob=True, **_UNTIMED)
settings.register_profile("explore", derandomize=False, print_blob=True, **_UNTIMED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "reproducible"))


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

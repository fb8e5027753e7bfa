"""The suite's own settings: property tests are reproducible and nothing is timed."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def test_property_tests_draw_the_same_examples_and_are_not_timed():
    current = settings()
    if os.environ.get("HYPOTHESIS_PROFILE", "reproducible") == "reproducible":
        assert current.derandomize and current.database is None
    assert current.deadline is None
    assert HealthCheck.too_slow in current.suppress_health_check

"""Tests for spnlib.studies.verification: the chapter's studies return what their summaries claim."""
from __future__ import annotations

import numpy as np
import pytest
from strategies import random_data

from spnlib.data.counted import CountedData
from spnlib.structure.decomposition import balanced, released
from spnlib.studies.verification import (
    SLOPE_STRUCTURES,
    claim1_study,
    first_order_slopes,
    observation1_study,
    regime_table,
    slope_summary,
)

D = 5


@pytest.fixture(scope="module")
def data():
    return CountedData.from_array(random_data(np.random.default_rng(5), 300, D))


def test_first_order_slopes_and_summary(data):
    study = first_order_slopes(data, seeds=[0, 1], n_etas=5)
    assert study.structures == tuple(SLOPE_STRUCTURES)
    summary = slope_summary(study)
    for s in study.structures:
        assert summary[s]["chain rule"][0] == pytest.approx(2, abs=0.01)
        assert summary[s]["plain gradient"][0] == pytest.approx(1, abs=0.01)
    assert summary["Fig. 2 (2, 2)"]["printed (Eq. 13)"][0] == pytest.approx(2, abs=0.01)
    assert summary["L = 3 (2, 2, 2)"]["printed (Eq. 13)"][0] == pytest.approx(1, abs=0.01)


def test_observation1_study_summary(data):
    study = observation1_study(data, structures={"L = 3": released(3)}, scale=0.3, eta=1e-3, n_steps=30,
                               variants=("exact", "first order", "exact, no carry"))
    s = study.summary()["L = 3"]
    assert s["n_steps"] == 30 and s["eq14_exact_residual_max"] < 1e-10 and s["group_fit_residual_max"] < 1e-10
    assert s["drift[exact]"] < 1e-12 and s["drift[first order]"] > s["drift[exact]"]
    assert s["drift[exact, no carry]"] > s["drift[first order]"]
    assert set(s["share_of_change"]) == {"rho g", "momentum", "carry"}
    assert s["scalar_fit_residual_median"] > 1e-3


def test_regime_table(data):
    rows = regime_table(data, balanced((2, 2)), [(1e-4, 1e-2), (0.3, 1e-3)], n_steps=20)
    assert rows[0]["stopped_at"] == 0 and rows[0]["first_relative_step"] > 1
    assert "carry_share" not in rows[0]
    assert rows[1]["stopped_at"] is None and rows[1]["steps_run"] == 20
    assert rows[1]["first_relative_step"] < 0.1 and 0 < rows[1]["carry_share"]


def test_claim1_study_summary(data):
    study = claim1_study(data, seeds=[0, 1], etas_deep=[0.3, 1.0], etas_free=[0.03, 0.3], n_steps=20,
                         equality_steps=3)
    summary = study.summary(fractions=(0.9,))
    assert set(summary) == {"shared", "tree-shaped"}
    for s in summary.values():
        assert s["n_spns"] == 2 and s["value_residual_max"] < 1e-10 and s["step_residual_max"] < 1e-10
        assert s["private_fraction_max"] == 0.0 and 0 < s["rank_over_n_trees_max"] < 1
        assert 0 < s["own_gradient_share_mean"] < 1
        assert "deep_speedup@0.9" in s and "unfinished@0.9" in s

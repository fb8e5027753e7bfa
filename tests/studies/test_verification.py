"""Tests for spnlib.studies.verification: the chapter's studies return what their summaries claim."""
from __future__ import annotations

import numpy as np
import pytest
from strategies import random_data

from spnlib.data.counted import CountedData
from spnlib.structure.decomposition import balanced, random_decomposition, released
from spnlib.studies.verification import (
    OBS1_LEAN,
    SLOPE_STRUCTURES,
    end_to_end_study,
    first_order_slopes,
    observation1_study,
    regime_table,
    slope_summary,
)
from spnlib.tolerances import FIRST_ORDER_SLOPE, ROUNDOFF, TRACKING_RTOL

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


def test_obs1_lean_supports_the_conclusions(data):
    """The light preset keeps the study's conclusions: first-order slopes, tracking below TRACKING_RTOL,
    controls that do not vanish; without a balanced-form control (unbalanced tree only) the evidence
    omits that key instead of failing."""
    study = end_to_end_study(data, structures={"Fig. 2": balanced((2, 2))}, **OBS1_LEAN)
    ev = study.evidence()
    lo, hi = FIRST_ORDER_SLOPE
    assert lo < ev["slope_fixed"][0] <= ev["slope_fixed"][1] < hi
    assert lo < ev["slope_trained"][0] <= ev["slope_trained"][1] < hi
    assert ev["deviation_fixed"] < TRACKING_RTOL and ev["deviation_trained"] < TRACKING_RTOL
    assert ev["noether"] < ROUNDOFF
    assert min(ev["balanced_form_on_released"], ev["rate_only"]) > 10 * ev["deviation_fixed"]
    unbalanced = end_to_end_study(data, structures={"unbalanced": random_decomposition(8, 8)}, starts=("released",),
                                  etas=(0.1, 0.03), time=0.3, trained_structures=())
    assert "balanced_form_on_released" not in unbalanced.evidence()

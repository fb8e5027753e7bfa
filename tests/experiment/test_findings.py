"""The verdict-bearing numbers of Sec. 3.1 (spnlib.experiment.findings)."""
from __future__ import annotations

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.experiment.findings import acceleration_summary, faithful_reproduction


def test_faithful_reproduction_facts(nltcs_train):
    r = faithful_reproduction(CountedData.from_array(nltcs_train))
    assert r.runs_identical and r.depth_spread < 1e-10
    assert r.final < r.independent_optimum < r.paper_final.min()       # the paper's curves pass the ceiling
    assert r.comparison["max_abs_difference"].min() > 1                  # so they cannot be reproduced
    assert np.allclose(r.comparison["difference"][:, :2], 0, atol=2e-4)  # iterations 1 and 10 agree
    assert all(12 <= t <= 20 for t in r.paper_departure)


def test_acceleration_summary_shapes():
    data = CountedData.from_array(np.random.default_rng(0).integers(0, 2, (100, 4)))
    (rep,) = acceleration_summary(data, ("perturbed",), depths=(1, 2), runs=3)
    assert rep.curves.shape == (2, 3, 500) and [a.depth for a in rep.acceleration_90] == [1, 2]
    assert rep.acceleration_90[0].factor == 1 and len(rep.rows) == 2

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


def test_order_report_ablations_and_sweep_on_small_data():
    from spnlib.data.counted import CountedData
    from spnlib.experiment.findings import asymmetry_settings, asymmetry_sweep, floor_ablations, order_report

    small = CountedData.from_array(np.random.default_rng(2).integers(0, 2, (40, 16)))
    rep = order_report(small, runs=3, n_boot=20, iterations=40)
    assert set(rep.curves) == {"released-order", "ulp"} and rep.symmetric.shape == (40,)
    assert rep.traces["ulp"].distinct.shape == (3, 3, 40) and len(rep.matches["ulp"]) == 3
    rows = floor_ablations(small, runs=2, ablations={"floor 1e-8": {"floor": 1e-8}}, iterations=40)
    assert rows[0].name == "floor 1e-8" and rows[0].final_median.shape == (3,) and not rows[0].nonfinite
    settings = asymmetry_settings((1e-3,))
    assert list(settings) == ["leaf, ulp", "leaf, 0.001", "layer, ulp", "layer, 0.001"]
    sweep = asymmetry_sweep(small, {"leaf, 0.001": settings["leaf, 0.001"]}, runs=2, iterations=40)
    assert sweep[0].departure.shape == (3,) and sweep[0].acceleration_3.depth == 3

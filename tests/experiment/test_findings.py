"""The verdict-bearing numbers of Sec. 3.1 (spnlib.experiment.findings)."""
from __future__ import annotations

import numpy as np
import pytest

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


def _steps(sym: np.ndarray, leave: int, linger: int, plateau_value: float = -7.75, end: float = -7.0) -> np.ndarray:
    """The symmetric curve until update ``leave``, then ``linger`` updates at ``plateau_value``, then ``end``."""
    c = sym.copy()
    c[leave:leave + linger] = plateau_value
    c[leave + linger:] = end
    return c


def test_escape_and_plateau_counts_what_was_built_into_the_curves():
    from spnlib.experiment.findings import PLATEAU, escape_and_plateau

    assert PLATEAU[0] < -7.75 < PLATEAU[1]
    T = 400
    sym = np.linspace(-11.0, -10.0, T)
    # depth 1: leaves at updates 20, 22, 30, lingers 150, 100, 200; depth 2: 10, 12, 14 and 30, 40, 50
    runs = [[(20, 150), (22, 100), (30, 200)], [(10, 30), (12, 40), (14, 50)]]
    curves = np.array([[_steps(sym, a, b) for a, b in depth] for depth in runs])
    r = escape_and_plateau(curves, sym, depths=(1, 2))
    assert r.depths == (1, 2)
    assert np.array_equal(r.departure, [23, 13])               # iterations count from 1: update 22 -> 23
    assert np.array_equal(r.plateau, [150, 40])
    assert np.array_equal(r.reach, [20 + 150, 12 + 40])       # median of the first updates at or above -7.2
    assert r.departure_spread == 10 and r.reach_gap == 170 - 52


def test_escape_and_plateau_censors_runs_that_never_leave_or_never_reach():
    from spnlib.experiment.findings import escape_and_plateau

    sym = np.linspace(-11.0, -10.0, 50)
    curves = np.stack([np.stack([sym, sym, sym])])
    r = escape_and_plateau(curves, sym, depths=(1,))
    assert r.departure[0] == 51 and r.plateau[0] == 0 and np.isinf(r.reach[0])
    with pytest.raises(ValueError, match="depths"):
        escape_and_plateau(curves, sym, depths=(1, 2))
    with pytest.raises(ValueError, match="low < high"):
        escape_and_plateau(curves, sym, depths=(1,), plateau=(-7.0, -8.0))


def _curves(name: str, train: np.ndarray):
    from spnlib.experiment.protocols import Curves, get_protocol

    return Curves(get_protocol(name), "nltcs", (1, 2, 3), tuple(range(train.shape[1])), train)


def test_order_grid_shows_the_reports_runs_without_training():
    from spnlib.experiment.findings import OrderReport, order_grid
    from spnlib.stats.speedup import mean_confidence_band

    rng = np.random.default_rng(1)
    T = 23
    train = np.cumsum(rng.uniform(0, 0.1, (3, 6, T)), axis=2) - 11
    faithful = _curves("released", np.repeat(np.linspace(-11, -10, T)[None, None], 3, axis=0).repeat(2, axis=1))
    report = OrderReport({"released-order": _curves("released-order", train)}, {}, {}, faithful.train[0, 0])
    g = order_grid(report, faithful, every=5)
    keep = [0, 5, 10, 15, 20, 22]
    assert np.array_equal(g.iterations, np.array(keep) + 1) and g.etas.tolist() == [0.01]
    assert g.variant == "released-order" and g.runs == 6 and g.depths == (1, 2, 3)
    assert g.mean.shape == g.low.shape == g.high.shape == g.faithful.shape == (1, 3, len(keep))
    assert np.allclose(g.mean[0], train.mean(axis=1)[:, keep])
    assert np.array_equal(g.faithful[0], faithful.train[:, 0, keep])
    m, lo, hi = mean_confidence_band(train[1])
    assert np.array_equal(g.low[0, 1], lo[keep]) and np.array_equal(g.high[0, 1], hi[keep])
    with pytest.raises(ValueError, match="no variant 'ulp'"):
        order_grid(report, faithful, variant="ulp")
    with pytest.raises(ValueError, match="do not match"):
        order_grid(report, _curves("released", faithful.train[:, :, :10]))

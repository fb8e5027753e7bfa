"""Learning-rate sweeps and optimiser tuning (spnlib.experiment.comparisons)."""
from __future__ import annotations

import numpy as np
import pytest

from spnlib.data.counted import CountedData
from spnlib.experiment.comparisons import (
    Config,
    optimiser_runs,
    optimiser_study,
    rate_sweep,
    sweep_summary,
    train_grid,
    tune_rate,
    updated_study,
)
from spnlib.experiment.protocols import get_protocol, run_protocol
from spnlib.stats.speedup import acceleration

rng = np.random.default_rng(6)
DATA = CountedData.from_array(rng.integers(0, 2, (200, 4)))
PROTO = get_protocol("perturbed").with_changes(iterations=40)


def test_grid_equals_protocol_runs_model_by_model():
    grid = train_grid(PROTO, DATA, [Config("projected", 0.01, 1), Config("projected", 0.01, 3)], seeds=[0, 1])
    ref = run_protocol(PROTO, DATA, (1, 3), runs=2, seed=0).train
    assert grid.shape == (2, 2, 40)
    assert np.allclose(grid, ref, rtol=1e-13)


def test_rate_sweep_shapes_and_batching_do_not_matter():
    etas = [0.003, 0.03, 0.3]
    sweep = rate_sweep(PROTO, DATA, etas, (1, 2), seeds=[0, 1, 2])
    assert sweep.shape == (3, 2, 3, 40)
    small = train_grid(PROTO, DATA, [Config("projected", e, L) for e in etas for L in (1, 2)], [0, 1, 2],
                       max_models=4).reshape(sweep.shape)
    assert np.allclose(sweep, small, rtol=1e-13)
    s = sweep_summary(sweep, etas, (1, 2))
    assert s.final_mean.shape == s.needed_median.shape == s.reached.shape == s.largest_drop.shape == (3, 2)
    assert s.best == pytest.approx(np.median(sweep[..., -1], axis=-1).max())     # the best arm's median final
    assert s.initial == pytest.approx(sweep[..., 0].mean())
    assert np.all((0 <= s.reached) & (s.reached <= 1)) and np.all(s.largest_drop >= 0)
    falling = sweep.copy()
    falling[0, 0, :, 5] -= 1.0                                   # every run of (eta 0, L 1) drops by 1 once
    assert sweep_summary(falling, etas, (1, 2)).largest_drop[0, 0] > 0.9


def test_tune_rate_picks_the_largest_area_under_the_curve():
    etas = [1e-4, 1e-2, 1e-1]
    best, scores = tune_rate(PROTO, DATA, "adam", 1, etas, seeds=[10, 11])
    assert best == etas[int(np.argmax(scores))] and scores.shape == (3,)
    curves = optimiser_runs(PROTO, DATA, [Config("adam", best, 1)], seeds=[10, 11])
    assert curves.mean() == pytest.approx(scores.max(), rel=1e-12)
    with pytest.raises(ValueError, match="learning rate"):
        tune_rate(PROTO, DATA, "adam", 1, [0.0], seeds=[0])


def test_optimiser_study_tunes_every_depth_on_held_out_seeds():
    grids = {"projected": [0.01, 0.1], "adam": [0.003, 0.03]}
    study = optimiser_study(PROTO, DATA, ("projected", "adam"), (1, 2), grids, tuning_seeds=[10, 11], seeds=[0, 1, 2])
    assert [(c.rule, c.depth) for c in study.configs] == [("projected", 1), ("projected", 2), ("adam", 1), ("adam", 2)]
    for c, scores in zip(study.configs, study.scores):
        best, ref = tune_rate(PROTO, DATA, c.rule, c.depth, grids[c.rule], [10, 11])
        assert c.eta == best and np.allclose(scores, ref)
    np.testing.assert_allclose(study.curves, optimiser_runs(PROTO, DATA, list(study.configs), [0, 1, 2]), rtol=1e-13)
    ups = study.speedups(0.9)
    assert len(ups) == 4 and ups[0].runs == 3
    rows, start, end = study.gap_rows()
    assert end == pytest.approx(np.median(study.curves[:, :, -1], axis=1).max())
    assert len(rows) == 4 and all(isinstance(e, bool) for e in study.at_grid_edge())
    with pytest.raises(ValueError, match="held out"):
        optimiser_study(PROTO, DATA, ("adam",), (1,), grids, tuning_seeds=[0], seeds=[0, 1])


def test_updated_study_train_and_test():
    test = CountedData.from_array(rng.integers(0, 2, (50, 4)))
    study = updated_study(("toy",), depths=(1, 2), runs=3, iterations=30, data={"toy": (DATA, test)})
    c = study.curves["toy"]
    assert c.train.shape == c.test.shape == (2, 3, 30)
    ref = run_protocol(get_protocol("updated").with_changes(iterations=30), DATA, (1, 2), runs=3, test=test)
    np.testing.assert_array_equal(c.train, ref.train)
    for which, curves in (("train", c.train), ("test", c.test)):
        ups = study.speedups("toy", which, 0.9)
        assert [u.text() for u in ups] == [u.text() for u in acceleration(curves, (1, 2), 0.9)]
        rows, *_ = study.gap_rows("toy", which)
        assert rows[0].runs == 3
    with pytest.raises(ValueError, match="which"):
        study.speedups("toy", "validation")


def test_updated_study_iterations_per_dataset():
    test = CountedData.from_array(rng.integers(0, 2, (50, 4)))
    data = {"a": (DATA, test), "b": (DATA, test)}
    study = updated_study(("a", "b"), depths=(1,), runs=2, iterations={"b": 12}, data=data)
    assert study.curves["a"].train.shape == (1, 2, get_protocol("updated").iterations)
    assert study.curves["b"].train.shape == study.curves["b"].test.shape == (1, 2, 12)
    np.testing.assert_array_equal(study.curves["b"].train, study.curves["a"].train[:, :, :12])
    with pytest.raises(ValueError, match="not in the study"):
        updated_study(("a",), runs=1, iterations={"c": 5}, data=data)

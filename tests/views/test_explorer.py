"""Explorers (spnlib.views.explorer): the static HTML contract and the live callback, headless."""
from __future__ import annotations

import json
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from spnlib.data.counted import CountedData  # noqa: E402
from spnlib.experiment.explore import explorer_grid  # noqa: E402
from spnlib.views.explorer import StaticExplorer, draw_settings, static_explorer_html  # noqa: E402

DATA = CountedData.from_array(np.random.default_rng(0).integers(0, 2, (60, 4)))


@pytest.fixture(scope="module")
def grid():
    return explorer_grid(DATA, [0.003, 0.01, 0.1], depths=(1, 2), runs=2, iterations=40, every=5)


def test_grid_shapes(grid):
    assert grid.faithful.shape == grid.mean.shape == (3, 2, grid.iterations.size)
    assert grid.iterations[0] == 1 and grid.iterations[-1] == 40
    assert np.all(grid.low <= grid.mean + 1e-12) and np.all(grid.mean <= grid.high + 1e-12)


def test_static_explorer_markup_follows_the_contract(grid):
    html = static_explorer_html(grid)
    assert html.startswith('<div class="static-explorer"')
    assert re.search(r'<input type="range" name="eta" min="0" max="2"', html)
    assert re.search(r'<input type="range" name="depth" min="1" max="2"', html)
    assert 'class="static-explorer-figure"' in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    payload = json.loads(re.search(r'<script type="application/json">(.*?)</script>', html, re.S).group(1))
    assert payload["depths"] == [1, 2] and len(payload["mean"]) == 3 and len(payload["paper"]) == 3
    assert static_explorer_html(grid) == html                        # deterministic
    explorer = StaticExplorer(grid)
    assert explorer._repr_html_() == html and repr(explorer).startswith("StaticExplorer(3 learning rates x 2")


def test_live_callback_runs_headless(monkeypatch):
    import spnlib.experiment.explore as explore
    import spnlib.views.explorer as explorer
    monkeypatch.setattr(explore, "load_counted", lambda name, split="train": DATA)
    explorer.settings_curves.cache_clear()
    fig, ax = plt.subplots()
    out = draw_settings(0.05, 2, "perturbed", "nltcs", 2, ax=ax)
    assert out["runs"] == 2 and np.isfinite(out["final"]) and np.isfinite(out["final_shallow"])
    assert len(ax.get_lines()) == 2
    both = explorer.settings_curves(0.05, (1, 2), "perturbed", "nltcs", 2)
    assert both.shape == (2, 2, 500)
    assert np.array_equal(explorer.settings_curves(0.05, 2, "perturbed", "nltcs", 2), both[1])
    out = draw_settings(0.01, 1, "released", "nltcs", 3, ax=ax)
    assert out["runs"] == 1 and out["final"] == out["final_shallow"]
    with pytest.raises(ValueError, match="depth L"):
        draw_settings(0.01, 5)
    with pytest.raises(ValueError, match="learning rate"):
        draw_settings(-1, 2)
    with pytest.raises(ValueError, match="unknown dataset"):
        explorer.settings_curves(0.01, 1, "perturbed", "mnist", 2)
    explorer.settings_curves.cache_clear()
    plt.close("all")


def test_a_live_curve_depends_on_its_setting_only(monkeypatch):
    """Whatever was drawn before, a depth's curve is the run of that depth alone (one batch per depth)."""
    import spnlib.experiment.explore as explore
    import spnlib.views.explorer as explorer
    from spnlib.experiment.protocols import get_protocol, run_protocol

    monkeypatch.setattr(explore, "load_counted", lambda name, split="train": DATA)
    alone = run_protocol(get_protocol("perturbed").with_changes(eta=0.05), DATA, (2,), runs=3).train[0]
    explorer.settings_curves.cache_clear()
    cold = explorer.settings_curves(0.05, 2, "perturbed", "nltcs", 3)
    explorer.settings_curves.cache_clear()
    with_shallow = explorer.settings_curves(0.05, (1, 2), "perturbed", "nltcs", 3)[1]
    explorer.settings_curves.cache_clear()
    assert np.array_equal(cold, alone) and np.array_equal(with_shallow, alone)

"""Explorers (spnlib.views.explorer): round ticks, the static HTML contract, the live figure and driver, headless."""
from __future__ import annotations

import json
import math
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from spnlib.data.counted import CountedData  # noqa: E402
from spnlib.experiment.explore import InlineRunner, LiveSession, explorer_grid, settings_curves  # noqa: E402
from spnlib.views.explorer import (  # noqa: E402
    LiveExplorer,
    StaticExplorer,
    draw_settings,
    frame_svg,
    nice_ticks,
    static_explorer_html,
)
from spnlib.views.figures import DEPTH_COLOURS  # noqa: E402

DATA = CountedData.from_array(np.random.default_rng(0).integers(0, 2, (60, 4)))


@pytest.fixture(scope="module")
def grid():
    return explorer_grid(DATA, [0.003, 0.01, 0.1], depths=(1, 2), runs=2, iterations=40, every=5)


@pytest.fixture
def small_data(small_data):
    """The shared small dataset (tests/conftest.py), closing the figures drawn."""
    yield small_data
    plt.close("all")


def payload_of(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json">(.*?)</script>', html, re.S).group(1))


# ----------------------------------------------------------------------------------- ticks
@given(st.floats(-1e6, 1e6), st.floats(0, 1e6), st.integers(3, 10))
def test_ticks_are_round_and_cover_the_range(lo, width, max_ticks):
    hi = lo + width
    low, high, ticks = nice_ticks(lo, hi, max_ticks)
    assert low == ticks[0] <= lo and hi <= high == ticks[-1] and 2 <= len(ticks) <= max_ticks
    assert len(set(ticks)) == len(ticks)
    step = (high - low) / (len(ticks) - 1)
    tol = 1e-9 + 1e-14 * max(abs(low), abs(high)) / step        # ticks are rounded floats of their size
    assert np.allclose(np.diff(ticks) / step, 1.0, atol=tol)
    mantissa = step / 10.0 ** math.floor(math.log10(step) + 1e-6)
    assert any(math.isclose(mantissa, m, rel_tol=tol) for m in (1, 2, 2.5, 5))
    assert all(abs(t / step - round(t / step)) < tol * max(1.0, abs(t / step)) for t in ticks)   # multiples


def test_ticks_of_the_explorers_axis():
    assert nice_ticks(-11.09, -6.05) == (-12.0, -6.0, [-12.0, -10.0, -8.0, -6.0])
    assert nice_ticks(-7.97, -6.88, 6)[2] == [-8.0, -7.75, -7.5, -7.25, -7.0, -6.75]
    assert nice_ticks(0, 500)[2] == [0, 100, 200, 300, 400, 500]
    assert nice_ticks(3.0, 3.0)[0] < 3.0 < nice_ticks(3.0, 3.0)[1]
    with pytest.raises(ValueError):
        nice_ticks(1.0, 0.0)
    with pytest.raises(ValueError):
        nice_ticks(0.0, math.inf)
    with pytest.raises(ValueError, match="at least 3"):
        nice_ticks(0.0, 1.0, 2)


# ------------------------------------------------------------------------- static explorer
def test_grid_shapes(grid):
    assert grid.faithful.shape == grid.mean.shape == (3, 2, grid.iterations.size)
    assert grid.iterations[0] == 1 and grid.iterations[-1] == 40
    assert np.all(grid.low <= grid.mean + 1e-12) and np.all(grid.mean <= grid.high + 1e-12)
    assert grid.variant == "perturbed" and "perturbed" in grid.label
    with pytest.raises(ValueError, match="unknown variant"):
        explorer_grid(DATA, [0.01], variant="sgd")


def test_static_explorer_markup_follows_the_contract(grid):
    html = static_explorer_html(grid)
    assert html.startswith('<div class="static-explorer"')
    assert re.search(r'<input type="range" name="eta" min="0" max="2"', html)
    assert re.search(r'<input type="range" name="depth" min="1" max="2"', html)
    assert 'class="static-explorer-figure"' in html and "<select" not in html     # one variant: no menu
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    payload = payload_of(html)
    variant = payload["variants"][0]
    assert variant["depths"] == [1, 2] and len(variant["mean"]) == 3 and len(payload["paper"]) == 3
    assert static_explorer_html(grid) == html                        # deterministic
    explorer = StaticExplorer(grid)
    assert explorer._repr_html_() == html and repr(explorer).startswith("StaticExplorer(3 learning rates x 2")


def test_static_explorer_colours_and_axes_come_from_python(grid):
    html = static_explorer_html(grid)
    payload = payload_of(html)
    assert payload["colours"] == list(DEPTH_COLOURS[:2])
    assert not re.search(r"#[0-9a-fA-F]{6}\"\s*,\s*\"#", html.split('<script>')[1])   # no colour list in the JS
    variant = payload["variants"][0]
    for i in range(3):
        lo, hi = variant["ylim"][i]
        data = np.concatenate([np.ravel(variant[k][i]) for k in ("low", "high", "faithful")])
        assert lo <= data.min() and data.max() <= hi
        assert variant["yticks"][i] == nice_ticks(*variant["ylim"][i])[2]
        assert all(len(str(t)) <= 6 for t in variant["yticks"][i])   # round values, short to print
    assert variant["xticks"] == [1, 10, 20, 30, 40]


def test_static_explorer_offers_several_variants(grid):
    small = explorer_grid(DATA, [0.01, 0.1], depths=(1, 2, 3), variant="ulp", runs=2, iterations=40, every=5)
    html = static_explorer_html([grid, small], start_eta=0.1, start_depth=2)
    assert re.search(r'<select name="variant"><option value="0">perturbed \(2 runs\)</option>'
                     r'<option value="1">ulp \(2 runs\)</option></select>', html)
    payload = payload_of(html)
    assert [v["name"] for v in payload["variants"]] == ["perturbed", "ulp"]
    assert payload["variants"][1]["etas"] == [0.01, 0.1] and payload["colours"] == list(DEPTH_COLOURS[:3])
    assert re.search(r'name="eta" min="0" max="2" step="1" value="2"', html)
    assert repr(StaticExplorer([grid, small])).startswith("StaticExplorer(3 learning rates x 2 depths; perturbed, ulp")
    with pytest.raises(ValueError, match="one grid per variant"):
        static_explorer_html([grid, grid])
    with pytest.raises(ValueError, match="at least one grid"):
        static_explorer_html([])


# ------------------------------------------------------------------------------ live explorer
def test_live_callback_runs_headless(small_data):
    fig, ax = plt.subplots()
    out = draw_settings(0.05, 2, "perturbed", "nltcs", 2, ax=ax)
    assert out["runs"] == 2 and np.isfinite(out["final"]) and np.isfinite(out["final_shallow"])
    assert len(ax.get_lines()) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["L = 1 (mean of 2, 95 % band)",
                                                                 "L = 2 (mean of 2, 95 % band)"]
    assert ax.get_legend().get_texts()[0].get_fontsize() >= 9
    assert [line.get_color() for line in ax.get_lines()] == [DEPTH_COLOURS[0], DEPTH_COLOURS[1]]
    both = settings_curves(0.05, (1, 2), "perturbed", "nltcs", 2)
    assert both.shape == (2, 2, 500)
    assert np.array_equal(settings_curves(0.05, 2, "perturbed", "nltcs", 2), both[1])
    out = draw_settings(0.01, 1, "released", "nltcs", 3, ax=ax)
    assert out["runs"] == 1 and out["final"] == out["final_shallow"]
    with pytest.raises(ValueError, match="depth L"):
        draw_settings(0.01, 5)
    with pytest.raises(ValueError, match="learning rate"):
        draw_settings(-1, 2)
    with pytest.raises(ValueError, match="unknown dataset"):
        settings_curves(0.01, 1, "perturbed", "mnist", 2)


def test_the_paper_is_drawn_at_its_setting(small_data):
    fig, ax = plt.subplots()
    draw_settings(0.01, 3, "released", "nltcs", 1, ax=ax)
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == "paper, L = 3"


def test_the_live_driver_draws_as_it_trains(small_data):
    frames, states = [], []
    driver = LiveExplorer(LiveSession(InlineRunner()), show=frames.append, status=states.append, interval=0.0)
    driver.request(eta=0.05, depth=3, protocol="perturbed", dataset="nltcs", seeds=2)
    driver.run_until_idle()
    assert len(frames) > 2 and all(f.startswith('<div class="live-explorer-figure"') for f in frames)
    assert "training" in frames[0] and "95 % band" in frames[-1] and "<polygon" in frames[-1]
    assert states[0].startswith("training (L = 1: 0 / 500, L = 3:") and any(s.startswith("done") for s in states)
    assert driver.frames == len(frames)
    before = len(frames)
    driver.request(eta=0.05, depth=2, protocol="perturbed", dataset="nltcs", seeds=2)   # prefetched: at once
    assert not driver.pump() and len(frames) == before + 1 and states[-1].startswith("done")
    driver.request(eta=0.05, depth=7, protocol="perturbed", dataset="nltcs", seeds=2)
    assert "depth L" in states[-1] and len(frames) == before + 1


def test_the_live_figure(small_data):
    from spnlib.experiment.explore import Frame, Setting

    view = Setting.of(0.01, 3, "perturbed", "nltcs", 3)
    both = settings_curves(0.01, (1, 3), "perturbed", "nltcs", 3)
    svg = frame_svg(Frame(view, {1: both[0], 3: both[1]}, {1: 500, 3: 500}, 500, True))
    assert svg.count("<polyline") == 3 and svg.count("<polygon") == 2          # L = 1, L = 3, the paper
    assert f'stroke="{DEPTH_COLOURS[0]}"' in svg and f'stroke="{DEPTH_COLOURS[2]}"' in svg
    assert "nan" not in svg and "inf" not in svg.replace("font", "")
    ticks = [float(t) for t in re.findall(r'text-anchor="end" font-size="12">([^<]+)<', svg)]
    assert ticks == nice_ticks(min(ticks), max(ticks))[2]
    labels = re.findall(r"</svg> ([^<]+)</span>", svg)
    assert labels == ["L = 1 (mean of 3, 95 % band)", "L = 3 (mean of 3, 95 % band)", "paper, L = 3"]
    partial = frame_svg(Frame(view, {3: both[1][:, :50]}, {1: 0, 3: 50}, 500, False))
    assert partial.count("<polyline") == 2 and "<polygon" not in partial and "mean of 3, training" in partial
    empty = frame_svg(Frame(view.at_depth(4), {}, {1: 0, 4: 0}, 500, False))
    assert "<polyline" not in empty and "</svg>" in empty


def test_a_curve_still_training_is_drawn_without_its_band(small_data):
    from spnlib.experiment.explore import Frame, Setting
    from spnlib.stats.speedup import mean_confidence_band
    from spnlib.views.explorer import draw_curves

    view = Setting.of(0.05, 2, "perturbed", "nltcs", 3)
    both = settings_curves(0.05, (1, 2), "perturbed", "nltcs", 3)
    fig, ax = plt.subplots()
    draw_curves(ax, Frame(view, {1: both[0], 2: both[1][:, :100]}, {1: 500, 2: 100}, 500, False))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["L = 1 (mean of 3, 95 % band)",
                                                                 "L = 2 (mean of 3, training)"]
    assert len(ax.collections) == 1 and ax.get_lines()[1].get_xdata()[-1] == 100
    ax.clear()
    draw_curves(ax, Frame(view, {1: both[0], 2: both[1]}, {1: 500, 2: 500}, 500, True))
    mean, low, high = mean_confidence_band(both[1])
    band = ax.collections[1].get_paths()[0].vertices[:, 1]
    assert len(ax.collections) == 2 and np.array_equal(ax.get_lines()[1].get_ydata(), mean)
    assert np.isclose(band.min(), low.min()) and np.isclose(band.max(), high.max())

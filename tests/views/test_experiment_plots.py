"""Experiment figures (spnlib.views.experiment_plots) draw headless and show what they claim."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from spnlib.data.counted import CountedData  # noqa: E402
from spnlib.experiment.protocols import get_protocol, run_protocol  # noqa: E402
from spnlib.views.experiment_plots import depth_colour, fig3_figure, plot_bands, plot_fig3, plot_rate_sweep, plot_spread  # noqa: E402

DATA = CountedData.from_array(np.random.default_rng(0).integers(0, 2, (50, 3)))


def test_fig3_plot_has_ours_and_the_papers_curves():
    c = run_protocol(get_protocol("released").with_changes(iterations=20), DATA, (1, 2, 3), runs=2)
    ax = plot_fig3(c)
    labels = [line.get_label() for line in ax.get_lines()]
    assert sum("paper" in s for s in labels) == 3 and sum("released" in s for s in labels) == 3
    assert len(ax.get_lines()[3].get_xdata()) == 500
    plt.close("all")


def test_bands_spread_and_sweep_plots():
    curves = np.random.default_rng(1).normal(size=(2, 5, 30)).cumsum(axis=-1)
    ax = plot_bands(curves, (1, 3), paper=True)
    assert len(ax.collections) == 2 and ax.get_lines()[0].get_color() == depth_colour(1)
    ax = plot_spread(np.abs(curves[:, 0]), ["a", "b"])
    assert ax.get_yscale() == "log"
    ax = plot_rate_sweep(np.array([0.01, 0.1]), np.ones((2, 2)), (1, 2), band=np.ones((2, 2, 2)))
    assert ax.get_xscale() == "log"
    plt.close("all")


def test_rate_sweep_draws_censored_values_at_the_horizon():
    """A target not reached (inf) is drawn as an open circle at the horizon, not left out."""
    values = np.array([[120.0, np.inf, 80.0], [np.inf, np.inf, 60.0]])
    ax = plot_rate_sweep(np.array([0.01, 0.1, 1.0]), values, (1, 2), censored_at=499)
    lines = ax.get_lines()
    full = [ln for ln in lines if ln.get_linestyle() == "-" and len(ln.get_xdata()) == 3]
    assert [list(ln.get_ydata()) for ln in full] == [[120, 499, 80], [499, 499, 60]]
    hollow = [ln for ln in lines if ln.get_linestyle() == "None"]
    assert [len(ln.get_xdata()) for ln in hollow] == [1, 2]
    assert all(ln.get_markerfacecolor() == "white" for ln in hollow)
    assert any(ln.get_linestyle() == ":" and list(ln.get_ydata()) == [499, 499] for ln in lines)
    plt.close("all")


def test_fig3_figure_writes_png_and_svg(tmp_path):
    c = run_protocol(get_protocol("perturbed").with_changes(iterations=10), DATA, (1, 2), runs=3)
    fig = fig3_figure(c, str(tmp_path / "figure"))
    assert (tmp_path / "figure.png").stat().st_size > 1000
    assert (tmp_path / "figure.svg").read_text().lstrip().startswith("<?xml")
    plt.close(fig)


def test_variant_mechanism_and_sweep_plots():
    from spnlib.experiment.findings import AsymmetryRow
    from spnlib.experiment.mechanism import MechanismTrace
    from spnlib.stats.speedup import Acceleration
    from spnlib.views.experiment_plots import plot_asymmetry_sweep, plot_mechanism, plot_variant_against_paper

    curves = np.random.default_rng(2).normal(size=(3, 6, 500)).cumsum(axis=-1)
    ax = plot_variant_against_paper(curves)
    assert len(ax.collections) == 3 and sum("paper" in line.get_label() for line in ax.get_lines()) == 3
    ax = plot_variant_against_paper(curves, pairs=True)
    plt.close("all")
    shape = (3, 4, 50)
    trace = MechanismTrace(*(np.ones(shape) for _ in range(6)))
    axes = plot_mechanism(trace)
    assert len(axes) == 4 and len(axes[0].get_lines()) == 3
    rows = [AsymmetryRow(f"{place}, {size}", np.array([10.0, 9.0, 8.0]), Acceleration(3, 0.9, 2.0, 1.5, 2.5))
            for place in ("leaf", "layer") for size in ("ulp", "1e-06", "0.1")]
    ax = plot_asymmetry_sweep(rows)
    assert len(ax[0].get_lines()) == 4
    plt.close("all")


def test_experiment_figures_use_the_style_legend_size_and_fit_the_column():
    from spnlib.experiment.findings import AsymmetryRow
    from spnlib.experiment.mechanism import MechanismTrace
    from spnlib.stats.speedup import Acceleration
    from spnlib.views.experiment_plots import plot_asymmetry_sweep, plot_mechanism
    from spnlib.views.figures import setup_figures

    setup_figures()
    curves = np.random.default_rng(1).normal(size=(2, 5, 30)).cumsum(axis=-1)
    trace = MechanismTrace(*(np.ones((3, 4, 50)) for _ in range(6)))
    rows = [AsymmetryRow(f"leaf, {size}", np.array([10.0, 9.0, 8.0]), Acceleration(3, 0.9, 2.0, 1.5, 2.5))
            for size in ("ulp", "0.1")]
    axes = [plot_bands(curves, (1, 3)), plot_mechanism(trace)[0], plot_asymmetry_sweep(rows)[0]]
    for ax in axes:
        assert ax.get_legend().get_texts()[0].get_fontsize() == plt.rcParams["legend.fontsize"] == 9.0
        assert ax.figure.get_size_inches()[0] <= 7.0
    plt.close("all")

"""The book's figure style: one colour per depth, quantile bands, the chapters' settings."""
from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from spnlib.views.figures import DEPTH_COLOURS, depth_colour, plot_quantile_band, setup_figures  # noqa: E402


def test_every_depth_has_its_own_colour():
    assert len({depth_colour(L) for L in range(1, len(DEPTH_COLOURS) + 1)}) == len(DEPTH_COLOURS)
    assert depth_colour(1) == DEPTH_COLOURS[0]


def test_setup_figures_sets_the_figure_size():
    import matplotlib.pyplot as plt
    setup_figures()
    assert tuple(plt.rcParams["figure.figsize"]) == (6.0, 3.5)


def test_plot_quantile_band_draws_median_and_ignores_diverged_runs():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    curves = np.array([[1.0, 2.0, 3.0], [3.0, 4.0, np.inf], [2.0, 3.0, 4.0]])
    line = plot_quantile_band(ax, np.arange(3), curves, "runs")
    np.testing.assert_allclose(line.get_ydata(), [2.0, 3.0, 3.5])
    with pytest.raises(ValueError, match="shape"):
        plot_quantile_band(ax, np.arange(4), curves, "bad")
    plt.close(fig)

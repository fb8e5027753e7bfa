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


def test_setup_figures_sets_readable_text_and_one_colour_per_depth():
    import matplotlib.pyplot as plt
    from matplotlib.font_manager import FontProperties

    from spnlib.views.figures import DISPLAY_DPI
    setup_figures()
    assert plt.rcParams["figure.dpi"] == DISPLAY_DPI == 96          # a figure inch is a CSS inch
    for key in ("legend.fontsize", "xtick.labelsize", "ytick.labelsize", "axes.labelsize"):
        assert FontProperties(size=plt.rcParams[key]).get_size_in_points() >= 9, key
    assert plt.rcParams["axes.prop_cycle"].by_key()["color"][:3] == [depth_colour(L) for L in (1, 2, 3)]


def test_png_2x_has_twice_the_pixels_of_its_display_size():
    import base64
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    from spnlib.views.figures import png_2x
    setup_figures()
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.plot([0, 1], [0, 1], label="L = 1")
    ax.legend()
    data, size = png_2x(fig)
    image = Image.open(io.BytesIO(base64.b64decode(data)))
    assert image.mode == "P"                                       # a 256-colour palette
    assert image.size == (2 * size["width"], 2 * size["height"])
    assert 0.8 * 4 * 96 < size["width"] <= 4 * 96 + 1              # cropped to the drawing, as Jupyter does
    assert png_2x(plt.figure()) is None                            # an empty figure shows nothing
    plt.close("all")


def test_setup_figures_makes_png_2x_the_format_of_figures_in_ipython(monkeypatch):
    from matplotlib.figure import Figure

    from spnlib.views.figures import png_2x

    class Formatter:
        def __init__(self) -> None:
            self.types: dict = {object: "old"}

        def for_type(self, kind, function) -> None:
            self.types[kind] = function

        def pop(self, kind, default=None):
            return self.types.pop(kind, default)

    class Events:
        def register(self, *args) -> None:
            pass

        unregister = register

    class Shell:
        def __init__(self) -> None:
            self.events = Events()
            self.display_formatter = type("Display", (), {})()
            self.display_formatter.formatters = {m: Formatter() for m in (
                "image/png", "image/svg+xml", "image/jpeg", "application/pdf")}

    shell = Shell()
    shell.display_formatter.formatters["image/svg+xml"].for_type(Figure, "svg")
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    import matplotlib.pyplot as plt
    monkeypatch.setattr(plt, "_REPL_DISPLAYHOOK", plt._REPL_DISPLAYHOOK)   # restored after the test
    setup_figures()
    assert shell.display_formatter.formatters["image/png"].types[Figure] is png_2x
    assert Figure not in shell.display_formatter.formatters["image/svg+xml"].types

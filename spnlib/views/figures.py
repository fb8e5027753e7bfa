"""The book's figure style in one place: size, sharpness, text size, one colour per depth, quantile bands.

Every chapter calls :func:`setup_figures` once; every figure that shows a depth L uses
:func:`depth_colour`, so a depth has the same colour in every chapter and in the explorers.

How a figure reaches the page
-----------------------------
A figure inch is drawn as one CSS inch (``figure.dpi`` = :data:`DISPLAY_DPI` = 96), so text set
in N points shows at N points when the figure is displayed at its own size. The PNG in the
notebook has :data:`PIXEL_RATIO` (2) times as many pixels in each direction, with its displayed
size fixed in the output's metadata (``width``/``height`` in CSS pixels, which the book keeps):
sharp on a high-resolution screen. The PNG is reduced to a 256-colour palette (no dithering),
which keeps a page-wide figure of many curves near 50-100 kB, as the 1x image was.
A figure wider than the book's text column (:data:`PAGE_WIDTH_IN`) is shrunk by the browser and
its text with it: draw it at most that wide.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

import io
from binascii import b2a_base64
from typing import Any

import numpy as np

__all__ = ["DEPTH_COLOURS", "DISPLAY_DPI", "PAGE_WIDTH_IN", "PIXEL_RATIO", "STYLE", "depth_colour",
           "setup_figures", "png_2x", "plot_quantile_band"]

DEPTH_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
"""One colour per depth L = 1, 2, ... (the same in every figure of the book)."""

DISPLAY_DPI = 96
"""Figure pixels per figure inch as displayed: one CSS inch, so N-point text shows at N points."""

PIXEL_RATIO = 2
"""The notebook's PNG has this many image pixels per displayed (CSS) pixel in each direction."""

PAGE_WIDTH_IN = 7.0
"""The widest figure (inches) that the book shows at its own size: its text column is 688 CSS
pixels (7.2 in) in a 1280-pixel-wide window. A wider figure is shrunk, with its text."""

STYLE: dict[str, Any] = {
    "figure.figsize": (6.0, 3.5),
    "figure.dpi": DISPLAY_DPI,
    "savefig.dpi": "figure",
    "savefig.facecolor": "white",
    "font.size": 10.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 10.0,
    "xtick.labelsize": 9.0,
    "ytick.labelsize": 9.0,
    "legend.fontsize": 9.0,
    "legend.title_fontsize": 9.0,
    "figure.titlesize": 11.0,
}
"""matplotlib settings of every chapter (legend and tick labels 9 pt, the rest 10 pt, as shown);
:func:`setup_figures` also sets the colour cycle to :data:`DEPTH_COLOURS`."""


def depth_colour(depth: int) -> str:
    """The colour of depth L in every figure (cycles after six depths)."""
    return DEPTH_COLOURS[(int(depth) - 1) % len(DEPTH_COLOURS)]


def png_2x(fig: Any, ratio: int = PIXEL_RATIO) -> tuple[str, dict[str, int]] | None:
    """A figure as a base64 PNG with ``ratio`` x its pixels per direction, and its display size.

    The output format of the chapters' figures (the IPython PNG formatter that
    :func:`setup_figures` installs). Returns ``(base64 PNG, {"width": w, "height": h})`` where
    w x h is the size to display, in CSS pixels (``figure.dpi`` pixels per figure inch), cropped
    to the drawn content as Jupyter does (``bbox_inches="tight"``); None for an empty figure.
    The image is quantised to a 256-colour palette without dithering (a third of the size).
    """
    from PIL import Image

    if not fig.axes and not fig.lines:
        return None
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=fig.dpi * ratio, bbox_inches="tight",
                facecolor=fig.get_facecolor(), edgecolor=fig.get_edgecolor())
    image = Image.open(io.BytesIO(raw.getvalue())).convert("RGB")
    width, height = image.size
    palette = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="png", optimize=True)
    return (b2a_base64(out.getvalue(), newline=False).decode("ascii"),
            {"width": round(width / ratio), "height": round(height / ratio)})


def setup_figures() -> None:
    """The chapters' matplotlib settings (:data:`STYLE`) and, in a Jupyter kernel, sharp PNGs.

    Sets figure size and resolution, text sizes and the colour cycle (:data:`DEPTH_COLOURS`, so
    the n-th line drawn without a colour has depth n's colour), and, when running under IPython,
    makes :func:`png_2x` the PNG format of every figure a cell shows. Outside IPython only the
    settings change. Calling it again is harmless.
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from cycler import cycler

    try:
        from IPython import get_ipython
        shell = get_ipython()
    except ImportError:          # pragma: no cover - IPython comes with the book's requirements
        shell = None
    if shell is not None:
        # Load the inline backend now: loading it later would reinstall its own PNG formatter
        # (and its rcParams) over ours.
        plt.switch_backend(matplotlib.get_backend())
    plt.style.use({**STYLE, "axes.prop_cycle": cycler(color=list(DEPTH_COLOURS))})
    if shell is not None and hasattr(shell, "display_formatter"):
        from matplotlib.figure import Figure

        formatters = shell.display_formatter.formatters
        for mime in ("image/svg+xml", "image/jpeg", "application/pdf"):
            formatters[mime].pop(Figure, None)
        formatters["image/png"].for_type(Figure, png_2x)


def plot_quantile_band(ax, x: np.ndarray, curves: np.ndarray, label: str, color: str | None = None,
                       quantiles: tuple[float, float] = (0.1, 0.9), **line_kw):
    """Median of ``curves`` (runs x points) as a line with the runs' quantile spread around it.

    This band shows how the runs spread (by default the 10 % and 90 % quantiles), not an
    interval for the mean (for that see :func:`spnlib.stats.speedup.mean_confidence_band`).
    Returns the line. Non-finite values (diverged runs) are ignored point by point.
    """
    Y = np.asarray(curves, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[1] != len(x):
        raise ValueError(f"curves must have shape (runs, {len(x)}), got {Y.shape}")
    Y = np.where(np.isfinite(Y), Y, np.nan)
    med = np.nanmedian(Y, axis=0)
    lo, hi = np.nanquantile(Y, quantiles[0], axis=0), np.nanquantile(Y, quantiles[1], axis=0)
    line, = ax.plot(x, med, label=label, color=color, **line_kw)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    return line

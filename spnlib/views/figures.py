"""The book's figure style in one place: size and resolution, one colour per depth, quantile bands.

Every chapter calls :func:`setup_figures` once; every figure that shows a depth L uses
:func:`depth_colour`, so a depth has the same colour in every chapter and in the explorers.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

import numpy as np

__all__ = ["DEPTH_COLOURS", "depth_colour", "setup_figures", "plot_quantile_band"]

DEPTH_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
"""One colour per depth L = 1, 2, ... (the same in every figure of the book)."""


def depth_colour(depth: int) -> str:
    """The colour of depth L in every figure (cycles after six depths)."""
    return DEPTH_COLOURS[(int(depth) - 1) % len(DEPTH_COLOURS)]


def setup_figures() -> None:
    """The chapters' matplotlib settings: figure size and resolution, readable legend text."""
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.figsize": (6, 3.5), "figure.dpi": 80})


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

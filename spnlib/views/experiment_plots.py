"""Figures of the depth-versus-speed experiment (matplotlib), kept out of the chapters' cells.

Legends use the book style's size (9 pt, :func:`spnlib.views.figures.setup_figures`) and every figure
these functions create is at most 7 in wide (the book's column).

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spnlib.experiment.protocols import Curves, paper_fig3
from spnlib.stats.speedup import mean_confidence_band
from spnlib.views.figures import depth_colour, plot_quantile_band

__all__ = ["plot_fig3", "plot_bands", "plot_spread", "plot_rate_sweep",
           "fig3_figure", "plot_variant_against_paper", "plot_mechanism", "plot_asymmetry_sweep"]

def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=(6, 3.5))
    return ax


def _overlay_paper(ax, lw: float, label: str) -> None:
    """The paper's digitised Fig. 3 curves (L = 1, 2, 3), dashed, in the depths' colours."""
    ref = paper_fig3()
    it = np.arange(1, ref.shape[1] + 1)
    for L, y in zip((1, 2, 3), ref):
        ax.plot(it, y, color=depth_colour(L), lw=lw, ls="--", label=f"L = {L} ({label})")


def plot_fig3(curves: Curves, ax=None, paper: bool = True, title: str | None = None):
    """The protocol's summary curve per depth (solid) beside the paper's digitised Fig. 3 (dashed)."""
    ax = _axes(ax)
    agg = curves.aggregate()
    it = np.arange(1, agg.shape[1] + 1)
    for L, y in zip(curves.depths, agg):
        ax.plot(it, y, color=depth_colour(L), lw=1.6, label=f"L = {L} ({curves.protocol.name})")
    if paper:
        _overlay_paper(ax, lw=1.2, label="paper, digitised")
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean train LLH")
    ax.set_title(title or curves.protocol.label, fontsize=9)
    ax.legend(ncol=2, loc="lower right")
    return ax


def plot_bands(curves: np.ndarray, depths: Sequence[int], ax=None, title: str = "", paper: bool = False,
               x0: int = 1, ylabel: str = "mean train LLH", level: float = 0.95):
    """Mean curve per depth with a bootstrap 95 % band over runs; curves (n_depths, runs, T)."""
    ax = _axes(ax)
    c = np.asarray(curves)
    it = np.arange(x0, x0 + c.shape[-1])
    for L, runs in zip(depths, c):
        mean, low, high = mean_confidence_band(runs, level)
        ax.plot(it, mean, color=depth_colour(L), lw=1.5, label=f"L = {L} (mean of {runs.shape[0]})")
        ax.fill_between(it, low, high, color=depth_colour(L), alpha=0.25, lw=0)
    if paper:
        _overlay_paper(ax, lw=1.0, label="paper")
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(ncol=2, loc="lower right")
    return ax


def plot_spread(values: np.ndarray, labels: Sequence[str], ax=None, title: str = "",
                ylabel: str = "spread between components"):
    """Log-scale traces (e.g. the spread of the leaf weights over components) against iteration."""
    ax = _axes(ax)
    for y, label in zip(np.asarray(values), labels):
        y = np.where(y > 0, y, np.nan)
        ax.semilogy(np.arange(1, len(y) + 1), y, lw=1.3, label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend()
    return ax


def plot_rate_sweep(etas: np.ndarray, values: np.ndarray, depths: Sequence[int], ax=None,
                    ylabel: str = "", title: str = "", band: np.ndarray | None = None, logy: bool = False,
                    censored_at: float | None = None):
    """One line per depth of a summary against the learning rate (log x axis); band (2, n_depths, n_eta).

    With ``censored_at`` (e.g. the horizon of a time to a target), infinite values (a target not
    reached) are drawn as open circles on a dotted line at that height instead of being left out."""
    ax = _axes(ax)
    for i, L in enumerate(depths):
        y = np.asarray(values[i], dtype=float)
        censored = ~np.isfinite(y) if censored_at is not None else np.zeros(y.shape, bool)
        if censored_at is not None and censored.any():
            y = np.where(censored, censored_at, y)
        ax.plot(etas, y, marker="o", ms=3, color=depth_colour(L), label=f"L = {L}")
        if censored.any():
            ax.plot(np.asarray(etas)[censored], y[censored], ls="none", marker="o", ms=6, mfc="white",
                    color=depth_colour(L))
        if band is not None:
            ax.fill_between(etas, band[0][i], band[1][i], color=depth_colour(L), alpha=0.2, lw=0)
    if censored_at is not None:
        ax.axhline(censored_at, color="0.5", lw=0.6, ls=":")
    ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("learning rate eta")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend()
    return ax


def fig3_figure(curves: Curves, path_stem: str | None = None):
    """A stand-alone Fig. 3 figure (the command line writes it as PNG and SVG)."""
    import matplotlib
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"svg.hashsalt": "spnlib", "svg.fonttype": "none"}):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        paper_setting = (curves.dataset == "nltcs" and curves.protocol.eta == 0.01
                         and curves.protocol.rule == "projected")
        if curves.protocol.aggregate == "max":
            plot_fig3(curves, ax, paper=paper_setting and (curves.protocol.faithful
                                                           or curves.protocol.sibling_order == "hash"))
        else:
            plot_bands(curves.train, curves.depths, ax, title=f"{curves.protocol.label} - {curves.dataset}",
                       paper=curves.dataset == "nltcs" and curves.protocol.eta == 0.01
                       and curves.protocol.rule == "projected")
        fig.tight_layout()
        if path_stem is not None:
            fig.savefig(f"{path_stem}.png", dpi=120)
            fig.savefig(f"{path_stem}.svg", metadata={"Date": None})
    return fig


def plot_variant_against_paper(curves: np.ndarray, depths: Sequence[int] = (1, 2, 3), ax=None, title: str = "",
                               level: float = 0.9, pairs: bool = False):
    """Median and central ``level`` band of the draws (or of the maxima of all pairs of draws) per depth,
    with the paper's digitised Fig. 3 dashed; curves (n_depths, runs, T)."""
    from spnlib.experiment.fig3_match import pair_maxima

    ax = _axes(ax)
    c = np.asarray(curves)
    it = np.arange(1, c.shape[-1] + 1)
    q = ((1 - level) / 2, (1 + level) / 2)
    for L, runs in zip(depths, c):
        shown = pair_maxima(runs) if pairs else runs
        plot_quantile_band(ax, it, shown, f"L = {L}", color=depth_colour(L), quantiles=q, lw=1.4)
    _overlay_paper(ax, lw=1.0, label="paper")
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean train LLH")
    ax.set_title(title, fontsize=9)
    ax.legend(ncol=2, loc="lower right")
    return ax


def plot_mechanism(trace, depths: Sequence[int] = (1, 2, 3), axes=None, title: str = ""):
    """Medians over runs of a MechanismTrace (n_depths, runs, T): distinct components, layer weights on the
    floor, effective number of components and the weight share of identical copies, one panel each."""
    if axes is None:
        import matplotlib.pyplot as plt
        _, axes = plt.subplots(2, 2, figsize=(7, 4.8))
        axes = axes.ravel()
    panels = (("distinct", "distinct components"), ("layer_at_floor", "layer weights on the floor"),
              ("effective", "effective number of components"), ("replicated", "weight on identical copies"))
    for ax, (field, label) in zip(axes, panels):
        values = np.asarray(getattr(trace, field), dtype=np.float64)
        it = np.arange(1, values.shape[-1] + 1)
        for L, runs in zip(depths, values):
            ax.plot(it, np.median(runs, axis=0), color=depth_colour(L), lw=1.3, label=f"L = {L}")
        ax.set_xlabel("iteration")
        ax.set_title(label, fontsize=9)
    axes[0].legend()
    if title:
        axes[0].figure.suptitle(title, fontsize=9)
    return axes


def plot_asymmetry_sweep(rows, ax=None):
    """Departure iteration of L = 1 and 3 (colour: depth, log scale) and the speed-up of L = 3 against the
    initial asymmetry's size, solid for the leaf weights, dashed for the layer weights (rows from
    :func:`spnlib.experiment.findings.asymmetry_sweep`; one unit in the last place is drawn at 2^-53)."""
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(1, 2, figsize=(7, 3.2))
    places: dict[str, list] = {}
    for r in rows:
        place, size = r.setting.split(", ")
        places.setdefault(place, []).append((2.0 ** -53 if size == "ulp" else float(size), r))
    styles = {"leaf": ("-", "o"), "layer": ("--", "s")}
    for place, items in places.items():
        items.sort(key=lambda item: item[0])
        ls, marker = styles.get(place, (":", "^"))
        x = [s for s, _ in items]
        for L, i in ((1, 0), (3, -1)):
            ax[0].plot(x, [r.departure[i] for _, r in items], ls=ls, marker=marker, ms=3, color=depth_colour(L),
                       label=f"{place}, L = {L}")
        f = [r.acceleration_3 for _, r in items]
        ax[1].errorbar(x, [a.factor for a in f], yerr=[[a.factor - a.low for a in f], [a.high - a.factor for a in f]],
                       ls=ls, marker=marker, ms=3, capsize=2, color=depth_colour(3), label=place)
    for a in ax:
        a.set_xscale("log")
        a.set_xlabel("initial asymmetry (relative)")
        a.legend()
    ax[0].set_yscale("log")
    ax[0].set_ylabel("leaves the symmetric curve (median iteration)")
    ax[1].set_ylabel("speed-up of L = 3 at 90 % of the gap")
    ax[1].axhline(1.0, color="0.5", lw=0.8)
    return ax

"""Exploring eta and L: live ipywidgets in a kernel, and a static HTML explorer for the rendered book.

* :func:`draw_settings` is the live explorer's callback, a plain function of its
  arguments (learning rate, depth, protocol, dataset, number of seeds): it trains
  the chosen depth and the shallow L = 1 beside it (:func:`spnlib.experiment.explore.settings_curves`,
  cached per depth) and draws both.
* :func:`live_explorer` wires it to ipywidgets (needs a kernel).
* :func:`static_explorer_html` turns a precomputed grid of eta x L
  (:func:`spnlib.experiment.explore.explorer_grid`) into plain HTML and the JavaScript of
  ``spnlib/resources/static_explorer.js`` (two range inputs and an inline SVG): it works in the
  rendered HTML without a kernel, without a CDN and without any request to a server.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

import hashlib
import importlib.resources
import json

import numpy as np

from spnlib.checks import check_eta
from spnlib.experiment.explore import EXPLORER_DATASETS, ExplorerGrid, settings_curves
from spnlib.experiment.protocols import get_protocol, paper_fig3
from spnlib.stats.speedup import mean_confidence_band

__all__ = ["draw_settings", "live_explorer", "static_explorer_html", "StaticExplorer"]


def draw_settings(eta: float = 0.01, depth: int = 3, protocol: str = "perturbed", dataset: str = "nltcs",
                  seeds: int = 3, ax=None) -> dict:
    """The live explorer's callback: curves of depth L and of L = 1 at this eta, drawn on ``ax``.

    Returns
    -------
    dict
        ``final`` (mean final train LLH of depth L), ``final_shallow`` (of L = 1), ``runs``.
    """
    import matplotlib.pyplot as plt

    from spnlib.views.figures import depth_colour

    if int(depth) != depth or not 1 <= depth <= 4:
        raise ValueError(f"the depth L must be 1, 2, 3 or 4, got {depth!r}")
    eta = check_eta(eta)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    out = {}
    pairs = ((1, "--"), (int(depth), "-")) if depth != 1 else ((1, "-"),)
    curves = settings_curves(eta, tuple(L for L, _ in pairs), protocol, dataset, seeds)
    for (L, style), c in zip(pairs, curves):
        it = np.arange(1, c.shape[1] + 1)
        mean, low, high = mean_confidence_band(c) if c.shape[0] > 1 else (c[0], c[0], c[0])
        ax.plot(it, mean, style, color=depth_colour(L), lw=1.5, label=f"L = {L} (mean of {c.shape[0]})")
        ax.fill_between(it, low, high, color=depth_colour(L), alpha=0.25, lw=0)
        out["final" if L == depth else "final_shallow"] = float(mean[-1])
        out["runs"] = int(c.shape[0])
    if depth == 1:
        out["final_shallow"] = out["final"]
    if dataset == "nltcs" and eta == 0.01 and depth <= 3 and get_protocol(protocol).rule == "projected":
        ax.plot(np.arange(1, 501), paper_fig3()[depth - 1], ":", color="k", lw=1.0, label=f"paper, L = {depth}")
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean train LLH")
    ax.set_title(f"{protocol} on {dataset}, eta = {eta:.3g}", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    return out


def live_explorer():  # pragma: no cover - needs a kernel and a front end
    """ipywidgets for eta (log slider 1e-3..1), L (1..4), protocol, dataset and seeds, redrawing the figure."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from spnlib.experiment.protocols import PROTOCOLS

    controls = {
        "eta": widgets.FloatLogSlider(value=0.01, base=10, min=-3, max=0, step=0.25, description="eta"),
        "depth": widgets.IntSlider(value=3, min=1, max=4, description="L"),
        "protocol": widgets.Dropdown(options=list(PROTOCOLS), value="perturbed", description="protocol"),
        "dataset": widgets.Dropdown(options=list(EXPLORER_DATASETS), value="nltcs", description="dataset"),
        "seeds": widgets.IntSlider(value=3, min=1, max=10, description="seeds"),
    }

    def redraw(**kwargs):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        draw_settings(ax=ax, **kwargs)
        plt.show()

    out = widgets.interactive_output(redraw, controls)
    display(widgets.VBox([widgets.HBox([controls["eta"], controls["depth"]]),
                          widgets.HBox([controls["protocol"], controls["dataset"], controls["seeds"]]), out]))


def _static_explorer_js() -> str:
    return importlib.resources.files("spnlib").joinpath("resources/static_explorer.js").read_text()


def static_explorer_html(grid: ExplorerGrid, start_eta: float = 0.01, start_depth: int = 1, digits: int = 3) -> str:
    """Plain HTML + inline JavaScript: sliders over the grid's eta and L redraw an inline SVG.

    The markup is ``<div class="static-explorer">`` with ``<input type="range" name="eta">``,
    ``<input type="range" name="depth">`` and a ``.static-explorer-figure`` element that
    changes whenever either slider moves (an ``input`` event). No external resources.
    """
    def r(a: np.ndarray) -> list:
        return np.round(np.asarray(a, dtype=np.float64), digits).tolist()

    paper = paper_fig3()[:, ::5]
    payload = {"etas": [float(f"{e:.6g}") for e in grid.etas], "depths": list(grid.depths),
               "iterations": grid.iterations.tolist(), "faithful": r(grid.faithful), "mean": r(grid.mean),
               "low": r(grid.low), "high": r(grid.high), "paper": r(paper), "variant": grid.variant,
               "runs": grid.runs}
    text = json.dumps(payload, separators=(",", ":"))
    uid = "static-explorer-" + hashlib.sha256(text.encode()).hexdigest()[:12]
    i0 = int(np.argmin(np.abs(np.log(grid.etas) - np.log(start_eta))))
    d0 = min(max(int(start_depth), 1), len(grid.depths))
    labels = " ".join(f"{e:.3g}" for e in grid.etas)
    return (
        f'<div class="static-explorer" id="{uid}" style="max-width:600px;font-size:13px">\n'
        f'<div><label>learning rate eta (grid: {labels}) '
        f'<input type="range" name="eta" min="0" max="{len(grid.etas) - 1}" step="1" value="{i0}"></label></div>\n'
        f'<div><label>depth L (1 to {len(grid.depths)}) '
        f'<input type="range" name="depth" min="1" max="{len(grid.depths)}" step="1" value="{d0}"></label></div>\n'
        f'<div class="static-explorer-label"></div>\n'
        f'<div class="static-explorer-figure"></div>\n'
        f'<script type="application/json">{text}</script>\n'
        f'<script>{_static_explorer_js()}\nspnlibStaticExplorer(document.getElementById("{uid}"));</script>\n'
        '</div>'
    )


class StaticExplorer:
    """Displays :func:`static_explorer_html` in a notebook (text/html output; a stable text repr)."""

    def __init__(self, grid: ExplorerGrid, **kwargs) -> None:
        self.html = static_explorer_html(grid, **kwargs)
        self.grid = grid

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return (f"StaticExplorer({len(self.grid.etas)} learning rates x {len(self.grid.depths)} depths, "
                f"{len(self.html) // 1024} KiB)")

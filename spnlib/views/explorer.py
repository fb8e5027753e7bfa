"""Exploring eta and L: live ipywidgets in a kernel, and a static HTML explorer for the rendered book.

* :func:`draw_settings` is the live explorer's callback, a plain function of its
  arguments (learning rate, depth, protocol, dataset, number of seeds): it trains
  the chosen depth and the shallow L = 1 beside it and draws both; results are
  cached per depth, so a redraw trains at most two batches of ``seeds`` models.
* :func:`live_explorer` wires it to ipywidgets (needs a kernel).
* :func:`explorer_grid` precomputes curves over a grid of eta x L, and
  :func:`static_explorer_html` turns them into plain HTML + JavaScript (two range
  inputs and an inline SVG): it works in the rendered HTML without a kernel,
  without a CDN and without any request to a server.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from spnlib.stats.speedup import mean_band
from spnlib.data.counted import CountedData
from spnlib.data.debd import load_debd
from spnlib.experiment.protocols import get_protocol, paper_fig3, run_protocol
from spnlib.experiment.training import check_eta

__all__ = ["EXPLORER_DATASETS", "settings_curves", "draw_settings", "live_explorer", "ExplorerGrid",
           "explorer_grid", "static_explorer_html", "StaticExplorer"]

EXPLORER_DATASETS = ("nltcs", "plants", "baudio")
"""Datasets offered by the live explorer."""


@lru_cache(maxsize=4)
def _train_data(dataset: str) -> CountedData:
    return CountedData.from_array(load_debd(dataset, "train"))


_CURVES: dict[tuple, np.ndarray] = {}
_CACHE_SIZE = 128


def _protocol_runs(protocol: str, eta: float, seeds: int):
    proto = get_protocol(protocol).with_changes(eta=check_eta(eta))
    deterministic = proto.init == "released" and not (proto.perturbation or proto.gradient_noise or proto.ulp_share)
    return proto, 1 if deterministic else int(seeds)


def settings_curves(eta: float, depths: int | tuple[int, ...], protocol: str = "perturbed", dataset: str = "nltcs",
                    seeds: int = 3) -> np.ndarray:
    """Train curves (runs, T) of one setting, or (n_depths, runs, T) for a tuple of depths; cached.

    Seeds 0 .. seeds-1 (the faithful protocol has no randomness: 1 run). Each depth is trained
    in a batch of its own: in the variants that break the symmetry, round-off is amplified, and
    a run's last digits (after enough iterations, its curve) depend on the batch it is computed
    in; one batch per depth makes a curve a function of its setting alone, whatever the
    explorer showed before.
    """
    if dataset not in EXPLORER_DATASETS:
        raise ValueError(f"unknown dataset {dataset!r} for the explorer; choose one of {', '.join(EXPLORER_DATASETS)}")
    if int(seeds) != seeds or seeds < 1:
        raise ValueError(f"the number of seeds must be a positive integer, got {seeds!r}")
    many = isinstance(depths, tuple)
    wanted = tuple(int(L) for L in (depths if many else (depths,)))
    proto, runs = _protocol_runs(protocol, eta, seeds)
    key = (protocol, float(eta), dataset, runs)
    missing = tuple(L for L in wanted if key + (L,) not in _CURVES)
    if len(_CURVES) + len(missing) > _CACHE_SIZE:
        _CURVES.clear()
    for L in missing:
        _CURVES[key + (L,)] = run_protocol(proto, _train_data(dataset), (L,), dataset=dataset, runs=runs).train[0]
    out = np.stack([_CURVES[key + (L,)] for L in wanted])
    return out if many else out[0]


settings_curves.cache_clear = _CURVES.clear     # type: ignore[attr-defined]


def draw_settings(eta: float = 0.01, depth: int = 3, protocol: str = "perturbed", dataset: str = "nltcs",
                  seeds: int = 3, ax=None) -> dict:
    """The live explorer's callback: curves of depth L and of L = 1 at this eta, drawn on ``ax``.

    Returns
    -------
    dict
        ``final`` (mean final train LLH of depth L), ``final_shallow`` (of L = 1), ``runs``.
    """
    import matplotlib.pyplot as plt

    from spnlib.views.experiment_plots import depth_colour

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
        mean, low, high = mean_band(c) if c.shape[0] > 1 else (c[0], c[0], c[0])
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


@dataclass
class ExplorerGrid:
    """Downsampled curves over eta x L for the static explorer.

    Attributes
    ----------
    etas : ndarray (n_eta,)
    depths : tuple of int
    iterations : ndarray (n_points,)
        Iterations (from 1) kept after downsampling.
    faithful : ndarray (n_eta, n_depth, n_points)
        The faithful protocol (one deterministic run).
    mean, low, high : ndarray (n_eta, n_depth, n_points)
        The variant's mean over runs and its bootstrap 95 % band.
    variant : str
    runs : int
    """

    etas: np.ndarray
    depths: tuple[int, ...]
    iterations: np.ndarray
    faithful: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    variant: str
    runs: int


def explorer_grid(data: CountedData, etas: Sequence[float], depths: Sequence[int] = (1, 2, 3, 4),
                  variant: str = "perturbed", runs: int = 8, iterations: int = 500, every: int = 5) -> ExplorerGrid:
    """Train the faithful protocol and a variant for every eta and depth (one batch per eta)."""
    etas = np.array([check_eta(e) for e in etas])
    keep = np.unique(np.r_[np.arange(0, iterations, every), iterations - 1])
    shape = (len(etas), len(depths), keep.size)
    faithful, mean, low, high = (np.empty(shape) for _ in range(4))
    for i, eta in enumerate(etas):
        f = run_protocol(get_protocol("released").with_changes(eta=eta, iterations=iterations), data, depths, runs=1)
        faithful[i] = f.train[:, 0, keep]
        v = run_protocol(get_protocol(variant).with_changes(eta=eta, iterations=iterations), data, depths, runs=runs)
        for j in range(len(depths)):
            m, lo, hi = mean_band(v.train[j])
            mean[i, j], low[i, j], high[i, j] = m[keep], lo[keep], hi[keep]
    return ExplorerGrid(etas, tuple(int(L) for L in depths), keep + 1, faithful, mean, low, high, variant, runs)


_SCRIPT = r"""
(function () {
  var root = document.getElementById("%(id)s");
  var D = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var etaIn = root.querySelector("input[name='eta']"), depthIn = root.querySelector("input[name='depth']");
  var fig = root.querySelector(".static-explorer-figure"), label = root.querySelector(".static-explorer-label");
  var W = 560, H = 300, L = 58, R = 12, T = 14, B = 40, NS = "http://www.w3.org/2000/svg";
  var colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function draw() {
    var i = +etaIn.value, j = +depthIn.value - 1, it = D.iterations, n = it.length;
    var series = [D.mean[i][0], D.mean[i][j], D.low[i][j], D.high[i][j], D.faithful[i][j]];
    var paper = (Math.abs(D.etas[i] - 0.01) < 1e-12 && j < 3) ? D.paper[j] : null;
    var lo = Infinity, hi = -Infinity;
    for (var d = 0; d < D.depths.length; d++) {
      [D.low[i][d], D.high[i][d], D.faithful[i][d]].forEach(function (s) {
        s.forEach(function (v) { lo = Math.min(lo, v); hi = Math.max(hi, v); });
      });
    }
    if (paper) paper.forEach(function (v) { lo = Math.min(lo, v); hi = Math.max(hi, v); });
    var pad = 0.04 * (hi - lo || 1); lo -= pad; hi += pad;
    var x = function (t) { return L + (W - L - R) * (t - 1) / (it[n - 1] - 1); };
    var y = function (v) { return T + (H - T - B) * (hi - v) / (hi - lo); };
    var path = function (s, xs) {
      return s.map(function (v, k) { return (k ? "L" : "M") + x(xs[k]).toFixed(1) + "," + y(v).toFixed(1); }).join("");
    };
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, width: "100%%", role: "img",
                         "aria-label": "train log-likelihood curves"});
    svg.appendChild(el("rect", {x: L, y: T, width: W - L - R, height: H - T - B, fill: "none", stroke: "#999"}));
    for (var q = 0; q <= 4; q++) {
      var v = lo + (hi - lo) * q / 4, yy = y(v).toFixed(1);
      svg.appendChild(el("line", {x1: L - 4, x2: L, y1: yy, y2: yy, stroke: "#999"}));
      svg.appendChild(el("text", {x: L - 6, y: +yy + 4, "text-anchor": "end", "font-size": 11}, v.toFixed(2)));
    }
    [1, 100, 200, 300, 400, 500].filter(function (t) { return t <= it[n - 1]; }).forEach(function (t) {
      svg.appendChild(el("text", {x: x(t), y: H - B + 16, "text-anchor": "middle", "font-size": 11}, String(t)));
    });
    svg.appendChild(el("text", {x: (L + W) / 2, y: H - 6, "text-anchor": "middle", "font-size": 12}, "iteration"));
    svg.appendChild(el("text", {x: 14, y: (T + H - B) / 2, "text-anchor": "middle", "font-size": 12,
                                transform: "rotate(-90 14 " + (T + H - B) / 2 + ")"}, "mean train LLH"));
    var band = D.high[i][j].map(function (v, k) { return [x(it[k]), y(v)]; })
      .concat(D.low[i][j].map(function (v, k) { return [x(it[k]), y(v)]; }).reverse());
    var points = band.map(function (p) { return p[0].toFixed(1) + "," + p[1].toFixed(1); }).join(" ");
    svg.appendChild(el("polygon", {points: points,
                                   fill: colours[j], "fill-opacity": 0.25, stroke: "none"}));
    if (j > 0) svg.appendChild(el("path", {d: path(D.mean[i][0], it), fill: "none", stroke: colours[0],
                                             "stroke-width": 1.5, "stroke-dasharray": "6 4"}));
    svg.appendChild(el("path", {d: path(D.mean[i][j], it), fill: "none", stroke: colours[j], "stroke-width": 2}));
    svg.appendChild(el("path", {d: path(D.faithful[i][j], it), fill: "none", stroke: "#000", "stroke-width": 1.2}));
    if (paper) {
      var pit = paper.map(function (v, k) { return 1 + 5 * k; });
      svg.appendChild(el("path", {d: path(paper, pit), fill: "none", stroke: "#555", "stroke-width": 1.2,
                                  "stroke-dasharray": "2 3"}));
    }
    var legend = [[colours[j], "L = " + (j + 1) + ": " + D.variant + " (mean of " + D.runs + ", 95%% band)"],
                  ["#000", "L = " + (j + 1) + ": faithful protocol"]];
    if (j > 0) legend.push([colours[0], "L = 1: " + D.variant + " (dashed)"]);
    if (paper) legend.push(["#555", "paper, L = " + (j + 1) + " (dotted)"]);
    legend.forEach(function (e, k) {
      var ly = H - B - 12 - 15 * (legend.length - 1 - k);
      svg.appendChild(el("line", {x1: W - R - 300, x2: W - R - 278, y1: ly - 4, y2: ly - 4, stroke: e[0],
                                  "stroke-width": 2}));
      svg.appendChild(el("text", {x: W - R - 272, y: ly, "font-size": 11}, e[1]));
    });
    fig.replaceChildren(svg);
    var fm = D.mean[i][j][n - 1], f1 = D.mean[i][0][n - 1];
    label.textContent = "eta = " + D.etas[i].toPrecision(3) + ", L = " + (j + 1) + ": final mean train LLH " +
      fm.toFixed(3) + " (L = 1: " + f1.toFixed(3) + "; faithful: " + D.faithful[i][j][n - 1].toFixed(3) + ")";
  }
  etaIn.addEventListener("input", draw);
  depthIn.addEventListener("input", draw);
  draw();
})();
"""


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
        f'<script>{_SCRIPT % {"id": uid}}</script>\n'
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

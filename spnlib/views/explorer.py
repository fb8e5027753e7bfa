"""Exploring eta and L: live ipywidgets in a kernel, and a static HTML explorer for the rendered book.

* :func:`draw_curves` draws a :class:`~spnlib.experiment.explore.Frame` (the chosen depth, and
  L = 1 dashed beside it; finished or still training); :func:`draw_settings` trains a setting
  (cached per depth, :func:`spnlib.experiment.explore.settings_curves`) and draws it: the live
  explorer's figure as a plain function.
* :class:`LiveExplorer` drives a :class:`~spnlib.experiment.explore.LiveSession` and renders its
  frames as they come (at most one per ``interval`` while training, at once when finished);
  :func:`live_explorer` wires it to ipywidgets (needs a kernel; the training runs in worker
  processes, so the kernel takes the reader's next move at once and a superseded run is cancelled).
* :func:`static_explorer_html` turns precomputed grids of eta x L, one per variant
  (:func:`spnlib.experiment.explore.explorer_grid`), into plain HTML and the JavaScript of
  ``spnlib/resources/static_explorer.js`` (range inputs, a variant menu when there are several,
  and an inline SVG): it works in the rendered HTML without a kernel, a CDN or any request.
* :func:`nice_ticks` chooses round tick values for both explorers' axes.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

import asyncio
import hashlib
import importlib.resources
import json
import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from spnlib.experiment.explore import (
    EXPLORER_DATASETS,
    ExplorerGrid,
    Frame,
    LiveSession,
    ProcessRunner,
    Setting,
    curve_band,
    settings_curves,
)
from spnlib.experiment.protocols import PROTOCOLS, get_protocol, paper_fig3

__all__ = ["nice_ticks", "draw_curves", "draw_settings", "LiveExplorer", "live_explorer", "static_explorer_html",
           "StaticExplorer"]

LEGEND_FONTSIZE = 9
"""Legend text (points) of the live figure: readable at the page's width."""
_NICE_STEPS = (1.0, 2.0, 2.5, 5.0)


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> tuple[float, float, list[float]]:
    """Round tick values covering [lo, hi]: multiples of 1, 2, 2.5 or 5 x 10^k, at most ``max_ticks``.

    Returns ``(low, high, ticks)``: the axis limits (the outer ticks) and the ticks.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"need finite lo <= hi, got {lo!r}, {hi!r}")
    if max_ticks < 3:
        raise ValueError(f"need at least 3 ticks (a range across 0 takes 3), got {max_ticks}")
    if hi - lo < 1e-12 * max(1.0, abs(lo)):
        half = 0.05 * abs(lo) if abs(lo) > 1e-9 else 0.5
        lo, hi = lo - half, hi + half
    exponent = math.floor(math.log10((hi - lo) / (max_ticks - 1)))
    while True:
        for m in _NICE_STEPS:
            step, digits = m * 10.0 ** exponent, max(0, -exponent + (1 if m == 2.5 else 0))
            first, last = math.floor(lo / step), math.ceil(hi / step)
            first -= round(first * step, digits) > lo          # a quotient rounded up to a whole number
            last += round(last * step, digits) < hi
            if last - first + 1 <= max_ticks:
                ticks = [round(k * step, digits) for k in range(first, last + 1)]
                return ticks[0], ticks[-1], ticks
        exponent += 1


# ------------------------------------------------------------------------------------ the figure
def _series(frame: Frame) -> tuple[list[dict], dict]:
    """What a frame shows, for both drawers: one entry per line, and the summary of :func:`draw_curves`.

    Depth L solid with its 95 % band, L = 1 dashed, the paper dotted at its setting. A curve still
    training is its mean over runs so far; its band (:func:`~spnlib.experiment.explore.curve_band`,
    a bootstrap) comes once it is finished.
    """
    from spnlib.views.figures import depth_colour

    view, T = frame.view, frame.iterations
    out: dict = {"final": None, "final_shallow": None, "runs": view.runs}
    lines = []
    for L in ((1, view.depth) if view.depth != 1 else (1,)):
        c = frame.curves.get(L)
        if c is None or c.shape[1] == 0:
            continue
        band = curve_band(view.at_depth(L), c) if c.shape[0] > 1 and c.shape[1] == T else None
        mean = band[0] if band is not None else c.mean(axis=0)
        what = ("one run" if c.shape[0] == 1 else f"mean of {c.shape[0]}, 95 % band" if band is not None
                else f"mean of {c.shape[0]}, training")
        lines.append({"label": f"L = {L} ({what})", "colour": depth_colour(L), "dash": L != view.depth,
                      "x": np.arange(1, c.shape[1] + 1), "y": mean, "band": None if band is None else band[1:]})
        out["final" if L == view.depth else "final_shallow"] = float(mean[-1])
    if view.depth == 1:
        out["final_shallow"] = out["final"]
    if view.dataset == "nltcs" and view.eta == 0.01 and view.depth <= 3 and T == 500 \
            and get_protocol(view.protocol).rule == "projected":
        lines.append({"label": f"paper, L = {view.depth}", "colour": "#000000", "dash": "dotted",
                      "x": np.arange(1, 501), "y": paper_fig3()[view.depth - 1], "band": None})
    return lines, out


def draw_curves(ax, frame: Frame) -> dict:
    """Draw a frame with matplotlib on ``ax`` (see :func:`_series`); the book's static figure.

    Returns
    -------
    dict
        ``final`` (mean train LLH of depth L at its last trained iteration), ``final_shallow``
        (of L = 1), ``runs``; a value is None while its curve has not started.
    """
    lines, out = _series(frame)
    styles = {True: "--", False: "-", "dotted": ":"}
    for e in lines:
        ax.plot(e["x"], e["y"], styles[e["dash"]], color=e["colour"], lw=1.2 if e["dash"] == "dotted" else 1.6,
                label=e["label"])
        if e["band"] is not None:
            ax.fill_between(e["x"], *e["band"], color=e["colour"], alpha=0.25, lw=0)
    view = frame.view
    ax.set_xlim(1, frame.iterations)
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean train LLH")
    ax.set_title(f"{view.protocol} on {view.dataset}, eta = {view.eta:.3g}", fontsize=10)
    if lines:
        ax.legend(fontsize=LEGEND_FONTSIZE, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2,
                  frameon=False)
    return out


_SVG = {"W": 560, "H": 300, "L": 46, "R": 10, "T": 22, "B": 34}
"""The live figure's layout (viewBox units), as the static explorer's."""
_DASHES = {True: "6 4", False: "", "dotted": "2 3"}


def frame_svg(frame: Frame) -> str:
    """The live explorer's figure of a frame: an inline SVG and an HTML legend (the static explorer's look).

    Drawn in a few milliseconds (the browser renders it), sharp at any resolution; colours
    from :data:`spnlib.views.figures.DEPTH_COLOURS`, round ticks from :func:`nice_ticks`.
    """
    W, H, L, R, T, B = (_SVG[k] for k in "WHLRTB")
    lines, _ = _series(frame)
    n = frame.iterations
    values = [v for e in lines for v in ((e["y"],) + (tuple(e["band"]) if e["band"] is not None else ()))]
    lo, hi, yticks = nice_ticks(min(float(np.min(v)) for v in values), max(float(np.max(v)) for v in values)) \
        if values else (-1.0, 0.0, [-1.0, 0.0])

    def px(t):
        return L + (W - L - R) * (np.asarray(t, dtype=float) - 1) / max(n - 1, 1)

    def py(v):
        return T + (H - T - B) * (hi - np.asarray(v, dtype=float)) / (hi - lo)

    def points(x, y) -> str:
        return " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px(x), py(y)))

    parts = [f'<svg viewBox="0 0 {W} {H}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg" '
             f'aria-label="train log-likelihood curves" style="font-family:sans-serif">']
    for v in yticks:
        y = float(py(v))
        parts.append(f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e4e4"/>'
                     f'<text x="{L - 5}" y="{y + 4:.1f}" text-anchor="end" font-size="12">{v:g}</text>')
    for t in [1] + [t for t in nice_ticks(0, n)[2] if t > 1]:
        parts.append(f'<text x="{float(px(t)):.1f}" y="{H - B + 15}" text-anchor="middle" font-size="12">{t:g}</text>')
    view = frame.view
    parts.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#999"/>'
                 f'<text x="{(L + W) / 2:.0f}" y="{H - 3}" text-anchor="middle" font-size="12">iteration</text>'
                 f'<text x="12" y="{(T + H - B) / 2:.0f}" text-anchor="middle" font-size="12" '
                 f'transform="rotate(-90 12 {(T + H - B) / 2:.0f})">mean train LLH</text>'
                 f'<text x="{(L + W) / 2:.0f}" y="15" text-anchor="middle" font-size="13">{view.protocol} on '
                 f'{view.dataset}, eta = {view.eta:.3g}</text>')
    for e in lines:
        if e["band"] is not None:
            low, high = e["band"]
            outline = points(np.r_[e["x"], e["x"][::-1]], np.r_[high, low[::-1]])
            parts.append(f'<polygon points="{outline}" fill="{e["colour"]}" fill-opacity="0.25" stroke="none"/>')
    for e in lines:
        width = 1.4 if e["dash"] == "dotted" else 1.6 if e["dash"] else 2.2
        parts.append(f'<polyline points="{points(e["x"], e["y"])}" fill="none" stroke="{e["colour"]}" '
                     f'stroke-width="{width}" stroke-dasharray="{_DASHES[e["dash"]]}"/>')
    parts.append("</svg>")
    legend = "".join(
        f'<span style="white-space:nowrap"><svg width="30" height="10" aria-hidden="true"><line x1="1" x2="29" '
        f'y1="5" y2="5" stroke="{e["colour"]}" stroke-width="2" stroke-dasharray="{_DASHES[e["dash"]]}"/></svg> '
        f'{e["label"]}</span>' for e in lines)
    return ('<div class="live-explorer-figure" style="max-width:640px;font-size:14px;font-family:sans-serif">'
            f'{"".join(parts)}<div style="display:flex;flex-wrap:wrap;gap:2px 18px;margin:2px 0 0 {L}px">'
            f'{legend}</div></div>')


def draw_settings(eta: float = 0.01, depth: int = 3, protocol: str = "perturbed", dataset: str = "nltcs",
                  seeds: int = 3, ax=None) -> dict:
    """The live explorer's figure for one setting, trained to the end (cached), drawn on ``ax``.

    Returns the dict of :func:`draw_curves`.
    """
    import matplotlib.pyplot as plt

    view = Setting.of(eta, depth, protocol, dataset, seeds)
    depths = (1, view.depth) if view.depth != 1 else (1,)
    curves = settings_curves(view.eta, depths, view.protocol, view.dataset, seeds)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    T = int(curves.shape[-1])
    return draw_curves(ax, Frame(view, dict(zip(depths, curves)), {L: T for L in depths}, T, True))


def _status(frame: Frame) -> str:
    if frame.error is not None:
        return f"this setting cannot be trained: {frame.error}"
    if frame.complete:
        return f"done: {frame.view.protocol}, eta = {frame.view.eta:.3g}, L = {frame.view.depth}"
    todo = ", ".join(f"L = {L}: {done} / {frame.iterations}" for L, done in sorted(frame.progress.items())
                     if done < frame.iterations)
    return f"training ({todo} iterations)"


class LiveExplorer:
    """The live explorer without widgets: requests go to a session; frames are drawn and handed to ``show``.

    Parameters
    ----------
    session : LiveSession
    show : callable
        Receives each frame drawn (:func:`frame_svg`: HTML with an inline SVG).
    status : callable, optional
        Receives a one-line state ("training (L = 3: 150 / 500 iterations)", "done: ...").
    interval : float
        Least seconds between two frames while training, and at least three times the time the
        last frame took (so a busy machine draws fewer); the first frame of a request and the
        finished figure are drawn at once.
    """

    def __init__(self, session: LiveSession, show: Callable[[str], None],
                 status: Callable[[str], None] | None = None, interval: float = 0.1) -> None:
        self.session, self.show, self.status, self.interval = session, show, status, interval
        self._next = -math.inf
        self._shown: tuple | None = None                 # what the last frame drawn showed
        self._wake: asyncio.Event | None = None
        self.task: asyncio.Task | None = None
        self.frames = 0

    def request(self, **setting) -> None:
        """Show a setting (keywords of :meth:`LiveSession.request`); a bad one is reported in the status."""
        try:
            self.session.request(**setting)
        except ValueError as e:
            self._say(str(e))
            return
        self._next = -math.inf
        if self._wake is not None:
            self._wake.set()

    def pump(self) -> bool:
        """Take the session's news and draw if due; True while work remains."""
        frame = self.session.poll()
        if frame is not None:
            self._say(_status(frame))
            shown = (frame.view, frame.complete, tuple((L, c.shape) for L, c in sorted(frame.curves.items())))
            if frame.curves and shown != self._shown and (frame.complete or time.monotonic() >= self._next):
                self.render(frame)
                self._shown = shown
        return not self.session.idle

    def render(self, frame: Frame) -> None:
        start = time.monotonic()
        self.show(frame_svg(frame))
        self._next = time.monotonic() + max(self.interval, 3 * (time.monotonic() - start))
        self.frames += 1

    def run_until_idle(self, tick: float = 0.002, timeout: float = 600.0) -> None:
        """Pump until nothing is left to train (headless use: tests, benchmarks)."""
        end = time.monotonic() + timeout
        while self.pump():
            if time.monotonic() > end:
                raise TimeoutError("the live explorer did not finish in time")
            time.sleep(tick)

    async def run(self, tick: float = 0.01) -> None:
        """Pump forever from the kernel's event loop: every ``tick`` while busy, else wait for a request."""
        self._wake = asyncio.Event()
        while True:
            if self.pump():
                await asyncio.sleep(tick)
            else:
                await self._wake.wait()
                self._wake.clear()

    def _say(self, text: str) -> None:
        if self.status is not None:
            self.status(text)


def live_explorer(workers: int | None = None):  # pragma: no cover - needs a kernel and a front end
    """ipywidgets for eta (log slider 1e-3..1), L (1..4), protocol, dataset and seeds, redrawing as it trains.

    The sliders send their value when released; the training runs in worker processes (one per
    usable core, at most two), the depth shown first, then L = 1, then the other depths while the
    reader looks. The first view is trained here, before the widgets appear.
    """
    import ipywidgets as widgets
    from IPython.display import display

    controls = {
        "eta": widgets.FloatLogSlider(value=0.01, base=10, min=-3, max=0, step=0.25, description="eta",
                                      continuous_update=False),
        "depth": widgets.IntSlider(value=3, min=1, max=4, description="L", continuous_update=False),
        "protocol": widgets.Dropdown(options=list(PROTOCOLS), value="perturbed", description="protocol"),
        "dataset": widgets.Dropdown(options=list(EXPLORER_DATASETS), value="nltcs", description="dataset"),
        "seeds": widgets.IntSlider(value=3, min=1, max=10, description="seeds", continuous_update=False),
    }
    figure = widgets.HTML(layout=widgets.Layout(width="100%", max_width="660px"))
    status = widgets.HTML()
    values = {k: c.value for k, c in controls.items()}
    settings_curves(values["eta"], (1, values["depth"]), values["protocol"], values["dataset"], values["seeds"])
    session = LiveSession(ProcessRunner(workers), eta_step=controls["eta"].step)
    driver = LiveExplorer(session, show=lambda html: setattr(figure, "value", html),
                          status=lambda text: setattr(status, "value", text))
    driver.request(prefetch=False, **values)
    driver.pump()

    def changed(_) -> None:
        driver.request(**{k: c.value for k, c in controls.items()})

    for c in controls.values():
        c.observe(changed, names="value")
    driver.task = asyncio.ensure_future(driver.run())
    driver.controls, driver.figure, driver.status_line = controls, figure, status   # type: ignore[attr-defined]
    display(widgets.VBox([widgets.HBox([controls["eta"], controls["depth"]]),
                          widgets.HBox([controls["protocol"], controls["dataset"], controls["seeds"]]),
                          status, figure]))
    return driver


# ------------------------------------------------------------------------- the static explorer
def _static_explorer_js() -> str:
    return importlib.resources.files("spnlib").joinpath("resources/static_explorer.js").read_text()


def _variant_payload(grid: ExplorerGrid, digits: int) -> dict:
    def r(a: np.ndarray) -> list:
        return np.round(np.asarray(a, dtype=np.float64), digits).tolist()

    ylim, yticks = [], []
    for i in range(len(grid.etas)):
        values = np.concatenate([grid.low[i].ravel(), grid.high[i].ravel(), grid.faithful[i].ravel()])
        if abs(grid.etas[i] - 0.01) < 1e-12:
            values = np.concatenate([values, paper_fig3().ravel()])
        lo, hi, ticks = nice_ticks(float(values.min()), float(values.max()))
        ylim.append([lo, hi])
        yticks.append(ticks)
    T = int(grid.iterations[-1])
    return {"name": grid.variant, "label": grid.label or grid.variant, "runs": grid.runs,
            "etas": [float(f"{e:.6g}") for e in grid.etas], "depths": list(grid.depths),
            "iterations": grid.iterations.tolist(), "xticks": [1] + [t for t in nice_ticks(0, T)[2] if t > 1],
            "faithful": r(grid.faithful), "mean": r(grid.mean), "low": r(grid.low), "high": r(grid.high),
            "ylim": ylim, "yticks": yticks}


def static_explorer_html(grids: ExplorerGrid | Sequence[ExplorerGrid], start_eta: float = 0.01,
                         start_depth: int = 1, digits: int = 3) -> str:
    """Plain HTML + inline JavaScript: sliders over eta and L (and a menu of variants) redraw an inline SVG.

    The markup is ``<div class="static-explorer">`` with ``<input type="range" name="eta">``,
    ``<input type="range" name="depth">``, a ``<select name="variant">`` when there is more than one
    grid, and a ``.static-explorer-figure`` element that changes whenever a control moves (an
    ``input`` event). The colours are :data:`spnlib.views.figures.DEPTH_COLOURS`; the axes' ranges
    and round ticks come from :func:`nice_ticks`. No external resources.
    """
    from spnlib.views.figures import DEPTH_COLOURS

    grids = [grids] if isinstance(grids, ExplorerGrid) else list(grids)
    if not grids:
        raise ValueError("give at least one grid")
    names = [g.variant for g in grids]
    if len(set(names)) != len(names):
        raise ValueError(f"one grid per variant, got {names}")
    first = grids[0]
    paper = paper_fig3()[:, ::5]
    payload = {"colours": [DEPTH_COLOURS[(L - 1) % len(DEPTH_COLOURS)] for L in range(1, 1 + max(
                   max(g.depths) for g in grids))],
               "paper": np.round(paper, digits).tolist(), "paperEvery": 5, "paperEta": 0.01,
               "variants": [_variant_payload(g, digits) for g in grids]}
    text = json.dumps(payload, separators=(",", ":"))
    uid = "static-explorer-" + hashlib.sha256(text.encode()).hexdigest()[:12]
    i0 = int(np.argmin(np.abs(np.log(first.etas) - np.log(start_eta))))
    d0 = min(max(int(start_depth), 1), len(first.depths))
    menu = ""
    if len(grids) > 1:
        options = "".join(f'<option value="{k}">{g.variant} ({g.runs} runs)</option>' for k, g in enumerate(grids))
        menu = f'<div><label>variant <select name="variant">{options}</select></label></div>\n'
    return (
        f'<div class="static-explorer" id="{uid}" style="max-width:640px;font-size:14px">\n'
        f'{menu}'
        f'<div><label>learning rate <span class="static-explorer-eta"></span> '
        f'<input type="range" name="eta" min="0" max="{len(first.etas) - 1}" step="1" value="{i0}"></label></div>\n'
        f'<div><label>depth <span class="static-explorer-depth"></span> '
        f'<input type="range" name="depth" min="1" max="{len(first.depths)}" step="1" value="{d0}"></label></div>\n'
        f'<div class="static-explorer-label"></div>\n'
        f'<div class="static-explorer-figure"></div>\n'
        f'<script type="application/json">{text}</script>\n'
        f'<script>{_static_explorer_js()}\nspnlibStaticExplorer(document.getElementById("{uid}"));</script>\n'
        '</div>'
    )


class StaticExplorer:
    """Displays :func:`static_explorer_html` in a notebook (text/html output; a stable text repr)."""

    def __init__(self, grids: ExplorerGrid | Sequence[ExplorerGrid], **kwargs) -> None:
        self.html = static_explorer_html(grids, **kwargs)
        self.grids = [grids] if isinstance(grids, ExplorerGrid) else list(grids)

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        g = self.grids[0]
        variants = ", ".join(x.variant for x in self.grids)
        return (f"StaticExplorer({len(g.etas)} learning rates x {len(g.depths)} depths; {variants}; "
                f"{len(self.html) // 1024} KiB)")

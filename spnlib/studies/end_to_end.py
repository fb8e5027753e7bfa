"""Observation 1 without circularity: the end-to-end optimiser on the shallow network.

Gradient flow on the layer weights u moves the mixture weights by dw/dt = J J^T nabla_w, with
J = dw/du (:func:`velocity`). The conservation laws of :mod:`spnlib.symbolic.conservation`
(Q_S = a^2 - sum_j b_j^2 for every sum node S below the root) make u a function of w and the
constants Q_S fixed at initialisation: :func:`recover_layers` finds it by a nested 1-D
root-finding (closed form at sum nodes over components only; the closed form
:func:`balanced_layers` everywhere when every Q_S = 0). :func:`end_to_end_ascent` trains the
*shallow* mixture with

    w^{(t+1)} = w^{(t)} + eta J J^T nabla_w^{(t)},   J evaluated at u = recover_layers(w^{(t)}, Q),

from the decomposition, the initial w and the constants Q alone: it never reads the deep run.
:func:`tracking` measures how far it is from gradient ascent on the layers over a fixed time
eta T, for several eta; if Observation 1 holds as a first-order statement the distance vanishes
like eta. :func:`noether_residual` and :func:`conservation_drift` check the laws numerically.

Defined in the book's chapter "Numerical verification of the dynamics".
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.checks import check_eta
from spnlib.data.counted import CountedData
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.structure.decomposition import Decomposition, shallow
from spnlib.studies.observation1 import OverparameterizedRun, train_overparameterized
from spnlib.symbolic.conservation import heights, scaling_symmetries, sum_node_edges
from spnlib.tolerances import FIRST_ORDER_SLOPE, TRACKING_RTOL  # re-exported; stated once in tolerances

__all__ = ["incidence", "generators", "conserved", "node_constants", "noether_residual", "recover_layers",
           "balanced_layers", "balanced_start", "velocity", "EndToEndRun", "end_to_end_ascent", "Tracking",
           "tracking", "CONTROLS", "conservation_drift", "loglog_slope", "FIRST_ORDER_SLOPE", "TRACKING_RTOL"]

_LOG_TOL = 4 * np.finfo(float).eps     # |log a - log a*| at which a root is final


def incidence(decomposition: Decomposition) -> np.ndarray:
    """A[k, i] = 1 if layer weight i (concatenated layers) is on the path to C_k, shape (K, n)."""
    dec = decomposition
    A = np.zeros((dec.n_components, dec.n_weights + 1))
    np.put_along_axis(A, dec.flat_index, 1.0, axis=1)
    return A[:, :-1]


def generators(decomposition: Decomposition) -> np.ndarray:
    """The scaling generators s of :func:`~spnlib.symbolic.conservation.scaling_symmetries` as rows
    over the concatenated layer weights (node laws first, the root law last), shape (m + 1, n)."""
    dec = decomposition
    offsets = np.concatenate([[0], np.cumsum(dec.layer_sizes)])
    syms = scaling_symmetries(dec)
    G = np.zeros((len(syms), dec.n_weights))
    for r, sym in enumerate(syms):
        for (l, j), s in sym.generator:
            G[r, offsets[l] + j] = s
    return G


def conserved(decomposition: Decomposition, layers: Sequence[np.ndarray]) -> np.ndarray:
    """Q = G u^2: every node's a^2 - sum_j b_j^2, then the root layer's ||u^{[0]}||^2."""
    u = np.concatenate(decomposition.check_layer_weights(layers))
    return generators(decomposition) @ u ** 2


def node_constants(decomposition: Decomposition, layers: Sequence[np.ndarray]) -> np.ndarray:
    """The node laws' Q_S (without the root law), in the order of the sum nodes below the root."""
    return conserved(decomposition, layers)[:-1]


def noether_residual(decomposition: Decomposition, params: MixtureParams, data: CountedData) -> np.ndarray:
    """|sum_i s_i u_i dJ/du_i| / sum_i |u_i dJ/du_i| per law, with the numeric core's gradient.

    The identity of every law says the numerator is 0; this is its round-off-level check,
    independent of the symbolic derivation.
    """
    _, grad = FactorisedMixture(decomposition, params.leaf.shape[1]).llh_and_grad(params, data)
    u, g = np.concatenate(params.layers), np.concatenate(grad.layers)
    G = generators(decomposition)
    return np.abs(G @ (u * g)) / (np.abs(G) @ np.abs(u * g))


def _root_log(fn: Callable[[float], float], guess: float, step: float = 1.0) -> float:
    """The root y of an increasing fn on the real line (fn -> -inf / +inf at the ends), from a guess.

    Bracketing by doubling steps from ``step``, then false position (Illinois) with bisection as a
    safeguard.
    """
    lo = hi = guess
    f_lo = f_hi = fn(guess)
    if f_lo == 0:
        return guess
    while f_lo > 0:
        hi, f_hi, lo = lo, f_lo, lo - step
        f_lo, step = fn(lo), 2 * step
    while f_hi < 0:
        lo, f_lo, hi = hi, f_hi, hi + step
        f_hi, step = fn(hi), 2 * step
    side, previous = 0, np.inf
    for _ in range(200):
        tol = _LOG_TOL * max(1.0, abs(lo), abs(hi))
        if hi - lo <= tol:
            break
        y = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not lo < y < hi:
            y = 0.5 * (lo + hi)
        f = fn(y)
        if f == 0 or abs(y - previous) <= tol:
            return y
        previous = y
        if f < 0:
            lo, f_lo = y, f
            if side == -1:
                f_hi /= 2
            side = -1
        else:
            hi, f_hi = y, f
            if side == 1:
                f_lo /= 2
            side = 1
    return 0.5 * (lo + hi)


def recover_layers(decomposition: Decomposition, weights: np.ndarray, constants: np.ndarray,
                   warm: dict[int, float] | None = None) -> list[np.ndarray]:
    """The layer weights u with w(u) = ``weights`` and node laws Q_S(u) = ``constants``.

    The solution is unique: for a sum node S with parent product m (product of the edges above
    its incoming edge a), h(a) = a^2 - sum_c b_c(m a)^2 - Q_S increases strictly from -inf to +inf,
    because each child edge b_c (w_c / M for a component, the same construction one level down for
    a sum node) decreases in the product M above it. The root-finding is 1-D per node, nested;
    a node over components only has the closed form a^2 = (Q + sqrt(Q^2 + 4 S / m^2)) / 2,
    S = sum_c w_c^2.

    ``warm`` (a dict, updated in place) keeps the last log-edge found per node as the next starting
    guess; it changes the work, not the result (the root is unique).
    """
    dec = decomposition
    w = np.asarray(weights, dtype=np.float64)
    nodes = sum_node_edges(dec)
    Q = np.asarray(constants, dtype=np.float64)
    if w.shape != (dec.n_components,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"need {dec.n_components} finite mixture weights > 0, got {w.tolist()}")
    if Q.shape != (len(nodes) - 1,) or not np.all(np.isfinite(Q)):
        raise ValueError(f"need {len(nodes) - 1} finite node constants, got shape {Q.shape}")
    q = {i: Q[i - 1] for i in range(1, len(nodes))}           # node i >= 1 <-> law i - 1
    leaves_only = {i: all(kind == "component" for kind, _ in n.children) for i, n in enumerate(nodes)}

    def edge(i: int, m: float) -> float:
        """The edge into sum node i when the product above it is m."""
        node = nodes[i]
        if leaves_only[i]:
            S = sum(w[k] ** 2 for _, k in node.children) / m ** 2
            root = np.sqrt(q[i] ** 2 + 4 * S)
            x = (q[i] + root) / 2 if q[i] >= 0 else 2 * S / (root - q[i])
            return float(np.sqrt(x))

        def h(y: float) -> float:
            a = np.exp(y)
            M = m * a
            below = sum((w[idx] / M) ** 2 if kind == "component" else edge(idx, M) ** 2
                        for kind, idx in node.children)
            return float(a * a - below - q[i])

        if warm is not None and i in warm:
            y = _root_log(h, warm[i], step=1e-3)
        else:
            y = _root_log(h, 0.5 * np.log(abs(q[i])) if q[i] != 0 else 0.0)
        if warm is not None:
            warm[i] = y
        return float(np.exp(y))

    flat = np.zeros(dec.n_weights)
    offsets = np.concatenate([[0], np.cumsum(dec.layer_sizes)])

    def down(i: int, m: float) -> None:
        for (l, j), (kind, idx) in zip(nodes[i].outgoing, nodes[i].children):
            if kind == "component":
                flat[offsets[l] + j] = w[idx] / m
            else:
                a = edge(idx, m)
                flat[offsets[l] + j] = a
                down(idx, m * a)

    down(0, 1.0)
    return np.split(flat, offsets[1:-1])


def balanced_layers(decomposition: Decomposition, weights: np.ndarray) -> list[np.ndarray]:
    """Closed form of :func:`recover_layers` for Q_S = 0 (see
    :func:`spnlib.symbolic.conservation.balanced_layers`): the edge into a node of height h under a
    product m is (sigma / m)^(1/(h+1)), sigma = (sum_c sigma_c^(2/(h-1)))^((h-1)/2), sigma_k = w_k."""
    dec = decomposition
    w = np.asarray(weights, dtype=np.float64)
    nodes, hs = sum_node_edges(dec), heights(dec)
    sigma: dict[int, float] = {}
    for i in reversed(range(len(nodes))):
        parts = np.array([w[idx] if kind == "component" else sigma[idx] for kind, idx in nodes[i].children])
        sigma[i] = float(np.sum(parts ** (2 / hs[i])) ** (hs[i] / 2))
    flat = np.zeros(dec.n_weights)
    offsets = np.concatenate([[0], np.cumsum(dec.layer_sizes)])

    def down(i: int, m: float) -> None:
        for (l, j), (kind, idx) in zip(nodes[i].outgoing, nodes[i].children):
            a = w[idx] / m if kind == "component" else (sigma[idx] / m) ** (1 / (hs[idx] + 1))
            flat[offsets[l] + j] = a
            if kind == "node":
                down(idx, m * a)

    down(0, 1.0)
    return np.split(flat, offsets[1:-1])


def balanced_start(decomposition: Decomposition, scale: float, seed: int, spread: float = 0.5) -> list[np.ndarray]:
    """Layer weights with every Q_S = 0: edges into components ``scale * U(1 - spread, 1 + spread)``,
    each edge into a sum node the norm of that node's out-edges (bottom up)."""
    if not scale > 0 or not 0 <= spread < 1:
        raise ValueError("need scale > 0 and 0 <= spread < 1")
    dec = decomposition
    rng = np.random.default_rng(seed)
    nodes = sum_node_edges(dec)
    offsets = np.concatenate([[0], np.cumsum(dec.layer_sizes)])
    flat = np.zeros(dec.n_weights)
    bottom = scale * rng.uniform(1 - spread, 1 + spread, dec.n_components)
    for i in reversed(range(len(nodes))):
        out = [offsets[l] + j for l, j in nodes[i].outgoing]
        for pos, (kind, idx) in zip(out, nodes[i].children):
            if kind == "component":
                flat[pos] = bottom[idx]
        into = nodes[i].incoming
        if into is not None:
            flat[offsets[into[0]] + into[1]] = np.sqrt(np.sum(flat[out] ** 2))
    return np.split(flat, offsets[1:-1])


def velocity(decomposition: Decomposition, layers: Sequence[np.ndarray], grad_w: np.ndarray,
             rho_only: bool = False) -> np.ndarray:
    """J J^T nabla_w with J[k, i] = dw_k/du_i = w_k / u_i on k's path: dw/dt under gradient flow on u.

    It splits as rho_k nabla_{w_k} + lambda_k w_k (per unit eta): the bottom edge v_k of k's path gives
    P_k^2 nabla_{w_k} (P_k = w_k / v_k), the edges above it give lambda_k w_k. ``rho_only`` returns the
    first part alone.
    """
    dec = decomposition
    u = np.concatenate(dec.check_layer_weights(layers))
    w = dec.component_weights(layers)
    g = np.asarray(grad_w, dtype=np.float64)
    if rho_only:
        bottom = dec.flat_index[np.arange(dec.n_components), [dec.depth(k) - 1 for k in range(dec.n_components)]]
        return (w / u[bottom]) ** 2 * g
    J = incidence(dec) * w[:, None] / u[None, :]
    return J @ (J.T @ g)


@dataclass(frozen=True)
class EndToEndRun:
    """The shallow mixture under the end-to-end update: w (T + 1, K), llh (T + 1,), its own g (T + 1, K),
    the recovered layers (one (T + 1, n_l) array per layer), leaves at the end."""

    weights: np.ndarray
    llh: np.ndarray
    grads: np.ndarray
    layers: tuple[np.ndarray, ...]
    final_leaf: np.ndarray
    stopped_at: int | None = None


def end_to_end_ascent(data: CountedData, decomposition: Decomposition, leaf: np.ndarray, w0: np.ndarray,
                      constants: np.ndarray | None, eta: float, n_steps: int, leaf_eta: float | None = None,
                      on_invalid: str = "raise", rho_only: bool = False) -> EndToEndRun:
    """Train the shallow mixture by w <- w + eta J J^T nabla_w, with J at the layers recovered from w.

    Parameters
    ----------
    decomposition : Decomposition
        Whose end-to-end dynamics to follow (the shallow model has its K components).
    leaf, w0 : ndarray
        Leaf weights (K, D, 2) and initial mixture weights (K,).
    constants : ndarray or None
        The node laws' Q_S, fixed at initialisation (:func:`node_constants` of the initial layers);
        None uses the balanced closed form (every Q_S = 0) whatever the start.
    eta, n_steps : float, int
    leaf_eta : float or None
        Plain gradient steps on the leaves (None: leaves fixed, as Observation 1 assumes).
    on_invalid : "raise" or "stop"
        What to do when a step makes a weight <= 0.
    rho_only : bool
        Keep only the adaptive-rate part rho_k nabla_{w_k} of :func:`velocity` (no lambda term): a control.
    """
    eta = check_eta(eta)
    if on_invalid not in ("raise", "stop"):
        raise ValueError(f"on_invalid must be 'raise' or 'stop', got {on_invalid!r}")
    if leaf_eta is not None:
        check_eta(leaf_eta)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    dec = decomposition
    K = dec.n_components
    L = np.array(leaf, dtype=np.float64)
    if L.ndim != 3 or L.shape[0] != K or L.shape[2] != 2:
        raise ValueError(f"leaf weights need shape ({K}, D, 2), got {L.shape}")
    model = FactorisedMixture(shallow(K), L.shape[1])
    w = np.array(w0, dtype=np.float64)
    cache: dict[int, float] = {}
    recover = (lambda v: balanced_layers(dec, v)) if constants is None else \
        (lambda v: recover_layers(dec, v, np.asarray(constants, dtype=np.float64), warm=cache))
    weights, llhs, grads, lay = [], [], [], []
    stopped_at = None
    for t in range(n_steps + 1):
        llh, grad = model.llh_and_grad(MixtureParams(L, (w,)), data)
        layers = recover(w)
        weights.append(w)
        llhs.append(llh.mean)
        grads.append(grad.layers[0])
        lay.append(np.concatenate(layers))
        if t == n_steps:
            break
        step = velocity(dec, layers, grad.layers[0], rho_only=rho_only)
        new_w = w + eta * step
        new_L = L + leaf_eta * grad.leaf if leaf_eta is not None else L
        if new_w.min() <= 0 or new_L.min() <= 0:
            if on_invalid == "raise":
                raise ValueError(f"step {t} (eta = {eta:g}) of the end-to-end optimiser made a weight <= 0")
            stopped_at = t
            break
        w, L = new_w, new_L
    cuts = np.cumsum(dec.layer_sizes)[:-1]
    return EndToEndRun(np.array(weights), np.array(llhs), np.array(grads),
                       tuple(np.split(np.array(lay), cuts, axis=1)), L, stopped_at)


def conservation_drift(run: OverparameterizedRun) -> np.ndarray:
    """max_t |Q(t) - Q(0)| / (sum_i |s_i| u_i(0)^2) per law, for a run of gradient ascent on the layers."""
    dec = run.decomposition
    G = generators(dec)
    u2 = np.concatenate(run.layers, axis=1) ** 2                       # (T + 1, n)
    Q = u2 @ G.T
    return np.max(np.abs(Q - Q[0]), axis=0) / (u2[0] @ np.abs(G).T)


def loglog_slope(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Least-squares slope of log y against log x."""
    lx, ly = np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float))
    if len(lx) < 2 or not np.all(np.isfinite(ly)):
        raise ValueError("need at least two positive points")
    return float(np.polyfit(lx, ly, 1)[0])


@dataclass(frozen=True)
class Tracking:
    """Deep runs and end-to-end runs over a fixed time eta T, one pair per eta.

    ``deviation[i]``: max over t of ||w_e2e - w_deep|| / ||w_deep||; ``llh_gap[i]``: max |llh difference|;
    ``movement[i]``: max over t of ||w_deep(t) - w_deep(0)|| / ||w_deep(0)|| (how far the run goes);
    ``drift[i]``: the largest :func:`conservation_drift` of the deep run; ``controls[name][i]``: the
    deviation of other optimisers (:data:`CONTROLS`), over the steps they ran; ``control_stops[name][i]``
    the step at which one made a weight <= 0 (None: it ran to the end).
    """

    etas: tuple[float, ...]
    time: float
    train_leaves: bool
    deviation: np.ndarray
    llh_gap: np.ndarray
    movement: np.ndarray
    llh_gain: np.ndarray
    drift: np.ndarray
    controls: dict[str, np.ndarray]
    control_stops: dict[str, tuple[int | None, ...]]

    def slopes(self) -> dict[str, float]:
        """log-log slopes against eta: deviation, llh gap, conservation drift, and each control."""
        out = {"deviation": loglog_slope(self.etas, self.deviation), "llh gap": loglog_slope(self.etas, self.llh_gap),
               "drift": loglog_slope(self.etas, self.drift)}
        out.update({name: loglog_slope(self.etas, v) for name, v in self.controls.items()
                    if np.all(np.isfinite(v)) and np.all(v > 0)})
        return out


CONTROLS = {
    "balanced form": "the closed form for a balanced start (every Q_S = 0), whatever the start",
    "rate only": "only the adaptive rate, w_k += eta P_k^2 nabla_{w_k} (no lambda w_k term)",
}
"""Other optimisers on the shallow model that :func:`tracking` compares with the deep run."""


def _deviation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.max(np.linalg.norm(a[:n] - b[:n], axis=1) / np.linalg.norm(a[:n], axis=1)))


def tracking(data: CountedData, decomposition: Decomposition, start: MixtureParams, etas: Sequence[float],
             time: float, train_leaves: bool = False, controls: Sequence[str] = ("balanced form", "rate only")
             ) -> Tracking:
    """Gradient ascent on the layers (no floor) against :func:`end_to_end_ascent` from the same start.

    For each eta, both run n = round(time / eta) steps; the end-to-end optimiser gets the initial w
    and the node constants of ``start`` (never the deep trajectory). With ``train_leaves`` both
    take plain gradient steps on the leaves too.
    """
    dec = decomposition
    w0 = dec.component_weights(start.layers)
    Q = node_constants(dec, start.layers)
    dev, gap, move, gain, drift = [], [], [], [], []
    ctrl: dict[str, list[float]] = {c: [] for c in controls}
    stops: dict[str, list[int | None]] = {c: [] for c in controls}
    for eta in etas:
        n = max(1, int(round(time / eta)))
        deep = train_overparameterized(dec, data, start, eta, n, train_leaves=train_leaves)
        leaf_eta = eta if train_leaves else None
        e2e = end_to_end_ascent(data, dec, start.leaf, w0, Q, eta, n, leaf_eta)
        dev.append(_deviation(deep.weights, e2e.weights))
        gap.append(float(np.max(np.abs(deep.llh - e2e.llh))))
        move.append(float(np.max(np.linalg.norm(deep.weights - w0, axis=1)) / np.linalg.norm(w0)))
        gain.append(float(deep.llh[-1] - deep.llh[0]))
        drift.append(float(np.max(conservation_drift(deep))))
        for c in controls:
            if c not in CONTROLS:
                raise ValueError(f"unknown control {c!r}; choose from {list(CONTROLS)}")
            other = end_to_end_ascent(data, dec, start.leaf, w0, None if c == "balanced form" else Q, eta, n,
                                      leaf_eta, on_invalid="stop", rho_only=c == "rate only")
            ctrl[c].append(_deviation(deep.weights, other.weights))
            stops[c].append(other.stopped_at)
    return Tracking(tuple(float(e) for e in etas), float(time), train_leaves, np.array(dev), np.array(gap),
                    np.array(move), np.array(gain), np.array(drift), {c: np.array(v) for c, v in ctrl.items()},
                    {c: tuple(v) for c, v in stops.items()})


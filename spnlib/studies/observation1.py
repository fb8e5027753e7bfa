"""Many steps: Observation 1 (Eq. 14) reconstructed from real training runs.

Write w_k = P_k v_k, with v_k the bottom weight of k's path (used by w_k alone)
and P_k the product of the weights above it. Gradient ascent on the layers gives
v_k <- v_k + eta P_k grad_{w_k} exactly, hence, with no approximation,

    w_k^{(t+1)} = w_k^{(t)} + rho_k^{(t)} g_k^{(t)} + lambda_k^{(t)} w_k^{(t)},
    rho_k^{(t)} = eta P_k^{(t)} P_k^{(t+1)},   lambda_k^{(t)} = P_k^{(t+1)} / P_k^{(t)} - 1,

and unrolling lambda w into the past gradients (:func:`momentum_form`) gives Eq. 14,

    w_k^{(t+1)} = w_k^{(t)} + rho_k^{(t)} g_k^{(t)} + sum_{tau < t} mu_k^{(t,tau)} g_k^{(tau)} + c_k^{(t)},

with mu_k^{(t,tau)} = lambda^{(t)} rho^{(tau)} prod_{s=tau+1}^{t-1} (1 + lambda^{(s)})
(= eta (P^{(t+1)} - P^{(t)}) P^{(tau)} exactly) and a carry c_k^{(t)} of the initial
weights that a near-zero initialisation is supposed to make negligible. Here g_k is
the shallow gradient grad_{w_k}. The coefficients depend on k through P_k: they are
shared by the components under one sum node, not by all components.

:func:`adaptive_momentum_ascent` runs the shallow model with such a schedule as an
explicit optimiser on its own gradients. With a schedule read off a deep run this is a
*replay*: it retraces that run to round-off because the coefficients were taken from it, so it
shows that the rewriting is exact, not that the observation predicts anything. The test that
does not read the deep run is :mod:`spnlib.studies.end_to_end` (the conservation laws make
rho and lambda functions of the current w and nabla_w).

Defined in the book's chapter "Numerical verification of the dynamics".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from spnlib.checks import check_eta
from spnlib.data.counted import CountedData
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.structure.decomposition import Decomposition, shallow

__all__ = [
    "VARIANTS",
    "MomentumForm",
    "OverparameterizedRun",
    "ShallowRun",
    "adaptive_momentum_ascent",
    "coefficients",
    "component_groups",
    "drift",
    "fit_rho_lambda",
    "momentum_form",
    "near_zero_params",
    "train_overparameterized",
]


@dataclass(frozen=True)
class OverparameterizedRun:
    """A gradient-ascent run on a decomposed mixture, recorded at every iterate t = 0..T.

    Attributes
    ----------
    layers : tuple of ndarray
        ``layers[l]`` has shape (T + 1, n_l): the trajectory of u^{[l]}.
    weights : ndarray, shape (T + 1, K)
        w_k^{(t)}.
    shallow_grads : ndarray, shape (T + 1, K)
        g_k^{(t)} = grad_{w_k} of the shallow model at the same leaves and w.
    llh : ndarray, shape (T + 1,)
        Mean log-likelihood at each iterate.
    stopped_at : int or None
        The step that would have made a weight <= 0, if the run ended early.
    """

    decomposition: Decomposition
    eta: float
    layers: tuple[np.ndarray, ...]
    weights: np.ndarray
    shallow_grads: np.ndarray
    llh: np.ndarray
    initial: MixtureParams
    train_leaves: bool
    stopped_at: int | None = None

    @property
    def n_steps(self) -> int:
        return self.weights.shape[0] - 1

    def upper_products(self) -> np.ndarray:
        """P_k^{(t)}: product of the weights above the bottom of k's path, shape (T + 1, K)."""
        dec = self.decomposition
        flat = np.concatenate([*self.layers, np.ones((self.n_steps + 1, 1))], axis=1)
        depth = np.array([dec.depth(k) for k in range(dec.n_components)])
        upper = np.arange(dec.n_layers)[None, :] < (depth - 1)[:, None]
        idx = np.where(upper, dec.flat_index, dec.n_weights)          # padding slot = weight 1
        return np.prod(flat[:, idx], axis=2)

    def relative_steps(self) -> np.ndarray:
        """max over layer weights of |u^{(t+1)} - u^{(t)}| / u^{(t)}, shape (T,)."""
        return np.max([np.max(np.abs(np.diff(u, axis=0)) / u[:-1], axis=1) for u in self.layers], axis=0)


def near_zero_params(decomposition: Decomposition, n_variables: int, scale: float, seed: int,
                     jitter: float = 0.1, leaf_low: float = 0.25, leaf_high: float = 0.75) -> MixtureParams:
    """Layer weights ``scale * (1 + jitter * U(-1, 1))``, leaf weights uniform on [leaf_low, leaf_high)."""
    if not scale > 0 or not 0 <= jitter < 1 or not 0 < leaf_low < leaf_high:
        raise ValueError("need scale > 0, 0 <= jitter < 1 and 0 < leaf_low < leaf_high")
    rng = np.random.default_rng(seed)
    leaf = rng.uniform(leaf_low, leaf_high, (decomposition.n_components, n_variables, 2))
    return MixtureParams(leaf, tuple(scale * (1 + jitter * rng.uniform(-1, 1, n))
                                     for n in decomposition.layer_sizes))


def _check_on_invalid(on_invalid: str) -> None:
    if on_invalid not in ("raise", "stop"):
        raise ValueError(f"on_invalid must be 'raise' or 'stop', got {on_invalid!r}")



def train_overparameterized(decomposition: Decomposition, data: CountedData, params: MixtureParams,
                            eta: float, n_steps: int, train_leaves: bool = True,
                            on_invalid: str = "raise") -> OverparameterizedRun:
    """Plain gradient ascent on every layer weight (and the leaves, if ``train_leaves``).

    A step that makes a weight <= 0 (too large for unprojected gradient ascent)
    raises ValueError naming the step (``on_invalid="raise"``), or ends the run
    at the last valid iterate, recorded in ``stopped_at`` (``on_invalid="stop"``).
    """
    eta = check_eta(eta)
    _check_on_invalid(on_invalid)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    deep = FactorisedMixture(decomposition, data.n_variables)
    flat = FactorisedMixture(shallow(decomposition.n_components), data.n_variables)
    deep.check_params(params)
    leaf, layers = np.array(params.leaf), [np.array(u) for u in params.layers]
    traj: list[list[np.ndarray]] = [[] for _ in layers]
    weights, grads, llhs = [], [], []
    stopped_at = None
    for t in range(n_steps + 1):
        p = MixtureParams(leaf, tuple(layers))
        llh, grad = deep.llh_and_grad(p, data)
        w = deep.component_weights(p)
        grads.append(flat.llh_and_grad(MixtureParams(leaf, (w,)), data)[1].layers[0])
        weights.append(w)
        llhs.append(llh.mean)
        for tr, u in zip(traj, layers):
            tr.append(u.copy())
        if t == n_steps:
            break
        new_layers = [u + eta * g for u, g in zip(layers, grad.layers)]
        new_leaf = leaf + eta * grad.leaf if train_leaves else leaf
        if min(u.min() for u in new_layers) <= 0 or new_leaf.min() <= 0:
            if on_invalid == "raise":
                raise ValueError(f"step {t} (eta = {eta:g}) made a weight <= 0; unprojected gradient ascent "
                                 "needs a smaller eta or a larger initial scale")
            stopped_at = t
            break
        layers, leaf = new_layers, new_leaf
    return OverparameterizedRun(decomposition, eta, tuple(np.array(tr) for tr in traj), np.array(weights),
                                np.array(grads), np.array(llhs), params, train_leaves, stopped_at)


def component_groups(decomposition: Decomposition) -> list[np.ndarray]:
    """Components that share P_k (the same path above their bottom weight), as index arrays."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for k, path in enumerate(decomposition.paths):
        groups.setdefault((len(path),) + path[:-1], []).append(k)
    return [np.array(g) for g in groups.values()]


@dataclass(frozen=True)
class MomentumForm:
    """Coefficients of Eq. 14 for T steps: rho, lambda (T, K), mu (T, T, K) (tau < t), carry (T, K)."""

    rho: np.ndarray
    lam: np.ndarray
    mu: np.ndarray
    carry: np.ndarray

    @property
    def n_steps(self) -> int:
        return self.rho.shape[0]

    def terms(self, grads: np.ndarray) -> dict[str, np.ndarray]:
        """The three parts of the predicted change at every step, each (T, K)."""
        G = np.asarray(grads)[: self.n_steps]
        return {"rho g": self.rho * G, "momentum": np.einsum("tsk,sk->tk", self.mu, G), "carry": self.carry}

    def predicted_changes(self, grads: np.ndarray) -> np.ndarray:
        """rho^{(t)} g^{(t)} + sum_{tau<t} mu^{(t,tau)} g^{(tau)} + c^{(t)}, shape (T, K)."""
        # three arrays, so sum() never falls back to its start value 0
        return cast(np.ndarray, sum(self.terms(grads).values()))

    def residual(self, weights: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """||Delta w^{(t)} - predicted|| / ||Delta w^{(t)}|| at every step, shape (T,)."""
        dw = np.diff(np.asarray(weights)[: self.n_steps + 1], axis=0)
        return np.linalg.norm(dw - self.predicted_changes(grads), axis=1) / np.linalg.norm(dw, axis=1)


def momentum_form(rho: np.ndarray, lam: np.ndarray, w0: np.ndarray) -> MomentumForm:
    """Unroll w^{(t+1)} = w^{(t)} + rho^{(t)} g^{(t)} + lambda^{(t)} w^{(t)} into Eq. 14's form.

    mu^{(t,tau)} = lambda^{(t)} rho^{(tau)} prod_{s=tau+1}^{t-1} (1 + lambda^{(s)}) for tau < t,
    c^{(t)} = lambda^{(t)} prod_{s<t} (1 + lambda^{(s)}) w^{(0)}.
    """
    rho, lam = np.asarray(rho, dtype=np.float64), np.asarray(lam, dtype=np.float64)
    if rho.ndim != 2 or lam.shape != rho.shape or np.shape(w0) != rho.shape[1:]:
        raise ValueError(f"rho and lambda must be (T, K) and w0 (K,), got {rho.shape}, {lam.shape}, "
                         f"{np.shape(w0)}")
    if np.any(1 + lam <= 0):
        raise ValueError("1 + lambda must stay > 0 (a step may not flip the sign of a weight)")
    T = rho.shape[0]
    logc = np.concatenate([np.zeros((1, rho.shape[1])), np.cumsum(np.log1p(lam), axis=0)])  # log prod_{s<t}
    t, tau = np.arange(T)[:, None], np.arange(T)[None, :]
    span = np.exp(logc[t] - logc[np.minimum(tau + 1, T)])          # prod_{s=tau+1}^{t-1}, (T, T, K)
    mu = np.where((tau < t)[..., None], lam[:, None, :] * rho[None, :, :] * span, 0.0)
    carry = lam * np.exp(logc[:T]) * np.asarray(w0, dtype=np.float64)
    return MomentumForm(rho, lam, mu, carry)


VARIANTS = {
    "exact": "rho = eta P^(t) P^(t+1), lambda = P^(t+1)/P^(t) - 1",
    "first order": "rho = eta (P^(t))^2, lambda = eta sum over the upper layers of g_l / u_l",
    "printed (Eq. 13)": "rho = eta (u^[0])^2, lambda as in first order",
    "exact, no carry": "exact, with the initial-weight carry dropped (near-zero assumption)",
    "plain gradient": "rho = eta, mu = 0, no carry",
}
"""Named schedules reconstructed from a run (see :func:`coefficients`)."""


def coefficients(run: OverparameterizedRun, variant: str = "exact") -> MomentumForm:
    """The Eq. 14 coefficients of ``run`` under ``variant`` (a key of :data:`VARIANTS`)."""
    P, T, eta = run.upper_products(), run.n_steps, run.eta
    dec = run.decomposition
    if variant in ("exact", "exact, no carry"):
        rho, lam = eta * P[:-1] * P[1:], P[1:] / P[:-1] - 1
    elif variant in ("first order", "printed (Eq. 13)"):
        flat = np.concatenate([*run.layers, np.ones((T + 1, 1))], axis=1)
        depth = np.array([dec.depth(k) for k in range(dec.n_components)])
        upper = np.arange(dec.n_layers)[None, :] < (depth - 1)[:, None]
        idx = np.where(upper, dec.flat_index, dec.n_weights)
        lam = (np.diff(flat, axis=0)[:, idx] / flat[:-1][:, idx]).sum(axis=2)   # eta g_l / u_l summed
        root = flat[:-1][:, dec.flat_index[:, 0]]
        rho = eta * (P[:-1] ** 2 if variant == "first order" else root ** 2)
    elif variant == "plain gradient":
        rho, lam = np.full((T, dec.n_components), eta), np.zeros((T, dec.n_components))
    else:
        raise ValueError(f"unknown variant {variant!r}; choose one of {list(VARIANTS)}")
    form = momentum_form(rho, lam, run.weights[0])
    if variant == "exact, no carry":
        form = MomentumForm(form.rho, form.lam, form.mu, np.zeros_like(form.carry))
    return form


def fit_rho_lambda(weights: np.ndarray, grads: np.ndarray,
                   groups: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reconstruct rho^{(t)}, lambda^{(t)} from a trajectory alone, by least squares per group.

    Within each group (components assumed to share the coefficients), fit
    Delta w_k^{(t)} = rho^{(t)} g_k^{(t)} + lambda^{(t)} w_k^{(t)} at every step.

    Returns
    -------
    rho, lam : ndarray, shape (T, K)
        NaN for components in groups of fewer than two (not identifiable).
    residual : ndarray, shape (T,)
        ||Delta w - fit|| / ||Delta w|| over all identifiable components.
    """
    W, G = np.asarray(weights, dtype=np.float64), np.asarray(grads, dtype=np.float64)
    if W.ndim != 2 or G.ndim != 2 or G.shape[1] != W.shape[1] or G.shape[0] < W.shape[0] - 1:
        raise ValueError(f"weights must be (T + 1, K) and grads (>= T, K), got {W.shape} and {G.shape}")
    T, K = W.shape[0] - 1, W.shape[1]
    dW = np.diff(W, axis=0)
    rho, lam = np.full((T, K), np.nan), np.full((T, K), np.nan)
    for g in groups:
        if len(g) < 2:
            continue
        for t in range(T):
            A = np.column_stack([G[t, g], W[t, g]])
            (r, l), *_ = np.linalg.lstsq(A, dW[t, g], rcond=None)
            rho[t, g], lam[t, g] = r, l
    ok = ~np.isnan(rho[0])
    fit = rho * G[:T] + lam * W[:T]
    residual = np.linalg.norm((dW - fit)[:, ok], axis=1) / np.linalg.norm(dW[:, ok], axis=1)
    return rho, lam, residual


@dataclass(frozen=True)
class ShallowRun:
    """The shallow model under an explicit schedule: w (T' + 1, K), llh (T' + 1,), its own g (T' + 1, K).

    T' = T unless a step would have made a weight <= 0 (``stopped_at``).
    """

    weights: np.ndarray
    llh: np.ndarray
    grads: np.ndarray
    stopped_at: int | None = None


def adaptive_momentum_ascent(data: CountedData, initial: MixtureParams, form: MomentumForm,
                             leaf_eta: float | None, on_invalid: str = "raise") -> ShallowRun:
    """The shallow mixture trained by Eq. 14 as an explicit optimiser on its own gradients.

    w^{(t+1)} = w^{(t)} + rho^{(t)} g^{(t)} + sum_{tau<t} mu^{(t,tau)} g^{(tau)} + c^{(t)},
    with g the shallow model's gradient at its own iterate; the leaves take plain
    gradient steps of size ``leaf_eta`` (``None``: leaves fixed). With rho = eta,
    mu = 0 and c = 0 this is plain gradient ascent.

    ``initial`` holds the leaves and the component weights (one layer, K weights).
    ``on_invalid`` as in :func:`train_overparameterized`.
    """
    _check_on_invalid(on_invalid)
    if len(initial.layers) != 1:
        raise ValueError("initial must be shallow parameters: leaves and one layer of K component weights")
    if leaf_eta is not None:
        check_eta(leaf_eta)
    K, D = initial.leaf.shape[0], initial.leaf.shape[1]
    if form.rho.shape[1] != K:
        raise ValueError(f"the schedule is for {form.rho.shape[1]} components, the model has {K}")
    model = FactorisedMixture(shallow(K), D)
    leaf, w = np.array(initial.leaf), np.array(initial.layers[0])
    weights, llhs, grads = [], [], np.zeros((form.n_steps + 1, K))
    stopped_at = None
    for t in range(form.n_steps + 1):
        llh, grad = model.llh_and_grad(MixtureParams(leaf, (w,)), data)
        grads[t] = grad.layers[0]
        weights.append(w)
        llhs.append(llh.mean)
        if t == form.n_steps:
            break
        new_w = w + form.rho[t] * grads[t] + np.einsum("sk,sk->k", form.mu[t, :t], grads[:t]) + form.carry[t]
        new_leaf = leaf + leaf_eta * grad.leaf if leaf_eta is not None else leaf
        if new_w.min() <= 0 or new_leaf.min() <= 0:
            if on_invalid == "raise":
                raise ValueError(f"step {t} of the explicit optimiser made a weight <= 0")
            stopped_at = t
            break
        w, leaf = new_w, new_leaf
    n = len(weights)
    return ShallowRun(np.array(weights), np.array(llhs), grads[:n], stopped_at)


def drift(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    """||other^{(t)} - reference^{(t)}|| / ||reference^{(t)}|| row by row (weights (T + 1, K))."""
    a, b = np.asarray(reference), np.asarray(other)
    n = min(len(a), len(b))
    return np.linalg.norm(b[:n] - a[:n], axis=1) / np.linalg.norm(a[:n], axis=1)

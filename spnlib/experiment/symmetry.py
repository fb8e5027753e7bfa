"""Why the faithful run cannot separate the depths: identical components, and how round-off breaks that.

The released initialisation makes all K components identical (every leaf weight 1/2)
and gives every component the same weight w_k. Then C_k(x) / f(x) = 1 / W and
C_k(*) / f(*) = 1 / W for every x (W = sum_k w_k), so the gradient of every layer
weight is exactly zero, every component's leaf gradient is the same, and each
component's responsibility is 1/K whatever the depth: gradient ascent keeps the
components identical forever, and the model stays one product of Bernoullis. Its
best log-likelihood is :func:`independent_llh`.

The functions here measure this (spread of the components, layer gradients
against their natural scale 1/W), perturb the symmetry by one unit in the last
place, and compare free-running curves of two implementations.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.checks import check_eta
from spnlib.data.counted import CountedData
from spnlib.experiment.training import Optimiser, train
from spnlib.numeric.batched import BatchParams, MixtureBatch
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.structure.decomposition import Decomposition
from spnlib.tolerances import DIGITISATION

__all__ = ["independent_llh", "SymmetryTrace", "symmetry_trace", "ulp_perturbation", "departure_iteration",
           "growth_per_iteration", "reference_run", "Drift", "drift"]


def independent_llh(data: CountedData) -> float:
    """The best mean log-likelihood of a fully factorised model (a product of Bernoullis), in closed form.

    sum_d [p_d log p_d + (1 - p_d) log(1 - p_d)] with p_d the share of ones in column d
    (missing values ignored).
    """
    observed = (data.zeros + data.ones).T @ data.counts
    p = (data.ones.T @ data.counts) / observed
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0) + np.where(p < 1, (1 - p) * np.log1p(-p), 0.0)
    return float(terms.sum())


@dataclass
class SymmetryTrace:
    """Per model and iteration (before each update).

    Attributes
    ----------
    llh : ndarray (M, T)
    leaf_spread : ndarray (M, T)
        max over (d, v) of (max_k - min_k) theta_{k,d,v}: 0 while the components are identical.
    weight_spread : ndarray (M, T)
        (max_k w_k - min_k w_k) / mean_k w_k of the component weights w_k.
    layer_gradient : ndarray (M, T)
        Largest |d llh / d w^{[l]}_j| over the layer weights.
    gradient_scale : ndarray (M, T)
        Its natural scale: the largest (1 / W) * w_k / w^{[l]}_j over the paths, the size of each
        of the two terms whose difference the gradient is.
    """

    llh: np.ndarray
    leaf_spread: np.ndarray
    weight_spread: np.ndarray
    layer_gradient: np.ndarray
    gradient_scale: np.ndarray


def symmetry_trace(decompositions: Sequence[Decomposition], data: CountedData, params: BatchParams,
                   eta: float = 0.01, iterations: int = 500, gradient_noise: float = 0.0,
                   noise_seed: int = 0) -> SymmetryTrace:
    """Train with the released update rule and record the symmetry diagnostics at every iteration."""
    batch = MixtureBatch(decompositions, data.n_variables)
    M, K = batch.n_models, batch.n_components
    records: list[tuple[np.ndarray, ...]] = []
    owner = np.repeat(np.arange(M), batch.layer_counts)

    def observe(p: BatchParams, g: BatchParams) -> None:
        leaf_spread = np.ptp(p.leaf, axis=1).reshape(M, -1).max(axis=1)
        w = np.exp(batch.component_log_weights(p.layers))
        W = w.sum(axis=1)
        layer_grad = np.zeros(M)
        np.maximum.at(layer_grad, owner, np.abs(g.layers))
        # natural scale of d/du_j: (w_k / u_j) / W for the components k below u_j
        u = np.append(p.layers, 1.0)[batch.path]                 # (MK, depth)
        scale = (w.reshape(M * K, 1) / u).max(axis=1).reshape(M, K).max(axis=1) / W
        records.append((leaf_spread, np.ptp(w, axis=1) / w.mean(axis=1), layer_grad, scale))

    result = train(batch, data, params, Optimiser("projected", check_eta(eta)), iterations,
                   gradient_noise=gradient_noise, noise_seed=noise_seed, observer=observe)
    cols = [np.stack([r[i] for r in records], axis=1) for i in range(4)]
    return SymmetryTrace(result.train_llh, *cols)


def ulp_perturbation(params: BatchParams, seed: int, share: float = 0.5) -> BatchParams:
    """A copy with a random ``share`` of the leaf weights moved up by one unit in the last place."""
    out = params.copy()
    mask = np.random.default_rng(seed).random(out.leaf.shape) < share
    out.leaf[mask] = np.nextafter(out.leaf[mask], np.inf)
    return out


def departure_iteration(curve: np.ndarray, reference: np.ndarray, tolerance: float = DIGITISATION) -> int | None:
    """First iteration (counted from 1, as in the paper) where |curve - reference| > tolerance, else None."""
    n = min(len(curve), len(reference))
    away = np.abs(np.asarray(curve[:n]) - np.asarray(reference[:n])) > tolerance
    return int(away.argmax()) + 1 if away.any() else None


def growth_per_iteration(spread: np.ndarray, low: float = 1e-13, high: float = 1e-4) -> float:
    """Factor by which a spread grows per iteration: 10**slope of log10(spread) vs iteration.

    Fitted by least squares over the iterations where ``low < spread < high`` (the
    exponential phase, after the perturbation is resolved and before it saturates).
    NaN if fewer than three iterations are in the window.
    """
    s = np.asarray(spread, dtype=np.float64)
    t = np.flatnonzero((s > low) & (s < high))
    if t.size < 3:
        return float("nan")
    slope = np.polyfit(t, np.log10(s[t]), 1)[0]
    return float(10.0 ** slope)


def reference_run(decomposition: Decomposition, data: CountedData, params: MixtureParams,
                  eta: float = 0.01, iterations: int = 500, floor: float = 1e-4) -> np.ndarray:
    """The released update rule with :class:`~spnlib.numeric.fastpath.FactorisedMixture`, one model at a time.

    A second, independent implementation of the training loop (different summation
    order from :class:`~spnlib.numeric.batched.MixtureBatch`): values before each update, shape (T,).
    """
    eta = check_eta(eta)
    model = FactorisedMixture(decomposition, data.n_variables)
    leaf, layers = params.leaf.copy(), [w.copy() for w in params.layers]
    out = np.empty(iterations)
    for t in range(iterations):
        llh, g = model.llh_and_grad(MixtureParams(leaf, tuple(layers)), data)
        out[t] = llh.mean
        leaf = np.maximum(leaf + eta * g.leaf, floor)
        layers = [np.maximum(w + eta * gw, floor) for w, gw in zip(layers, g.layers)]
    return out


@dataclass(frozen=True)
class Drift:
    """How far two free-running curves of the same protocol drift apart."""

    first_iteration: int | None    # first iteration (from 1) with |difference| > tolerance
    max_difference: float
    tolerance: float


def drift(a: np.ndarray, b: np.ndarray, tolerance: float = 1e-6) -> Drift:
    """Compare two curves (same protocol, different implementations or summation orders)."""
    d = np.abs(np.asarray(a) - np.asarray(b))
    return Drift(departure_iteration(a, b, tolerance), float(d.max()), tolerance)

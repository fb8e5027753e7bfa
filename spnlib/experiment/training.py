"""Training loops for the depth-versus-speed experiment: gradient ascent and explicit optimisers.

Every loop trains a whole :class:`~spnlib.numeric.batched.MixtureBatch` (several depths,
seeds or learning rates) at once and records each model's mean train
log-likelihood *before* each update, as the released code does, so
``curves[:, 0]`` is the value at initialisation and ``curves[:, t]`` the value
after t updates.

Update rules (eta > 0, g the gradient of the mean log-likelihood):

* ``"projected"``: w <- max(w + eta g, floor) for every sum weight, leaves and
  layers alike (the released code; floor = 1e-4; the leaves may get a floor of their own).
* ``"log"``: gradient ascent on the log weights, log w <- log w + eta w g (the
  authors' updated script).
* ``"momentum"``: heavy ball with projection, v <- beta v + g, w <- max(w + eta v, floor).
* ``"adam"``: Adam (Kingma & Ba) with projection, w <- max(w + eta m_hat / (sqrt(v_hat) + eps), floor).

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spnlib.checks import check_eta
from spnlib.data.counted import CountedData
from spnlib.numeric.batched import BatchParams, MixtureBatch
from spnlib.numeric.blas import blas_threads

__all__ = ["RULES", "Optimiser", "TrainingResult", "GradientHook", "Observer", "train"]

RULES = ("projected", "log", "momentum", "adam")
"""The update rules :class:`Optimiser` knows."""

GradientHook = Callable[[BatchParams, BatchParams, bool], None]
"""Called with (weights, gradient, log_space) after every gradient evaluation; may add to the gradient in
place (log_space: the gradient is with respect to the log weights). E.g. the released code's summation
order, :class:`spnlib.experiment.released_order.ReleasedOrder`."""

Observer = Callable[[BatchParams, BatchParams], None]
"""Called with (weights, gradient) before every update; must not modify them."""


@dataclass(frozen=True)
class Optimiser:
    """An update rule with its hyper-parameters.

    Parameters
    ----------
    rule : str
        One of :data:`RULES`.
    eta : float or ndarray of shape (M,)
        Learning rate, one for all models or one per model of the batch.
    floor : float
        Lower bound of every weight under the projected rules (the released code: 1e-4).
    leaf_floor : float, optional
        Lower bound of the leaf weights, if different from ``floor`` (an ablation: a tiny one
        leaves only the layer weights clipped).
    log_storage : bool
        Store the weights as their logs between updates, as the released Julia code does
        (``snode.logweights[:] .= log.(wt)``, read back as ``exp.(logweights)``): after every projected
        update each weight is replaced by exp(log(w)). Symmetric (identical weights stay identical), but
        it rounds differently from keeping w, so it changes how tiny differences survive.
    beta : float
        Momentum coefficient (``"momentum"``).
    beta1, beta2, eps : float
        Adam's coefficients.
    """

    rule: str = "projected"
    eta: float | np.ndarray = 0.01
    floor: float = 1e-4
    leaf_floor: float | None = None
    log_storage: bool = False
    beta: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"unknown update rule {self.rule!r}; choose one of {', '.join(RULES)}")
        for e in np.atleast_1d(np.asarray(self.eta, dtype=object)).ravel():
            check_eta(e)
        if not self.floor > 0:
            raise ValueError(f"the weight floor must be > 0, got {self.floor!r}")
        if self.leaf_floor is not None and not self.leaf_floor > 0:
            raise ValueError(f"the leaf-weight floor must be > 0, got {self.leaf_floor!r}")
        if not (0 <= self.beta < 1 and 0 <= self.beta1 < 1 and 0 <= self.beta2 < 1 and self.eps > 0):
            raise ValueError("need 0 <= beta, beta1, beta2 < 1 and eps > 0")

    def etas(self, n_models: int) -> np.ndarray:
        """One learning rate per model of the batch, shape (M,)."""
        eta = np.asarray(self.eta, dtype=np.float64)
        if eta.ndim == 0:
            eta = np.full(n_models, float(eta))
        if eta.shape != (n_models,):
            raise ValueError(f"need one learning rate or {n_models}, got shape {eta.shape}")
        return eta

    @property
    def floor_leaf(self) -> float:
        """The floor of the leaf weights (``leaf_floor``, or ``floor``)."""
        return self.floor if self.leaf_floor is None else float(self.leaf_floor)

    def label(self) -> str:
        eta = np.asarray(self.eta)
        rate = f"{float(eta):g}" if eta.ndim == 0 else "per model"
        return f"{self.rule} (eta = {rate})"


@dataclass
class TrainingResult:
    """Curves and final state of a batch trained together.

    Attributes
    ----------
    train_llh : ndarray, shape (M, T)
        Mean train log-likelihood before update t = 0..T-1.
    test_llh : ndarray, shape (M, T) or None
        The same on held-out data, if given.
    params : BatchParams
        The weights after the last update.
    """

    train_llh: np.ndarray
    test_llh: np.ndarray | None
    params: BatchParams


class _State:
    """Optimiser state: parameters in the space the rule moves, plus moments."""

    def __init__(self, opt: Optimiser, params: BatchParams, n_models: int, n_layer_models: np.ndarray,
                 noise: float = 0.0, noise_seed: int = 0, observer: Observer | None = None,
                 hook: GradientHook | None = None):
        self.opt = opt
        self.observer = observer
        self.hook = hook
        self.noise = float(noise)
        self.noise_rng = np.random.default_rng([noise_seed, 2]) if noise > 0 else None
        eta = opt.etas(n_models)
        self.eta_leaf = eta[:, None, None, None]
        self.eta_layers = np.repeat(eta, n_layer_models)
        self.params = params.copy()
        if opt.rule == "log":
            self.log = BatchParams(np.log(params.leaf), np.log(params.layers))
        if opt.rule in ("momentum", "adam"):
            self.m = BatchParams(np.zeros_like(params.leaf), np.zeros_like(params.layers))
        if opt.rule == "adam":
            self.v = BatchParams(np.zeros_like(params.leaf), np.zeros_like(params.layers))
        self.t = 0

    def _noisy(self, g: BatchParams, log_space: bool = False) -> BatchParams:
        if self.hook is not None:
            self.hook(self.params, g, log_space)
        if self.observer is not None:
            self.observer(self.params, g)
        if self.noise_rng is not None:
            for a in (g.leaf, g.layers):
                a *= 1.0 + self.noise * self.noise_rng.uniform(-1.0, 1.0, a.shape)
        return g

    def update(self, batch: MixtureBatch, data: CountedData) -> np.ndarray:
        """Value before the update, then one update of every model; returns the values (M,)."""
        opt, p = self.opt, self.params
        if opt.rule == "log":
            llh, g = batch.llh_and_log_grad(p, data)
            g = self._noisy(g, log_space=True)
            self.log.leaf += self.eta_leaf * g.leaf
            self.log.layers += self.eta_layers * g.layers
            np.exp(self.log.leaf, out=p.leaf)
            np.exp(self.log.layers, out=p.layers)
            return llh
        llh, g = batch.llh_and_grad(p, data)
        g = self._noisy(g)
        self.t += 1
        if opt.rule == "projected":
            step_leaf, step_layers = g.leaf, g.layers
        elif opt.rule == "momentum":
            for m, gg in ((self.m.leaf, g.leaf), (self.m.layers, g.layers)):
                m *= opt.beta
                m += gg
            step_leaf, step_layers = self.m.leaf, self.m.layers
        else:  # adam
            c1, c2 = 1 - opt.beta1 ** self.t, 1 - opt.beta2 ** self.t
            steps = []
            for m, v, gg in ((self.m.leaf, self.v.leaf, g.leaf), (self.m.layers, self.v.layers, g.layers)):
                m *= opt.beta1
                m += (1 - opt.beta1) * gg
                v *= opt.beta2
                v += (1 - opt.beta2) * gg * gg
                steps.append((m / c1) / (np.sqrt(v / c2) + opt.eps))
            step_leaf, step_layers = steps
        p.leaf += self.eta_leaf * step_leaf
        np.maximum(p.leaf, opt.floor_leaf, out=p.leaf)
        p.layers += self.eta_layers * step_layers
        np.maximum(p.layers, opt.floor, out=p.layers)
        if opt.log_storage:
            for a in (p.leaf, p.layers):
                np.exp(np.log(a), out=a)
        return llh


def train(batch: MixtureBatch, data: CountedData, params: BatchParams, optimiser: Optimiser,
          iterations: int, test: CountedData | None = None,
          progress: Callable[[int], None] | None = None, gradient_noise: float = 0.0,
          noise_seed: int = 0, observer: Observer | None = None,
          threads: int | None = 1, gradient_hook: GradientHook | None = None) -> TrainingResult:
    """Train every model of ``batch`` for ``iterations`` updates.

    Parameters
    ----------
    batch : MixtureBatch
    data : CountedData
        Training data (the gradients are of the mean log-likelihood on these).
    params : BatchParams
        Initial weights (not modified).
    optimiser : Optimiser
    iterations : int
        Number of updates T; T values are recorded, each before its update.
    test : CountedData, optional
        Held-out data, evaluated at the same points.
    progress : callable, optional
        Called with the number of iterations done after each one (e.g. a tqdm bar's update).
    gradient_noise : float
        If > 0, every gradient entry is multiplied by 1 + u xi with xi ~ U(-1, 1) drawn
        independently (seed ``noise_seed``): a model of round-off that differs between
        components. 0 (the default) leaves the gradients exact.
    observer : callable, optional
        Called before every update with the current weights and their gradient (plain
        gradient, or log-gradient under the ``"log"`` rule); must not modify them.
    threads : int or None
        BLAS threads for the matrix products (default 1; see :mod:`spnlib.numeric.blas`: with more,
        identical components can be rounded differently). None leaves NumPy's setting.
    gradient_hook : callable, optional
        A :data:`GradientHook`, called after every gradient evaluation and before ``observer`` and the
        noise (e.g. the released code's summation order). None (the default) costs nothing.

    Returns
    -------
    TrainingResult

    Raises
    ------
    FloatingPointError
        If a model's log-likelihood stops being finite (a learning rate far too large).
    """
    if int(iterations) != iterations or iterations < 1:
        raise ValueError(f"iterations must be a positive integer, got {iterations!r}")
    batch.check(params)
    if optimiser.rule != "log" and (np.any(params.leaf < optimiser.floor_leaf)
                                    or np.any(params.layers < optimiser.floor)):
        raise ValueError(f"initial weights below the floor {optimiser.floor:g} of the projected update")
    if not 0 <= gradient_noise < 1:
        raise ValueError(f"gradient_noise must be in [0, 1), got {gradient_noise!r}")
    M, T = batch.n_models, int(iterations)
    state = _State(optimiser, params, M, batch.layer_counts, gradient_noise, noise_seed, observer, gradient_hook)
    curves = np.empty((M, T))
    tests = np.empty((M, T)) if test is not None else None
    with blas_threads(threads):
        _loop(batch, data, state, curves, tests, test, progress)
    return TrainingResult(curves, tests, state.params)


def _loop(batch, data, state, curves, tests, test, progress) -> None:
    for t in range(curves.shape[1]):
        if tests is not None:
            tests[:, t] = batch.log_likelihood(state.params, test)
        curves[:, t] = state.update(batch, data)
        bad = np.flatnonzero(~np.isfinite(curves[:, t]))
        if bad.size:
            raise FloatingPointError(f"model(s) {bad.tolist()} reached a non-finite log-likelihood at "
                                     f"iteration {t + 1}; the learning rate is too large for this run")
        if progress is not None:
            progress(1)

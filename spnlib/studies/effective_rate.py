"""The effective learning rate rho(t) = eta w_2(t)^2 of overparameterized l_p regression, over problems.

Gradient descent on w = w_1 w_2 moves w, to first order in eta, like gradient descent on w with the
rate rho(t) = eta w_2(t)^2 (Sec. 2.1; :func:`spnlib.studies.linear.derive_linear`). This module
follows rho(t) / eta = w_2(t)^2 along the runs of :func:`spnlib.studies.linear.compare_descent`
(the same problems, the same end-to-end start w(0)), to show where a speed-up comes from.

Defined in the book's chapter "Overparameterization in linear regression".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.studies.linear import descent_curves, regression_problem

__all__ = ["EffectiveRates", "effective_rates", "start_weights"]


def start_weights(seed: int, n_features: int, init_scale: float) -> np.ndarray:
    """The end-to-end start w(0) of problem ``seed``: zero for ``init_scale = 0``, else
    N(0, init_scale^2) entries drawn from seed 10,000 + ``seed`` (the convention of
    :func:`spnlib.studies.linear.compare_descent`, which the tests pin)."""
    if not np.isfinite(init_scale) or init_scale < 0:
        raise ValueError(f"init_scale must be finite and >= 0, got {init_scale!r}")
    return init_scale * np.random.default_rng(10_000 + seed).normal(size=int(n_features))


@dataclass(frozen=True)
class EffectiveRates:
    """rho(t) / eta = w_2(t)^2 of the overparameterized model on several problems.

    Attributes
    ----------
    p : int
        The loss l_p.
    eta : float
        The learning rate of every run.
    w2_0 : float
        The start of w_2 (w_1(0) = w(0) / w2_0).
    init_scale : float
        w(0) is zero (0) or has N(0, init_scale^2) entries (:func:`start_weights`).
    seeds : tuple of int
        The problems (:func:`~spnlib.studies.linear.regression_problem`).
    ratio : ndarray, shape (seeds, n_steps + 1)
        w_2(t)^2 before update t + 1 (t = 0: the start); NaN once a run has diverged.
    diverged : ndarray of bool, shape (seeds,)
        The run's loss left the finite range (or grew a million-fold) within the horizon.
    """

    p: int
    eta: float
    w2_0: float
    init_scale: float
    seeds: tuple[int, ...]
    ratio: np.ndarray
    diverged: np.ndarray

    @property
    def n_diverged(self) -> int:
        """How many runs diverged."""
        return int(self.diverged.sum())

    @property
    def rho(self) -> np.ndarray:
        """The effective rate rho(t) = eta w_2(t)^2, shape (seeds, n_steps + 1)."""
        return self.eta * self.ratio

    def rho_quantiles(self, step: int, quantiles: Sequence[float] = (0.1, 0.5, 0.9)) -> np.ndarray:
        """Quantiles of rho(step) over the runs that did not diverge (NaN if all did)."""
        if not 0 <= step < self.ratio.shape[1]:
            raise ValueError(f"step must lie in [0, {self.ratio.shape[1] - 1}], got {step!r}")
        finite = self.rho[~self.diverged, step]
        if finite.size == 0:
            return np.full(len(quantiles), np.nan)
        return np.quantile(finite, quantiles)


def effective_rates(p: int, seeds: Sequence[int], eta: float, n_steps: int, w2_0: float = 1.0,
                    init_scale: float = 0.0, **problem_kw) -> EffectiveRates:
    """Train w_1 w_2 at one learning rate on every problem of ``seeds`` and record w_2(t)^2.

    ``problem_kw`` is passed to :func:`~spnlib.studies.linear.regression_problem`.
    """
    if not np.isfinite(eta) or eta <= 0:
        raise ValueError(f"the learning rate eta must be finite and > 0, got {eta!r}")
    if int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"n_steps must be an integer >= 1, got {n_steps!r}")
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("need at least one problem (seed)")
    ratios, diverged = [], []
    for seed in seeds:
        X, y = regression_problem(seed, **problem_kw)
        w0 = start_weights(seed, X.shape[1], init_scale)
        losses, w2 = descent_curves(X, y, p, [eta], int(n_steps), w0, w2_0=w2_0, return_w2=True)
        ratios.append(w2[0] ** 2)
        diverged.append(not np.isfinite(losses[0]).all())
    return EffectiveRates(int(p), float(eta), float(w2_0), float(init_scale), seeds, np.array(ratios),
                          np.array(diverged))

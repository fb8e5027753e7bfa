"""The one-line checks of the derivation chapter, each against something computed another way.

* :func:`decomposition_reproduces_f`: g(x) of Eq. 4 equals f(x) with every w_k decomposed (Eq. 3).
* :func:`responsibility_identity`: w^{[l]}_j nabla_{w^{[l]}_j} is the responsibility of the edge for x
  minus that for * (:func:`spnlib.symbolic.eq14.relative_step`), for every layer weight.
* :func:`velocity_is_first_order`: the end-to-end velocity J J^T nabla_w of gradient flow
  (:func:`spnlib.symbolic.conservation.end_to_end_velocity`) equals the first-order coefficient c_1 of
  one gradient-ascent step, w + eta c_1 + O(eta^2) (:attr:`spnlib.symbolic.derivation.Derivation.first_order`):
  the chain rule against differentiating the step in eta.
* :func:`momentum_term_ratio`: one momentum term of Eq. 14 against the eta^2 term that Eq. 10 drops.
* :func:`expansion_summary`: what the grid of :func:`spnlib.studies.dynamics.first_order_errors` says
  about the expansion parameter eta / s^2.

Defined in the book's chapter "The derivation, redone by machine".
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from spnlib.structure.decomposition import Decomposition
from spnlib.symbolic import eq14
from spnlib.symbolic.conservation import end_to_end_velocity
from spnlib.symbolic.derivation import Derivation

__all__ = ["decomposition_reproduces_f", "responsibility_identity", "velocity_is_first_order",
           "momentum_term_ratio", "ExpansionSummary", "expansion_summary"]

Structure = Decomposition | Sequence | Derivation


def _derivations(structures: Iterable[Structure]) -> list[Derivation]:
    return [s if isinstance(s, Derivation) else Derivation(s) for s in structures]


def decomposition_reproduces_f(structures: Iterable[Structure]) -> bool:
    """g(x) = sum_k prod_l w^{[l]}_{phi(k,l)} C_k(x) equals f(x) = sum_k w_k C_k(x) with w_k decomposed,
    for every structure (expanded, exactly)."""
    return all(sp.expand(d.spn.g() - d.spn.decomposed(d.spn.f_shallow())) == 0 for d in _derivations(structures))


def responsibility_identity(structures: Iterable[Structure]) -> bool:
    """w^{[l]}_j nabla_{w^{[l]}_j} = sum over the components i below the edge of w_i C_i(x)/f(x) - w_i C_i(*)/f(*),
    for every layer weight of every structure (both sides with the sums put back, cancelled to 0)."""
    return all(sp.cancel(sp.together(d.spn.concrete(a - b))) == 0
               for d in _derivations(structures) for a, b in eq14.relative_step(d).values())


def velocity_is_first_order(structures: Iterable[Structure]) -> bool:
    """J J^T nabla_w (gradient flow, by the chain rule) equals c_1 of the one-step update
    w + eta c_1 + O(eta^2) (by differentiating the step in eta), for every component of every structure."""
    return all(sp.expand(v - c) == 0
               for d in _derivations(structures) for v, c in zip(end_to_end_velocity(d), d.first_order))


def momentum_term_ratio(structure: Structure, k: int = 0) -> sp.Expr:
    """mu^{(t,t-1)} nabla^{(t-1)} = lambda_k rho_k nabla_{w_k} with nothing changing between steps, divided by
    the eta^2 coefficient of w_k's one-step update (the term Eq. 10 drops), simplified."""
    d = _derivations([structure])[0]
    s = d.spn
    frozen = d.rho[k] * d.lam[k] * s.shallow_grads[k]
    return sp.simplify(frozen / (s.eta ** 2 * d.series(k, 2)[2]))


@dataclass(frozen=True)
class ExpansionSummary:
    """What the relative error of the first-order step does as a function of eta / s^2.

    Attributes
    ----------
    floor_ratio, small_ratio : float
        The points with eta / s^2 between these are "small". Below ``floor_ratio`` the error
        (about 1e-7 of the step there) is within round-off of the step computed as a difference
        w^{(t+1)} - w^{(t)}, so those points say nothing about the expansion.
    per_ratio : (float, float)
        Smallest and largest median error (over seeds) divided by eta / s^2 at the small points.
    large_ratio : float
        The points with eta / s^2 at least this are "large".
    large_error : float
        Smallest median relative error at the large points.
    spread : float
        Largest relative difference between the error divided by eta / s^2 at equal eta / s^2 and
        different s (small points only): how well eta / s^2 alone predicts the error.
    """

    floor_ratio: float
    small_ratio: float
    per_ratio: tuple[float, float]
    large_ratio: float
    large_error: float
    spread: float


def expansion_summary(errors: np.ndarray, etas: Sequence[float], scales: Sequence[float],
                      floor_ratio: float = 1e-5, small_ratio: float = 1e-2,
                      large_ratio: float = 1e2) -> ExpansionSummary:
    """Summarise :func:`~spnlib.studies.dynamics.first_order_errors` (shape (scales, seeds, etas)).

    Raises
    ------
    ValueError
        If the shapes disagree or no point is small or large.
    """
    err = np.asarray(errors, float)
    eta, scale = np.asarray(etas, float), np.asarray(scales, float)
    if err.ndim != 3 or err.shape[0] != scale.size or err.shape[2] != eta.size:
        raise ValueError(f"errors of shape {err.shape} do not match {scale.size} scales x seeds x {eta.size} etas")
    ratio = eta[None, :] / scale[:, None] ** 2
    median = np.median(err, axis=1)
    decade = np.round(np.log10(ratio), 6)          # compare grid points by their decade, not bit by bit
    small = (decade >= np.round(np.log10(floor_ratio), 6)) & (decade <= np.round(np.log10(small_ratio), 6))
    large = decade >= np.round(np.log10(large_ratio), 6)
    if not small.any() or not large.any():
        raise ValueError(f"the grid needs points with {floor_ratio:g} <= eta / s^2 <= {small_ratio:g} "
                         f"and with eta / s^2 >= {large_ratio:g}")
    per = median[small] / ratio[small]
    spread = 0.0
    for r in np.unique(decade[small]):
        at = per[decade[small] == r]
        spread = max(spread, float((at.max() - at.min()) / at.min()))
    return ExpansionSummary(floor_ratio, small_ratio, (float(per.min()), float(per.max())), large_ratio,
                            float(median[large].min()), spread)

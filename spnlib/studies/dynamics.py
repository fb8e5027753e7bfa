"""One gradient step on the layer weights: exact change of every w_k vs first-order forms.

Gradient ascent on the layer weights, u^{[l]} <- u^{[l]} + eta grad_{u^{[l]}}, changes
w_k = prod_l u^{[l]}_{phi(k,l)} (Eq. 3) by a polynomial in eta. Its first-order
term follows from the chain rule, d w_k / d eta = w_k sum_{l in path(k)} g_l / u_l.
Pulling out the bottom weight of the path (the one only w_k uses; Eq. 7 gives
its gradient as (w_k / u_bottom) grad_{w_k}) writes it as

    Delta w_k ~ rho_k grad_{w_k} + lambda_k w_k,
    rho_k = eta prod_{l < d_k - 1} (u^{[l]}_{phi(k,l)})^2,
    lambda_k = eta sum_{l < d_k - 1} g^{[l]}_{phi(k,l)} / u^{[l]}_{phi(k,l)},

with d_k the depth of component k. The paper prints rho = eta (u^{[0]}_{phi(k,0)})^2
(Eq. 13), which is the same thing only when d_k = 2. :data:`FORMS` lists the
forms compared; a correct first-order form leaves an O(eta^2) error (slope 2 on
log-log axes), a wrong one an O(eta) error (slope 1).

grad_{w_k} (the shallow gradient) is computed by the shallow model at the same
leaves and w, independently of the layer gradients of the deep model.

Defined in the book's chapter "Numerical verification of the dynamics".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.checks import check_eta
from spnlib.data.counted import CountedData
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.stats.intervals import Interval, SlopeFit, fit_loglog_slope, mean_interval
from spnlib.structure.decomposition import Decomposition, shallow
from spnlib.symbolic.derivation import Derivation, as_decomposition

__all__ = [
    "FORMS",
    "OneStepState",
    "SlopeStudy",
    "eta_grid",
    "exact_change",
    "first_order_coefficients",
    "first_order_error",
    "first_order_errors",
    "one_step_errors",
    "one_step_state",
    "predicted_change",
    "random_params",
    "slope_study",
]

FORMS = {
    "chain rule": r"$\eta\, w_k \sum_{l} g_l / u_l$ over the whole path (deep-model gradients only)",
    "corrected rho, lambda": r"$\rho_k = \eta \prod_{l < d_k - 1} u_l^2$, "
                             r"$\lambda_k = \eta \sum_{l < d_k - 1} g_l / u_l$",
    "printed (Eq. 13)": r"$\rho = \eta\, (u^{[0]})^2$, $\lambda = \eta \sum_{l < d_k - 1} g_l / u_l$ "
                        "(bottom layer pulled out)",
    "printed, sum over all layers": r"$\rho = \eta\, (u^{[0]})^2$, $\lambda = \eta \sum_{l} g_l / u_l$ "
                                    "over every layer of the path",
    "plain gradient": r"$\rho = \eta$, $\lambda = 0$ (the shallow model's own step)",
}
"""The first-order forms compared, by name, with what each predicts for Delta w_k."""


@dataclass(frozen=True)
class OneStepState:
    """Everything one step needs: the layer weights, their gradients and the shallow gradient.

    Attributes
    ----------
    decomposition : Decomposition
    layers, layer_grads : tuple of ndarray
        u^{[l]} and grad_{u^{[l]}} of the mean log-likelihood (deep model).
    shallow_grad : ndarray, shape (K,)
        grad_{w_k} of the shallow model with the same leaves and w_k.
    weights : ndarray, shape (K,)
        w_k = prod_l u^{[l]}_{phi(k,l)}.
    """

    decomposition: Decomposition
    layers: tuple[np.ndarray, ...]
    layer_grads: tuple[np.ndarray, ...]
    shallow_grad: np.ndarray
    weights: np.ndarray


def random_params(decomposition: Decomposition, n_variables: int, seed: int,
                  low: float = 0.2, high: float = 1.0) -> MixtureParams:
    """Leaf and layer weights drawn uniformly from [low, high) (reproducible by ``seed``)."""
    if not 0 < low < high:
        raise ValueError(f"need 0 < low < high, got low = {low!r}, high = {high!r}")
    rng = np.random.default_rng(seed)
    leaf = rng.uniform(low, high, (decomposition.n_components, n_variables, 2))
    return MixtureParams(leaf, tuple(rng.uniform(low, high, n) for n in decomposition.layer_sizes))


def one_step_state(model: FactorisedMixture, params: MixtureParams, data: CountedData) -> OneStepState:
    """Gradients of the deep model and of the equivalent shallow model at ``params``."""
    _, grad = model.llh_and_grad(params, data)
    w = model.component_weights(params)
    flat = FactorisedMixture(shallow(model.n_components), model.n_variables)
    _, g_shallow = flat.llh_and_grad(MixtureParams(params.leaf, (w,)), data)
    return OneStepState(model.decomposition, tuple(np.array(u) for u in params.layers),
                        tuple(grad.layers), g_shallow.layers[0], w)



def _path_terms(state: OneStepState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(K, L) arrays u_l, g_l / u_l and a mask of the layers above the bottom of each path."""
    dec = state.decomposition
    u = np.append(np.concatenate(state.layers), 1.0)[dec.flat_index]
    g = np.append(np.concatenate(state.layer_grads), 0.0)[dec.flat_index]
    depth = np.array([dec.depth(k) for k in range(dec.n_components)])
    upper = np.arange(dec.n_layers)[None, :] < (depth - 1)[:, None]
    return u, g / u, upper


def first_order_coefficients(state: OneStepState, eta: float, form: str) -> tuple[np.ndarray, np.ndarray]:
    """(rho_k, lambda_k) of ``form`` (a key of :data:`FORMS` other than "chain rule")."""
    eta = check_eta(eta)
    u, ratio, upper = _path_terms(state)
    root = u[:, 0]
    lam_upper = eta * np.where(upper, ratio, 0.0).sum(axis=1)
    if form == "corrected rho, lambda":
        return eta * np.prod(np.where(upper, u, 1.0), axis=1) ** 2, lam_upper
    if form == "printed (Eq. 13)":
        return eta * root ** 2, lam_upper
    if form == "printed, sum over all layers":
        return eta * root ** 2, eta * ratio.sum(axis=1)
    if form == "plain gradient":
        return np.full_like(root, eta), np.zeros_like(root)
    raise ValueError(f"unknown form {form!r}; choose one of {[f for f in FORMS if f != 'chain rule']}")


def predicted_change(state: OneStepState, eta: float, form: str) -> np.ndarray:
    """The first-order prediction of Delta w_k under ``form``."""
    if form == "chain rule":
        _, ratio, _ = _path_terms(state)
        return check_eta(eta) * state.weights * ratio.sum(axis=1)
    rho, lam = first_order_coefficients(state, eta, form)
    return rho * state.shallow_grad + lam * state.weights


def exact_change(state: OneStepState, eta: float) -> np.ndarray:
    """w_k after one step u <- u + eta grad_u, minus w_k before (exact, any eta)."""
    eta = check_eta(eta)
    dec = state.decomposition
    new = np.append(np.concatenate([u + eta * g for u, g in zip(state.layers, state.layer_grads)]), 1.0)
    return np.prod(new[dec.flat_index], axis=1) - state.weights


def one_step_errors(state: OneStepState, etas: Sequence[float] | np.ndarray,
                    forms: Sequence[str] = tuple(FORMS)) -> dict[str, np.ndarray]:
    """||exact - predicted|| / ||w|| over the components, for each form and eta."""
    norm = np.linalg.norm(state.weights)
    out = {}
    for form in forms:
        out[form] = np.array([np.linalg.norm(exact_change(state, e) - predicted_change(state, e, form)) / norm
                              for e in etas])
    return out


def eta_grid(state: OneStepState, smallest: float = 1e-6, largest: float = 1e-2, n: int = 9) -> np.ndarray:
    """Learning rates whose largest relative step max |eta g_l / u_l| runs from ``smallest`` to ``largest``."""
    if not 0 < smallest < largest or n < 3:
        raise ValueError("need 0 < smallest < largest and n >= 3")
    _, ratio, _ = _path_terms(state)
    scale = np.max(np.abs(ratio))
    if scale == 0:
        raise ValueError("every layer gradient is zero (a symmetric point): no step to compare")
    return np.logspace(np.log10(smallest), np.log10(largest), n) / scale


@dataclass(frozen=True)
class SlopeStudy:
    """Fitted log-log slopes of the one-step error, per structure and form, over seeds.

    Attributes
    ----------
    fits : dict
        ``fits[(structure, form)]`` is the list of :class:`~spnlib.stats.intervals.SlopeFit`, one per seed.
    errors : dict
        ``errors[(structure, form)]`` is an array (seeds, etas) of relative errors.
    etas : dict
        ``etas[structure]`` is an array (seeds, etas) of the learning rates used.
    """

    structures: tuple[str, ...]
    forms: tuple[str, ...]
    fits: dict
    errors: dict
    etas: dict

    def slope(self, structure: str, form: str) -> Interval:
        """Mean fitted slope over seeds with a 95 % t-interval."""
        return mean_interval([f.slope.estimate for f in self.fits[(structure, form)]])

    def table(self) -> list[list]:
        """Rows ``[structure, form, mean slope, interval low, interval high]``."""
        return [[s, f, *self.slope(s, f).as_tuple()] for s in self.structures for f in self.forms]


def slope_study(structures: dict, data: CountedData, seeds: Sequence[int],
                forms: Sequence[str] = tuple(FORMS), smallest: float = 1e-6, largest: float = 1e-2,
                n_etas: int = 9) -> SlopeStudy:
    """One-step error vs eta for each structure, form and seed (random leaf and layer weights).

    ``structures`` maps a name to a :class:`Decomposition`, or to a function
    ``seed -> Decomposition`` (a new random structure per seed).
    """
    if len(seeds) < 2:
        raise ValueError("need at least two seeds for an interval over seeds")
    fits: dict[tuple[str, str], list[SlopeFit]] = {}
    errors: dict[tuple[str, str], list[np.ndarray]] = {}
    etas: dict[str, np.ndarray] = {}
    for name, structure in structures.items():
        grids = []
        for seed in seeds:
            dec = structure(seed) if callable(structure) else structure
            model = FactorisedMixture(dec, data.n_variables)
            state = one_step_state(model, random_params(dec, data.n_variables, seed), data)
            grid = eta_grid(state, smallest, largest, n_etas)
            grids.append(grid)
            for form, err in one_step_errors(state, grid, forms).items():
                fits.setdefault((name, form), []).append(fit_loglog_slope(grid, err))
                errors.setdefault((name, form), []).append(err)
        etas[name] = np.array(grids)
    return SlopeStudy(tuple(structures), tuple(forms), fits,
                      {k: np.array(v) for k, v in errors.items()}, etas)


def first_order_error(structure: Decomposition | Sequence, eta: float, scale: float, seed: int = 0,
                      n_variables: int = 4, n_samples: int = 40) -> float:
    """Relative error of the first-order prediction of one step of w_k, on the numeric core.

    A random factorised mixture and data set (reproducible by ``seed``); layer
    weights ``scale`` times U(0.5, 1.5). The exact step is :func:`exact_change` (the layer
    weights recombined after one gradient-ascent step of the mean log-likelihood); the
    prediction is eta c_1 from the symbolic derivation
    (:meth:`~spnlib.symbolic.derivation.Derivation.first_order_function`).
    Returns max_k |exact - predicted| / max_k |exact|.
    """
    if eta <= 0 or scale <= 0:
        raise ValueError(f"eta and scale must be > 0, got eta = {eta}, scale = {scale}")
    dec = as_decomposition(structure)
    rng = np.random.default_rng(seed)
    leaf = rng.uniform(0.2, 1.0, (dec.n_components, n_variables, 2))
    data = CountedData.from_array(rng.integers(0, 2, (n_samples, n_variables)))
    layers = tuple(scale * rng.uniform(0.5, 1.5, n) for n in dec.layer_sizes)
    state = one_step_state(FactorisedMixture(dec, n_variables), MixtureParams(leaf, layers), data)
    exact = exact_change(state, eta)
    predicted = eta * Derivation(dec).first_order_function()(layers, state.shallow_grad)
    return float(np.max(np.abs(exact - predicted)) / np.max(np.abs(exact)))


def first_order_errors(structure: Decomposition | Sequence, etas: Sequence[float], scales: Sequence[float],
                       seeds: Sequence[int]) -> np.ndarray:
    """:func:`first_order_error` over a grid: array (len(scales), len(seeds), len(etas))."""
    return np.array([[[first_order_error(structure, eta, sc, seed=seed) for eta in etas]
                      for seed in seeds] for sc in scales])

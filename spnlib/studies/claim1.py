"""Claim 1: a deep SPN as an overparameterized mixture of its induced trees.

A complete, decomposable SPN computes f(x) = sum_T W_T T(x), where T(x) is the
product of the leaves of induced tree T and W_T = prod_{e in T} theta_e the product
of its sum weights (Zhao et al. 2016). :class:`TreeMixture` holds the trees of an
SPN as an incidence matrix A (trees x weights, so log W = A log theta) and their
leaf values on a data set, and computes two models from them:

* the *deep* parameterisation: the mean log-likelihood and its gradient with
  respect to theta, by the chain rule through the trees (independent of the
  core's backward pass, which :func:`step_equality` compares it with);
* the *free* mixture of the same trees, whose weights W_T are free parameters.

:func:`sharing_summary` measures what the claim's reasoning leaves unstated: how
many trees each weight is shared by, whether a tree has a weight of its own, and
the dimension (rank A) of the family of tree weights the deep SPN can reach.

Defined in the book's chapter "Numerical verification of the dynamics".
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.checks import check_eta
from spnlib.data.counted import CountedData
from spnlib.numeric.evaluate import compile_spn, log_likelihood_and_gradient, logsumexp
from spnlib.numeric.induced_trees import induced_trees
from spnlib.stats.intervals import Interval, mean_interval
from spnlib.stats.speedup import first_reaching
from spnlib.structure.graph import SPN

__all__ = [
    "SpeedResult",
    "TreeMixture",
    "projected_ascent",
    "sharing_summary",
    "speed_comparison",
    "step_equality",
    "tree_step",
]



class TreeMixture:
    """The induced trees of ``spn`` with their leaf values on ``data``.

    Parameters
    ----------
    spn : SPN
    data : CountedData
    max_trees : int
        Refuse (TooManyTreesError) SPNs with more trees than this.
    """

    def __init__(self, spn: SPN, data: CountedData, max_trees: int = 20_000) -> None:
        if not isinstance(data, CountedData):
            raise TypeError("pass the data as CountedData.from_array(X)")
        if data.n_variables < spn.n_variables:
            raise ValueError(f"data have {data.n_variables} variables, the SPN uses {spn.n_variables}")
        self.spn, self.data = spn, data
        self.trees = induced_trees(spn, max_trees)
        A = np.zeros((len(self.trees), spn.n_weights))
        for i, tree in enumerate(self.trees):
            np.add.at(A[i], list(tree.weight_indices), 1.0)
        self.incidence = A
        rows = data.rows_with_star
        log_leaf = np.stack([tree.log_leaf_value(rows) for tree in self.trees])     # (n_trees, U + 1)
        self._log_leaf, self._log_leaf_star = log_leaf[:, :-1], log_leaf[:, -1]
        self._shift = np.max(self._log_leaf, axis=0)                                   # (U,)
        self._scaled = np.exp(self._log_leaf - self._shift)                            # in (0, 1]
        self._share = data.counts / data.n_samples

    @property
    def n_trees(self) -> int:
        return len(self.trees)

    def tree_weights(self, theta: np.ndarray) -> np.ndarray:
        """W_T = prod_{e in T} theta_e for every tree."""
        theta = self.spn.check_weight_vector(theta)
        with np.errstate(divide="ignore"):
            return np.exp(self.incidence @ np.log(theta))

    def _check_tree_weights(self, tree_weights: np.ndarray) -> np.ndarray:
        W = np.asarray(tree_weights, dtype=np.float64)
        if W.shape != (self.n_trees,) or not np.all(np.isfinite(W)) or np.any(W < 0) or not W.any():
            raise ValueError(f"tree weights must be {self.n_trees} finite values >= 0, not all 0")
        return W

    def log_values(self, tree_weights: np.ndarray) -> np.ndarray:
        """log sum_T W_T T(x) for every distinct data row (log space), shape (U,)."""
        W = self._check_tree_weights(tree_weights)
        with np.errstate(divide="ignore"):
            return logsumexp(self._log_leaf + np.log(W)[:, None], axis=0)

    def free_llh_and_grad(self, tree_weights: np.ndarray, log_space: bool = False) -> tuple[float, np.ndarray]:
        """Mean log-likelihood of the mixture sum_T W_T T(x) and its gradient in W (free weights).

        Computed with matrix products on leaf values scaled per row (fast); in log
        space throughout if ``log_space`` or if a scaled product underflows.

        Raises
        ------
        ValueError
            If a data row has probability 0 (its log-likelihood gradient is undefined).
        """
        W = self._check_tree_weights(tree_weights)
        top = W.max()
        dot = (W / top) @ self._scaled                                  # f(x_n) / (top * e^shift_n)
        if log_space or np.any(dot <= 0):
            log_f = self.log_values(W)
            if np.isneginf(log_f).any():
                raise ValueError("a data row has probability 0 under these tree weights; "
                                 "the gradient is undefined")
            grad_data = np.exp(self._log_leaf - log_f) @ self._share
        else:
            log_f = np.log(dot) + np.log(top) + self._shift
            grad_data = self._scaled @ (self._share / dot) / top
        with np.errstate(divide="ignore"):
            log_z = float(logsumexp(np.log(W) + self._log_leaf_star, axis=0))
        grad = grad_data - np.exp(self._log_leaf_star - log_z)
        return float(self._share @ log_f - log_z), grad

    def deep_llh_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean log-likelihood and its gradient in the sum weights theta, through the trees.

        d L / d theta_e = sum_T A_{T,e} W_T (d L / d W_T) / theta_e (theta_e > 0).
        """
        theta = self.spn.check_weight_vector(theta)
        if np.any(theta <= 0):
            raise ValueError("the chain rule through the trees needs every sum weight > 0")
        W = self.tree_weights(theta)
        llh, gW = self.free_llh_and_grad(W)
        return llh, (self.incidence.T @ (gW * W)) / theta


def sharing_summary(mixture: TreeMixture) -> dict[str, float]:
    """How the deep parameterisation ties the tree weights together.

    Returns a dict with ``n_trees``, ``n_weights``, ``rank`` (of A: the dimension
    of the log tree weights the deep SPN can reach; the free mixture has
    ``n_trees``), ``trees_per_weight_min`` / ``_median``, and
    ``private_fraction``: the fraction of trees with a weight no other tree uses
    (the weight Eqs. 11-13 pull out to obtain the rho grad term).
    """
    A = mixture.incidence > 0
    per_weight = A.sum(axis=0)
    used = per_weight[per_weight > 0]
    private = A[:, per_weight == 1].any(axis=1)
    return {"n_trees": mixture.n_trees, "n_weights": mixture.spn.n_weights,
            "rank": int(np.linalg.matrix_rank(mixture.incidence)),
            "trees_per_weight_min": int(used.min()), "trees_per_weight_median": float(np.median(used)),
            "private_fraction": float(private.mean())}


def step_equality(mixture: TreeMixture, eta: float, n_steps: int) -> np.ndarray:
    """Train the deep SPN twice and compare its tree weights after every step.

    Run 1: gradient ascent on theta with the core's backward pass
    (:func:`spnlib.numeric.evaluate.log_likelihood_and_gradient`). Run 2: gradient ascent on
    theta with the gradient through the trees (:meth:`TreeMixture.deep_llh_and_grad`).
    Returns max_T |W_T^(1) - W_T^(2)| / W_T^(1) at t = 0..n_steps.
    """
    eta = check_eta(eta)
    compiled = compile_spn(mixture.spn)
    core = trees = mixture.spn.weights()
    out = []
    for t in range(n_steps + 1):
        W1, W2 = mixture.tree_weights(core), mixture.tree_weights(trees)
        out.append(float(np.max(np.abs(W1 - W2) / W1)))
        if t == n_steps:
            break
        core = core + eta * log_likelihood_and_gradient(compiled, mixture.data, core)[1]
        trees = trees + eta * mixture.deep_llh_and_grad(trees)[1]
        if core.min() <= 0 or trees.min() <= 0:
            raise ValueError(f"step {t} made a weight <= 0; use a smaller eta")
    return np.array(out)


def tree_step(mixture: TreeMixture, theta: np.ndarray, eta: float) -> dict[str, np.ndarray]:
    """One step on theta seen from the trees: exact Delta W and its first-order parts.

    Returns ``exact`` (W(theta + eta g) - W(theta)), ``first_order``
    (eta W_T sum_{e in T} g_e / theta_e), and its split into ``own``
    (rho_T dL/dW_T with rho_T = eta W_T^2 sum_{e in T} theta_e^-2: the tree's own
    gradient) and ``cross`` (the gradients of the other trees sharing its weights).
    """
    eta = check_eta(eta)
    _, g = mixture.deep_llh_and_grad(theta)
    W = mixture.tree_weights(theta)
    _, gW = mixture.free_llh_and_grad(W)
    first = eta * W * (mixture.incidence @ (g / theta))
    own = eta * W ** 2 * (mixture.incidence @ theta ** -2.0) * gW
    return {"exact": mixture.tree_weights(theta + eta * g) - W, "first_order": first, "own": own,
            "cross": first - own}


def projected_ascent(llh_and_grad, start: np.ndarray, eta: float, n_steps: int,
                     floor: float) -> tuple[np.ndarray, int]:
    """Gradient ascent x <- max(x + eta grad, floor) (the released code's rule).

    ``llh_and_grad(x) -> (mean llh, grad)``. Returns the llh at t = 0..n_steps and
    how many coordinates the projection moved in total.
    """
    eta = check_eta(eta)
    if not floor > 0:
        raise ValueError(f"floor must be > 0, got {floor!r}")
    x, out, clipped = np.array(start, dtype=np.float64), [], 0
    for t in range(n_steps + 1):
        llh, g = llh_and_grad(x)
        out.append(llh)
        if t == n_steps:
            break
        x = x + eta * g
        clipped += int((x < floor).sum())
        np.maximum(x, floor, out=x)
    return np.array(out), clipped


@dataclass(frozen=True)
class SpeedResult:
    """Deep SPN vs the free mixture of its trees, several SPNs ("seeds"), learning-rate grids.

    Attributes
    ----------
    deep, free : ndarray, shape (seeds, etas, T + 1)
        Mean train LLH curves on each model's own learning-rate grid.
    clipped_deep, clipped_free : ndarray, shape (seeds, etas)
        How many coordinates the projection onto [floor, inf) moved, in total.
    """

    etas_deep: np.ndarray
    etas_free: np.ndarray
    deep: np.ndarray
    free: np.ndarray
    clipped_deep: np.ndarray
    clipped_free: np.ndarray

    def final_best(self) -> tuple[np.ndarray, np.ndarray]:
        """Per seed, each model's highest final LLH over its grid: two arrays (seeds,)."""
        return self.deep[:, :, -1].max(axis=1), self.free[:, :, -1].max(axis=1)

    def targets(self, fraction: float) -> np.ndarray:
        """Per seed, the LLH L0 + fraction (L_deep - L0), with L_deep the deep SPN's best final LLH."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must lie in (0, 1], got {fraction!r}")
        start = self.deep[:, 0, 0]
        return start + fraction * (self.final_best()[0] - start)

    def iterations(self, fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Per seed, the fewest iterations (over each model's own grid) to reach ``targets(fraction)``."""
        target = self.targets(fraction)
        fastest = lambda C: np.array([first_reaching(c, x).min() for c, x in zip(C, target)])
        return fastest(self.deep), fastest(self.free)

    def deep_speedup(self, fraction: float = 0.9):
        """Iterations of the free mixture / iterations of the deep SPN (> 1: deep is faster).

        Returns ``(interval, n_unfinished)``: the geometric mean over the seeds where
        both reached the target, with a 95 % t-interval on the log scale (``None``
        if fewer than two), and the number of seeds where one did not.
        """
        d, f = self.iterations(fraction)
        ok = np.isfinite(d) & np.isfinite(f) & (d > 0) & (f > 0)
        if ok.sum() < 2:
            return None, int((~ok).sum())
        iv = mean_interval(np.log(f[ok] / d[ok]))
        return Interval(float(np.exp(iv.estimate)), float(np.exp(iv.low)), float(np.exp(iv.high)), iv.n), \
            int((~ok).sum())

    def chosen_etas(self, fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Per seed, the index into each grid of the eta that reaches ``targets(fraction)`` first."""
        target = self.targets(fraction)
        pick = lambda C: np.array([int(np.argmin(first_reaching(c, x))) for c, x in zip(C, target)])
        return pick(self.deep), pick(self.free)

    def best_curves(self, fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Per seed, each model's curve at the eta that reaches ``targets(fraction)`` first: (seeds, T + 1) x 2."""
        target = self.targets(fraction)
        pick = lambda C: np.array([c[np.argmin(first_reaching(c, x))] for c, x in zip(C, target)])
        return pick(self.deep), pick(self.free)


def speed_comparison(spns: Sequence[SPN], data: CountedData, etas_deep: Sequence[float],
                     etas_free: Sequence[float], n_steps: int, floor: float = 1e-8,
                     route: str = "core") -> SpeedResult:
    """Train each SPN and the free mixture of its trees from the same tree weights.

    Both use projected gradient ascent (:func:`projected_ascent`) with the same
    ``floor``, each on its own grid of learning rates. The deep SPN's gradient
    comes from the core's backward pass (``route="core"``) or, identically
    (:func:`step_equality`) and faster for tree-shaped SPNs, through the trees
    (``route="trees"``).
    """
    if route not in ("core", "trees"):
        raise ValueError(f"route must be 'core' or 'trees', got {route!r}")
    if len(etas_deep) == 0 or len(etas_free) == 0:
        raise ValueError("need at least one learning rate for each model")
    deep, free, cd, cf = [], [], [], []
    for spn in spns:
        mixture = TreeMixture(spn, data)
        theta0 = spn.weights()
        deep_fn: Callable[[np.ndarray], tuple[float, np.ndarray]]
        if route == "core":
            compiled = compile_spn(spn)

            def deep_fn(theta, compiled=compiled):
                llh, g = log_likelihood_and_gradient(compiled, data, theta)
                return llh.mean, g
        else:
            deep_fn = mixture.deep_llh_and_grad
        runs = [projected_ascent(deep_fn, theta0, e, n_steps, floor) for e in etas_deep]
        deep.append([r[0] for r in runs])
        cd.append([r[1] for r in runs])
        runs = [projected_ascent(mixture.free_llh_and_grad, mixture.tree_weights(theta0), e, n_steps, floor)
                for e in etas_free]
        free.append([r[0] for r in runs])
        cf.append([r[1] for r in runs])
    return SpeedResult(np.asarray(etas_deep, float), np.asarray(etas_free, float), np.array(deep),
                       np.array(free), np.array(cd), np.array(cf))

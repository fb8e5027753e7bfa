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

The speed test compares models of the *same function class*:
:func:`overparameterize` inserts a sum layer under every wide sum node (Eq. 3 applied
to each of them), :func:`train_arms` trains the SPN and its overparameterized version
(and the SPN under momentum and Adam) from the same function, all with the batched
gradient :meth:`TreeMixture.llh_and_grad_batch`, and :func:`em_reference` finds the
level the gap is measured to, without a learning rate.

Defined in the book's chapter "Numerical verification of the dynamics".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from spnlib.checks import check_eta
from spnlib.data.counted import CountedData
from spnlib.numeric.blas import blas_threads
from spnlib.numeric.evaluate import compile_spn, log_likelihood_and_gradient, logsumexp
from spnlib.numeric.induced_trees import induced_trees
from spnlib.structure.graph import SPN, Node, Product, Sum

__all__ = [
    "ARMS",
    "Arm",
    "Overparameterized",
    "RULES",
    "TreeMixture",
    "em_reference",
    "overparameterize",
    "projected_ascent",
    "sharing_summary",
    "step_equality",
    "train_arms",
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


    def llh_and_grad_batch(self, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`deep_llh_and_grad` for K weight vectors at once, with matrix products.

        Parameters
        ----------
        thetas : ndarray, shape (K, n_weights)
            Sum weights, all > 0.

        Returns
        -------
        llh : ndarray (K,)
        grad : ndarray (K, n_weights)
            d L / d theta.
        counts : ndarray (K, n_weights)
            theta_e times the data part of the gradient (the mean over the data of
            theta_e d log f(x) / d theta_e): the expected edge counts of EM.
        """
        th = np.asarray(thetas, dtype=np.float64)
        if th.ndim != 2 or th.shape[1] != self.spn.n_weights:
            raise ValueError(f"thetas must be (K, {self.spn.n_weights}), got shape {th.shape}")
        if not np.all(np.isfinite(th)) or np.any(th <= 0):
            raise ValueError("the chain rule through the trees needs every sum weight finite and > 0")
        log_w = np.log(th) @ self.incidence.T                              # (K, n_trees)
        top = log_w.max(axis=1, keepdims=True)
        scaled_w = np.exp(log_w - top)
        dot = scaled_w @ self._scaled                                      # f(x_n) / e^(top + shift_n)
        ok = dot > 1e-250
        ratio = np.where(ok, self._share / np.where(ok, dot, 1.0), 0.0)
        tree_counts = scaled_w * (ratio @ self._scaled.T)                  # W_T dL_data/dW_T
        log_f = np.log(np.where(ok, dot, 1.0)) + top + self._shift
        for k in np.flatnonzero(~ok.all(axis=1)):                          # rows that underflow: log space
            rows = np.flatnonzero(~ok[k])
            m = log_w[k][:, None] + self._log_leaf[:, rows]
            lf = logsumexp(m, axis=0)
            if np.isneginf(lf).any():
                raise ValueError("a data row has probability 0 under these weights; the gradient is undefined")
            log_f[k, rows] = lf
            tree_counts[k] += np.exp(m - lf) @ self._share[rows]
        star = log_w + self._log_leaf_star
        log_z = logsumexp(star, axis=1)
        posterior_star = np.exp(star - log_z[:, None])
        counts = tree_counts @ self.incidence
        grad = (counts - posterior_star @ self.incidence) / th
        llh = log_f @ self._share - log_z
        return llh, grad, counts


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




# ------------------------------------------------------------------ the speed test's reference level
def em_reference(mixture: TreeMixture, theta: np.ndarray, max_steps: int = 2000,
                 tol: float = 1e-9) -> tuple[float, int]:
    """The train LLH of a local maximum, by EM from ``theta``: the speed test's reference level.

    EM (expected edge counts, normalised per sum node) increases the likelihood at every
    step and uses no learning rate, so the level it reaches is set by none of the compared
    runs. Returns the final mean LLH and the steps taken (it stops once a step gains < ``tol``).
    """
    spn = mixture.spn
    node = np.zeros(spn.n_weights, dtype=np.intp)
    for i, s in enumerate(spn.sum_nodes):
        a, b = spn.weight_offsets[s]
        node[a:b] = i
    th = spn.check_weight_vector(theta)[None, :].copy()
    with blas_threads(1):
        return _em(mixture, th, node, max_steps, tol)


def _em(mixture: TreeMixture, th: np.ndarray, node: np.ndarray, max_steps: int, tol: float) -> tuple[float, int]:
    previous = -np.inf
    n_nodes = int(node.max()) + 1
    for step in range(max_steps):
        llh, _, counts = mixture.llh_and_grad_batch(th)
        if llh[0] - previous < tol:
            return float(max(llh[0], previous)), step
        previous = float(llh[0])
        totals = np.bincount(node, weights=counts[0], minlength=n_nodes)[node]
        # a node no data row reaches any more (all its counts underflow) keeps its weights
        th = np.maximum(np.where(totals > 0, counts / np.where(totals > 0, totals, 1.0), th), 1e-300)
    return previous, max_steps


# ------------------------------------------------------------------ the same function class, deeper
@dataclass(frozen=True)
class Overparameterized:
    """An SPN whose sum weights are decomposed by an inserted sum layer (Eq. 3 at every sum node).

    A sum node S with m >= ``min_children`` children c_1..c_m becomes
    S' = sum_g a_g T_g with new sum nodes T_g = sum_{j in g} b_j c_j over ``n_groups``
    contiguous groups: the weight of c_j is w_j = a_g b_j. Any w >= 0 is reached
    (a_g = 1, b_j = w_j), so both SPNs have the same function class; only the
    parameterisation is deeper. Nodes with fewer children stay as they are (decomposing
    them needs a one-child sum node, whose weight the partition function cancels).

    Attributes
    ----------
    spn : SPN
        The deeper SPN (a graph, evaluated by the core like any SPN).
    original : SPN
    first, second : ndarray (original.n_weights,)
        Position in ``spn.weights()`` of a_g and of b_j for each original weight
        (``second`` is -1 where the weight was not decomposed and ``first`` is the weight itself).
    """

    spn: SPN
    original: SPN
    first: np.ndarray
    second: np.ndarray

    def theta(self, phi: np.ndarray) -> np.ndarray:
        """The original SPN's weights w_j = a_g b_j (or w_j) from the deeper SPN's weights (..., n)."""
        phi = np.asarray(phi, dtype=np.float64)
        other = np.where(self.second >= 0, phi[..., np.maximum(self.second, 0)], 1.0)
        return phi[..., self.first] * other

    def gradient(self, phi: np.ndarray, grad_theta: np.ndarray) -> np.ndarray:
        """dL/dphi from dL/dtheta by the chain rule (one vector or a batch (K, n))."""
        phi, g = np.atleast_2d(phi), np.atleast_2d(grad_theta)
        dec = self.second >= 0
        out = np.zeros_like(phi)
        lower = np.where(dec, phi[:, np.maximum(self.second, 0)], 1.0)
        np.add.at(out.T, self.first, (g * lower).T)
        np.add.at(out.T, self.second[dec], (g[:, dec] * phi[:, self.first[dec]]).T)
        return out if np.ndim(grad_theta) == 2 else out[0]

    def start(self, theta: np.ndarray, balance: float = 1.0) -> np.ndarray:
        """Weights of the deeper SPN with theta(phi) = ``theta``.

        Per group, a_g = (sum_j theta_j^2)^(1/4) / sqrt(balance) and b_j = theta_j / a_g, so
        that ||b_g|| / a_g = ``balance``: 1 is balanced (a_g^2 = sum_j b_j^2, the quantity
        gradient flow conserves), a small value puts the new weights b near zero.
        """
        theta = self.original.check_weight_vector(theta)
        if not (np.isfinite(balance) and balance > 0):
            raise ValueError(f"balance must be finite and > 0, got {balance!r}")
        phi = np.zeros(self.spn.n_weights)
        dec = self.second >= 0
        phi[self.first[~dec]] = theta[~dec]
        sq = np.bincount(self.first[dec], weights=theta[dec] ** 2, minlength=self.spn.n_weights)
        a = sq ** 0.25 / np.sqrt(balance)
        phi[self.first[dec]] = a[self.first[dec]]
        phi[self.second[dec]] = theta[dec] / a[self.first[dec]]
        return phi


def overparameterize(spn: SPN, min_children: int = 4, n_groups: int = 2) -> Overparameterized:
    """The SPN with an extra sum layer under every sum node of >= ``min_children`` children.

    Shared sub-networks stay shared. The new SPN's weights are set by
    :meth:`Overparameterized.start` (balanced) from the original's.
    """
    if n_groups < 2 or min_children < 2 * n_groups:
        raise ValueError("need n_groups >= 2 and min_children >= 2 * n_groups (every group >= 2 children)")
    copies: dict[int, Node] = {}
    groups: dict[int, tuple[Sum, list[Sum]]] = {}                      # id(original sum) -> (S', [T_g])

    def copy(node: Node) -> Node:
        if id(node) in copies:
            return copies[id(node)]
        new: Node
        if isinstance(node, Sum):
            children = [copy(c) for c in node.children]
            if len(children) >= min_children:
                parts = np.array_split(np.arange(len(children)), n_groups)
                ts = [Sum([children[j] for j in g], np.ones(len(g)), name=f"{node.name}.g{i}")
                      for i, g in enumerate(parts)]
                new = Sum(ts, np.ones(n_groups), name=node.name)
                groups[id(node)] = (new, ts)
            else:
                new = Sum(children, node.weights, name=node.name)
        elif isinstance(node, Product):
            new = Product([copy(c) for c in node.children], name=node.name)
        else:
            new = node                                                    # leaves are shared as they are
        copies[id(node)] = new
        return new

    deep = SPN(copy(spn.root))
    first = np.zeros(spn.n_weights, dtype=np.intp)
    second = np.full(spn.n_weights, -1, dtype=np.intp)
    for s in spn.sum_nodes:
        a0, a1 = spn.weight_offsets[s]
        if id(s) in groups:
            top, ts = groups[id(s)]
            j = a0
            for g, t in enumerate(ts):
                t0, t1 = deep.weight_offsets[t]
                first[j:j + t1 - t0] = deep.weight_offsets[top][0] + g
                second[j:j + t1 - t0] = np.arange(t0, t1)
                j += t1 - t0
        else:
            first[a0:a1] = np.arange(*deep.weight_offsets[cast(Sum, copies[id(s)])])
    return Overparameterized(deep, spn, first, second)


# ------------------------------------------------------------------ training several arms together
RULES = ("gradient", "momentum", "adam")
"""Update rules of :func:`train_arms`, all projected onto [floor, inf): plain gradient ascent,
heavy ball (v <- 0.9 v + g) and Adam (0.9, 0.999, 1e-8), as in :mod:`spnlib.experiment.training`."""


@dataclass(frozen=True)
class Arm:
    """One way to train an SPN: its parameterisation, update rule and start."""

    name: str
    model: str = "SPN"                  # "SPN" (the original weights) or "overparameterized"
    rule: str = "gradient"
    balance: float = 1.0                # ||b|| / a at the start of the overparameterized SPN

    def __post_init__(self) -> None:
        if self.model not in ("SPN", "overparameterized"):
            raise ValueError(f"model must be 'SPN' or 'overparameterized', got {self.model!r}")
        if self.rule not in RULES:
            raise ValueError(f"unknown rule {self.rule!r}; choose one of {', '.join(RULES)}")


ARMS = (
    Arm("SPN, gradient ascent"),
    Arm("overparameterized, balanced start", "overparameterized"),
    Arm("overparameterized, new weights near zero", "overparameterized", balance=0.01),
    Arm("SPN, momentum", rule="momentum"),
    Arm("SPN, Adam", rule="adam"),
)
"""The arms of the Claim 1 speed test; the first is the reference."""


def train_arms(mixture: TreeMixture, over: Overparameterized, configs: Sequence[tuple[Arm, float]],
               n_steps: int, floor: float = 1e-8, early: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train the SPN of ``mixture`` under every (arm, eta) from its own weights, all in one batch.

    Every arm starts from the same function (theta = the SPN's weights). Gradients come from
    :meth:`TreeMixture.llh_and_grad_batch` (the chain rule through the trees) and, for the
    overparameterized SPN, :meth:`Overparameterized.gradient`; one BLAS thread.

    Returns
    -------
    curves : ndarray (K, n_steps + 1)
        Mean train LLH before each update.
    clipped : ndarray (K,)
        Coordinates the projection onto [floor, inf) moved, in total.
    early_step : ndarray (K,)
        Largest relative change |Delta x / x| of a parameter in the first ``early`` updates
        (the claim's "small eta" asks for it to be small).
    """
    if not floor > 0:
        raise ValueError(f"floor must be > 0, got {floor!r}")
    if int(n_steps) != n_steps or n_steps < 0:
        raise ValueError(f"n_steps must be an integer >= 0, got {n_steps!r}")
    theta0 = mixture.spn.weights()
    xs, ms, vs, etas = [], [], [], []
    for arm, eta in configs:
        etas.append(check_eta(eta))
        x = over.start(theta0, arm.balance) if arm.model == "overparameterized" else theta0.copy()
        xs.append(x)
        ms.append(np.zeros_like(x))
        vs.append(np.zeros_like(x))
    K = len(xs)
    curves, clipped, early_step = np.empty((K, n_steps + 1)), np.zeros(K, dtype=np.int64), np.zeros(K)
    with blas_threads(1):
        for t in range(n_steps + 1):
            thetas = np.array([over.theta(x) if a.model == "overparameterized" else x
                               for (a, _), x in zip(configs, xs)])
            llh, g, _ = mixture.llh_and_grad_batch(thetas)
            curves[:, t] = llh
            if t == n_steps:
                break
            for k, ((arm, _), x) in enumerate(zip(configs, xs)):
                gk = over.gradient(x, g[k]) if arm.model == "overparameterized" else g[k]
                if arm.rule == "gradient":
                    step = gk
                elif arm.rule == "momentum":
                    ms[k] = 0.9 * ms[k] + gk
                    step = ms[k]
                else:
                    ms[k] = 0.9 * ms[k] + 0.1 * gk
                    vs[k] = 0.999 * vs[k] + 0.001 * gk * gk
                    step = (ms[k] / (1 - 0.9 ** (t + 1))) / (np.sqrt(vs[k] / (1 - 0.999 ** (t + 1))) + 1e-8)
                new = x + etas[k] * step
                if t < early:
                    early_step[k] = max(early_step[k], float(np.max(np.abs(etas[k] * step) / x)))
                clipped[k] += int((new < floor).sum())
                xs[k] = np.maximum(new, floor)
    return curves, clipped, early_step

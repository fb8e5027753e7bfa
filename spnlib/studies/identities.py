"""The identities the whole book rests on, on the paper's Fig. 1 and Fig. 2 networks.

:func:`paper_networks` builds the chapter's small networks (K = 4 components over D = 3
binary variables, random positive leaf weights, the shallow mixture of Fig. 1 and the same
weights decomposed over two sum layers as in Fig. 2), and :func:`identity_checks` measures,
against brute-force enumeration of all 2^D states, that

* the partition function f(*) is the sum of f(x) over all states, and every marginal (each of
  the 3^D queries with some variables missing) the sum over the states it leaves open;
* the decomposed network computes exactly the function of the shallow one with
  w_k = prod_l w^{[l]}_{phi(k,l)} (Eqs. 3-4: equally expressive);
* the network is the mixture of its induced trees (Definition 1);
* the exact gradient agrees with central finite differences.

The gradient is compared in the form w * dL/dw (the derivative with respect to log w) of the mean
log-likelihood L. Its two terms, mean_n w d log f(x_n)/dw and w d log f(*)/dw, are each the share of
f(x) (or f(*)) that flows through the weight's edge, so each lies in [0, 1], whatever the weights: an
absolute deviation of w * dL/dw is a deviation relative to the size of the gradient's terms, and stays
meaningful where the two terms nearly cancel (a relative error of dL/dw itself does not).

The chapter "Sum-product networks" shows these numbers and the reproducibility report reads the
same function, so the two cannot disagree.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spnlib.data.counted import MISSING
from spnlib.numeric import evaluate, induced_trees
from spnlib.structure import builders
from spnlib.structure.decomposition import balanced, shallow
from spnlib.structure.graph import Node

__all__ = ["PaperNetworks", "paper_networks", "all_states", "all_queries", "random_rows", "IdentityChecks",
           "identity_checks"]


@dataclass(frozen=True)
class PaperNetworks:
    """Fig. 1 and Fig. 2 over the same components.

    Attributes
    ----------
    components : tuple of Node
        C_1..C_K (products of per-variable sums over shared indicators).
    fig1, fig2 : DecomposedSPN
        The shallow mixture with weights ``shallow_weights``, and the network of
        ``balanced((2, 2))`` with ``layer_weights``.
    same_weights : DecomposedSPN
        The shallow mixture with w_k read off Fig. 2's layer weights.
    """

    components: tuple[Node, ...]
    fig1: builders.DecomposedSPN
    fig2: builders.DecomposedSPN
    same_weights: builders.DecomposedSPN

    @property
    def n_variables(self) -> int:
        return self.fig1.spn.n_variables


def paper_networks(seed: int = 2019, n_variables: int = 3,
                   shallow_weights: tuple[float, ...] = (0.1, 0.4, 0.2, 0.3),
                   layer_weights: tuple[tuple[float, ...], ...] = ((0.5, 0.5), (0.2, 0.8, 0.4, 0.6))
                   ) -> PaperNetworks:
    """The chapter's networks: K = 4 components with leaf weights U(0.2, 1) drawn from ``seed``."""
    K = len(shallow_weights)
    if K != 4 or len(layer_weights) != 2 or len(layer_weights[1]) != 4:
        raise ValueError("Fig. 1 and Fig. 2 have K = 4 components and layer sizes (2, 4)")
    rng = np.random.default_rng(seed)
    indicators = builders.indicator_pairs(n_variables)
    leaf = rng.uniform(0.2, 1.0, (K, n_variables, 2))
    components = tuple(builders.factorised_component(n_variables, f"C{k + 1}", leaf[k], indicators)
                       for k in range(K))
    fig1 = builders.decomposed_spn(shallow(K), components, [np.array(shallow_weights)])
    fig2 = builders.decomposed_spn(balanced((2, 2)), components, [np.array(w) for w in layer_weights])
    w_k = fig2.component_weights(fig2.spn.weights())
    same = builders.decomposed_spn(shallow(K), components, [w_k])
    return PaperNetworks(components, fig1, fig2, same)


def all_states(n_variables: int) -> np.ndarray:
    """Every state of ``n_variables`` binary variables, shape (2^D, D), in lexicographic order."""
    if not 1 <= n_variables <= 20:
        raise ValueError(f"enumerating 2^D states needs 1 <= D <= 20, got {n_variables}")
    return np.array(np.meshgrid(*[[0, 1]] * n_variables, indexing="ij")).reshape(n_variables, -1).T


def all_queries(n_variables: int) -> np.ndarray:
    """Every marginal query: each variable 0, 1 or missing (``MISSING``), shape (3^D, D)."""
    if not 1 <= n_variables <= 12:
        raise ValueError(f"enumerating 3^D queries needs 1 <= D <= 12, got {n_variables}")
    values = [[0, 1, MISSING]] * n_variables
    return np.array(np.meshgrid(*values, indexing="ij")).reshape(n_variables, -1).T


def random_rows(n_variables: int, n_rows: int = 200, seed: int = 0) -> np.ndarray:
    """The data of the gradient check: ``n_rows`` uniformly random rows of 0/1 from ``seed``."""
    return np.random.default_rng(seed).integers(0, 2, (n_rows, n_variables))


@dataclass(frozen=True)
class IdentityChecks:
    """Largest deviations: absolute in log space, and for the gradient of w * dL/dw (see the module)."""

    partition: float          # |log f(*) - log sum_x f(x)| for Fig. 1
    marginals: float          # max over the 3^D queries q of |log f(q) - log sum_{x matching q} f(x)|, Fig. 1
    n_marginals: int
    expressiveness: float     # max_x |log f_Fig2(x) - log f_Fig1'(x)|, Fig1' with Fig. 2's w_k
    induced_trees: float      # max_x |log sum over trees - log f_Fig2(x)|
    n_trees: int
    gradient: float           # max_w |w dL/dw - central differences in log w|, Fig. 2, mean LLH L


def identity_checks(nets: PaperNetworks, data: np.ndarray | None = None, step: float = 1e-5,
                    seed: int = 0) -> IdentityChecks:
    """Brute-force and finite-difference checks of :class:`PaperNetworks` (see the module docstring).

    ``data`` (rows of 0/1) for the gradient check defaults to :func:`random_rows` ``(D, 200, seed)``.
    The central differences step log w by +-``step``: 1e-5 (about the cube root of the float64
    epsilon) balances their O(step^2) truncation error against round-off, which grows as 1/step.
    """
    D = nets.n_variables
    states = all_states(D)
    log_f1 = evaluate.log_value(nets.fig1.spn, states)
    partition = abs(evaluate.log_partition(nets.fig1.spn) - float(np.log(np.exp(log_f1).sum())))
    queries = all_queries(D)
    matches = ((queries[:, None, :] == MISSING) | (queries[:, None, :] == states[None, :, :])).all(axis=2)
    brute = np.log(matches @ np.exp(log_f1))
    marginals = float(np.max(np.abs(evaluate.log_value(nets.fig1.spn, queries) - brute)))
    log_f2 = evaluate.log_value(nets.fig2.spn, states)
    expressiveness = float(np.max(np.abs(log_f2 - evaluate.log_value(nets.same_weights.spn, states))))
    w = nets.fig2.spn.weights()
    trees = induced_trees.induced_trees(nets.fig2.spn)
    tree_gap = float(np.max(np.abs(induced_trees.trees_log_value(trees, states, w) - log_f2)))
    if data is None:
        data = random_rows(D, 200, seed)
    _, grad = evaluate.log_likelihood_and_gradient(nets.fig2.spn, data, w)

    def mean_llh(weights: np.ndarray) -> float:
        return evaluate.log_likelihood(nets.fig2.spn, data, weights).mean

    up, down = np.exp(step), np.exp(-step)
    fd = np.empty_like(w)
    for i in range(len(w)):                       # d L / d log w_i by central differences
        w_up, w_down = w.copy(), w.copy()
        w_up[i] *= up
        w_down[i] *= down
        fd[i] = (mean_llh(w_up) - mean_llh(w_down)) / (2 * step)
    gradient = float(np.max(np.abs(w * grad - fd)))
    return IdentityChecks(float(partition), marginals, len(queries), expressiveness, tree_gap, len(trees), gradient)

"""The identities the whole book rests on, on the paper's Fig. 1 and Fig. 2 networks.

:func:`paper_networks` builds the chapter's small networks (K = 4 components over D = 3
binary variables, random positive leaf weights, the shallow mixture of Fig. 1 and the same
weights decomposed over two sum layers as in Fig. 2), and :func:`identity_checks` measures,
against brute-force enumeration of all 2^D states, that

* the partition function f(*) is the sum of f(x) over all states;
* the decomposed network computes exactly the function of the shallow one with
  w_k = prod_l w^{[l]}_{phi(k,l)} (Eqs. 3-4: equally expressive);
* the network is the mixture of its induced trees (Definition 1);
* the exact gradient agrees with central finite differences.

The chapter "Sum-product networks" shows these numbers and the reproducibility report reads the
same function, so the two cannot disagree.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spnlib.numeric import evaluate, induced_trees
from spnlib.structure import builders
from spnlib.structure.decomposition import balanced, shallow
from spnlib.structure.graph import Node

__all__ = ["PaperNetworks", "paper_networks", "all_states", "IdentityChecks", "identity_checks"]


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


@dataclass(frozen=True)
class IdentityChecks:
    """Largest deviations (absolute in log space, or relative for the gradient)."""

    partition: float          # |log f(*) - log sum_x f(x)| for Fig. 1
    expressiveness: float     # max_x |log f_Fig2(x) - log f_Fig1'(x)|, Fig1' with Fig. 2's w_k
    induced_trees: float      # max_x |log sum over trees - log f_Fig2(x)|
    n_trees: int
    gradient: float           # max |exact - finite differences| / max |exact|, Fig. 2, mean LLH


def identity_checks(nets: PaperNetworks, data: np.ndarray | None = None, step: float = 1e-6,
                    seed: int = 0) -> IdentityChecks:
    """Brute-force and finite-difference checks of :class:`PaperNetworks` (see the module docstring).

    ``data`` (rows of 0/1) for the gradient check defaults to 200 random rows from ``seed``.
    """
    D = nets.n_variables
    states = all_states(D)
    log_f1 = evaluate.log_value(nets.fig1.spn, states)
    partition = abs(evaluate.log_partition(nets.fig1.spn) - float(np.log(np.exp(log_f1).sum())))
    log_f2 = evaluate.log_value(nets.fig2.spn, states)
    expressiveness = float(np.max(np.abs(log_f2 - evaluate.log_value(nets.same_weights.spn, states))))
    w = nets.fig2.spn.weights()
    trees = induced_trees.induced_trees(nets.fig2.spn)
    tree_gap = float(np.max(np.abs(induced_trees.trees_log_value(trees, states, w) - log_f2)))
    if data is None:
        data = np.random.default_rng(seed).integers(0, 2, (200, D))
    _, grad = evaluate.log_likelihood_and_gradient(nets.fig2.spn, data, w)

    def mean_llh(weights: np.ndarray) -> float:
        return evaluate.log_likelihood(nets.fig2.spn, data, weights).mean

    hs = step * w
    fd = np.array([(mean_llh(w + h * e) - mean_llh(w - h * e)) / (2 * h) for h, e in zip(hs, np.eye(len(w)))])
    gradient = float(np.max(np.abs(grad - fd)) / np.max(np.abs(grad)))
    return IdentityChecks(float(partition), expressiveness, tree_gap, len(trees), gradient)

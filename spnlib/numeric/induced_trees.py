"""Induced trees of an SPN (Definition 1; Zhao, Poupart & Gordon 2016).

An induced tree keeps the root, exactly one child (and its edge weight) of
every sum node it reaches, and every child of every product node it reaches.
For a complete and decomposable SPN, f(x) = sum_T prod_{(S,C) in T} w_{S,C}
prod_{leaves L in T} L(x): a mixture of the trees with weights that are
products of sum weights.

Defined in the book's chapter "Numerical verification" (Claim 1).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product as cartesian

import numpy as np

from spnlib.data.counted import check_data
from spnlib.numeric.compile import as_spn
from spnlib.numeric.evaluate import leaf_log_table, logsumexp
from spnlib.structure.builders import DecomposedSPN
from spnlib.structure.graph import SPN, Leaf, Product, Sum

__all__ = ["InducedTree", "count_induced_trees", "induced_trees", "trees_log_value",
           "TooManyTreesError"]


class TooManyTreesError(ValueError):
    """The SPN has more induced trees than the caller allowed to enumerate."""


@dataclass(frozen=True)
class InducedTree:
    """One induced tree.

    Attributes
    ----------
    weight_indices : tuple of int
        Positions in the SPN's flat weight vector of the sum edges in the tree.
    leaves : tuple of Leaf
        The leaves of the tree (one per variable in the root's scope).
    """

    weight_indices: tuple[int, ...]
    leaves: tuple[Leaf, ...]

    def weight(self, weights: np.ndarray) -> float:
        """prod_{(S,C) in T} w_{S,C}: the tree's mixture weight."""
        return float(np.prod(np.asarray(weights)[list(self.weight_indices)]))

    def log_leaf_value(self, X: np.ndarray) -> np.ndarray:
        """log prod_{L in T} L(x_n) for every row of X (shape (N,))."""
        Xc = check_data(X)
        out = np.zeros(Xc.shape[0])
        for leaf in self.leaves:
            lo0, lo1 = leaf_log_table(leaf)
            x = Xc[:, leaf.variable]
            out = out + np.where(x == 1, lo1, np.where(x == 0, lo0, 0.0))
        return out


def count_induced_trees(spn: SPN | DecomposedSPN) -> int:
    """The number of induced trees (exact integer, by dynamic programming)."""
    spn = as_spn(spn)
    count: dict[int, int] = {}
    for node in spn.nodes:
        if isinstance(node, Leaf):
            count[id(node)] = 1
        elif isinstance(node, Sum):
            count[id(node)] = sum(count[id(c)] for c in node.children)
        else:
            n = 1
            for c in node.children:
                n *= count[id(c)]
            count[id(node)] = n
    return count[id(spn.root)]


def induced_trees(spn: SPN | DecomposedSPN, max_trees: int = 100_000) -> list[InducedTree]:
    """Enumerate every induced tree of ``spn``.

    Raises
    ------
    TooManyTreesError
        If there are more than ``max_trees`` trees (count them first with
        :func:`count_induced_trees`).
    """
    spn = as_spn(spn)
    n = count_induced_trees(spn)
    if n > max_trees:
        raise TooManyTreesError(f"the SPN has {n} induced trees, more than max_trees = {max_trees}")
    trees: dict[int, list[tuple[tuple[int, ...], tuple[Leaf, ...]]]] = {}
    for node in spn.nodes:
        if isinstance(node, Leaf):
            trees[id(node)] = [((), (node,))]
        elif isinstance(node, Sum):
            start, _ = spn.weight_offsets[node]
            trees[id(node)] = [((start + j,) + w, leaves)
                               for j, c in enumerate(node.children) for w, leaves in trees[id(c)]]
        elif isinstance(node, Product):
            trees[id(node)] = [
                (sum((p[0] for p in parts), ()), sum((p[1] for p in parts), ()))
                for parts in cartesian(*(trees[id(c)] for c in node.children))]
    return [InducedTree(tuple(w), leaves) for w, leaves in trees[id(spn.root)]]


def trees_log_value(trees: list[InducedTree], X: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """log sum_T w_T prod_{L in T} L(x) for every row of X: the mixture of trees."""
    with np.errstate(divide="ignore"):
        terms = np.stack([np.log(t.weight(weights)) + t.log_leaf_value(X) for t in trees], axis=1)
    return logsumexp(terms, axis=1)

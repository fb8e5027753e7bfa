"""Weight decompositions w_k = prod_l w^{[l]}_{phi(k,l)} (the paper's Eq. 3).

A :class:`Decomposition` is a tree of sum nodes whose leaves are the K
components C_1..C_K of the shallow mixture of Fig. 1. The edge from a sum
node at depth l to its child carries the layer weight w^{[l]}_j; edges at the
same depth are numbered left to right, so for Fig. 2 (``balanced((2, 2))``)
phi(k, 0) = k // 2 and phi(k, 1) = k (0-based; the paper counts from 1).
Trees need not be balanced: components may sit at different depths.

The decomposition is pure data; :mod:`spnlib.structure.builders` turns it into an SPN,
:mod:`spnlib.numeric.fastpath` and :mod:`spnlib.symbolic.derivation` compute with it.

Defined in the book's chapters "Sum-product networks" and "The derivation".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from math import prod
from typing import cast

import numpy as np

__all__ = ["Decomposition", "InvalidDecompositionError", "shallow", "balanced",
           "released", "random_decomposition"]

Nested = int | Sequence["Nested"]


class InvalidDecompositionError(ValueError):
    """A decomposition that is not a tree of sum nodes over components 0..K-1."""


@dataclass(frozen=True)
class Decomposition:
    """A tree of sum nodes over K components.

    Parameters
    ----------
    tree : nested tuple
        A sum node is a tuple (or list) of children; a child is a sum node or
        an ``int``, the 0-based index of a component. Every component
        0..K-1 appears exactly once. The root must be a sum node (L >= 1).

    Attributes
    ----------
    paths : tuple of tuple of int
        ``paths[k][l] = phi(k, l)``: index of the layer-l weight on the path
        from the root to component k (len(paths[k]) is the depth of C_k).
    layer_sizes : tuple of int
        Number of weights (edges) at each depth l = 0..L-1.
    sum_nodes : tuple of tuple
        ``sum_nodes[l]`` lists, for each sum node at depth l (left to right),
        the range ``(first, stop)`` of its out-edges' layer-l weight indices.
    """

    tree: Sequence[Nested]
    paths: tuple[tuple[int, ...], ...] = field(init=False, repr=False)
    layer_sizes: tuple[int, ...] = field(init=False, repr=False)
    sum_nodes: tuple[tuple[tuple[int, int], ...], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        tree = _freeze(self.tree)
        if isinstance(tree, int):
            raise InvalidDecompositionError("the root must be a sum node (L >= 1), got a bare component")
        object.__setattr__(self, "tree", tree)
        paths: dict[int, tuple[int, ...]] = {}
        layer_sizes: list[int] = []
        sums: list[list[tuple[int, int]]] = []
        frontier: list[tuple[Sequence[Nested], tuple[int, ...]]] = [(tree, ())]  # breadth-first, left to right
        depth = 0
        while frontier:
            nxt = []
            if depth == len(layer_sizes):
                layer_sizes.append(0)
                sums.append([])
            for node, path in frontier:
                first = layer_sizes[depth]
                for child in node:
                    j = layer_sizes[depth]
                    layer_sizes[depth] += 1
                    if isinstance(child, int):
                        if child in paths:
                            raise InvalidDecompositionError(f"component {child} is reached twice")
                        paths[child] = path + (j,)
                    else:
                        nxt.append((child, path + (j,)))
                sums[depth].append((first, layer_sizes[depth]))
            frontier = nxt
            depth += 1
        K = len(paths)
        if sorted(paths) != list(range(K)):
            missing = sorted(set(range(max(paths) + 1)) - set(paths))
            raise InvalidDecompositionError(
                f"components must be numbered 0..K-1 without gaps; missing {missing}")
        object.__setattr__(self, "paths", tuple(paths[k] for k in range(K)))
        object.__setattr__(self, "layer_sizes", tuple(layer_sizes))
        object.__setattr__(self, "sum_nodes", tuple(tuple(s) for s in sums))

    # ------------------------------------------------------------- queries
    @property
    def n_components(self) -> int:
        """K, the number of components."""
        return len(self.paths)

    @property
    def n_layers(self) -> int:
        """L, the number of consecutive sum layers (depth of the deepest component)."""
        return len(self.layer_sizes)

    @property
    def n_weights(self) -> int:
        """Total number of layer weights."""
        return sum(self.layer_sizes)

    def depth(self, k: int) -> int:
        """Number of layer weights in the decomposition of w_k."""
        return len(self.paths[k])

    def phi(self, k: int, l: int) -> int:
        """phi(k, l): 0-based index j of the layer-l weight w^{[l]}_j in w_k's decomposition."""
        path = self.paths[k]
        if not 0 <= l < len(path):
            raise IndexError(f"component {k} has {len(path)} layer weights; no layer {l}")
        return path[l]

    def sharing(self, l: int, j: int) -> tuple[int, ...]:
        """The components k whose decomposition contains w^{[l]}_j (Eq. 7's index set)."""
        return tuple(k for k, p in enumerate(self.paths) if len(p) > l and p[l] == j)

    @property
    def is_balanced(self) -> bool:
        """True if every component sits at depth L."""
        return all(len(p) == self.n_layers for p in self.paths)

    @cached_property
    def flat_index(self) -> np.ndarray:
        """``(K, L)`` indices into the concatenated layer-weight vector, padded with ``n_weights``.

        Entry (k, l) is the position of w^{[l]}_{phi(k,l)} in
        ``np.concatenate(layer_weights)``; beyond a component's depth it is
        ``n_weights`` (a padding slot whose weight is taken to be 1).
        """
        offsets = np.concatenate([[0], np.cumsum(self.layer_sizes)])
        out = np.full((self.n_components, self.n_layers), self.n_weights, dtype=np.intp)
        for k, p in enumerate(self.paths):
            for l, j in enumerate(p):
                out[k, l] = offsets[l] + j
        return out

    def check_layer_weights(self, layer_weights: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Return the layer weights as float64 arrays after checking shapes and signs."""
        if len(layer_weights) != self.n_layers:
            raise ValueError(f"expected {self.n_layers} layer weight vectors, got {len(layer_weights)}")
        out = []
        for l, (w, n) in enumerate(zip(layer_weights, self.layer_sizes)):
            a = np.asarray(w, dtype=np.float64)
            if a.shape != (n,):
                raise ValueError(f"layer {l} needs {n} weights, got shape {a.shape}")
            if not np.all(np.isfinite(a)) or np.any(a < 0):
                raise ValueError(f"layer {l} weights must be finite and >= 0, got {a.tolist()}")
            out.append(a)
        return out

    def component_weights(self, layer_weights: Sequence[np.ndarray]) -> np.ndarray:
        """w_k = prod_l w^{[l]}_{phi(k,l)} for every k (Eq. 3)."""
        ws = self.check_layer_weights(layer_weights)
        flat = np.append(np.concatenate(ws), 1.0)
        return np.prod(flat[self.flat_index], axis=1)

    def constant_layer_weights(self, value: float) -> list[np.ndarray]:
        """Every layer weight equal to ``value`` (the released code uses 1e-4)."""
        return [np.full(n, float(value)) for n in self.layer_sizes]

    def __str__(self) -> str:
        return f"Decomposition(K={self.n_components}, L={self.n_layers}, tree={self.tree})"


def _freeze(node: Nested) -> Nested:
    if isinstance(node, (bool, np.bool_)):
        raise InvalidDecompositionError(f"{node!r} is not a component index or a sum node")
    if isinstance(node, (int, np.integer)):
        if node < 0:
            raise InvalidDecompositionError(f"component index {node} is negative")
        return int(node)
    if isinstance(node, (tuple, list)):
        if len(node) == 0:
            raise InvalidDecompositionError("a sum node has no children")
        return tuple(_freeze(c) for c in node)
    raise InvalidDecompositionError(f"{node!r} is neither a component index (int) nor a sum node (tuple)")


def shallow(n_components: int) -> Decomposition:
    """The shallow mixture of Fig. 1: one root sum over K components (L = 1)."""
    if n_components < 1:
        raise InvalidDecompositionError(f"need at least one component, got {n_components}")
    return Decomposition(tuple(range(n_components)))


def balanced(branching: Sequence[int]) -> Decomposition:
    """A balanced tree: sum nodes at depth l have ``branching[l]`` children.

    ``balanced((2, 2))`` is the paper's Fig. 2 (K = 4, L = 2); ``balanced((K,))``
    is the shallow mixture.
    """
    if len(branching) < 1:
        raise InvalidDecompositionError("L < 1: need at least one sum layer")
    if any(int(b) < 1 for b in branching):
        raise InvalidDecompositionError(f"branching factors must be >= 1, got {list(branching)}")
    counter = iter(range(prod(branching)))

    def grow(level: int) -> Nested:
        if level == len(branching):
            return next(counter)
        return tuple(grow(level + 1) for _ in range(int(branching[level])))

    # len(branching) >= 1, so the root grow(0) is a sum node (a tuple), never a bare int
    return Decomposition(cast(Sequence[Nested], grow(0)))


def released(n_layers: int, n_components: int = 8) -> Decomposition:
    """The released code's structures: L = 1 is (K,), L = 2 is (2, K/2), L = 3 is (2, 2, K/4).

    In general a binary tree of L - 1 levels above sum nodes with K / 2^(L-1)
    components each; for K = 8, L = 4 each bottom sum node has one component.
    """
    if n_layers < 1:
        raise InvalidDecompositionError(f"L < 1: need at least one sum layer, got {n_layers}")
    groups = 2 ** (n_layers - 1)
    if n_components % groups:
        raise InvalidDecompositionError(
            f"K = {n_components} components cannot be split into {groups} equal groups for L = {n_layers}")
    return balanced((2,) * (n_layers - 1) + (n_components // groups,))


def random_decomposition(n_components: int, seed: int, max_branching: int = 3) -> Decomposition:
    """A random (generally unbalanced) tree over K components, reproducible by ``seed``.

    Each sum node splits its components into 2..max_branching non-empty
    groups; a group of one component becomes a leaf, so depths vary.
    """
    if n_components < 1:
        raise InvalidDecompositionError(f"need at least one component, got {n_components}")
    rng = np.random.default_rng(seed)

    def split(items: list[int]) -> Nested:
        if len(items) == 1:
            return items[0]
        n_groups = int(rng.integers(2, min(max_branching, len(items)) + 1))
        cuts = np.sort(rng.choice(np.arange(1, len(items)), size=n_groups - 1, replace=False))
        return tuple(split(g.tolist()) for g in np.split(np.array(items), cuts))

    tree = split(list(range(n_components)))
    return Decomposition(tree if isinstance(tree, tuple) else (tree,))

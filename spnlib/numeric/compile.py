"""Compilation of an SPN structure into layers of index arrays.

:func:`compile_spn` walks a :class:`spnlib.structure.graph.SPN` once and groups its nodes
by height into layers (products, sums, and "univariate" sums whose children
are leaves of one variable, which become lookup tables over x in {0, 1, missing}).
Each layer holds padded index arrays of children, edges and weights, so that the
passes in :mod:`spnlib.numeric.evaluate` are a few NumPy operations per layer.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import cast

import numpy as np

from spnlib.structure.builders import DecomposedSPN
from spnlib.structure.graph import SPN, Bernoulli, Indicator, Leaf, Node, Product, Sum

__all__ = ["CompiledSPN", "compile_spn", "leaf_log_table", "as_spn"]


def as_spn(spn: SPN | DecomposedSPN) -> SPN:
    """The :class:`SPN` itself, or the ``.spn`` of a :class:`DecomposedSPN` (what ``released_spn`` returns).

    Raises
    ------
    TypeError
        For anything else, saying what was passed.
    """
    if isinstance(spn, SPN):
        return spn
    if isinstance(spn, DecomposedSPN):
        return spn.spn
    raise TypeError(f"expected an SPN (or a DecomposedSPN, whose .spn is used, or a CompiledSPN), "
                    f"got {type(spn).__name__}")


@dataclass(frozen=True)
class _Layer:
    kind: str              # "sum", "product" or "univariate" (a sum over leaves of one variable)
    variables: np.ndarray  # (m,) the variable of each univariate sum (-1 otherwise)
    nodes: np.ndarray      # (m,) node indices
    children: np.ndarray   # (m, c) child node indices, padded with the PAD column
    edges: np.ndarray      # (m, c) edge indices, padded with the PAD edge
    weights: np.ndarray    # (m, c) flat weight indices for sums (padding -> n_weights)
    in_edges: np.ndarray   # (m, p) edges entering these nodes, padded with the PAD edge
    to_inner: bool         # some child is not a leaf (the backward pass must reach it)
    groups: tuple = ()     # univariate layers: (variable, positions in the layer) per variable


@dataclass(frozen=True)
class CompiledSPN:
    """An SPN compiled into layers of index arrays for batched log-space passes.

    Node ``i`` is ``spn.nodes[i]``; column ``n_nodes`` of a value matrix is a
    padding column; edge ``n_edges`` is a padding edge.
    """

    spn: SPN
    leaf_nodes: np.ndarray      # leaves whose value a pass needs (a parent that is not univariate)
    leaf_vars: np.ndarray
    node_log_table: np.ndarray  # (n_nodes + 1, 3): log value of each leaf at x = 0, 1, missing
    layers: tuple[_Layer, ...]
    edge_parent: np.ndarray
    edge_child: np.ndarray
    sum_edges: np.ndarray       # edge index of each flat weight (in weight order)
    weight_of_edge: np.ndarray  # flat weight index of each edge (n_weights for product edges)
    generic_sum_edges: np.ndarray  # sum edges whose parent is not in a univariate layer
    _buffers: dict = field(default_factory=dict, repr=False, compare=False)

    def buffer(self, key: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        """A scratch array reused between calls (large fresh arrays cost page faults).

        The contents are undefined; a CompiledSPN is therefore not thread-safe.
        """
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[key] = np.empty(shape, dtype=dtype)
        return buf

    @property
    def n_nodes(self) -> int:
        return len(self.spn.nodes)

    @property
    def n_edges(self) -> int:
        return len(self.edge_parent)

    @cached_property
    def root(self) -> int:
        return self.n_nodes - 1


def _variable(node: Node) -> int:
    """The variable of ``node``, which the caller knows to be a leaf."""
    return cast(Leaf, node).variable


def leaf_log_table(leaf: Leaf) -> tuple[float, float]:
    """(log value at x = 0, log value at x = 1) of a leaf; a missing x gives log 1 = 0."""
    with np.errstate(divide="ignore"):
        if isinstance(leaf, Indicator):
            return (0.0 if leaf.value == 0 else -np.inf, 0.0 if leaf.value == 1 else -np.inf)
        if isinstance(leaf, Bernoulli):
            return (float(np.log1p(-leaf.p)), float(np.log(leaf.p)))
    raise TypeError(f"unknown leaf type {type(leaf).__name__}")


def _pad(rows: list[list[int]], fill: int) -> np.ndarray:
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), max(width, 1)), fill, dtype=np.intp)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def compile_spn(spn: SPN | DecomposedSPN) -> CompiledSPN:
    """Compile ``spn`` (an SPN, or a DecomposedSPN's ``.spn``) into index arrays (done once; evaluation reuses them)."""
    spn = as_spn(spn)
    index = {id(n): i for i, n in enumerate(spn.nodes)}
    n_nodes = len(spn.nodes)
    edge_parent: list[int] = []
    edge_child: list[int] = []
    in_edges: list[list[int]] = [[] for _ in range(n_nodes)]
    out_edges: list[list[int]] = [[] for _ in range(n_nodes)]
    height = np.zeros(n_nodes, dtype=int)
    for i, node in enumerate(spn.nodes):
        for c in node.children:
            e = len(edge_parent)
            edge_parent.append(i)
            edge_child.append(index[id(c)])
            in_edges[index[id(c)]].append(e)
            out_edges[i].append(e)
        if node.children:
            height[i] = 1 + max(height[index[id(c)]] for c in node.children)
    n_edges = len(edge_parent)
    n_weights = spn.n_weights
    weight_of_edge = np.full(n_edges, n_weights, dtype=np.intp)
    sum_edges: list[int] = []
    k = 0
    for s in spn.sum_nodes:
        for e in out_edges[index[id(s)]]:
            weight_of_edge[e] = k
            sum_edges.append(e)
            k += 1

    leaves = [i for i, n in enumerate(spn.nodes) if isinstance(n, Leaf)]
    node_table = np.zeros((n_nodes + 1, 3))   # inner nodes and padding: unused (0); missing: log 1 = 0
    for i in leaves:
        node_table[i, :2] = leaf_log_table(cast(Leaf, spn.nodes[i]))

    layers = []
    univariate_nodes: set[int] = set()
    for h in range(1, int(height.max(initial=0)) + 1):
        at_h = [i for i in range(n_nodes) if height[i] == h]
        univariate = [i for i in at_h if h == 1 and isinstance(spn.nodes[i], Sum)
                      and len({_variable(c) for c in spn.nodes[i].children}) == 1]
        univariate_at_h = set(univariate)
        groups = (("product", [i for i in at_h if isinstance(spn.nodes[i], Product)]),
                  ("univariate", univariate),
                  ("sum", [i for i in at_h if isinstance(spn.nodes[i], Sum) and i not in univariate_at_h]))
        univariate_nodes.update(univariate)
        for kind, members in groups:
            if not members:
                continue
            layers.append(_Layer(
                kind=kind,
                variables=np.array([_variable(spn.nodes[i].children[0]) if kind == "univariate" else -1
                                    for i in members], dtype=np.intp),
                nodes=np.array(members, dtype=np.intp),
                children=_pad([[edge_child[e] for e in out_edges[i]] for i in members], n_nodes),
                edges=_pad([out_edges[i] for i in members], n_edges),
                weights=_pad([[int(weight_of_edge[e]) for e in out_edges[i]] for i in members], n_weights),
                in_edges=_pad([in_edges[i] for i in members], n_edges),
                to_inner=any(spn.nodes[edge_child[e]].children for i in members for e in out_edges[i]),
                groups=tuple((v, np.array([p for p, i in enumerate(members)
                                           if _variable(spn.nodes[i].children[0]) == v]))
                             for v in sorted({_variable(spn.nodes[i].children[0]) for i in members}))
                if kind == "univariate" else (),
            ))
    # univariate sums read their leaves from the lookup table; other parents need the leaf rows
    leaf_set = set(leaves)
    needed = sorted({edge_child[e] for e in range(n_edges)
                     if edge_parent[e] not in univariate_nodes and edge_child[e] in leaf_set})
    return CompiledSPN(
        spn=spn,
        leaf_nodes=np.array(needed, dtype=np.intp),
        leaf_vars=np.array([_variable(spn.nodes[i]) for i in needed], dtype=np.intp),
        node_log_table=node_table,
        layers=tuple(layers),
        edge_parent=np.array(edge_parent, dtype=np.intp),
        edge_child=np.array(edge_child, dtype=np.intp),
        sum_edges=np.array(sum_edges, dtype=np.intp),
        weight_of_edge=weight_of_edge,
        generic_sum_edges=np.array([e for e in sum_edges if edge_parent[e] not in univariate_nodes],
                                   dtype=np.intp),
    )

"""Structure of a sum-product network: nodes, scopes and validity.

This module only *describes* an SPN. It holds no evaluation code, numeric or
symbolic: the log-space evaluator (:mod:`spnlib.numeric.evaluate`), the induced-tree
enumerator (:mod:`spnlib.numeric.induced_trees`) and the SymPy derivation
(:mod:`spnlib.symbolic.derivation`) all walk the same :class:`SPN`.

Weights of sum nodes are non-negative and *unnormalised*, as in the paper
(Sec. 2.2 and Eq. 1); the partition function f(*) takes care of normalisation.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np

__all__ = [
    "Node", "Leaf", "Indicator", "Bernoulli", "Product", "Sum", "SPN",
    "InvalidSPNError",
]


class InvalidSPNError(ValueError):
    """Raised when a structure is not a valid SPN.

    Attributes
    ----------
    node : str
        Name of the offending node.
    property : str
        The property that fails (e.g. ``"complete"``, ``"decomposable"``).
    """

    def __init__(self, node: Node | str, prop: str, detail: str) -> None:
        self.node = node.name if isinstance(node, Node) else str(node)
        self.property = prop
        super().__init__(f"node {self.node!r} violates '{prop}': {detail}")


_counter = iter(range(1 << 62))


class Node:
    """Base class of all SPN nodes.

    Nodes are compared by identity, so one node object used as the child of
    several parents is a *shared* sub-network (the SPN is then a DAG).
    """

    name: str

    def __init__(self, name: str | None = None) -> None:
        self.name = name if name is not None else f"{type(self).__name__[0]}{next(_counter)}"

    @property
    def children(self) -> tuple[Node, ...]:
        return ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class Leaf(Node):
    """A leaf over a single binary variable (``variable`` is a column index)."""

    def __init__(self, variable: int, name: str | None = None) -> None:
        super().__init__(name)
        self.variable = variable


class Indicator(Leaf):
    """The indicator [X_variable = value] of a binary variable.

    Its value is 1 when the variable takes ``value`` or is missing
    (marginalised), 0 otherwise.
    """

    def __init__(self, variable: int, value: int, name: str | None = None) -> None:
        super().__init__(variable, name if name is not None else f"[x{variable}={value}]")
        self.value = value


class Bernoulli(Leaf):
    """A Bernoulli leaf p(X_variable = 1) = ``p`` (a fixed, normalised parameter)."""

    def __init__(self, variable: int, p: float, name: str | None = None) -> None:
        super().__init__(variable, name if name is not None else f"Bern(x{variable})")
        self.p = float(p)


class Product(Node):
    """A product node: the product of its children's values."""

    def __init__(self, children: Sequence[Node], name: str | None = None) -> None:
        super().__init__(name)
        self._children = tuple(children)

    @property
    def children(self) -> tuple[Node, ...]:
        return self._children


class Sum(Node):
    """A sum node: sum_j weights[j] * children[j], weights >= 0, unnormalised."""

    def __init__(self, children: Sequence[Node], weights: Iterable[float],
                 name: str | None = None) -> None:
        super().__init__(name)
        self._children = tuple(children)
        w = np.array(list(weights), dtype=np.float64)
        w.setflags(write=False)
        self.weights = w

    @property
    def children(self) -> tuple[Node, ...]:
        return self._children


def _topological_order(root: Node) -> list[Node]:
    """Nodes reachable from ``root``, children before parents (iterative DFS)."""
    order: list[Node] = []
    state: dict[int, int] = {}  # 1 = on stack, 2 = done
    stack: list[tuple[Node, Iterator[Node]]] = [(root, iter(root.children))]
    state[id(root)] = 1
    while stack:
        node, it = stack[-1]
        child = next(it, None)
        if child is None:
            stack.pop()
            state[id(node)] = 2
            order.append(node)
            continue
        if not isinstance(child, Node):
            raise InvalidSPNError(node, "children are nodes",
                                  f"child {child!r} is a {type(child).__name__}, not an spnlib Node")
        s = state.get(id(child))
        if s == 1:
            raise InvalidSPNError(child, "acyclic", "the node is its own descendant")
        if s is None:
            state[id(child)] = 1
            stack.append((child, iter(child.children)))
    return order


@dataclass(eq=False)
class SPN:
    """A rooted SPN: its nodes in topological order, scopes and weight layout.

    Parameters
    ----------
    root : Node
        The root node.
    validate : bool, default True
        Check completeness (smoothness), decomposability and the weights;
        raise :class:`InvalidSPNError` naming the node and property that fail.

    Attributes
    ----------
    nodes : list of Node
        Every node reachable from the root, children before parents.
    sum_nodes : list of Sum
        The sum nodes in ``nodes`` order; their weights, concatenated in this
        order, form the flat weight vector used by every evaluator. ``nodes`` is a
        depth-first post-order from the root, so the flat vector runs from the leaves up:
        a sum node's weights come after those of every sum node below it, and the root's
        weights come last (each node's weights in the order of its children).
    weight_offsets : dict
        ``weight_offsets[sum_node] = (start, stop)`` into that vector.
    n_variables : int
        One more than the largest variable index (data have this many columns).
    """

    root: Node
    validate: bool = True
    nodes: list[Node] = field(init=False)
    sum_nodes: list[Sum] = field(init=False)
    weight_offsets: dict[Sum, tuple[int, int]] = field(init=False)
    n_variables: int = field(init=False)
    _scopes: dict[int, frozenset[int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.root, Node):
            raise InvalidSPNError(str(self.root), "root is a node",
                                  f"got a {type(self.root).__name__}")
        self.nodes = _topological_order(self.root)
        self._scopes = {}
        for node in self.nodes:
            self._check_local(node)
            if isinstance(node, Leaf):
                self._scopes[id(node)] = frozenset([node.variable])
            else:
                self._scopes[id(node)] = frozenset().union(
                    *(self._scopes[id(c)] for c in node.children))
        if self.validate:
            for node in self.nodes:
                self._check_scope_rules(node)
        self.sum_nodes = [n for n in self.nodes if isinstance(n, Sum)]
        self.weight_offsets = {}
        start = 0
        for s in self.sum_nodes:
            self.weight_offsets[s] = (start, start + len(s.children))
            start += len(s.children)
        self.n_variables = 1 + max(v for sc in self._scopes.values() for v in sc)

    # ----------------------------------------------------------- validation
    def _check_local(self, node: Node) -> None:
        if isinstance(node, Leaf):
            v = node.variable
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise InvalidSPNError(node, "variable index", f"{v!r} is not an integer >= 0")
            if isinstance(node, Indicator) and node.value not in (0, 1):
                raise InvalidSPNError(node, "binary indicator", f"value {node.value!r} is not 0 or 1")
            if isinstance(node, Bernoulli) and not (0.0 <= node.p <= 1.0):
                raise InvalidSPNError(node, "Bernoulli parameter", f"p = {node.p!r} is not in [0, 1]")
            return
        if not isinstance(node, (Sum, Product)):
            raise InvalidSPNError(node, "known node type", f"{type(node).__name__} is not Sum, Product or a Leaf")
        if len(node.children) == 0:
            kind = type(node).__name__.lower()
            raise InvalidSPNError(node, "has children", f"a {kind} node needs at least one child")
        if isinstance(node, Sum):
            w = node.weights
            if w.ndim != 1 or w.shape[0] != len(node.children):
                raise InvalidSPNError(node, "one weight per child",
                                      f"{w.size} weights for {len(node.children)} children")
            if not np.all(np.isfinite(w)):
                raise InvalidSPNError(node, "finite weights", f"weights {w.tolist()} are not all finite")
            if np.any(w < 0):
                raise InvalidSPNError(node, "non-negative weights", f"weights {w.tolist()} contain a negative value")

    def _check_scope_rules(self, node: Node) -> None:
        if isinstance(node, Sum):
            scopes = [self._scopes[id(c)] for c in node.children]
            for c, sc in zip(node.children, scopes):
                if sc != scopes[0]:
                    raise InvalidSPNError(node, "complete (smooth)",
                                          f"child {c.name!r} has scope {sorted(sc)} but child "
                                          f"{node.children[0].name!r} has scope {sorted(scopes[0])}")
        elif isinstance(node, Product):
            seen: set[int] = set()
            for c in node.children:
                sc = self._scopes[id(c)]
                if seen & sc:
                    raise InvalidSPNError(node, "decomposable",
                                          f"child {c.name!r} repeats variables {sorted(seen & sc)} "
                                          "of its siblings")
                seen |= sc

    # ------------------------------------------------------------- queries
    def scope(self, node: Node) -> frozenset[int]:
        """The set of variables that appear below ``node``."""
        return self._scopes[id(node)]

    @property
    def n_weights(self) -> int:
        """Length of the flat weight vector."""
        return sum(len(s.children) for s in self.sum_nodes)

    def weights(self) -> np.ndarray:
        """The flat vector of the weights stored in the sum nodes (a copy)."""
        if not self.sum_nodes:
            return np.zeros(0)
        return np.concatenate([s.weights for s in self.sum_nodes])

    def node(self, name: str) -> Node:
        """The (first) node called ``name``."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node named {name!r}")

    def weights_of(self, flat: np.ndarray, sum_node: Sum | str) -> np.ndarray:
        """The slice of a flat weight (or gradient) vector that belongs to ``sum_node``."""
        # a name of a node that is not a sum node is still refused below (KeyError)
        node = cast(Sum, self.node(sum_node)) if isinstance(sum_node, str) else sum_node
        start, stop = self.weight_offsets[node]
        return flat[start:stop]

    def edge_labels(self) -> list[str]:
        """One label ``"parent->child"`` per entry of the flat weight vector."""
        return [f"{s.name}->{c.name}" for s in self.sum_nodes for c in s.children]

    def check_weight_vector(self, flat: np.ndarray) -> np.ndarray:
        """Return ``flat`` as float64 after checking its length, finiteness and sign."""
        w = np.asarray(flat, dtype=np.float64)
        if w.shape != (self.n_weights,):
            raise ValueError(f"weight vector has shape {w.shape}, expected ({self.n_weights},)")
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"weight {i} ({self.edge_labels()[i]}) is {float(w[i])!r}; "
                             "sum weights must be finite and >= 0")
        return w

    def count(self) -> dict[str, int]:
        """Number of nodes of each kind and of edges."""
        kinds = {"sum": 0, "product": 0, "leaf": 0}
        for n in self.nodes:
            kinds["sum" if isinstance(n, Sum) else "product" if isinstance(n, Product) else "leaf"] += 1
        kinds["edges"] = sum(len(n.children) for n in self.nodes)
        return kinds

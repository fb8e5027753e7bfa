"""Builders for the SPNs of the paper and for random deep SPNs.

* :func:`factorised_component`: C_k, a product over per-variable sum nodes of
  two indicators (the released code's component) or over Bernoulli leaves.
* :func:`decomposed_spn`: the SPN of a :class:`~spnlib.structure.decomposition.Decomposition`
  over given components (Fig. 1 is ``shallow(K)``, Fig. 2 is ``balanced((2, 2))``),
  returned with the map from layer weights to the SPN's flat weight vector.
* :func:`released_spn`: the released code's structures for L = 1, 2, 3.
* :func:`random_spn`: random deep SPNs from random binary partitions of the
  scope (the paper's "structure generation"), optionally with shared sub-networks;
  :func:`random_spn_size` counts one without building it, and ``random_spn`` refuses one above
  ``max_edges`` (default 200,000) with its size.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.structure.decomposition import Decomposition, Nested, released
from spnlib.structure.graph import SPN, Bernoulli, Indicator, Node, Product, Sum

__all__ = ["factorised_component", "DecomposedSPN", "decomposed_spn", "released_spn",
           "random_spn", "random_spn_size", "indicator_pairs"]


def indicator_pairs(n_variables: int) -> list[tuple[Indicator, Indicator]]:
    """One pair of indicators ([x_d = 0], [x_d = 1]) per variable, to be shared."""
    return [(Indicator(d, 0), Indicator(d, 1)) for d in range(n_variables)]


def factorised_component(n_variables: int, name: str, leaf_weights: np.ndarray | None = None,
                         indicators: Sequence[tuple[Indicator, Indicator]] | None = None,
                         bernoulli: np.ndarray | None = None) -> Product:
    """A fully factorised component C(x) = prod_d leaf_d(x_d).

    Parameters
    ----------
    n_variables : int
        D.
    name : str
        Name of the product node; its leaf sums are named ``f"{name}.x{d}"``.
    leaf_weights : array, shape (D, 2), optional
        Unnormalised weights of each per-variable sum over [x_d = 0], [x_d = 1]
        (default 1/2, 1/2 as in the released code).
    indicators : sequence of indicator pairs, optional
        Indicators to use (share them between components); default: new ones.
    bernoulli : array, shape (D,), optional
        If given, use Bernoulli leaves with these p(x_d = 1) instead of sums.
    """
    if bernoulli is not None:
        p = np.asarray(bernoulli, dtype=float)
        if p.shape != (n_variables,):
            raise ValueError(f"bernoulli needs shape ({n_variables},), got {p.shape}")
        return Product([Bernoulli(d, p[d], name=f"{name}.x{d}") for d in range(n_variables)], name=name)
    w = np.full((n_variables, 2), 0.5) if leaf_weights is None else np.asarray(leaf_weights, dtype=float)
    if w.shape != (n_variables, 2):
        raise ValueError(f"leaf_weights needs shape ({n_variables}, 2), got {w.shape}")
    ind = indicator_pairs(n_variables) if indicators is None else indicators
    return Product([Sum(ind[d], w[d], name=f"{name}.x{d}") for d in range(n_variables)], name=name)


@dataclass(frozen=True)
class DecomposedSPN:
    """An SPN built from a decomposition, with the map between its weight layouts.

    Attributes
    ----------
    spn : SPN
    decomposition : Decomposition
    layer_index : tuple of ndarray
        ``layer_index[l][j]`` is the position of w^{[l]}_j in ``spn.weights()``.
    components : tuple of Node
        C_1..C_K in order.
    """

    spn: SPN
    decomposition: Decomposition
    layer_index: tuple[np.ndarray, ...]
    components: tuple[Node, ...]

    def layer_weights(self, flat: np.ndarray) -> list[np.ndarray]:
        """Split a flat weight (or gradient) vector into the layer vectors w^{[l]}."""
        flat = np.asarray(flat)
        return [flat[idx] for idx in self.layer_index]

    def component_weights(self, flat: np.ndarray) -> np.ndarray:
        """w_k = prod_l w^{[l]}_{phi(k,l)} read off a flat weight vector."""
        return self.decomposition.component_weights(self.layer_weights(flat))

    def with_layer_weights(self, flat: np.ndarray, layer_weights: Sequence[np.ndarray]) -> np.ndarray:
        """A copy of ``flat`` with the layer weights replaced."""
        out = np.array(flat, dtype=float)
        for idx, w in zip(self.layer_index, self.decomposition.check_layer_weights(layer_weights)):
            out[idx] = w
        return out


def decomposed_spn(decomposition: Decomposition, components: Sequence[Node],
                   layer_weights: Sequence[np.ndarray] | None = None) -> DecomposedSPN:
    """The SPN whose sum layers follow ``decomposition`` over ``components``.

    Sum nodes are named as in the paper's Fig. 2: ``"root"`` at depth 0 and
    ``"S[l]_i"`` (1-based i) at depth l >= 1; components keep their names.
    Default layer weights: all 1 / (number of siblings).
    """
    if len(components) != decomposition.n_components:
        raise ValueError(f"decomposition has K = {decomposition.n_components} components, "
                         f"got {len(components)} component nodes")
    if layer_weights is None:
        layer_weights = [np.concatenate([np.full(b - a, 1.0 / (b - a)) for a, b in nodes])
                         for nodes in decomposition.sum_nodes]
    ws = decomposition.check_layer_weights(layer_weights)
    counters = [0] * decomposition.n_layers
    edges: dict[int, list[tuple[int, int]]] = {}  # id(sum node) -> [(layer, j)]

    def build(tree: Sequence[Nested], depth: int) -> Sum:
        # a depth-first build meets the sum nodes of each depth left to right, the
        # order in which decomposition.sum_nodes numbers them
        i = counters[depth]
        counters[depth] += 1
        a, _ = decomposition.sum_nodes[depth][i]
        children = [components[child] if isinstance(child, int) else build(child, depth + 1) for child in tree]
        node = Sum(children, ws[depth][a:a + len(tree)], name="root" if depth == 0 else f"S[{depth}]_{i + 1}")
        edges[id(node)] = [(depth, a + o) for o in range(len(tree))]
        return node

    root = build(decomposition.tree, 0)
    spn = SPN(root)
    index = [np.zeros(n, dtype=np.intp) for n in decomposition.layer_sizes]
    for s in spn.sum_nodes:
        if id(s) in edges:
            start, _ = spn.weight_offsets[s]
            for pos, (l, j) in enumerate(edges[id(s)]):
                index[l][j] = start + pos
    return DecomposedSPN(spn, decomposition, tuple(index), tuple(components))


def released_spn(n_layers: int, n_variables: int = 16, n_components: int = 8,
                 root_weight: float = 1e-4, leaf_weight: float = 0.5) -> DecomposedSPN:
    """The released code's SPN for L = ``n_layers`` (Fig. 3's networks).

    K factorised components with per-variable sums over two indicators (weights
    ``leaf_weight``); every root and internal sum weight ``root_weight``.
    """
    dec = released(n_layers, n_components)
    ind = indicator_pairs(n_variables)
    comps = [factorised_component(n_variables, f"C{k + 1}", np.full((n_variables, 2), leaf_weight), ind)
             for k in range(n_components)]
    return decomposed_spn(dec, comps, dec.constant_layer_weights(root_weight))


class _Counter:
    """Stands in for node construction in a dry run of :func:`random_spn`: counts nodes and edges.

    Nodes are represented by their kind (``"sum"``, ``"product"``, ``"leaf"``); the random draws are
    made by the caller exactly as in a real build, so the counts are those of the SPN it would build.
    """

    def __init__(self, n_variables: int, leaf: str, stop_above: int | None) -> None:
        self.sizes = {"sum": 0, "product": 0, "leaf": 2 * n_variables if leaf == "indicator" else 0, "edges": 0}
        self.stop_above = stop_above

    def _add(self, kind: str, n_children: int) -> str:
        self.sizes[kind] += 1
        self.sizes["edges"] += n_children
        if self.stop_above is not None and self.sizes["edges"] > self.stop_above:
            raise _TooLarge(self.sizes["edges"])
        return kind

    def sum(self, children: Sequence, weights: np.ndarray) -> str:
        return self._add("sum", len(children))

    def product(self, children: Sequence) -> str:
        return self._add("product", len(children))

    def indicator_sum(self, d: int, weights: np.ndarray) -> str:
        return self._add("sum", 2)

    def bernoulli(self, d: int, p: float) -> str:
        return self._add("leaf", 0)

    def is_sum(self, node) -> bool:
        return node == "sum"

    def root(self, child) -> str:
        return self._add("sum", 1)


class _Builder:
    """Builds the nodes of :func:`random_spn`."""

    def __init__(self, n_variables: int) -> None:
        self.ind = indicator_pairs(n_variables)
        self.names = iter(range(1 << 62))

    def sum(self, children: Sequence[Node], weights: np.ndarray) -> Node:
        return Sum(children, weights, name=f"S{next(self.names)}")

    def product(self, children: Sequence[Node]) -> Node:
        return Product(children, name=f"P{next(self.names)}")

    def indicator_sum(self, d: int, weights: np.ndarray) -> Node:
        return Sum(self.ind[d], weights, name=f"S{next(self.names)}")

    def bernoulli(self, d: int, p: float) -> Node:
        return Bernoulli(d, p, name=f"B{next(self.names)}")

    def is_sum(self, node) -> bool:
        return isinstance(node, Sum)

    def root(self, child: Node) -> Node:
        return Sum([child], [1.0], name="root")


class _TooLarge(Exception):
    def __init__(self, edges: int) -> None:
        super().__init__(edges)
        self.edges = edges


def _grow(make, n_variables: int, seed: int, depth: int, n_sums: int, n_splits: int, shared: bool, leaf: str):
    """The random structure of :func:`random_spn`, built (or counted) by ``make``; returns the root."""
    rng = np.random.default_rng(seed)

    def leaves(scope: list[int]):
        if leaf == "bernoulli":
            if len(scope) == 1:
                return make.bernoulli(scope[0], rng.uniform(0.05, 0.95))
            return make.product([make.bernoulli(d, rng.uniform(0.05, 0.95)) for d in scope])
        if len(scope) == 1:
            return make.indicator_sum(scope[0], rng.uniform(0.1, 1.0, 2))
        return make.product([make.indicator_sum(d, rng.uniform(0.1, 1.0, 2)) for d in scope])

    def region(scope: list[int], level: int, count: int) -> list:
        if len(scope) == 1 or level == 0:
            if leaf == "bernoulli":
                return [make.sum([leaves(scope) for _ in range(2)], rng.uniform(0.1, 1.0, 2)) for _ in range(count)]
            return [leaves(scope) for _ in range(count)]
        products: list = []
        for _ in range(n_splits):
            perm = rng.permutation(scope)
            cut = int(rng.integers(1, len(scope)))
            left, right = sorted(perm[:cut].tolist()), sorted(perm[cut:].tolist())
            if shared:
                ls, rs = region(left, level - 1, n_sums), region(right, level - 1, n_sums)
                products += [make.product([a, b]) for a in ls for b in rs]
            else:
                for _ in range(n_sums * n_sums):
                    a, = region(left, level - 1, 1)
                    b, = region(right, level - 1, 1)
                    products.append(make.product([a, b]))
        return [make.sum(products, rng.uniform(0.1, 1.0, len(products))) for _ in range(count)]

    root, = region(list(range(n_variables)), depth, 1)
    return root if make.is_sum(root) else make.root(root)


def _check_random_args(n_variables: int, depth: int, n_sums: int, n_splits: int, leaf: str) -> None:
    if leaf not in ("indicator", "bernoulli"):
        raise ValueError(f"leaf must be 'indicator' or 'bernoulli', got {leaf!r}")
    if n_variables < 1 or depth < 0 or n_sums < 1 or n_splits < 1:
        raise ValueError("need n_variables >= 1, depth >= 0, n_sums >= 1, n_splits >= 1")


def random_spn_size(n_variables: int, seed: int, depth: int = 2, n_sums: int = 2, n_splits: int = 1,
                    shared: bool = True, leaf: str = "indicator") -> dict[str, int]:
    """The size :func:`random_spn` with these arguments would have, without building it.

    Returns
    -------
    dict
        ``{"sum", "product", "leaf", "edges"}``, as :meth:`SPN.count` of the built SPN. The dry
        run makes the same random draws as the build, so it takes time proportional to the size.
    """
    _check_random_args(n_variables, depth, n_sums, n_splits, leaf)
    counter = _Counter(n_variables, leaf, None)
    _grow(counter, n_variables, seed, depth, n_sums, n_splits, shared, leaf)
    return dict(counter.sizes)


def random_spn(n_variables: int, seed: int, depth: int = 2, n_sums: int = 2, n_splits: int = 1,
               shared: bool = True, leaf: str = "indicator", max_edges: int | None = 200_000) -> SPN:
    """A random deep SPN from random binary partitions of the scope.

    The root is a sum over ``n_splits`` random partitions of the scope into two
    non-empty halves; each half is modelled by ``n_sums`` sum nodes built the
    same way, ``depth`` times; the product nodes of a partition are all pairs
    of a left and a right sum node. Scopes of one variable (or at depth 0)
    are sums over the variable's two indicators (``leaf="indicator"``),
    or over a product of Bernoulli leaves (``leaf="bernoulli"``).

    Parameters
    ----------
    shared : bool
        If True (default) the sum nodes of a half are shared by all products
        of the partition, so the SPN is a DAG; if False every product gets its
        own copy of its children, so the SPN is a tree, whose size grows like
        (2 n_splits n_sums^2)^depth: D = 8, depth 4, 3 sums, 2 splits has 1.5 million edges.
    seed : int
        Seed of the partitions and of the weights (uniform on [0.1, 1)).
    max_edges : int or None
        The size is counted before anything is built (:func:`random_spn_size`, a dry run of the
        same random draws), and a network with more edges than this is refused with its size.
        Raise the limit (or pass None) to build a larger one.
    """
    _check_random_args(n_variables, depth, n_sums, n_splits, leaf)
    if max_edges is not None:
        counter = _Counter(n_variables, leaf, stop_above=10 * max_edges)
        try:
            _grow(counter, n_variables, seed, depth, n_sums, n_splits, shared, leaf)
            edges = counter.sizes["edges"]
            size = f"{edges:,} edges and {sum(v for k, v in counter.sizes.items() if k != 'edges'):,} nodes"
        except _TooLarge as big:
            edges, size = big.edges, f"more than {10 * max_edges:,} edges (counting stopped there)"
        if edges > max_edges:
            raise ValueError(f"random_spn(n_variables={n_variables}, depth={depth}, n_sums={n_sums}, "
                             f"n_splits={n_splits}, shared={shared}) would have {size}, more than "
                             f"max_edges = {max_edges:,}; pass a larger max_edges (or None) to build it")
    return SPN(_grow(_Builder(n_variables), n_variables, seed, depth, n_sums, n_splits, shared, leaf))

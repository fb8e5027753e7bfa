"""Builders for the SPNs of the paper and for random deep SPNs.

* :func:`factorised_component`: C_k, a product over per-variable sum nodes of
  two indicators (the released code's component) or over Bernoulli leaves.
* :func:`decomposed_spn`: the SPN of a :class:`~spnlib.structure.decomposition.Decomposition`
  over given components (Fig. 1 is ``shallow(K)``, Fig. 2 is ``balanced((2, 2))``),
  returned with the map from layer weights to the SPN's flat weight vector.
* :func:`released_spn`: the released code's structures for L = 1, 2, 3.
* :func:`random_spn`: random deep SPNs from random binary partitions of the
  scope (the paper's "structure generation"), optionally with shared sub-networks.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.structure.decomposition import Decomposition, Nested, released
from spnlib.structure.graph import SPN, Bernoulli, Indicator, Node, Product, Sum

__all__ = ["factorised_component", "DecomposedSPN", "decomposed_spn", "released_spn",
           "random_spn", "indicator_pairs"]


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


def random_spn(n_variables: int, seed: int, depth: int = 2, n_sums: int = 2, n_splits: int = 1,
               shared: bool = True, leaf: str = "indicator") -> SPN:
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
        own copy of its children, so the SPN is a tree.
    seed : int
        Seed of the partitions and of the weights (uniform on [0.1, 1)).
    """
    if leaf not in ("indicator", "bernoulli"):
        raise ValueError(f"leaf must be 'indicator' or 'bernoulli', got {leaf!r}")
    if n_variables < 1 or depth < 0 or n_sums < 1 or n_splits < 1:
        raise ValueError("need n_variables >= 1, depth >= 0, n_sums >= 1, n_splits >= 1")
    rng = np.random.default_rng(seed)
    ind = indicator_pairs(n_variables)
    names = iter(range(1 << 62))

    def leaves(scope: list[int]) -> Node:
        if leaf == "bernoulli":
            return Product([Bernoulli(d, rng.uniform(0.05, 0.95), name=f"B{next(names)}") for d in scope],
                           name=f"P{next(names)}") if len(scope) > 1 else \
                Bernoulli(scope[0], rng.uniform(0.05, 0.95), name=f"B{next(names)}")
        if len(scope) == 1:
            d = scope[0]
            return Sum(ind[d], rng.uniform(0.1, 1.0, 2), name=f"S{next(names)}")
        return Product([Sum(ind[d], rng.uniform(0.1, 1.0, 2), name=f"S{next(names)}") for d in scope],
                       name=f"P{next(names)}")

    def region(scope: list[int], level: int, count: int) -> list[Node]:
        if len(scope) == 1 or level == 0:
            if leaf == "bernoulli":
                return [Sum([leaves(scope) for _ in range(2)], rng.uniform(0.1, 1.0, 2), name=f"S{next(names)}")
                        for _ in range(count)]
            return [leaves(scope) for _ in range(count)]
        products: list[Node] = []
        for _ in range(n_splits):
            perm = rng.permutation(scope)
            cut = int(rng.integers(1, len(scope)))
            left, right = sorted(perm[:cut].tolist()), sorted(perm[cut:].tolist())
            if shared:
                ls, rs = region(left, level - 1, n_sums), region(right, level - 1, n_sums)
                products += [Product([a, b], name=f"P{next(names)}") for a in ls for b in rs]
            else:
                for _ in range(n_sums * n_sums):
                    a, = region(left, level - 1, 1)
                    b, = region(right, level - 1, 1)
                    products.append(Product([a, b], name=f"P{next(names)}"))
        return [Sum(products, rng.uniform(0.1, 1.0, len(products)), name=f"S{next(names)}") for _ in range(count)]

    root, = region(list(range(n_variables)), depth, 1)
    if not isinstance(root, Sum):
        root = Sum([root], [1.0], name="root")
    return SPN(root)

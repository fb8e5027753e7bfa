"""Log-space evaluation and exact gradients of an SPN, batched over data.

The structure (:class:`spnlib.graph.SPN`) is compiled once into layers of
index arrays; a forward pass computes log N(x) for every node N, and one
backward pass computes log dF/dN (the differential approach of Darwiche 2003),
both in log space so that deep networks and weights near 1e-300 neither
underflow nor produce NaN.

Data are ``(N, D)`` arrays of 0/1; a missing value (``-1`` or ``NaN``)
marginalises its variable (its indicators are 1). The partition function is
f(*) = f evaluated with every variable missing.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .graph import SPN, Bernoulli, Indicator, Leaf, Product, Sum

__all__ = [
    "MISSING", "check_data", "CompiledSPN", "compile_spn", "log_value",
    "log_partition", "LogLikelihood", "log_likelihood", "log_likelihood_and_gradient",
    "logsumexp", "leaf_log_table",
]

MISSING = -1
"""The integer code of a missing (marginalised) value in a data array."""


def check_data(X: np.ndarray, n_variables: int | None = None) -> np.ndarray:
    """Validate a data matrix and return it as ``int8`` with ``MISSING`` for missing.

    Parameters
    ----------
    X : array_like, shape (N, D) or (D,)
        Values 0 or 1; -1 or NaN for a missing value. A 1-D array is one sample.
    n_variables : int, optional
        If given, ``D`` must be at least this.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, has too few columns, or holds any other value.
    """
    A = np.asarray(X)
    if A.ndim == 1:
        A = A[None, :]
    if A.ndim != 2:
        raise ValueError(f"data must be a 2-D array (samples x variables), got shape {A.shape}")
    if A.dtype.kind == "f":
        A = np.where(np.isnan(A), MISSING, A)
    elif A.dtype.kind == "b":
        A = A.astype(np.int8)
    elif A.dtype.kind not in "iu":
        raise ValueError(f"data must be numeric 0/1 (missing: -1 or NaN), got dtype {A.dtype}")
    ok = (A == 0) | (A == 1) | (A == MISSING)
    if not ok.all():
        r, c = np.argwhere(~ok)[0]
        raise ValueError(f"data value {A[r, c]!r} at row {r}, column {c} is not 0, 1 or missing (-1/NaN)")
    if n_variables is not None and A.shape[1] < n_variables:
        raise ValueError(f"data have {A.shape[1]} columns but the SPN uses {n_variables} variables")
    return A.astype(np.int8)


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """log(sum(exp(a))) along ``axis``; rows that are all -inf give -inf, not NaN."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)


@dataclass(frozen=True)
class _Layer:
    kind: str              # "sum" or "product"
    nodes: np.ndarray      # (m,) node indices
    children: np.ndarray   # (m, c) child node indices, padded with the PAD column
    edges: np.ndarray      # (m, c) edge indices, padded with the PAD edge
    weights: np.ndarray    # (m, c) flat weight indices for sums (padding -> n_weights)
    in_edges: np.ndarray   # (m, p) edges entering these nodes, padded with the PAD edge


@dataclass(frozen=True)
class CompiledSPN:
    """An SPN compiled into layers of index arrays for batched log-space passes.

    Node ``i`` is ``spn.nodes[i]``; column ``n_nodes`` of a value matrix is a
    padding column; edge ``n_edges`` is a padding edge.
    """

    spn: SPN
    leaf_nodes: np.ndarray
    leaf_vars: np.ndarray
    leaf_log1: np.ndarray   # log value of the leaf when its variable is 1
    leaf_log0: np.ndarray   # ... when it is 0 (missing gives log 1 = 0)
    leaf_in_edges: np.ndarray
    layers: tuple[_Layer, ...]
    edge_parent: np.ndarray
    edge_child: np.ndarray
    sum_edges: np.ndarray       # edge index of each flat weight (in weight order)

    @property
    def n_nodes(self) -> int:
        return len(self.spn.nodes)

    @property
    def n_edges(self) -> int:
        return len(self.edge_parent)

    @cached_property
    def root(self) -> int:
        return self.n_nodes - 1


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


def compile_spn(spn: SPN) -> CompiledSPN:
    """Compile ``spn`` into index arrays (done once; evaluation reuses them)."""
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
    tables = [leaf_log_table(spn.nodes[i]) for i in leaves]
    log0 = [t[0] for t in tables]
    log1 = [t[1] for t in tables]

    layers = []
    for h in range(1, int(height.max(initial=0)) + 1):
        for kind, cls in (("product", Product), ("sum", Sum)):
            members = [i for i in range(n_nodes) if height[i] == h and isinstance(spn.nodes[i], cls)]
            if not members:
                continue
            layers.append(_Layer(
                kind=kind,
                nodes=np.array(members, dtype=np.intp),
                children=_pad([[edge_child[e] for e in out_edges[i]] for i in members], n_nodes),
                edges=_pad([out_edges[i] for i in members], n_edges),
                weights=_pad([[int(weight_of_edge[e]) for e in out_edges[i]] for i in members], n_weights),
                in_edges=_pad([in_edges[i] for i in members], n_edges),
            ))
    return CompiledSPN(
        spn=spn,
        leaf_nodes=np.array(leaves, dtype=np.intp),
        leaf_vars=np.array([spn.nodes[i].variable for i in leaves], dtype=np.intp),
        leaf_log1=np.array(log1), leaf_log0=np.array(log0),
        leaf_in_edges=_pad([in_edges[i] for i in leaves], n_edges),
        layers=tuple(layers),
        edge_parent=np.array(edge_parent, dtype=np.intp),
        edge_child=np.array(edge_child, dtype=np.intp),
        sum_edges=np.array(sum_edges, dtype=np.intp),
    )


def _as_compiled(spn: SPN | CompiledSPN) -> CompiledSPN:
    return spn if isinstance(spn, CompiledSPN) else compile_spn(spn)


def _log_weights(c: CompiledSPN, weights: np.ndarray | None) -> np.ndarray:
    w = c.spn.weights() if weights is None else c.spn.check_weight_vector(weights)
    with np.errstate(divide="ignore"):
        return np.append(np.log(w), -np.inf)  # last entry: padding


def _forward(c: CompiledSPN, X: np.ndarray, logw: np.ndarray) -> np.ndarray:
    """Log value of every node: array (N, n_nodes + 1), last column = padding (0)."""
    N = X.shape[0]
    V = np.zeros((N, c.n_nodes + 1))
    x = X[:, c.leaf_vars]
    V[:, c.leaf_nodes] = np.where(x == 1, c.leaf_log1, np.where(x == 0, c.leaf_log0, 0.0))
    for layer in c.layers:
        a = V[:, layer.children]
        if layer.kind == "product":
            V[:, layer.nodes] = a.sum(axis=2)
        else:
            V[:, layer.nodes] = logsumexp(a + logw[layer.weights], axis=2)
    return V


def _backward(c: CompiledSPN, V: np.ndarray, logw: np.ndarray) -> np.ndarray:
    """log dF/dN for every node N (F = root value): array (N, n_nodes)."""
    N = V.shape[0]
    logD = np.full((N, c.n_nodes), -np.inf)
    E = np.full((N, c.n_edges + 1), -np.inf)  # log contribution along each edge
    for layer in reversed(c.layers):
        if layer.nodes[-1] == c.root and len(layer.nodes) == 1:
            logD[:, layer.nodes] = 0.0
        else:
            logD[:, layer.nodes] = logsumexp(E[:, layer.in_edges], axis=2)
        d = logD[:, layer.nodes][:, :, None]
        if layer.kind == "sum":
            contrib = d + logw[layer.weights]
        else:
            # product: dF/dC_j = dF/dP * prod_{i != j} C_i, as exclusive prefix + suffix
            # sums of the children's logs (no subtraction, so exact when a child is 0)
            a = V[:, layer.children]
            zero = np.zeros(a.shape[:2] + (1,))
            prefix = np.concatenate([zero, np.cumsum(a[:, :, :-1], axis=2)], axis=2)
            suffix = np.concatenate([np.cumsum(a[:, :, :0:-1], axis=2)[:, :, ::-1], zero], axis=2)
            others = prefix + suffix
            contrib = d + others
        E[:, layer.edges] = contrib
        E[:, -1] = -np.inf  # the padding edge never carries a contribution
    return logD


def log_value(spn: SPN | CompiledSPN, X: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """log f(x_n) for every row of ``X`` (shape (N,)).

    Parameters
    ----------
    spn : SPN or CompiledSPN
    X : array_like, shape (N, D)
        0/1 data; -1 or NaN marks a missing (marginalised) value.
    weights : array_like, optional
        Flat weight vector (``spn.weights()`` layout); default: the stored weights.
    """
    c = _as_compiled(spn)
    Xc = check_data(X, c.spn.n_variables)
    return _forward(c, Xc, _log_weights(c, weights))[:, c.root]


def log_partition(spn: SPN | CompiledSPN, weights: np.ndarray | None = None) -> float:
    """log f(*): the log of the SPN evaluated with every indicator set to 1."""
    c = _as_compiled(spn)
    star = np.full((1, c.spn.n_variables), MISSING, dtype=np.int8)
    return float(_forward(c, star, _log_weights(c, weights))[0, c.root])


@dataclass(frozen=True)
class LogLikelihood:
    """The normalised log-likelihood sum_n c_n [log f(x_n) - log f(*)].

    ``total`` sums over samples; ``mean`` divides by the number of samples
    (sum of counts). The paper's Eq. (1) prints the partition-function term
    once, not once per sample; ``total`` is the correctly normalised one.
    """

    mean: float
    total: float
    n_samples: float
    log_partition: float


def _counts(X: np.ndarray, counts: np.ndarray | None) -> np.ndarray:
    if counts is None:
        return np.ones(X.shape[0])
    c = np.asarray(counts, dtype=np.float64)
    if c.shape != (X.shape[0],) or np.any(c < 0) or not np.all(np.isfinite(c)):
        raise ValueError(f"counts must be {X.shape[0]} finite non-negative numbers, got shape {c.shape}")
    return c


def log_likelihood(spn: SPN | CompiledSPN, X: np.ndarray, weights: np.ndarray | None = None,
                   counts: np.ndarray | None = None) -> LogLikelihood:
    """The log-likelihood of Eq. (1)/(4) with its partition-function term.

    Parameters
    ----------
    counts : array_like, shape (N,), optional
        Multiplicity of each row (e.g. from :func:`spnlib.datasets.unique_rows`).
    """
    c = _as_compiled(spn)
    Xc = check_data(X, c.spn.n_variables)
    n = _counts(Xc, counts)
    logw = _log_weights(c, weights)
    lx = _forward(c, Xc, logw)[:, c.root]
    lz = float(_forward(c, np.full((1, c.spn.n_variables), MISSING, np.int8), logw)[0, c.root])
    with np.errstate(invalid="ignore"):
        total = float(np.sum(n * (lx - lz)))
    return LogLikelihood(mean=float(total / n.sum()), total=total, n_samples=float(n.sum()), log_partition=lz)


def _grad_log_root(c: CompiledSPN, X: np.ndarray, logw: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sum_n n_n d log f(x_n)/d w for every flat weight, and log f(x_n)."""
    V = _forward(c, X, logw)
    lroot = V[:, c.root]
    zero = np.isneginf(lroot) & (n > 0)
    if zero.any():
        r = int(np.flatnonzero(zero)[0])
        raise ValueError(f"sample {r} has probability 0 under the SPN; its log-likelihood gradient is undefined")
    logD = _backward(c, V, logw)
    parents = c.edge_parent[c.sum_edges]
    children = c.edge_child[c.sum_edges]
    # d log f / d w_{S,C} = dF/dS * C(x) / F(x)
    g = np.exp(logD[:, parents] + V[:, children] - lroot[:, None])
    return n @ g, lroot


def log_likelihood_and_gradient(spn: SPN | CompiledSPN, X: np.ndarray, weights: np.ndarray | None = None,
                                counts: np.ndarray | None = None) -> tuple[LogLikelihood, np.ndarray]:
    """The log-likelihood and its exact gradient with respect to every sum weight.

    Returns
    -------
    llh : LogLikelihood
    grad_mean : ndarray, shape (n_weights,)
        Gradient of ``llh.mean`` (the objective of the released code):
        mean_n d log f(x_n)/dw - d log f(*)/dw. Multiply by ``llh.n_samples``
        for the gradient of ``llh.total``.
    """
    c = _as_compiled(spn)
    Xc = check_data(X, c.spn.n_variables)
    n = _counts(Xc, counts)
    logw = _log_weights(c, weights)
    gx, lx = _grad_log_root(c, Xc, logw, n)
    star = np.full((1, c.spn.n_variables), MISSING, dtype=np.int8)
    gz, lz = _grad_log_root(c, star, logw, np.ones(1))
    N = n.sum()
    total = float(np.sum(n * (lx - lz[0])))
    llh = LogLikelihood(mean=float(total / N), total=total, n_samples=float(N), log_partition=float(lz[0]))
    return llh, gx / N - gz

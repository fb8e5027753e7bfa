"""Log-space evaluation and exact gradients of an SPN, batched over data.

The structure (:class:`spnlib.structure.graph.SPN`) is compiled once into layers of
index arrays; a forward pass computes log N(x) for every node N, and one
backward pass computes log dF/dN (the differential approach of Darwiche 2003),
both in log space so that deep networks and weights near 1e-300 neither
underflow nor produce NaN.

Data are ``(N, D)`` arrays of 0/1 with exactly one column per variable of the SPN; a missing
value (``-1`` or ``NaN``) marginalises its variable (its indicators are 1). The partition
function is f(*) = f evaluated with every variable missing.

Weights are unnormalised, as in the paper, so what is normalised is said each time:
:func:`log_value` is log f(x), *unnormalised*; :func:`log_partition` is log f(*);
:func:`log_likelihood` is the normalised sum_n [log f(x_n) - log f(*)] (``.mean`` divides by N);
:func:`log_likelihood_and_gradient` returns the gradient of that *mean*. Every function accepts an
:class:`~spnlib.structure.graph.SPN`, the :class:`~spnlib.structure.builders.DecomposedSPN` that
``released_spn`` and ``decomposed_spn`` return (its ``.spn`` is used), or a compiled SPN.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.numeric.compile import CompiledSPN, _Layer, as_spn, compile_spn, leaf_log_table
from spnlib.numeric.logspace import log_sums_by_state, logsumexp, logsumexp_inplace, trusted_sum_threshold
from spnlib.structure.builders import DecomposedSPN
from spnlib.structure.graph import SPN

__all__ = [
    "CompiledSPN", "compile_spn", "leaf_log_table", "log_value", "log_partition",
    "LogLikelihood", "log_likelihood", "log_likelihood_and_gradient", "logsumexp",
]


AnySPN = SPN | DecomposedSPN | CompiledSPN
"""What the evaluators accept: an SPN, a DecomposedSPN (its ``.spn``), or a compiled SPN."""


def _as_compiled(spn: AnySPN) -> CompiledSPN:
    return spn if isinstance(spn, CompiledSPN) else compile_spn(as_spn(spn))


def _log_weights(c: CompiledSPN, weights: np.ndarray | None) -> np.ndarray:
    w = c.spn.weights() if weights is None else c.spn.check_weight_vector(weights)
    with np.errstate(divide="ignore"):
        return np.append(np.log(w), -np.inf)  # last entry: padding


def _forward(c: CompiledSPN, states: np.ndarray, logw: np.ndarray) -> np.ndarray:
    """Log value of every node, node-major: array (n_nodes + 1, N); row n_nodes is padding (0).

    ``states`` is ``(D, N)``: 0, 1, or 2 for a missing value (``CountedData.states_t``).
    The result lives in a reusable buffer of ``c``: copy what must outlive the next call.
    """
    N = states.shape[1]
    V = c.buffer("V", (c.n_nodes + 1, N))
    V[-1] = 0.0
    V[c.leaf_nodes] = c.node_log_table[c.leaf_nodes[:, None], states[c.leaf_vars]]
    for i, layer in enumerate(c.layers):
        if layer.kind == "univariate":
            # a sum over leaves of one variable is a lookup table over x in {0, 1, missing}
            table = logsumexp(c.node_log_table[layer.children] + logw[layer.weights][:, :, None], axis=1)
            V[layer.nodes] = np.take(table.ravel(), _table_index(c, i, layer, states))
            continue
        a = c.buffer(f"a{i}", layer.children.shape + (N,))
        np.take(V, layer.children, axis=0, out=a, mode="clip")  # (m, c, N)
        if layer.kind == "product":
            np.sum(a, axis=1, out=c.buffer(f"v{i}", (len(layer.nodes), N)))
        else:
            a += logw[layer.weights][:, :, None]
            logsumexp_inplace(a, axis=1, out=c.buffer(f"v{i}", (len(layer.nodes), N)))
        V[layer.nodes] = c.buffer(f"v{i}", (len(layer.nodes), N))
    return V


def _table_index(c: CompiledSPN, i: int, layer: _Layer, states: np.ndarray) -> np.ndarray:
    """Index of each (node, row) into a univariate layer's flattened (m, 3) table.

    It depends on the data alone, so it is kept for the last ``states`` array seen
    (a training loop passes the same one every iteration).
    """
    key = f"state{i}"
    cached = c._buffers.get(key + "-of")
    if cached is not None and cached() is states:
        return c._buffers[key]
    flat = c.buffer(key, (len(layer.nodes), states.shape[1]), np.intp)
    np.take(states, layer.variables, axis=0, out=flat, mode="clip")   # (m, N): 0, 1 or 2 (missing)
    flat += 3 * np.arange(len(layer.nodes))[:, None]
    c._buffers[key + "-of"] = weakref.ref(states)
    return flat


def _backward(c: CompiledSPN, V: np.ndarray, logw: np.ndarray) -> np.ndarray:
    """log dF/dN for every inner node N (F = root value), node-major: array (n_nodes, N).

    Leaves are not reached (no weight sits below them); their rows are undefined.
    The result lives in a reusable buffer of ``c``.
    """
    N = V.shape[1]
    logD = c.buffer("logD", (c.n_nodes, N))   # rows of leaves are left undefined
    E = c.buffer("E", (c.n_edges + 1, N))   # log contribution along each edge; last row: padding
    E[-1] = -np.inf
    for i, layer in reversed(list(enumerate(c.layers))):
        d = c.buffer(f"d{i}", (len(layer.nodes), N))
        if layer.nodes[-1] == c.root and len(layer.nodes) == 1:
            d.fill(0.0)
        elif layer.in_edges.shape[1] == 1:
            np.take(E, layer.in_edges[:, 0], axis=0, out=d, mode="clip")
        else:
            a = c.buffer(f"in{i}", layer.in_edges.shape + (N,))
            np.take(E, layer.in_edges, axis=0, out=a, mode="clip")
            logsumexp_inplace(a, axis=1, out=d)
        logD[layer.nodes] = d
        if not layer.to_inner:
            continue
        contrib = c.buffer(f"a{i}", layer.children.shape + (N,))
        if layer.kind != "product":
            np.add(d[:, None, :], logw[layer.weights][:, :, None], out=contrib)
        else:
            # product: dF/dC_j = dF/dP * prod_{i != j} C_i, as exclusive prefix + suffix
            # sums of the children's logs (no subtraction, so exact when a child is 0)
            a = V[layer.children]
            contrib[:, 0] = d
            for j in range(1, a.shape[1]):           # prefix: d + sum_{i<j} a_i
                np.add(contrib[:, j - 1], a[:, j - 1], out=contrib[:, j])
            suffix = np.zeros_like(d)
            for j in range(a.shape[1] - 2, -1, -1):  # add suffix: sum_{i>j} a_i
                suffix += a[:, j + 1]
                contrib[:, j] += suffix
        E[layer.edges] = contrib
        E[-1] = -np.inf  # the padding edge never carries a contribution
    return logD


def _prepare(c: CompiledSPN, X: np.ndarray | CountedData, counts: np.ndarray | None) -> CountedData:
    if isinstance(X, CountedData):
        if counts is not None:
            raise ValueError("CountedData carries its own counts; do not pass counts as well")
        data = X
    else:
        data = CountedData.from_rows(X, counts)
    if data.n_variables != c.spn.n_variables:
        raise ValueError(f"data have {data.n_variables} columns but the SPN has {c.spn.n_variables} variables "
                         f"(x0..x{c.spn.n_variables - 1}); pass exactly one column per variable"
                         + (f", e.g. X[:, :{c.spn.n_variables}]" if data.n_variables > c.spn.n_variables else ""))
    return data


def log_value(spn: AnySPN, X: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """log f(x_n) for every row of ``X`` (shape (N,)): *unnormalised* (subtract :func:`log_partition`).

    With every variable missing this is log f(*); with some missing, the unnormalised marginal.

    Parameters
    ----------
    spn : SPN, DecomposedSPN or CompiledSPN
    X : array_like, shape (N, D)
        0/1 data, one column per variable of the SPN; -1 or NaN marks a missing (marginalised) value.
    weights : array_like, optional
        Flat weight vector (``spn.weights()`` layout); default: the stored weights.
    """
    c = _as_compiled(spn)
    data = _prepare(c, X, None)
    return _forward(c, data.states_t, _log_weights(c, weights))[c.root, :-1].copy()


def log_partition(spn: AnySPN, weights: np.ndarray | None = None) -> float:
    """log f(*): the log of the SPN evaluated with every indicator set to 1 (the normaliser of f)."""
    c = _as_compiled(spn)
    star = np.full((c.spn.n_variables, 1), 2, dtype=np.intp)
    return float(_forward(c, star, _log_weights(c, weights))[c.root, 0])


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


def log_likelihood(spn: AnySPN, X: np.ndarray | CountedData, weights: np.ndarray | None = None,
                   counts: np.ndarray | None = None) -> LogLikelihood:
    """The normalised log-likelihood of Eq. (1)/(4): sum_n c_n [log f(x_n) - log f(*)].

    Unlike :func:`log_value` it subtracts log f(*) for every sample; ``.mean`` divides by the
    number of samples N, ``.total`` does not.

    Parameters
    ----------
    spn : SPN, DecomposedSPN or CompiledSPN
    X : array_like (N, D) or CountedData
    counts : array_like, shape (N,), optional
        Multiplicity of each row of an array ``X``.
    """
    c = _as_compiled(spn)
    data = _prepare(c, X, counts)
    values = _forward(c, data.states_t, _log_weights(c, weights))[c.root]
    lx, lz = values[:-1], float(values[-1])
    with np.errstate(invalid="ignore"):
        total = float(data.counts @ (lx - lz))
    return LogLikelihood(mean=total / data.n_samples, total=total, n_samples=data.n_samples, log_partition=lz)


def log_likelihood_and_gradient(spn: AnySPN, X: np.ndarray | CountedData,
                                weights: np.ndarray | None = None,
                                counts: np.ndarray | None = None) -> tuple[LogLikelihood, np.ndarray]:
    """The normalised log-likelihood and the exact gradient of its *mean* with respect to every sum weight.

    One forward and one backward pass over the data rows and the all-missing
    row (for f(*)); d log f(x) / d w_{S,C} = (dF/dS)(x) C(x) / F(x).

    Parameters
    ----------
    spn : SPN, DecomposedSPN or CompiledSPN
    X : array_like (N, D) or CountedData
        Pass :class:`~spnlib.data.counted.CountedData` when calling repeatedly on the
        same data (training): what depends on the data alone is computed once.
    counts : array_like, shape (N,), optional
        Multiplicity of each row of an array ``X``.

    Returns
    -------
    llh : LogLikelihood
    grad_mean : ndarray, shape (n_weights,)
        Gradient of ``llh.mean`` (the objective of the released code):
        mean_n d log f(x_n)/dw - d log f(*)/dw, in the SPN's flat weight layout
        (``spn.weights()``: sum nodes children before parents, the root's weights last).
        Multiply by ``llh.n_samples`` for the gradient of ``llh.total``.

    Raises
    ------
    ValueError
        If a sample (with a positive count) has probability 0: the gradient
        of its log is undefined.
    """
    c = _as_compiled(spn)
    data = _prepare(c, X, counts)
    n, N = data.counts, data.n_samples
    logw = _log_weights(c, weights)
    V = _forward(c, data.states_t, logw)
    lroot = V[c.root].copy()
    zero = np.isneginf(lroot) & np.append(n > 0, True)
    if zero.any():
        r = int(np.flatnonzero(zero)[0])
        what = "the partition function is 0" if r == len(n) else f"sample {r} has probability 0 under the SPN"
        raise ValueError(f"{what}; the log-likelihood gradient is undefined")
    logD = _backward(c, V, logw)
    grad = np.empty(c.spn.n_weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_share = np.log(n / N)                                # log of each row's weight in the mean
        for layer in c.layers:
            if layer.kind == "univariate":
                _univariate_gradient(c, layer, data, logD, lroot, log_share, grad)
        edges = c.generic_sum_edges
        g = c.buffer("grad", (len(edges), len(lroot)))
        np.take(logD, c.edge_parent[edges], axis=0, out=g, mode="clip")  # (n_generic, N + 1)
        g += V[c.edge_child[edges]]
        g -= lroot
        np.exp(g, out=g)
        grad[c.weight_of_edge[edges]] = g[:, :-1] @ (n / N) - g[:, -1]
        total = float(n @ (lroot[:-1] - lroot[-1]))
    llh = LogLikelihood(mean=total / N, total=total, n_samples=N, log_partition=float(lroot[-1]))
    return llh, grad


def _univariate_gradient(c: CompiledSPN, layer: _Layer, data: CountedData, logD: np.ndarray,
                         lroot: np.ndarray, log_share: np.ndarray, grad: np.ndarray) -> None:
    """Gradient of the mean log-likelihood for the weights of a univariate sum layer.

    d/dw_{S,j} = sum_n share_n D_S(x_n) L_j(x_n) / f(x_n) - D_S(*) L_j(*) / f(*), and L_j
    takes one of three values (x = 0, 1, missing), so the sum over n is grouped by
    that state: one exp per (node, row) instead of one per (edge, row). Each node's rows share
    one shift; a node whose sum for some state is so small that terms may have underflowed
    (its states differ by more than ~700 nats, at extreme weights) is redone with one shift per state.
    """
    m, n_rows = len(layer.nodes), len(lroot) - 1
    a = c.buffer("uni_a", (m, n_rows + 1))
    np.take(logD, layer.nodes, axis=0, out=a, mode="clip")
    a -= lroot                                                      # (m, N + 1): log D_S / f
    star = np.exp(a[:, -1])                                         # the partition-function row
    a = a[:, :-1]
    a += log_share
    shift = np.max(a, axis=1, keepdims=True)
    np.maximum(shift, -1e300, out=shift)
    a -= shift
    np.exp(a, out=a)
    by_state = np.empty((m, 3))                                     # sum_n a_n [x_nv = state]
    for variable, members in layer.groups:
        by_state[members] = a[members] @ data.one_hot[variable]
    real = layer.weights < c.spn.n_weights                          # not padding
    leaf_log = c.node_log_table[layer.children]                     # (m, c, 3): log L_j at x = 0, 1, missing
    per_edge = np.einsum("mcs,ms->mc", np.exp(leaf_log), by_state)
    with np.errstate(divide="ignore"):
        log_data_term = np.log(per_edge) + shift
    suspect = (by_state < trusted_sum_threshold(n_rows)) & data.state_present[layer.variables]
    for i in np.flatnonzero(suspect.any(axis=1)):
        log_rows = logD[layer.nodes[i], :-1] - lroot[:-1] + log_share
        log_by_state = log_sums_by_state(log_rows[None], data.states_t[layer.variables[i]][None, :-1])[0, 0]
        log_data_term[i] = logsumexp(leaf_log[i] + log_by_state, axis=1)
    grad[layer.weights[real]] = (np.exp(log_data_term) - star[:, None] * np.exp(leaf_log[:, :, 2]))[real]

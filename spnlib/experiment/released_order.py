"""The released code's summation order: the operation that broke the symmetry of the authors' run.

The authors' hand-written backward pass (trappmartin/TPM2019, ``experiment.jl`` at c280594 = e747f94,
lines 133-139) gives child d of the product node of component k the sum of its 15 siblings'
log-values, ``sum(llhvals[:, cids], dims = 2)`` for the data and ``sum(zllhval[cids])`` for the
partition function. ``cids`` lists the siblings in child order, but AxisArrays' categorical indexing
(``findall(in(idx), ax)``) returns them in the order of the array's id axis, the iteration order of a
``Dict`` keyed by ``gensym`` node ids. Every component therefore adds its 15 terms in its own,
hash-determined order: the sums agree exactly in real arithmetic and differ in the last bits in
floating point, from the second iteration on (at the first, all terms are equal).

The variant ``"released-order"`` (:mod:`spnlib.experiment.protocols`) emulates exactly that. For
every leaf weight theta_{k,d,v} the Julia-style gradient is

    mean_n [x_nd = v] exp((log w_k + A_kd(x_n)) - log f(x_n))  -  exp((log w_k + B_kd) - log f(*)),

A_kd(x) = sum_{d' != d} log theta_{k,d',x_d'} and B_kd = sum_{d' != d} log(theta_{k,d',0} + theta_{k,d',1}),
each accumulated sequentially (from 0.0, left to right) in the component's order. Rather than replace
the fast gradient of :class:`~spnlib.numeric.batched.MixtureBatch`, :class:`ReleasedOrder` adds to it
the exact difference between this explicit gradient in the component's order and the same explicit
gradient in child order: with E^pi and E^id the two exponents, their difference is exact (Sterbenz)
and the difference of the two terms is exp(E^id) expm1(E^pi - E^id). In child order the correction is
exactly 0, so the variant with identity orders is bit-identical to the faithful protocol; in any
order it moves the gradient by round-off only. The forward pass stays in child order, as in the
Julia code.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.numeric.batched import BatchParams, MixtureBatch

__all__ = ["ORDERS", "component_orders", "sibling_sums", "explicit_leaf_gradient", "ReleasedOrder"]

ORDERS = ("child", "identity", "hash")
"""Summation orders of the leaf-weight gradient: ``"child"`` - the fast path alone (the faithful protocol);
``"identity"`` - the explicit correction with every component in child order (exactly 0: a check);
``"hash"`` - a random order per component, fixed for the run (the released code's Dict order)."""

_CHUNK_ELEMENTS = 1 << 12
"""Components x rows per work chunk; the (D, components, rows) work arrays then stay in L2/L3 cache."""


def component_orders(seeds: Sequence[int], n_components: int, n_variables: int, kind: str = "hash") -> np.ndarray:
    """Summation order of every component of every model, shape (M, K, D): a permutation of 0..D-1 each.

    ``kind="hash"`` draws, for model m, K random permutations from the seed ``[seeds[m], 3]`` (so
    models with the same seed, e.g. the depths of one run, get the same orders); ``"identity"``
    gives child order 0..D-1 everywhere.
    """
    if kind not in ("hash", "identity"):
        raise ValueError(f"unknown order kind {kind!r}; choose 'hash' or 'identity'")
    if n_components < 1 or n_variables < 1:
        raise ValueError("need at least one component and one variable")
    out = np.empty((len(seeds), n_components, n_variables), dtype=np.intp)
    for m, seed in enumerate(seeds):
        rng = np.random.default_rng([int(seed), 3])
        for k in range(n_components):
            out[m, k] = rng.permutation(n_variables) if kind == "hash" else np.arange(n_variables)
    return out


def sibling_sums(terms: np.ndarray) -> np.ndarray:
    """Sequential sums leaving one term out: ``out[p] = (((0 + t_0) + t_1) ...)`` over every q != p, in order.

    ``terms`` has the summed positions on axis 0 (shape (D, ...)); every other axis is independent.
    Computed as the prefix sums followed by, for each p, the continuation over the positions after p
    (vectorised over p: D - 1 array additions of shrinking size), which adds in exactly the order of
    a left-to-right loop over the D - 1 remaining terms.
    """
    t = np.ascontiguousarray(terms, dtype=np.float64)
    D = t.shape[0]
    out = np.empty(t.shape)
    out[0] = 0.0
    for p in range(1, D):
        np.add(out[p - 1], t[p - 1], out=out[p])
    for j in range(1, D):
        out[:D - j] += t[j:]
    return out


def _check_orders(orders: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    o = np.asarray(orders)
    if o.shape != shape:
        raise ValueError(f"orders need shape {shape} (models, components, variables), got {o.shape}")
    if not np.array_equal(np.sort(o, axis=-1), np.broadcast_to(np.arange(shape[2]), shape)):
        raise ValueError("every component's order must be a permutation of 0..D-1")
    return o.astype(np.intp)


def explicit_leaf_gradient(log_theta: np.ndarray, log_s: np.ndarray, log_w: np.ndarray, rows: np.ndarray,
                           weights: np.ndarray, log_f: np.ndarray, log_z: float, order: np.ndarray) -> np.ndarray:
    """The Julia-style leaf gradient of one model, component by component in plain loops (a reference).

    Parameters
    ----------
    log_theta : (K, D, 2) log leaf weights; log_s : (K, D) log(theta_0 + theta_1); log_w : (K,) log w_k.
    rows : (U, D) 0/1 data rows; weights : (U,) count / N; log_f : (U,) log f(x); log_z : log f(*).
    order : (K, D) each component's summation order.

    Returns
    -------
    ndarray (K, D, 2): d llh / d theta_{k,d,v}, with every sibling sum a left-to-right loop in ``order[k]``.
    """
    K, D, _ = log_theta.shape
    g = np.zeros((K, D, 2))
    for k in range(K):
        for d in range(D):
            a = np.zeros(rows.shape[0])
            b = 0.0
            for q in order[k]:
                if q != d:
                    a = a + log_theta[k, q][rows[:, q]]
                    b = b + log_s[k, q]
            data = np.exp((log_w[k] + a) - log_f) * weights
            part = np.exp((log_w[k] + b) - log_z)
            for v in (0, 1):
                g[k, d, v] = data[rows[:, d] == v].sum() - part
    return g


class ReleasedOrder:
    """The gradient hook of the variant ``"released-order"``: adds the summation-order difference.

    Parameters
    ----------
    batch : MixtureBatch
        The models being trained.
    data : CountedData
        The training data (no missing values: the released experiment has none).
    orders : ndarray, shape (M, K, D)
        Each component's summation order (:func:`component_orders`).

    Calling the hook with ``(params, grad, log_space)`` adds :meth:`correction` to ``grad.leaf``
    (times the leaf weights if ``grad`` is with respect to the log weights).

    Work is done in chunks of whole models and a few dozen rows, position-major ((D, components,
    rows) arrays that stay in cache). The indices of every component's terms in its own order are
    precomputed once (8 bytes per variable, component and distinct row: ~200 MB for 72 models on NLTCS).
    No BLAS is used, so identical components with identical orders get identical corrections. The cost is
    about 50 times that of the fast gradient (``benchmarks/bench_order.py``).
    """

    def __init__(self, batch: MixtureBatch, data: CountedData, orders: np.ndarray) -> None:
        if not isinstance(data, CountedData):
            raise TypeError("pass the data as CountedData.from_array(X)")
        if data.has_missing:
            raise ValueError("the released-order variant needs complete data (no missing values)")
        if data.n_variables != batch.n_variables:
            raise ValueError(f"data have {data.n_variables} variables, the models {batch.n_variables}")
        M, K, D = batch.n_models, batch.n_components, batch.n_variables
        self.batch, self.data = batch, data
        self.orders = _check_orders(orders, (M, K, D))
        flat = self.orders.reshape(M * K, D)
        rows_t = np.ascontiguousarray(data.rows.T.astype(bool))          # (D, U)
        self._rows_t = rows_t
        self._weights = data.counts / data.n_samples
        U = rows_t.shape[1]
        per = max(1, min(M, _CHUNK_ELEMENTS // (K * 32)))
        self._model_chunks = [(a, min(M, a + per)) for a in range(0, M, per)]
        width = max(32, _CHUNK_ELEMENTS // (per * K))
        self._row_chunks = [(a, min(U, a + width)) for a in range(0, U, width)]
        # per model chunk: the identity-to-order row gather of its (D * C, n) work arrays, and per row
        # chunk the flat indices of every term in each component's order into the chunk's (C, D, 2) log
        # leaf weights (static for the run; a precomputed gather is the fastest exact selection)
        self._chunks = []
        for m0, m1 in self._model_chunks:
            order = flat[m0 * K:m1 * K]                                   # (C, D)
            C = order.shape[0]
            gather = (order.T * C + np.arange(C)).ravel()                 # permuted[p, c] = child[order[c, p], c]
            base = (np.arange(C)[None, :] * D + order.T) * 2              # (D, C): theta_{c, order[c, p], 0}
            picks = [(base[:, :, None] + rows_t[:, r0:r1][order.T]).astype(np.intp) for r0, r1 in self._row_chunks]
            self._chunks.append((order, gather, picks))

    def __call__(self, params: BatchParams, grad: BatchParams, log_space: bool = False) -> None:
        corr = self.correction(params)
        if log_space:
            corr *= params.leaf
        grad.leaf += corr

    def correction(self, params: BatchParams) -> np.ndarray:
        """Explicit leaf gradient in each component's order minus the same in child order, (M, K, D, 2)."""
        batch = self.batch
        M, K, D = batch.n_models, batch.n_components, batch.n_variables
        log_t = np.log(params.leaf.reshape(M * K, D, 2))
        log_s = np.log(params.leaf.sum(axis=3)).reshape(M * K, D)
        log_w = batch.component_log_weights(params.layers).reshape(M * K)
        out = np.zeros((M * K, D, 2))
        rows_t = self._rows_t
        for (m0, m1), (order, gather, picks) in zip(self._model_chunks, self._chunks):
            cs = slice(m0 * K, m1 * K)
            C = order.shape[0]
            cols = np.arange(C)
            chunk_t = log_t[cs]                                                 # (C, D, 2), contiguous
            t0, t1 = chunk_t[:, :, 0].T[:, :, None], chunk_t[:, :, 1].T[:, :, None]
            flat_t = chunk_t.ravel()
            acc = np.zeros((D, C, 2))                                           # by position, then v
            self._partition(log_s[cs], log_w[cs], order, gather, acc)
            for (r0, r1), pick in zip(self._row_chunks, picks):
                child = np.where(rows_t[:, None, r0:r1], t1, t0)                  # (D, C, n), child order
                permuted = flat_t.take(pick)                                     # (D, C, n), component order
                self._data(child, permuted, pick, log_w[cs], gather, self._weights[r0:r1], acc)
            # back from positions to variables: out[c, order[c, p]] = acc[p, c]
            out[cs][cols[:, None], order] = acc.transpose(1, 0, 2)
        return out.reshape(M, K, D, 2)

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _log_total(full: np.ndarray, log_w: np.ndarray, K: int) -> np.ndarray:
        """log sum_k w_k exp(full_k) per model, repeated for its K components: (C, n) from (C, n)."""
        a = (full + log_w[:, None]).reshape(-1, K, full.shape[1])
        peak = a.max(axis=1, keepdims=True)
        total = np.log(np.exp(a - peak).sum(axis=1)) + peak[:, 0]
        return np.repeat(total, K, axis=0)

    def _terms(self, child: np.ndarray, permuted: np.ndarray, log_w: np.ndarray, gather: np.ndarray
               ) -> np.ndarray:
        """exp(E^id) expm1(E^pi - E^id) by position (D, C, n), E = (log w_k + sibling sum) - log f."""
        D, C, n = child.shape
        a_id = sibling_sums(child)
        log_norm = self._log_total(a_id[D - 1] + child[D - 1], log_w, self.batch.n_components)
        base = log_w[:, None]
        e_id = (base + a_id.reshape(D * C, n)[gather].reshape(D, C, n)) - log_norm     # child sums, by position
        e_pi = sibling_sums(permuted)
        e_pi += base
        e_pi -= log_norm
        e_pi -= e_id                                                            # exact (Sterbenz)
        np.expm1(e_pi, out=e_pi)                                                # 0 where the orders agree
        np.exp(e_id, out=e_id)
        e_pi *= e_id
        return e_pi

    def _data(self, child, permuted, pick, log_w, gather, weights, acc) -> None:
        e = self._terms(child, permuted, log_w, gather)
        e *= weights
        ones = np.einsum("pcn,pcn->pc", e, (pick & 1).astype(np.float64))       # rows with x = 1
        acc[:, :, 1] += ones
        acc[:, :, 0] += e.sum(axis=2) - ones

    def _partition(self, log_s, log_w, order, gather, acc) -> None:
        C = order.shape[0]
        child = np.ascontiguousarray(log_s.T)[:, :, None]                           # (D, C, 1)
        permuted = log_s[np.arange(C), order.T][:, :, None]
        e = self._terms(child, permuted, log_w, gather)[:, :, 0]
        acc -= e[:, :, None]

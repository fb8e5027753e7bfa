"""The fast path: factorised mixtures evaluated together, one set of matrix products for a whole batch.

A training run of the paper's experiment is hundreds of small evaluations of one mixture of
fully factorised components. A :class:`MixtureBatch` stacks M such models (several depths,
seeds or learning rates over the same data; M = 1 is fine) so that one iteration of all of them
costs a few matrix products over the *distinct* rows of the data, and computes the gradient of
each model's mean log-likelihood with respect to its own parameters. The models may have
different decompositions (depths, shapes) but the same number K of components and D of variables.
This is the library's fast path; :class:`~spnlib.numeric.fastpath.FactorisedMixture` is a second,
plainer implementation of the same model (one model at a time), kept to check this one.

**Exactness.** Every value and gradient is exact to about 1e-12 relative (relative to the larger
of a gradient's two terms, the data term and the partition-function term) for *any* finite
weights > 0, from 1e-300 to 1e300 and beyond, or refused with an error naming the weight:

* values are log-space throughout: log C_k(x) is a matrix product of the log-odds
  log theta_{k,d,1} - log theta_{k,d,0} with the D data columns, f(x) a log-sum-exp over k;
  log(theta_0 + theta_1) is a ``logaddexp``;
* gradients are built from responsibilities r_k(x) = w_k C_k(x) / f(x) summed over the rows
  with x_d = 0 and with x_d = 1 *separately* (never one as the total minus the other, which
  cancels when a leaf's weights are skewed);
* a sum of responsibilities so small that terms which underflowed could matter (below
  ``U * 2.2e-308 * 1e13`` for U distinct rows) is recomputed for its component by an exact
  log-sum-exp per variable and state (:func:`~spnlib.numeric.logspace.log_sums_by_state`), which
  costs nothing unless some weight is extreme;
* partition terms r*_k / s_{k,d} and the terms of a weight whose responsibilities were
  recomputed are formed in log space; a plain gradient that does not fit in float64 (a weight
  below about 1e-308) raises :class:`GradientOverflowError` naming the weight, while
  :meth:`MixtureBatch.llh_and_log_grad` (gradients with respect to log weights, always in
  [-1, 1] per component) still works.

A leaf weight of exactly 0 is refused (the log-odds are undefined); the general evaluator
accepts it. A layer weight of 0 is accepted (its gradient is computed from the other weights on
the path). The tests check everything against the general evaluator and a 40-digit mpmath reference.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.numeric.fastpath import MixtureParams
from spnlib.numeric.logspace import (
    GradientOverflowError,
    check_leaf_weights,
    exclusive_log_sums,
    log_sums_by_state,
    logsumexp,
    trusted_sum_threshold,
)
from spnlib.structure.decomposition import Decomposition

__all__ = ["BatchParams", "MixtureBatch", "GradientOverflowError"]

_BLOCK_ELEMENTS = 1 << 17
"""Work-array size (elements) per column block: about 1 MB of float64, to stay in cache."""
_MIN_BLOCK_WIDTH = 256


@dataclass
class BatchParams:
    """Parameters of M mixtures (or gradients with the same layout).

    Attributes
    ----------
    leaf : ndarray, shape (M, K, D, 2)
        theta_{m,k,d,v}: weight of [x_d = v] in component k of model m.
    layers : ndarray, shape (n_layer_weights,)
        Every model's layer weights w^{[l]}, model after model, layer after layer.
    """

    leaf: np.ndarray
    layers: np.ndarray

    def copy(self) -> BatchParams:
        return BatchParams(self.leaf.copy(), self.layers.copy())


@dataclass(frozen=True)
class _Blocks:
    """What depends on the data alone, computed once per data set (see ``MixtureBatch._prepare``)."""

    data: CountedData
    blocks: tuple             # per column block: (columns (rows, u), row weights (u,), slice)
    forward: slice            # rows of a block's column matrix: [x = 1] then a constant 1
    backward: slice           # rows: ([missing]), [x = 0], [x = 1]
    has_missing: bool
    nonempty: np.ndarray      # (D, 3): some row with a positive count has x_d = 0 / 1 / missing
    threshold: float          # a sum of responsibilities below this is recomputed exactly
    log_weights: np.ndarray   # (U,) log(count / N)


class MixtureBatch:
    """M factorised mixtures over the same D binary variables: the fast path.

    Parameters
    ----------
    decompositions : Decomposition or sequence of Decomposition
        One per model (a single one: a batch of one); all with the same number K of components.
    n_variables : int
        D.

    Notes
    -----
    ``log_likelihood`` and the ``llh`` of the gradient methods are the *normalised* mean
    log-likelihood, mean_n log f(x_n) - log f(*); gradients are of that mean.
    """

    def __init__(self, decompositions: Decomposition | Sequence[Decomposition], n_variables: int) -> None:
        decs = [decompositions] if isinstance(decompositions, Decomposition) else list(decompositions)
        if not decs:
            raise ValueError("a batch needs at least one model")
        Ks = {d.n_components for d in decs}
        if len(Ks) != 1:
            raise ValueError(f"all models of a batch need the same number of components, got {sorted(Ks)}")
        if n_variables < 1:
            raise ValueError(f"need at least one variable, got {n_variables}")
        self.decompositions = tuple(decs)
        self.n_models, self.n_components, self.n_variables = len(decs), Ks.pop(), int(n_variables)
        self.layer_counts = np.array([d.n_weights for d in decs])
        self.layer_offsets = np.concatenate([[0], np.cumsum(self.layer_counts)])
        n_layer = int(self.layer_offsets[-1])
        depth = max(d.n_layers for d in decs)
        path = np.full((self.n_models * self.n_components, depth), n_layer, dtype=np.intp)
        for m, d in enumerate(decs):
            fi = d.flat_index
            block = np.where(fi == d.n_weights, n_layer, fi + self.layer_offsets[m])
            path[m * self.n_components:(m + 1) * self.n_components, :fi.shape[1]] = block
        self.path = path          # (M*K, depth) into layers, padded with n_layer (weight 1)
        self.n_layer_weights = n_layer
        self._pad = path == n_layer
        self._cache: _Blocks | None = None

    # ------------------------------------------------------------------ layout
    def stack(self, params: Sequence[MixtureParams]) -> BatchParams:
        """One :class:`BatchParams` from M per-model :class:`MixtureParams`."""
        if len(params) != self.n_models:
            raise ValueError(f"need {self.n_models} parameter sets, got {len(params)}")
        leaf = np.stack([np.asarray(p.leaf, dtype=np.float64) for p in params])
        layers = [np.asarray(w, dtype=np.float64) for p in params for w in p.layers]
        out = BatchParams(leaf, np.concatenate(layers) if layers else np.zeros(0))
        self.check(out)
        return out

    def unstack(self, params: BatchParams) -> list[MixtureParams]:
        """The per-model :class:`MixtureParams` (copies)."""
        out = []
        for m, d in enumerate(self.decompositions):
            flat = params.layers[self.layer_offsets[m]:self.layer_offsets[m + 1]]
            cuts = np.cumsum(d.layer_sizes)[:-1]
            out.append(MixtureParams(params.leaf[m].copy(), tuple(a.copy() for a in np.split(flat, cuts))))
        return out

    def initial_params(self, leaf_weight: float = 0.5, layer_weight: float = 1e-4) -> BatchParams:
        """The released code's initialisation for every model: leaf 1/2, layer weights 1e-4."""
        return BatchParams(np.full((self.n_models, self.n_components, self.n_variables, 2), float(leaf_weight)),
                           np.full(self.n_layer_weights, float(layer_weight)))

    def check(self, params: BatchParams) -> None:
        """Raise ValueError unless the shapes fit, leaf weights are finite and > 0, layer weights finite and >= 0."""
        shape = (self.n_models, self.n_components, self.n_variables, 2)
        if params.leaf.shape != shape:
            raise ValueError(f"leaf weights need shape {shape}, got {params.leaf.shape}")
        if params.layers.shape != (self.n_layer_weights,):
            raise ValueError(f"layer weights need shape ({self.n_layer_weights},), got {params.layers.shape}")
        check_leaf_weights(params.leaf, "m, k, d, v")
        bad = ~np.isfinite(params.layers) | (params.layers < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"layer weight {self.layer_name(i)} is {float(params.layers[i])!r}; "
                             "layer weights must be finite and >= 0")

    def layer_name(self, i: int) -> str:
        """The name of entry ``i`` of ``BatchParams.layers``: ``"model m, w^[l]_j"``."""
        m = int(np.searchsorted(self.layer_offsets, i, side="right") - 1)
        j = i - int(self.layer_offsets[m])
        sizes = self.decompositions[m].layer_sizes
        l = 0
        while j >= sizes[l]:
            j -= sizes[l]
            l += 1
        return f"(model {m}, w^[{l}]_{j})"

    def _check_data(self, data: CountedData) -> None:
        if not isinstance(data, CountedData):
            raise TypeError("pass the data as CountedData.from_array(X)")
        if data.n_variables != self.n_variables:
            raise ValueError(f"data have {data.n_variables} variables, the models {self.n_variables}")

    def component_log_weights(self, layers: np.ndarray) -> np.ndarray:
        """log w_{m,k} = sum_l log w^{[l]}_{phi(k,l)} for every model, shape (M, K)."""
        with np.errstate(divide="ignore"):
            log_u = np.append(np.log(layers), 0.0)
        return log_u[self.path].sum(axis=1).reshape(self.n_models, self.n_components)

    # ----------------------------------------------------------------- compute
    def _prepare(self, data: CountedData) -> _Blocks:
        """Column blocks of the data (kept in cache with the (M*K, block) work arrays); cached per data set.

        A block's column matrix holds, row after row: [x_d missing] (only if some value is
        missing), [x_d = 0], [x_d = 1], and a row of ones; the forward pass multiplies by the last
        D + 1 rows, the gradients by the first 2D (or 3D).
        """
        cached = self._cache
        if cached is not None and cached.data is data:
            return cached
        D, U = self.n_variables, data.rows.shape[0]
        has_missing = data.has_missing
        parts = ([data.missing_t] if has_missing else []) + [data.zeros_t, data.ones_t, np.ones((1, U))]
        columns = np.vstack(parts)
        start = 2 * D if has_missing else D
        width = max(_MIN_BLOCK_WIDTH, _BLOCK_ELEMENTS // (self.n_models * self.n_components))
        row_weights = data.counts / data.n_samples
        blocks = tuple((np.ascontiguousarray(columns[:, a:min(U, a + width)]), row_weights[a:a + width],
                        slice(a, min(U, a + width))) for a in range(0, U, width))
        with np.errstate(divide="ignore"):
            log_weights = np.log(row_weights)
        prepared = _Blocks(data, blocks, slice(start, start + D + 1), slice(0, start + D), has_missing,
                           data.state_present, trusted_sum_threshold(U), log_weights)
        self._cache = prepared
        return prepared

    def _coefficients(self, params: BatchParams, prep: _Blocks):
        """Per component: log-odds and constant of log w_k C_k(x) as one (M*K, D+1) matrix, and log f(*)."""
        M, K, D = self.n_models, self.n_components, self.n_variables
        log_t = np.log(params.leaf.reshape(M * K, D, 2))
        log_t0, log_t1 = log_t[:, :, 0], log_t[:, :, 1]
        log_w = self.component_log_weights(params.layers).ravel()      # (MK,), -inf for w_k = 0
        # log w_k C_k(x) = log w_k + sum_d log theta_{k,d,0} + [x_d = 1] (log theta1 - log theta0)
        coef = np.empty((M * K, D + 1))
        np.subtract(log_t1, log_t0, out=coef[:, :D])
        base = log_t0.sum(axis=1)
        # w_k = 0: a finite stand-in for log 0 (BLAS kernels may multiply -inf by a padding 0); any
        # real log w_k exceeds -1e300, so exp(-1e300 - peak) = 0 exactly as exp(-inf) would be
        coef[:, D] = base + np.maximum(log_w, -1e300)
        log_s = np.logaddexp(log_t0, log_t1)                           # log(theta0 + theta1), no overflow
        log_zk = log_s.sum(axis=1) + log_w                              # log w_k C_k(*)
        log_z = logsumexp(log_zk.reshape(M, K), axis=1)                 # log f(*), (M,)
        if np.isneginf(log_z).any():  # before any -1e300 stand-in could be mistaken for a weight
            m = int(np.flatnonzero(np.isneginf(log_z))[0])
            raise ValueError(f"every component weight of model {m} is 0 (a layer weight of 0 on every path); "
                             "the model is the zero function")
        missing_coef = (log_s - log_t0) if prep.has_missing else None   # a missing x_d: log(theta0 + theta1)
        return _Coefficients(log_t, log_w, base, coef, missing_coef, log_s, log_zk, log_z)

    def _block_forward(self, co: _Coefficients, prep: _Blocks, block) -> tuple:
        """For one column block: exp(log w_k C_k(x) - peak(x)), their sum over k, and log f(x)."""
        M, K, D = self.n_models, self.n_components, self.n_variables
        columns = block[0]
        a = co.coef @ columns[prep.forward]                              # (MK, u)
        if co.missing_coef is not None:   # a missing x_d contributes log(theta0 + theta1)
            a += co.missing_coef @ columns[:D]
        a = a.reshape(M, K, -1)
        peak = a.max(axis=1, keepdims=True)
        np.maximum(peak, -1e300, out=peak)   # every w_k = 0: f(x) = 0, reported by the caller
        a -= peak
        np.exp(a, out=a)
        total = a.sum(axis=1)                                   # f(x) / exp(peak), (M, u)
        with np.errstate(divide="ignore"):
            log_f = np.log(total)
        log_f += peak[:, 0, :]
        return a, total, log_f

    def log_likelihood(self, params: BatchParams, data: CountedData) -> np.ndarray:
        """Mean log f(x_n) - log f(*) of every model, shape (M,): the normalised log-likelihood."""
        self.check(params)
        self._check_data(data)
        prep = self._prepare(data)
        co = self._coefficients(params, prep)
        total = np.zeros(self.n_models)
        for block in prep.blocks:
            *_, log_f = self._block_forward(co, prep, block)
            with np.errstate(invalid="ignore"):   # a row of probability 0 gives -inf, as it should
                total += log_f @ block[1]
        return total - co.log_z

    def _sums(self, params: BatchParams, data: CountedData):
        """One pass over the data: log-likelihoods and the sums of responsibilities the gradients need.

        Returns the coefficients, llh (M,), and S (M*K, D, 3): sum_n (count_n / N) r_k(x_n) over the
        rows with x_d = 0, 1 and missing, plus the components whose sums were recomputed exactly
        (``exact``: rows of S given instead as log S in ``log_exact``, and the log of the unweighted
        total sum_n (count_n / N) C_k(x_n) / f(x_n) in ``log_q``).
        """
        self.check(params)
        self._check_data(data)
        prep = self._prepare(data)
        M, K, D = self.n_models, self.n_components, self.n_variables
        co = self._coefficients(params, prep)
        llh = np.zeros(M)
        width = prep.backward.stop
        sums = np.zeros((width, M * K))
        log_f_rows = np.empty((M, data.rows.shape[0]))
        for block in prep.blocks:
            e, total, log_f = self._block_forward(co, prep, block)
            if not np.all(np.isfinite(log_f)):
                m, n = np.argwhere(~np.isfinite(log_f))[0]
                raise ValueError(f"distinct data row {block[2].start + n} has probability 0 under model {m} "
                                 "(every component weight is 0); the gradient is undefined")
            weights = block[1]                                  # count / N of every distinct row
            llh += log_f @ weights
            log_f_rows[:, block[2]] = log_f
            e *= (weights / total)[:, None, :]                  # responsibilities r_k(x_n) times row weight
            sums += block[0][prep.backward] @ e.reshape(M * K, -1).T
        llh -= co.log_z
        S = np.zeros((M * K, D, 3))
        S[:, :, 0] = sums[width - 2 * D:width - D].T
        S[:, :, 1] = sums[width - D:].T
        if prep.has_missing:
            S[:, :, 2] = sums[:D].T
        suspect = (S < prep.threshold) & prep.nonempty[None]
        exact = np.flatnonzero(suspect.any(axis=(1, 2)) | np.isneginf(co.log_w))
        log_exact = log_q = None
        if exact.size:
            log_exact, log_q = self._exact_sums(co, prep, exact, log_f_rows)
        return co, llh, S, exact, log_exact, log_q

    def _exact_sums(self, co: _Coefficients, prep: _Blocks, rows: np.ndarray, log_f_rows: np.ndarray):
        """For the components ``rows``: log of the *unweighted* sums sum_n (count_n/N) C_k(x_n)/f(x_n)
        over each variable's states, (F, D, 3), and over all rows, (F,), by log-sum-exp (exact)."""
        D = self.n_variables
        data = prep.data
        log_c = co.coef[rows, :D] @ data.ones_t + co.base[rows, None]        # log C_k(x_n), unweighted
        if co.missing_coef is not None:
            log_c += co.missing_coef[rows] @ data.missing_t
        log_c -= log_f_rows[rows // self.n_components]
        log_c += prep.log_weights
        by_state = log_sums_by_state(log_c, data.states_t[:, :-1])
        return by_state, logsumexp(log_c, axis=1)

    def llh_and_log_grad(self, params: BatchParams, data: CountedData) -> tuple[np.ndarray, BatchParams]:
        """Mean log-likelihoods (M,) and the gradients with respect to the *log* of every weight.

        d llh / d log v = v * d llh / dv: for a layer weight, the summed posterior
        responsibilities of the components below it minus their share of f(*); for a
        leaf weight theta_{k,d,v}, the responsibility of k for the rows with x_d = v
        minus its share of f(*) times theta_{k,d,v} / (theta_{k,d,0} + theta_{k,d,1})
        (rows with x_d missing count for both, times theta_{k,d,v} / (theta_{k,d,0} + theta_{k,d,1})).
        Every entry lies in [-1, 1] per component; it never overflows.
        """
        co, llh, S, exact, log_exact, log_q = self._sums(params, data)
        M, K, D = self.n_models, self.n_components, self.n_variables
        if exact.size:
            S[exact] = np.exp(log_exact + co.log_w[exact, None, None])      # w_k = 0 gives 0
        log_share = co.log_t - co.log_s[:, :, None]                  # log theta_v / s
        log_rstar = co.log_zk - np.repeat(co.log_z, K)                # log r*_k, (MK,)
        g = S[:, :, :2].copy()
        if co.missing_coef is not None:
            g += S[:, :, 2:] * np.exp(log_share)
        g -= np.exp(log_rstar[:, None, None] + log_share)
        at_all = S[:, 0, :].sum(axis=1)                              # sum_n r_k(x_n) (count-weighted)
        contrib = np.where(self._pad, 0.0, (at_all - np.exp(log_rstar))[:, None])
        g_layers = np.bincount(self.path.ravel(), contrib.ravel(), minlength=self.n_layer_weights + 1)[:-1]
        return llh, BatchParams(g.reshape(M, K, D, 2), g_layers)

    def llh_and_grad(self, params: BatchParams, data: CountedData) -> tuple[np.ndarray, BatchParams]:
        """Mean log-likelihoods (M,) and the gradients with respect to every weight itself.

        Raises
        ------
        GradientOverflowError
            If an entry does not fit in float64 (a weight below about 1e-308); the error names the
            weight. :meth:`llh_and_log_grad` has no such limit.
        """
        co, llh, S, exact, log_exact, log_q = self._sums(params, data)
        M, K, D = self.n_models, self.n_components, self.n_variables
        leaf = params.leaf.reshape(M * K, D, 2)
        log_rstar = co.log_zk - np.repeat(co.log_z, K)                # log r*_k, (MK,)
        # leaves: d/dtheta_v = S_v / theta_v + S_missing / s - r* / s
        with np.errstate(over="ignore", divide="ignore"):
            g = S[:, :, :2] / leaf
            if co.missing_coef is not None:
                g += np.exp(np.log(S[:, :, 2]) - co.log_s)[:, :, None]
            g -= np.exp(log_rstar[:, None] - co.log_s)[:, :, None]
        # layers: d/du_j = [sum over the components k below u_j of (T_k - r*_k)] / u_j. Exact when every
        # T_k is trusted (an r*_k that underflowed is then negligible); the others are redone in log space.
        at_all = S[:, 0, :].sum(axis=1)
        contrib = np.broadcast_to((at_all - np.exp(log_rstar))[:, None], self.path.shape).copy()
        contrib[self._pad] = 0.0
        if exact.size:
            contrib[exact] = 0.0
        summed = np.bincount(self.path.ravel(), contrib.ravel(), minlength=self.n_layer_weights + 1)[:-1]
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            g_layers = summed / params.layers
            tiny = (params.layers > 0) & (params.layers < 1.0 / np.finfo(np.float64).max)
            if tiny.any():   # the difference may fit where its terms (up to 1 / u_j) do not: refuse
                largest = np.maximum(at_all, np.exp(log_rstar))[:, None] * ~self._pad
                bound = np.bincount(self.path.ravel(), np.broadcast_to(largest, self.path.shape).ravel(),
                                    minlength=self.n_layer_weights + 1)[:-1]
                g_layers[tiny & np.isinf(bound / params.layers)] = np.inf
        if exact.size:
            g_layers[params.layers == 0] = 0.0     # only components with w_k = 0 (redone below) sit there
            terms = np.zeros(self.path.shape)
            self._exact_plain(co, params.layers, exact, log_exact, log_q, g, terms)
            terms[self._pad] = 0.0
            g_layers += np.bincount(self.path.ravel(), terms.ravel(), minlength=self.n_layer_weights + 1)[:-1]
        self._check_finite(g, g_layers, params)
        return llh, BatchParams(g.reshape(M, K, D, 2), g_layers)

    def _exact_plain(self, co: _Coefficients, layers: np.ndarray, rows: np.ndarray, log_exact: np.ndarray,
                     log_q: np.ndarray, g: np.ndarray, terms: np.ndarray) -> None:
        """Overwrite the plain-gradient entries of the components ``rows`` with log-space forms.

        Leaf: w_k S'_v / theta_v + w_k S'_missing / s - r*_k / s, with S' the unweighted sums.
        Layer u_j on k's path: (product of the other weights on the path) (Q_k - C_k(*) / f(*)),
        Q_k the unweighted total; exact also when u_j = 0.
        """
        K = self.n_components
        log_w = co.log_w[rows]
        log_rstar = co.log_zk[rows] - co.log_z[rows // K]
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            data_term = np.exp(log_exact[:, :, :2] + log_w[:, None, None] - co.log_t[rows])
            if co.missing_coef is not None:
                data_term += np.exp(log_exact[:, :, 2] + log_w[:, None] - co.log_s[rows])[:, :, None]
            data_term -= np.exp(log_rstar[:, None] - co.log_s[rows])[:, :, None]
            g[rows] = data_term
            log_u = np.append(np.log(layers), 0.0)[self.path[rows]]
            others = exclusive_log_sums(log_u)                              # log prod of the other weights
            log_cstar = co.log_s[rows].sum(axis=1) - co.log_z[rows // K]    # log C_k(*) / f(*)
            terms[rows] = np.exp(others + log_q[:, None]) - np.exp(others + log_cstar[:, None])

    def _check_finite(self, g: np.ndarray, g_layers: np.ndarray, params: BatchParams) -> None:
        if not np.all(np.isfinite(g)):
            mk, d, v = np.argwhere(~np.isfinite(g))[0]
            m, k = divmod(int(mk), self.n_components)
            raise GradientOverflowError(
                f"the gradient with respect to leaf weight theta[m={m}, k={k}, d={d}, v={v}] = "
                f"{float(params.leaf[m, k, d, v])!r} does not fit in float64 (about 1 / weight); "
                "use llh_and_log_grad (the gradient with respect to log weights) or keep weights above 1e-300")
        if not np.all(np.isfinite(g_layers)):
            i = int(np.flatnonzero(~np.isfinite(g_layers))[0])
            raise GradientOverflowError(
                f"the gradient with respect to layer weight {self.layer_name(i)} = {float(params.layers[i])!r} "
                "does not fit in float64 (about 1 / weight); use llh_and_log_grad (the gradient with "
                "respect to log weights) or keep weights above 1e-300")


@dataclass(frozen=True)
class _Coefficients:
    log_t: np.ndarray          # (MK, D, 2) log theta
    log_w: np.ndarray          # (MK,) log w_k (-inf for w_k = 0)
    base: np.ndarray           # (MK,) sum_d log theta_{k,d,0}
    coef: np.ndarray           # (MK, D + 1) log-odds, then base + log w_k
    missing_coef: np.ndarray | None   # (MK, D) log s - log theta0, if some value is missing
    log_s: np.ndarray          # (MK, D) log(theta0 + theta1)
    log_zk: np.ndarray         # (MK,) log w_k C_k(*)
    log_z: np.ndarray          # (M,) log f(*)

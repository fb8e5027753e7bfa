"""The fast path: mixtures of factorised components, one or many, in one set of matrix products.

A :class:`MixtureBatch` stacks M mixtures of K fully factorised components over the same D binary
variables (several depths, seeds or learning rates; M = 1 is fine; the decompositions may differ)
so that one iteration of all of them costs a few matrix products over the *distinct* rows of the
data, and computes each model's mean log-likelihood and its gradient. The plainer one-model
:class:`~spnlib.numeric.fastpath.FactorisedMixture` computes the same and checks this one.

**Exact for any weights > 0** (1e-300 to 1e300 and beyond: about 1e-12 relative to the larger of a
gradient's two terms, the data term and the partition term), or refused with an error naming the weight:

* log C_k(x) is a product of the log-odds log(theta_{k,d,1} / theta_{k,d,0}) with the D data
  columns, shifted by one upper bound per model folded into the product; f(x) sums exp over k;
  log(theta_0 + theta_1) is a ``logaddexp``;
* the responsibilities r_k(x) = w_k C_k(x) / f(x) are summed over the rows with x_d = 0 and with
  x_d = 1 *separately* (one as the total minus the other cancels when a leaf's weights are skewed);
* a sum so small that terms which underflowed could matter is redone with its component's own
  scale, and if still too small per variable and state (:func:`~spnlib.numeric.logspace.scaled_log_sums`):
  nothing is redone at ordinary weights;
* partition terms and redone terms are formed in log space; a plain gradient whose terms do not fit
  in float64 (a weight below ~1e-308) raises :class:`~spnlib.numeric.logspace.GradientOverflowError`;
  :meth:`MixtureBatch.llh_and_log_grad` (d llh / d log v, in [-1, 1] per component) has no such limit.

A leaf weight of 0 is refused (its log-odds are undefined; the general evaluator accepts it); a layer
weight of 0 is accepted. The tests check all this against the general evaluator and a 40-digit
mpmath reference.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.numeric.fastpath import MixtureParams
from spnlib.numeric.logspace import (
    GradientOverflowError,
    check_leaf_weights,
    exclusive_log_sums,
    scaled_log_sums,
    trusted_sum_threshold,
)
from spnlib.structure.decomposition import Decomposition

__all__ = ["BatchParams", "MixtureBatch", "GradientOverflowError"]

_BLOCK_ELEMENTS = 1 << 17
"""Work-array size (elements) per column block: about 1 MB of float64, to stay in cache."""
_MIN_BLOCK_WIDTH = 256
_INV_MAX = 1.0 / np.finfo(np.float64).max
"""Below this a weight's plain gradient terms (up to 1 / weight) may not fit in float64."""
_SMALLEST_TOTAL = 2.0 ** -200
"""The forward pass shifts log w_k C_k(x) by an upper bound over all x (no max over k per row), so
f(x) / exp(shift) can be small; a block where it falls below this is redone with a per-row shift.
Terms that underflowed are then below 2.2e-308 / _SMALLEST_TOTAL relative to f(x), which the
threshold for recomputing a sum of responsibilities allows for."""


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
        self._path_flat = path.ravel()
        self.n_layer_weights = n_layer
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
        """log w_{m,k} = sum_l log w^{[l]}_{phi(k,l)} for every model, shape (M, K); -inf where w_k = 0."""
        log_u = np.zeros(len(layers) + 1)                     # the last entry: padding, log 1
        if layers.size and layers.min() > 0:
            np.log(layers, out=log_u[:-1])
        else:
            with np.errstate(divide="ignore"):
                np.log(layers, out=log_u[:-1])
        return log_u[self.path].sum(axis=1).reshape(self.n_models, self.n_components)

    # ----------------------------------------------------------------- compute
    def _prepare(self, data: CountedData) -> _Blocks:
        """Column blocks of the data (so the (M*K, block) work arrays stay in cache); cached per data set.

        A block holds the forward matrix, rows [x_d = 1] (then [x_d missing] if any value is missing)
        and a row of ones, and the backward matrix, (rows, D * n_states) with the columns of one
        variable together: [x_d = 0], [x_d = 1] (and [x_d missing]).
        """
        cached = self._cache
        if cached is not None and cached.data is data:
            return cached
        D, U = self.n_variables, data.rows.shape[0]
        has_missing = data.has_missing
        forward = np.vstack([data.ones_t] + ([data.missing_t] if has_missing else []) + [np.ones((1, U))])
        states = [data.zeros, data.ones] + ([data.missing] if has_missing else [])
        backward = np.stack(states, axis=2).reshape(U, D * len(states))
        width = max(_MIN_BLOCK_WIDTH, _BLOCK_ELEMENTS // (self.n_models * self.n_components))
        row_weights = data.counts / data.n_samples
        blocks = tuple((np.ascontiguousarray(forward[:, a:a + width]), np.ascontiguousarray(backward[a:a + width]),
                        row_weights[a:a + width], slice(a, min(U, a + width))) for a in range(0, U, width))
        with np.errstate(divide="ignore"):
            log_weights = np.log(row_weights)
        present = data.state_present[:, :len(states)]
        threshold = trusted_sum_threshold(U) / _SMALLEST_TOTAL
        prepared = _Blocks(data, blocks, has_missing, np.where(present, threshold, -1.0), log_weights)
        self._cache = prepared
        return prepared

    def _coefficients(self, params: BatchParams, prep: _Blocks) -> _Coefficients:
        """log w_k C_k(x) as one matrix product: log-odds (and missing terms) and a constant per component."""
        M, K, D = self.n_models, self.n_components, self.n_variables
        log_t = np.log(params.leaf.reshape(M * K, D, 2))
        log_t0 = log_t[:, :, 0]
        log_w = self.component_log_weights(params.layers).ravel()      # (MK,), -inf for w_k = 0
        log_s = np.logaddexp(log_t0, log_t[:, :, 1])                    # log(theta0 + theta1), no overflow
        log_zk = log_s.sum(axis=1) + log_w                              # log w_k C_k(*)
        top = log_zk.reshape(M, K).max(axis=1)
        if np.isneginf(top).any():
            m = int(np.flatnonzero(np.isneginf(top))[0])
            raise ValueError(f"every component weight of model {m} is 0 (a layer weight of 0 on every path); "
                             "the model is the zero function")
        log_z = np.log(np.exp(log_zk.reshape(M, K) - top[:, None]).sum(axis=1)) + top     # log f(*), (M,)
        # log w_k C_k(x) = log w_k + sum_d log theta_{k,d,0} + [x_d = 1] (log theta1 - log theta0)
        #                  (+ [x_d missing] (log s - log theta0))
        n_cols = prep.blocks[0][0].shape[0]
        coef = np.empty((M * K, n_cols))
        np.subtract(log_t[:, :, 1], log_t0, out=coef[:, :D])
        if prep.has_missing:
            np.subtract(log_s, log_t0, out=coef[:, D:2 * D])
        base = log_t0.sum(axis=1)
        # w_k = 0: a finite stand-in for log 0 (a BLAS kernel may multiply -inf by a padding 0); every
        # real log w_k exceeds -1e300, so exp(-1e300 - shift) is 0 exactly as exp(-inf) would be
        const = base + np.maximum(log_w, -1e300)
        # the shift of each model: the largest log w_k C_k(x) over every x (each variable in its best state)
        best = coef[:, D:2 * D] if prep.has_missing else np.maximum(coef[:, :D], 0.0)   # log s - log t0 >= both
        shift = (const + best.sum(axis=1)).reshape(M, K).max(axis=1)
        coef[:, -1] = const - np.repeat(shift, K)
        return _Coefficients(log_t, log_w, base, coef, shift, log_s, log_zk - np.repeat(log_z, K), log_z)

    def _block_forward(self, co: _Coefficients, block: tuple) -> tuple:
        """For one column block: exp(log w_k C_k(x) - shift), their sum over k (f(x) / exp(shift)), log f(x).

        The shift is the model's upper bound (no max over k per row, no subtraction pass); a block in
        which some f(x) falls below ``_SMALLEST_TOTAL`` times it is redone with the max over k per row.
        """
        M, K = self.n_models, self.n_components
        a = (co.coef @ block[0]).reshape(M, K, -1)
        np.exp(a, out=a)
        total = a.sum(axis=1)
        if total.min() >= _SMALLEST_TOTAL:
            return a, total, np.log(total) + co.shift[:, None]
        a = (co.coef @ block[0]).reshape(M, K, -1)
        peak = a.max(axis=1, keepdims=True)
        a -= peak
        np.exp(a, out=a)
        total = a.sum(axis=1)                                   # >= 1
        return a, total, np.log(total) + peak[:, 0, :] + co.shift[:, None]

    def log_likelihood(self, params: BatchParams, data: CountedData) -> np.ndarray:
        """Mean log f(x_n) - log f(*) of every model, shape (M,): the normalised log-likelihood."""
        self.check(params)
        self._check_data(data)
        prep = self._prepare(data)
        co = self._coefficients(params, prep)
        total = np.zeros(self.n_models)
        for block in prep.blocks:
            total += self._block_forward(co, block)[2] @ block[2]
        return total - co.log_z

    def _sums(self, params: BatchParams, data: CountedData) -> tuple:
        """One pass over the data: log-likelihoods and the sums of responsibilities the gradients need.

        Returns the coefficients, llh (M,), S (M*K, D, n_states): sum_n (count_n / N) r_k(x_n) over the
        rows with x_d = 0, 1 (and missing), and the components ``exact`` whose sums were redone in log
        space: for those, ``log_exact`` (F, D, 3) holds the log of the *unweighted* sums (C_k in
        place of w_k C_k) and ``log_q`` (F,) the log of the unweighted total.
        """
        self.check(params)
        self._check_data(data)
        prep = self._prepare(data)
        M, K, D = self.n_models, self.n_components, self.n_variables
        co = self._coefficients(params, prep)
        llh = np.zeros(M)
        sums: np.ndarray | None = None
        log_f_blocks = []
        for block in prep.blocks:
            e, total, log_f = self._block_forward(co, block)
            llh += log_f @ block[2]
            log_f_blocks.append(log_f)
            e *= (block[2] / total)[:, None, :]                  # responsibilities r_k(x_n) times row weight
            part = e.reshape(M * K, -1) @ block[1]
            sums = part if sums is None else sums + part
        llh -= co.log_z
        assert sums is not None   # there is at least one block
        S = sums.reshape(M * K, D, -1)
        suspect = S < prep.threshold                            # -1 where no row is in that state
        exact = np.flatnonzero(suspect.any(axis=(1, 2)) | np.isneginf(co.log_w))
        log_exact = log_q = None
        if exact.size:
            log_exact, log_q = self._exact_sums(co, prep, exact, np.concatenate(log_f_blocks, axis=1))
        return co, llh, S, exact, log_exact, log_q

    def _exact_sums(self, co: _Coefficients, prep: _Blocks, rows: np.ndarray, log_f: np.ndarray) -> tuple:
        """For the components ``rows``, by log-sum-exp: log sum_n (count_n/N) C_k(x_n) / f(x_n) over each
        variable's states, (F, D, 3), and over all rows, (F,)."""
        columns = np.hstack([block[0][:-1] for block in prep.blocks])    # [x_d = 1] (and [x_d missing])
        log_c = co.coef[rows, :-1] @ columns                                # log C_k(x_n) - base_k
        log_c += co.base[rows, None] - log_f[rows // self.n_components] + prep.log_weights
        return scaled_log_sums(log_c, prep.data)

    def llh_and_log_grad(self, params: BatchParams, data: CountedData) -> tuple[np.ndarray, BatchParams]:
        """Mean log-likelihoods (M,) and the gradients with respect to the *log* of every weight.

        d llh / d log v = v * d llh / dv: for a layer weight, the summed posterior
        responsibilities of the components below it minus their share of f(*); for a
        leaf weight theta_{k,d,v}, the responsibility of k for the rows with x_d = v
        minus its share of f(*) times theta_{k,d,v} / (theta_{k,d,0} + theta_{k,d,1})
        (rows with x_d missing count for both values, times the same ratio).
        Every entry lies in [-1, 1] per component; it never overflows.
        """
        co, llh, S, exact, log_exact, log_q = self._sums(params, data)
        M, K, D = self.n_models, self.n_components, self.n_variables
        if exact.size:
            S[exact] = np.exp(log_exact[:, :, :S.shape[2]] + co.log_w[exact, None, None])   # w_k = 0 gives 0
        share = np.exp(co.log_t - co.log_s[:, :, None])              # theta_v / s
        g = S[:, :, :2] - share * np.exp(co.log_rstar)[:, None, None]
        if S.shape[2] == 3:
            g += S[:, :, 2:] * share
        lg = S[:, 0, :].sum(axis=1) - np.exp(co.log_rstar)           # sum_n r_k(x_n) - r*_k
        g_layers = np.bincount(self._path_flat, np.repeat(lg, self.path.shape[1]),
                               minlength=self.n_layer_weights + 1)[:-1]   # padding falls in the last bin
        return llh, BatchParams(g.reshape(M, K, D, 2), g_layers)

    def llh_and_grad(self, params: BatchParams, data: CountedData) -> tuple[np.ndarray, BatchParams]:
        """Mean log-likelihoods (M,) and the gradients with respect to every weight itself.

        Raises
        ------
        GradientOverflowError
            If an entry, or one of its two terms, does not fit in float64 (a weight below about
            1e-308); the error names the weight. :meth:`llh_and_log_grad` has no such limit.
        """
        co, llh, S, exact, log_exact, log_q = self._sums(params, data)
        M, K, D = self.n_models, self.n_components, self.n_variables
        leaf = params.leaf.reshape(M * K, D, 2)
        rstar = np.exp(co.log_rstar)
        # every weight >= 1e-300: no entry can overflow (each term is at most K / weight), nothing to silence
        ordinary = leaf.min() >= 1e-300 and (params.layers.size == 0 or params.layers.min() >= 1e-300)
        with nullcontext() if ordinary else np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            # leaves: d/dtheta_v = S_v / theta_v + S_missing / s - r*_k / s
            g = S[:, :, :2] / leaf
            if S.shape[2] == 3:
                with np.errstate(divide="ignore"):                  # no row missing x_d: log 0
                    g += np.exp(np.log(S[:, :, 2]) - co.log_s)[:, :, None]
            g -= np.exp(co.log_rstar[:, None] - co.log_s)[:, :, None]
            # layers: d/du_j = [sum over the components k below u_j of (T_k - r*_k)] / u_j; exact while
            # every T_k is trusted (an r*_k that underflowed is then negligible); the rest is redone below
            at_all = S[:, 0, :].sum(axis=1)
            lg = at_all - rstar
            lg[exact] = 0.0
            summed = np.bincount(self._path_flat, np.repeat(lg, self.path.shape[1]),
                                 minlength=self.n_layer_weights + 1)[:-1]
            g_layers = summed / params.layers
            tiny = params.layers < _INV_MAX
            if not ordinary and tiny.any():   # a difference may fit where its terms (up to 1 / u_j) do not
                largest = np.repeat(np.maximum(at_all, rstar), self.path.shape[1])
                bound = np.bincount(self._path_flat, largest, minlength=self.n_layer_weights + 1)[:-1]
                g_layers[tiny & (params.layers > 0) & np.isinf(bound / params.layers)] = np.inf
                g_layers[params.layers == 0] = 0.0   # only components with w_k = 0, redone below, sit there
        if exact.size:
            terms = self._exact_plain(co, params.layers, exact, log_exact, log_q, g)
            g_layers += np.bincount(self.path[exact].ravel(), terms.ravel(), minlength=self.n_layer_weights + 1)[:-1]
        self._check_finite(g, g_layers, params)
        return llh, BatchParams(g.reshape(M, K, D, 2), g_layers)

    def _exact_plain(self, co: _Coefficients, layers: np.ndarray, rows: np.ndarray, log_exact: np.ndarray,
                     log_q: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The plain-gradient entries of the components ``rows`` in log-space form (leaves: into ``g``).

        Leaf: w_k S'_v / theta_v + w_k S'_missing / s - r*_k / s, with S' the unweighted sums.
        Layer u_j on k's path: (product of the other weights on the path) (Q_k - C_k(*) / f(*)),
        Q_k the unweighted total: exact also when u_j = 0. Returns the layer terms, (F, depth).
        """
        log_w = co.log_w[rows]
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            data_term = np.exp(log_exact[:, :, :2] + log_w[:, None, None] - co.log_t[rows])
            data_term += np.exp(log_exact[:, :, 2] + log_w[:, None] - co.log_s[rows])[:, :, None]
            g[rows] = data_term - np.exp(co.log_rstar[rows, None] - co.log_s[rows])[:, :, None]
            others = exclusive_log_sums(np.append(np.log(layers), 0.0)[self.path[rows]])
            log_cstar = co.log_s[rows].sum(axis=1) - co.log_z[rows // self.n_components]   # log C_k(*) / f(*)
            terms = np.exp(others + log_q[:, None]) - np.exp(others + log_cstar[:, None])
        terms[self.path[rows] == self.n_layer_weights] = 0.0
        return terms

    def _check_finite(self, g: np.ndarray, g_layers: np.ndarray, params: BatchParams) -> None:
        if not np.all(np.isfinite(g)):
            mk, d, v = (int(i) for i in np.argwhere(~np.isfinite(g))[0])
            m, k = divmod(mk, self.n_components)
            raise GradientOverflowError.for_weight(f"leaf weight theta[m={m}, k={k}, d={d}, v={v}]",
                                                   float(params.leaf[m, k, d, v]))
        if not np.all(np.isfinite(g_layers)):
            i = int(np.flatnonzero(~np.isfinite(g_layers))[0])
            raise GradientOverflowError.for_weight(f"layer weight {self.layer_name(i)}", float(params.layers[i]))


@dataclass(frozen=True)
class _Blocks:
    """What depends on the data alone (``MixtureBatch._prepare``)."""

    data: CountedData
    blocks: tuple             # per column block: (forward (rows, u), backward (u, D * n_states), weights, slice)
    has_missing: bool
    threshold: np.ndarray     # (D, n_states): a sum of responsibilities below this is recomputed exactly;
                              # -1 where no row with a positive count is in that state (the sum is 0)
    log_weights: np.ndarray   # (U,) log(count / N)


@dataclass(frozen=True)
class _Coefficients:
    log_t: np.ndarray          # (MK, D, 2) log theta
    log_w: np.ndarray          # (MK,) log w_k (-inf for w_k = 0)
    base: np.ndarray           # (MK,) sum_d log theta_{k,d,0}
    coef: np.ndarray           # (MK, D [+ D] + 1) log-odds, [missing terms,] base + log w_k - shift
    shift: np.ndarray          # (M,) an upper bound of log w_k C_k(x) over k and x
    log_s: np.ndarray          # (MK, D) log(theta0 + theta1)
    log_rstar: np.ndarray      # (MK,) log r*_k = log w_k C_k(*) / f(*)
    log_z: np.ndarray          # (M,) log f(*)

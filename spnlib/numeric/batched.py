"""Many factorised mixtures evaluated together: one set of matrix products for a whole batch.

A training run of the paper's experiment is hundreds of small evaluations of
:class:`~spnlib.numeric.fastpath.FactorisedMixture`. A :class:`MixtureBatch` stacks M such
models (several depths, seeds or learning rates over the same data) so that one
iteration of all of them costs a few matrix products over the *distinct* rows of
the data, and computes the gradients of each model's mean log-likelihood with
respect to its own parameters. The models may have different decompositions
(depths, shapes) but the same number K of components and D of variables.

Gradients are computed in a form that never divides by a tiny weight: the
"log-gradients" d llh / d log v = v * d llh / dv of every weight v are
responsibilities minus partition-function responsibilities, and the plain
gradient is obtained from them by one division by v (v >= 1e-4 under the
released code's clipping). The tests check both against
:meth:`FactorisedMixture.llh_and_grad` and the general evaluator.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.numeric.fastpath import MixtureParams
from spnlib.structure.decomposition import Decomposition

__all__ = ["BatchParams", "MixtureBatch"]

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


class MixtureBatch:
    """M factorised mixtures over the same D binary variables.

    Parameters
    ----------
    decompositions : sequence of Decomposition
        One per model; all with the same number K of components.
    n_variables : int
        D.
    """

    def __init__(self, decompositions: Sequence[Decomposition], n_variables: int) -> None:
        decs = list(decompositions)
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
        self._cache: tuple | None = None
        self._any_missing = False

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
        """Raise ValueError unless the shapes fit and every weight is finite and > 0."""
        shape = (self.n_models, self.n_components, self.n_variables, 2)
        if params.leaf.shape != shape:
            raise ValueError(f"leaf weights need shape {shape}, got {params.leaf.shape}")
        if params.layers.shape != (self.n_layer_weights,):
            raise ValueError(f"layer weights need shape ({self.n_layer_weights},), got {params.layers.shape}")
        for name, a in (("leaf", params.leaf), ("layer", params.layers)):
            if not np.all(np.isfinite(a)) or np.any(a <= 0):
                raise ValueError(f"{name} weights must be finite and > 0")

    def _check_data(self, data: CountedData) -> None:
        if not isinstance(data, CountedData):
            raise TypeError("pass the data as CountedData.from_array(X)")
        if data.n_variables != self.n_variables:
            raise ValueError(f"data have {data.n_variables} variables, the models {self.n_variables}")

    def component_log_weights(self, layers: np.ndarray) -> np.ndarray:
        """log w_{m,k} = sum_l log w^{[l]}_{phi(k,l)} for every model, shape (M, K)."""
        log_u = np.append(np.log(layers), 0.0)
        return log_u[self.path].sum(axis=1).reshape(self.n_models, self.n_components)

    # ----------------------------------------------------------------- compute
    def _augmented(self, data: CountedData) -> list[tuple]:
        """Column blocks of the data: ([x = 1] with a constant row, its transpose, counts, missing).

        Blocks keep the (M*K, block) work arrays in cache; cached for the data last seen.
        """
        cached = self._cache
        if cached is not None and cached[0] is data:
            return cached[1]
        self._any_missing = data.has_missing
        U = data.ones.shape[0]
        ones = np.hstack([data.ones, np.ones((U, 1))])
        width = max(_MIN_BLOCK_WIDTH, _BLOCK_ELEMENTS // (self.n_models * self.n_components))
        blocks = []
        for a in range(0, U, width):
            b = min(U, a + width)
            missing = data.missing[a:b] if self._any_missing else None
            blocks.append((np.ascontiguousarray(ones[a:b].T), np.ascontiguousarray(ones[a:b]),
                           data.counts[a:b] / data.n_samples, missing))
        self._cache = (data, blocks)
        return blocks

    def _coefficients(self, params: BatchParams):
        """Per component: log-odds and constant of log w_k C_k(x) as one (M*K, D+1) matrix."""
        M, K, D = self.n_models, self.n_components, self.n_variables
        leaf = params.leaf.reshape(M * K, D, 2)
        t0, t1 = leaf[:, :, 0], leaf[:, :, 1]
        s = t0 + t1
        log_t0 = np.log(t0)
        log_w = self.component_log_weights(params.layers)      # (M, K)
        # log w_k C_k(x) = log w_k + sum_d log theta_{k,d,0} + [x_d = 1] (log theta1 - log theta0)
        coef = np.empty((M * K, D + 1))
        np.subtract(np.log(t1), log_t0, out=coef[:, :D])
        coef[:, D] = log_t0.sum(axis=1) + log_w.ravel()
        log_s = np.log(s)
        log_zk = log_s.sum(axis=1).reshape(M, K) + log_w       # log w_k C_k(*)
        zmax = log_zk.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(log_zk - zmax).sum(axis=1)) + zmax[:, 0]
        missing_coef = (log_s - log_t0) if self._any_missing else None
        return s, coef, missing_coef, log_zk, log_z

    def _block_forward(self, coef, missing_coef, block):
        """For one column block: exp(log w_k C_k(x) - peak(x)), their sum over k, and log f(x)."""
        M, K = self.n_models, self.n_components
        ones_t, _, _, missing = block
        a = coef @ ones_t                                       # (MK, u)
        if missing is not None:   # a missing x_d contributes log(theta0 + theta1)
            a += missing_coef @ missing.T
        a = a.reshape(M, K, -1)
        peak = a.max(axis=1, keepdims=True)
        np.maximum(peak, -1e300, out=peak)
        a -= peak
        np.exp(a, out=a)
        total = a.sum(axis=1)                                   # f(x) / exp(peak), (M, u)
        log_f = np.log(total) + peak[:, 0, :]
        return a, total, log_f

    def log_likelihood(self, params: BatchParams, data: CountedData) -> np.ndarray:
        """Mean log f(x_n) - log f(*) of every model, shape (M,)."""
        self.check(params)
        self._check_data(data)
        blocks = self._augmented(data)
        _, coef, missing_coef, _, log_z = self._coefficients(params)
        total = np.zeros(self.n_models)
        for block in blocks:
            *_, log_f = self._block_forward(coef, missing_coef, block)
            total += log_f @ block[2]
        return total - log_z

    def llh_and_log_grad(self, params: BatchParams, data: CountedData) -> tuple[np.ndarray, BatchParams]:
        """Mean log-likelihoods (M,) and the gradients with respect to the *log* of every weight.

        d llh / d log v = v * d llh / dv: for a layer weight, the summed posterior
        responsibilities of the components below it minus their share of f(*); for a
        leaf weight theta_{k,d,v}, the responsibility of k for the rows with x_d = v
        minus its share of f(*) times theta_{k,d,v} / (theta_{k,d,0} + theta_{k,d,1}).
        """
        self.check(params)
        self._check_data(data)
        blocks = self._augmented(data)
        M, K, D = self.n_models, self.n_components, self.n_variables
        s, coef, missing_coef, log_zk, log_z = self._coefficients(params)
        llh = np.zeros(M)
        sums = np.zeros((M * K, D + 1))         # sum_n r_k(x_n) [x_nd = 1] and, last, sum_n r_k(x_n)
        at_missing = np.zeros((M * K, D)) if self._any_missing else None
        for block in blocks:
            e, total, log_f = self._block_forward(coef, missing_coef, block)
            if not np.all(np.isfinite(log_f)):
                raise ValueError("a data row has probability 0 (or overflow) under a model; "
                                 "the gradient is undefined")
            weights = block[2]                                  # count / N of every distinct row
            llh += log_f @ weights
            e *= (weights / total)[:, None, :]                  # responsibilities r_k(x_n) times row weight
            resp = e.reshape(M * K, -1)
            sums += (block[0] @ resp.T).T
            if at_missing is not None:
                at_missing += resp @ block[3]
        llh -= log_z
        resp_star = np.exp(log_zk - log_z[:, None]).reshape(M * K)    # w_k C_k(*) / f(*)
        at_one, at_all = sums[:, :D], sums[:, D]
        at_zero = at_all[:, None] - at_one
        share = resp_star[:, None] / s                          # r*_k / s_kd
        if at_missing is not None:
            at_zero -= at_missing
            share = share - at_missing / s
        leaf = params.leaf.reshape(M * K, D, 2)
        g = np.empty_like(leaf)
        g[:, :, 0] = at_zero - share * leaf[:, :, 0]
        g[:, :, 1] = at_one - share * leaf[:, :, 1]
        # layers: every weight on the path of component k collects r_k - r*_k
        contrib = np.broadcast_to((at_all - resp_star)[:, None], self.path.shape)
        g_layers = np.bincount(self.path.ravel(), contrib.ravel(), minlength=self.n_layer_weights + 1)[:-1]
        return llh, BatchParams(g.reshape(M, K, D, 2), g_layers)

    def llh_and_grad(self, params: BatchParams, data: CountedData) -> tuple[np.ndarray, BatchParams]:
        """Mean log-likelihoods (M,) and the gradients with respect to every weight itself."""
        llh, g = self.llh_and_log_grad(params, data)
        g.leaf /= params.leaf
        g.layers /= params.layers
        return llh, g

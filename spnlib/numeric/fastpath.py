"""Mixtures of fully factorised components over binary data: one model, written plainly.

The model of the paper's experiment: K components C_k(x) = prod_d theta_{k,d,x_d}
(a per-variable sum over two indicators with unnormalised weights
theta_{k,d,0}, theta_{k,d,1}), and component weights w_k decomposed by a
:class:`~spnlib.structure.decomposition.Decomposition` (shallow, Fig. 1; Fig. 2; the released
L = 1, 2, 3 structures; any tree). Everything is matrix products over the *distinct* rows of the
data with their counts (NLTCS's 16,181 training rows hold 2,671 distinct ones), in log space.

:class:`FactorisedMixture` is the one-model implementation, kept deliberately different from the
fast path :class:`~spnlib.numeric.batched.MixtureBatch` (use that one for speed, also for a single
model): it multiplies log theta_{k,d,0} and log theta_{k,d,1} with the [x_d = 0] and [x_d = 1]
columns separately, scales each component's responsibilities by their own maximum, and forms every
gradient term in log space, so the two agree only because both are right. Both are exact for any
finite weights > 0 (see :mod:`spnlib.numeric.batched` for what that means and how it is
tested) and refuse a leaf weight of 0. The general evaluator (:mod:`spnlib.numeric.evaluate`) on
the equivalent SPN (:meth:`FactorisedMixture.to_spn`) computes the same values and gradients.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import cast

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.numeric.evaluate import LogLikelihood
from spnlib.numeric.logspace import (
    GradientOverflowError,
    check_leaf_weights,
    exclusive_log_sums,
    logsumexp,
    scaled_log_sums,
)
from spnlib.structure.builders import DecomposedSPN, decomposed_spn, factorised_component, indicator_pairs
from spnlib.structure.decomposition import Decomposition
from spnlib.structure.graph import Sum

__all__ = ["MixtureParams", "FactorisedMixture", "GradientOverflowError"]

@dataclass(frozen=True)
class MixtureParams:
    """Parameters of a :class:`FactorisedMixture` (or a gradient with the same layout).

    Attributes
    ----------
    leaf : ndarray, shape (K, D, 2)
        theta_{k,d,v}: weight of the indicator [x_d = v] in component k's sum for variable d.
    layers : tuple of ndarray
        The layer weights w^{[l]}, shapes ``decomposition.layer_sizes``.
    """

    leaf: np.ndarray
    layers: tuple[np.ndarray, ...]

    def flatten(self) -> np.ndarray:
        """One vector: ``leaf.ravel()`` followed by the layers in order (this class's flat layout)."""
        return np.concatenate([self.leaf.ravel(), *self.layers])


class FactorisedMixture:
    """A mixture of K fully factorised components over D binary variables (one model).

    For speed use :class:`~spnlib.numeric.batched.MixtureBatch` (``MixtureBatch(decomposition, D)``
    is a batch of one); this class is the second, plainer implementation that checks it.

    Parameters
    ----------
    decomposition : Decomposition
        How the K component weights are decomposed (``shallow(K)`` for Fig. 1).
    n_variables : int
        D.
    """

    def __init__(self, decomposition: Decomposition, n_variables: int) -> None:
        if n_variables < 1:
            raise ValueError(f"need at least one variable, got {n_variables}")
        self.decomposition = decomposition
        self.n_variables = int(n_variables)
        self.n_components = decomposition.n_components
        self._path = decomposition.flat_index  # (K, L), padded with n_layer_weights
        self._n_layer = decomposition.n_weights
        self._pad = self._path == self._n_layer

    # ------------------------------------------------------------ layout
    @property
    def n_params(self) -> int:
        return self.n_components * self.n_variables * 2 + self._n_layer

    def initial_params(self, leaf_weight: float = 0.5, layer_weight: float = 1e-4) -> MixtureParams:
        """The released code's initialisation: leaf weights 1/2, every layer weight 1e-4."""
        return MixtureParams(np.full((self.n_components, self.n_variables, 2), float(leaf_weight)),
                             tuple(self.decomposition.constant_layer_weights(layer_weight)))

    def unflatten(self, flat: np.ndarray) -> MixtureParams:
        """Inverse of :meth:`MixtureParams.flatten` (views, no copy)."""
        flat = np.asarray(flat, dtype=np.float64)
        if flat.shape != (self.n_params,):
            raise ValueError(f"parameter vector has shape {flat.shape}, expected ({self.n_params},)")
        n_leaf = self.n_components * self.n_variables * 2
        leaf = flat[:n_leaf].reshape(self.n_components, self.n_variables, 2)
        cuts = np.cumsum(self.decomposition.layer_sizes)[:-1]
        return MixtureParams(leaf, tuple(np.split(flat[n_leaf:], cuts)))

    def check_params(self, params: MixtureParams, zero_leaf: bool = False) -> None:
        """Raise ValueError unless the shapes fit, leaf weights are finite and > 0 and layer weights >= 0.

        ``zero_leaf=True`` also accepts leaf weights of 0 (the SPN of :meth:`to_spn` can hold them).
        """
        K, D = self.n_components, self.n_variables
        if params.leaf.shape != (K, D, 2):
            raise ValueError(f"leaf weights need shape ({K}, {D}, 2), got {params.leaf.shape}")
        leaf = np.asarray(params.leaf, dtype=np.float64)
        check_leaf_weights(np.where(leaf == 0, 1.0, leaf) if zero_leaf else leaf, "k, d, v")
        self.decomposition.check_layer_weights(params.layers)

    def _check_data(self, data: CountedData) -> None:
        if not isinstance(data, CountedData):
            raise TypeError("pass the data as CountedData.from_array(X)")
        if data.n_variables != self.n_variables:
            raise ValueError(f"data have {data.n_variables} variables, the model {self.n_variables}")

    # ------------------------------------------------------------ compute
    def component_weights(self, params: MixtureParams) -> np.ndarray:
        """w_k = prod_l w^{[l]}_{phi(k,l)} (Eq. 3)."""
        return self.decomposition.component_weights(params.layers)

    def _forward(self, params: MixtureParams, data: CountedData) -> _Forward:
        self.check_params(params)
        self._check_data(data)
        log_t = np.log(np.asarray(params.leaf, dtype=np.float64))
        log_s = np.logaddexp(log_t[:, :, 0], log_t[:, :, 1])          # log(theta0 + theta1)
        n = 3 if data.has_missing else 2      # a missing x_d contributes theta0 + theta1
        by_state = np.concatenate([log_t[:, :, 0], log_t[:, :, 1], log_s][:n], axis=1)
        log_c = by_state @ data.indicators_t[:n * self.n_variables]     # log C_k(x), (K, U)
        with np.errstate(divide="ignore"):
            log_u = np.append(np.log(np.concatenate(params.layers)), 0.0)[self._path]   # (K, L)
        log_w = log_u.sum(axis=1)
        log_f = logsumexp(log_c + log_w[:, None], axis=0)
        log_cstar = log_s.sum(axis=1)                                  # log C_k(*)
        log_z = float(logsumexp(log_cstar + log_w, axis=0))
        if log_z == -np.inf:
            raise ValueError("every component weight is 0 (a layer weight of 0 on every path); "
                             "the model is the zero function")
        return _Forward(log_t, log_s, log_c, log_u, log_w, log_f, log_cstar, log_z)

    def log_likelihood(self, params: MixtureParams, data: CountedData) -> LogLikelihood:
        """Mean and total of log f(x_n) - log f(*) over the data (Eq. 1/4): the normalised log-likelihood."""
        fw = self._forward(params, data)
        with np.errstate(invalid="ignore"):
            total = float(data.counts @ (fw.log_f - fw.log_z))
        return LogLikelihood(mean=total / data.n_samples, total=total,
                             n_samples=data.n_samples, log_partition=fw.log_z)

    def llh_and_grad(self, params: MixtureParams, data: CountedData) -> tuple[LogLikelihood, MixtureParams]:
        """The mean log-likelihood and its gradient with respect to every parameter.

        Returns
        -------
        llh : LogLikelihood
            ``llh.mean`` is mean_n log f(x_n) - log f(*).
        grad : MixtureParams
            d llh.mean / d theta and d llh.mean / d w^{[l]} (the gradient of the *mean*).

        Raises
        ------
        GradientOverflowError
            If an entry does not fit in float64 (a weight below about 1e-308); names the weight.
        """
        fw = self._forward(params, data)
        positive = data.counts > 0
        if np.isneginf(fw.log_f[positive]).any():
            n = int(np.flatnonzero(np.isneginf(fw.log_f) & positive)[0])
            raise ValueError(f"distinct data row {n} has probability 0 under the model (every component "
                             "weight is 0); the gradient is undefined")
        with np.errstate(divide="ignore"):
            rho = fw.log_c - fw.log_f + np.log(data.counts / data.n_samples)   # log of C_k(x_n) c_n / (N f(x_n))
        # the sums over each variable's states, each component scaled by its own maximum (exact)
        log_sums, log_totals = scaled_log_sums(rho, data)
        lw = fw.log_w[:, None]
        with np.errstate(over="ignore", invalid="ignore"):
            # d/dtheta_{k,d,v} = w_k [S_v / theta_v + S_missing / s] - w_k C_k(*) / (s f(*))
            g = np.exp(lw[:, :, None] + log_sums[:, :, :2] - fw.log_t)
            if data.has_missing:
                g += np.exp(lw + log_sums[:, :, 2] - fw.log_s)[:, :, None]
            g -= np.exp(lw + (fw.log_cstar - fw.log_z)[:, None] - fw.log_s)[:, :, None]
            # d/du_l = (prod of the other weights on k's path) [Q_k - C_k(*) / f(*)], summed over k
            others = exclusive_log_sums(fw.log_u)
            terms = np.exp(others + log_totals[:, None]) - np.exp(others + (fw.log_cstar - fw.log_z)[:, None])
        terms[self._pad] = 0.0
        g_layers = np.bincount(self._path.ravel(), terms.ravel(), minlength=self._n_layer + 1)[:-1]
        self._check_finite(g, g_layers, params)
        total = float(data.counts @ (fw.log_f - fw.log_z))
        N = data.n_samples
        llh = LogLikelihood(mean=total / N, total=total, n_samples=N, log_partition=fw.log_z)
        cuts = np.cumsum(self.decomposition.layer_sizes)[:-1]
        return llh, MixtureParams(g, tuple(np.split(g_layers, cuts)))

    def _check_finite(self, g: np.ndarray, g_layers: np.ndarray, params: MixtureParams) -> None:
        if not np.all(np.isfinite(g)):
            k, d, v = (int(i) for i in np.argwhere(~np.isfinite(g))[0])
            raise GradientOverflowError.for_weight(f"leaf weight theta[k={k}, d={d}, v={v}]",
                                                   float(params.leaf[k, d, v]))
        if not np.all(np.isfinite(g_layers)):
            i = int(np.flatnonzero(~np.isfinite(g_layers))[0])
            sizes = self.decomposition.layer_sizes
            l = int(np.searchsorted(np.cumsum(sizes), i, side="right"))
            j = i - int(sum(sizes[:l]))
            raise GradientOverflowError.for_weight(f"layer weight w^[{l}]_{j}", float(params.layers[l][j]))

    # ------------------------------------------------- the equivalent SPN
    def to_spn(self, params: MixtureParams) -> tuple[DecomposedSPN, np.ndarray]:
        """The same model as a general :class:`~spnlib.structure.graph.SPN`.

        Returns
        -------
        spn : DecomposedSPN
            Components ``C1..CK`` (products of per-variable sums ``Ck.xd``
            over shared indicators) under the decomposition's sum layers.
        order : ndarray of int
            ``spn.spn.weights() == params.flatten()[order]``; also maps a gradient in this
            layout to the SPN's layout. The SPN's flat layout (``SPN.weights()``) lists the sum
            nodes children before parents: a component's leaf sums (two weights each), then
            the sum node above it once all its children are done, and so on up; the root's
            weights come last. :meth:`from_spn_layout` is the inverse.
        """
        self.check_params(params, zero_leaf=True)   # the general evaluator handles leaf weights of 0
        ind = indicator_pairs(self.n_variables)
        comps = [factorised_component(self.n_variables, f"C{k + 1}", params.leaf[k], ind)
                 for k in range(self.n_components)]
        dspn = decomposed_spn(self.decomposition, comps, params.layers)
        K, D = self.n_components, self.n_variables
        order = np.empty(dspn.spn.n_weights, dtype=np.intp)
        for k, comp in enumerate(comps):
            for d, leaf_sum in enumerate(comp.children):
                start, _ = dspn.spn.weight_offsets[cast(Sum, leaf_sum)]  # a component's children are its leaf sums
                order[start:start + 2] = (k * D + d) * 2 + np.arange(2)
        offset = K * D * 2
        for idx in dspn.layer_index:
            order[idx] = offset + np.arange(len(idx))
            offset += len(idx)
        return dspn, order

    @cached_property
    def spn_order(self) -> np.ndarray:
        """The ``order`` of :meth:`to_spn` (it depends on the structure alone)."""
        return self.to_spn(self.initial_params())[1]

    def to_spn_layout(self, params: MixtureParams) -> np.ndarray:
        """``params`` (weights or a gradient) as a flat vector in the SPN's layout (``SPN.weights()``)."""
        return np.asarray(params.flatten())[self.spn_order]

    def from_spn_layout(self, flat: np.ndarray) -> MixtureParams:
        """The inverse of :meth:`to_spn_layout`: a flat vector in the SPN's layout (weights, or a gradient
        of the general evaluator) as :class:`MixtureParams`."""
        flat = np.asarray(flat, dtype=np.float64)
        if flat.shape != (self.n_params,):
            raise ValueError(f"SPN weight vector has shape {flat.shape}, expected ({self.n_params},)")
        out = np.empty(self.n_params)
        out[self.spn_order] = flat
        return self.unflatten(out)


@dataclass(frozen=True)
class _Forward:
    log_t: np.ndarray       # (K, D, 2) log theta
    log_s: np.ndarray       # (K, D) log(theta0 + theta1)
    log_c: np.ndarray       # (K, U) log C_k(x_n)
    log_u: np.ndarray       # (K, L) log of the weights on each component's path (padding 0)
    log_w: np.ndarray       # (K,) log w_k
    log_f: np.ndarray       # (U,) log f(x_n)
    log_cstar: np.ndarray   # (K,) log C_k(*)
    log_z: float            # log f(*)

"""Fast path: mixtures of fully factorised components over binary data.

The model of the paper's experiment: K components C_k(x) = prod_d theta_{k,d,x_d}
(a per-variable sum over two indicators with unnormalised weights
theta_{k,d,0}, theta_{k,d,1}), and component weights w_k decomposed by a
:class:`~spnlib.structure.decomposition.Decomposition` (shallow, Fig. 2, the released
L = 1, 2, 3 structures, or any tree). Everything is matrix products over the
*distinct* rows of the data with their counts (NLTCS's 16,181 training rows
hold 2,671 distinct ones), in log space.

It computes the same values and gradients as the general evaluator
(:mod:`spnlib.numeric.evaluate`) on the equivalent SPN (:meth:`FactorisedMixture.to_spn`);
the tests check this to 1e-10 relative.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.numeric.evaluate import LogLikelihood, logsumexp
from spnlib.structure.builders import DecomposedSPN, decomposed_spn, factorised_component, indicator_pairs
from spnlib.structure.decomposition import Decomposition
from spnlib.structure.graph import Sum

__all__ = ["MixtureParams", "FactorisedMixture"]


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
        """One vector: ``leaf.ravel()`` followed by the layers in order."""
        return np.concatenate([self.leaf.ravel(), *self.layers])


class FactorisedMixture:
    """A mixture of K fully factorised components over D binary variables.

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

    def check_params(self, params: MixtureParams) -> None:
        """Raise ValueError unless the shapes fit, leaf weights are > 0 and layer weights >= 0."""
        K, D = self.n_components, self.n_variables
        if params.leaf.shape != (K, D, 2):
            raise ValueError(f"leaf weights need shape ({K}, {D}, 2), got {params.leaf.shape}")
        if not np.all(np.isfinite(params.leaf)) or np.any(params.leaf <= 0):
            raise ValueError("the fast path needs finite leaf weights > 0 "
                             "(use spnlib.numeric.evaluate on to_spn() for zero leaf weights)")
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

    def _forward(self, params: MixtureParams, data: CountedData):
        self.check_params(params)
        self._check_data(data)
        t0, t1 = params.leaf[:, :, 0], params.leaf[:, :, 1]
        s = t0 + t1
        log_s, log_t0 = np.log(s), np.log(t0)
        # log C_k(x) = sum_d log theta_{k,d,0} + [x_d = 1] (log theta1 - log theta0); (K, U) layout
        log_c = (np.log(t1) - log_t0) @ data.ones_t
        log_c += log_t0.sum(axis=1)[:, None]
        if data.has_missing:   # a missing x_d contributes log(theta0 + theta1) instead
            log_c += (log_s - log_t0) @ data.missing_t
        u = np.append(np.concatenate(params.layers), 1.0)
        with np.errstate(divide="ignore"):
            log_w = np.log(u)[self._path].sum(axis=1)
        log_f = logsumexp(log_c + log_w[:, None], axis=0)
        log_zk = log_s.sum(axis=1)
        log_z = float(logsumexp(log_zk + log_w, axis=0))
        return s, log_c, log_w, log_f, log_zk, log_z, u

    def log_likelihood(self, params: MixtureParams, data: CountedData) -> LogLikelihood:
        """Mean and total of log f(x_n) - log f(*) over the data (Eq. 1/4)."""
        *_, log_f, _, log_z, _ = self._forward(params, data)
        with np.errstate(invalid="ignore"):
            total = float(data.counts @ (log_f - log_z))
        return LogLikelihood(mean=total / data.n_samples, total=total,
                             n_samples=data.n_samples, log_partition=log_z)

    def llh_and_grad(self, params: MixtureParams, data: CountedData) -> tuple[LogLikelihood, MixtureParams]:
        """The mean log-likelihood and its gradient with respect to every parameter.

        Returns
        -------
        llh : LogLikelihood
        grad : MixtureParams
            d llh.mean / d theta and d llh.mean / d w^{[l]}.
        """
        s, log_c, log_w, log_f, log_zk, log_z, u = self._forward(params, data)
        if np.isneginf(log_f).any():
            raise ValueError("a data row has probability 0 under the model; the gradient is undefined")
        N = data.n_samples
        cw = data.counts / N
        # d/dw_k: mean_n C_k(x_n)/f(x_n) - C_k(*)/f(*)
        ratio = np.exp(log_c - log_f)                                 # (K, U)
        grad_w = ratio @ cw - np.exp(log_zk - log_z)
        # d/dtheta_{k,d,v}: mean_n R_nk [x_nd = v] / theta - R*_k / s_kd
        ratio *= np.exp(log_w)[:, None]
        ratio *= cw                                                   # responsibilities, count-weighted
        resp_star = np.exp(log_zk + log_w - log_z)                    # (K,)
        g_star = resp_star[:, None] / s
        at_one = ratio @ data.ones                                    # sum_n R_nk [x_nd = 1]
        at_zero = ratio.sum(axis=1)[:, None] - at_one                 # ... [x_nd = 0] (or missing)
        if data.has_missing:
            at_missing = ratio @ data.missing
            at_zero -= at_missing
            g_star = g_star - at_missing / s
        g0 = at_zero / params.leaf[:, :, 0] - g_star
        g1 = at_one / params.leaf[:, :, 1] - g_star
        # chain rule through w_k = prod_l u_l: d/du_l = sum_k dL/dw_k prod_{l' != l} u_l'
        factors = u[self._path]                                       # (K, L), padding = 1
        ones = np.ones((factors.shape[0], 1))
        prefix = np.concatenate([ones, np.cumprod(factors[:, :-1], axis=1)], axis=1)
        suffix = np.concatenate([np.cumprod(factors[:, :0:-1], axis=1)[:, ::-1], ones], axis=1)
        contrib = np.where(self._pad, 0.0, grad_w[:, None] * prefix * suffix)
        g_layers = np.bincount(self._path.ravel(), contrib.ravel(), minlength=self._n_layer + 1)[:-1]
        cuts = np.cumsum(self.decomposition.layer_sizes)[:-1]
        total = float(data.counts @ (log_f - log_z))
        llh = LogLikelihood(mean=total / N, total=total, n_samples=N, log_partition=log_z)
        return llh, MixtureParams(np.stack([g0, g1], axis=2), tuple(np.split(g_layers, cuts)))

    # ------------------------------------------------- the equivalent SPN
    def to_spn(self, params: MixtureParams) -> tuple[DecomposedSPN, np.ndarray]:
        """The same model as a general :class:`~spnlib.structure.graph.SPN`.

        Returns
        -------
        spn : DecomposedSPN
            Components ``C1..CK`` (products of per-variable sums ``Ck.xd``
            over shared indicators) under the decomposition's sum layers.
        order : ndarray of int
            ``spn.spn.weights() == params.flatten()[order]``; also maps a
            gradient in this layout to the SPN's layout.
        """
        self.check_params(params)
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

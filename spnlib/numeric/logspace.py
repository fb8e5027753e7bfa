"""Log-space primitives: the log-sum-exp of every evaluator, and what keeps sums exact at extreme weights.

:func:`logsumexp` is the log-space sum all the evaluators use. The fast paths
(:mod:`spnlib.numeric.batched`, :mod:`spnlib.numeric.fastpath`) and the general evaluator's
grouped leaf sums form most of their sums in plain float64 and use the rest of this module where
that could lose precision: a sum whose terms may have underflowed (:func:`trusted_sum_threshold`)
is recomputed with one shift per variable and state (:func:`log_sums_by_state`, used by
:func:`scaled_log_sums`, which scales each component by its own maximum first); the derivative
of a product of weights with respect to one of them is a sum of the *other* logs
(:func:`exclusive_log_sums`, exact for a weight of 0); a plain gradient that does not fit in
float64 is refused by name (:class:`GradientOverflowError`).

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

import numpy as np

from spnlib.data.counted import CountedData

__all__ = ["logsumexp", "logsumexp_inplace", "GradientOverflowError", "trusted_sum_threshold",
           "log_sums_by_state", "scaled_log_sums", "exclusive_log_sums", "check_leaf_weights"]

_GUARD = 1e13
"""A sum of U non-negative terms, each of which may have underflowed (an error below the smallest
normal float64, 2.2e-308), is trusted when it exceeds U * 2.2e-308 * _GUARD: the underflow then
changes it by less than 1 / _GUARD relative."""


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """log(sum(exp(a))) along ``axis``; all -inf gives -inf, not NaN. Overwrites nothing."""
    return logsumexp_inplace(np.array(a, dtype=np.float64), axis)


def logsumexp_inplace(a: np.ndarray, axis: int, out: np.ndarray | None = None) -> np.ndarray:
    """:func:`logsumexp` that uses ``a`` as scratch space (it is overwritten)."""
    m = np.max(a, axis=axis, keepdims=True)
    np.maximum(m, -1e300, out=m)   # an all -inf slice: shift by a finite number instead
    a -= m
    np.exp(a, out=a)
    m = np.squeeze(m, axis=axis)
    with np.errstate(divide="ignore"):
        if out is None:
            return np.log(np.sum(a, axis=axis)) + m
        total = np.sum(a, axis=axis, out=out)
        np.log(total, out=total)
    total += m
    return total


class GradientOverflowError(OverflowError):
    """A plain gradient entry, or one of its two terms, does not fit in float64 (a weight below ~1e-308)."""

    @classmethod
    def for_weight(cls, name: str, value: float) -> GradientOverflowError:
        return cls(f"the gradient with respect to {name} = {value!r} does not fit in float64 (its terms are "
                   "up to 1 / weight); use MixtureBatch.llh_and_log_grad (the gradient with respect to log "
                   "weights, which always fits) or keep weights above 1e-300")


def trusted_sum_threshold(n_rows: int) -> float:
    """The smallest sum of ``n_rows`` responsibilities that underflow cannot have spoiled (see ``_GUARD``)."""
    return float(n_rows) * float(np.finfo(np.float64).tiny) * _GUARD


def log_sums_by_state(log_terms: np.ndarray, states_t: np.ndarray, which: np.ndarray | None = None) -> np.ndarray:
    """log sum_{n: x_{n,d} in state s} exp(log_terms[f, n]), exactly, for every f, d and s.

    Parameters
    ----------
    log_terms : ndarray, shape (F, U)
    states_t : ndarray, shape (D, U)
        0, 1, or 2 for a missing value (:attr:`CountedData.states_t` without its last column).
    which : ndarray of bool, shape (F, D, 3), optional
        Compute only these entries (the others are left NaN); default all.

    Returns
    -------
    ndarray, shape (F, D, 3)
        One shift per (f, d, s), so no term that matters underflows; -inf for an empty set.
    """
    F, D = log_terms.shape[0], states_t.shape[0]
    out = np.full((F, D, 3), np.nan)
    wanted = np.ones((F, D, 3), dtype=bool) if which is None else which
    for d in range(D):                       # the rows of one state of one variable at a time
        for s in range(3):
            rows = wanted[:, d, s]
            if not rows.any():
                continue
            subset = log_terms[rows][:, states_t[d] == s]
            out[rows, d, s] = logsumexp(subset, axis=1) if subset.shape[1] else -np.inf
    return out


def scaled_log_sums(log_terms: np.ndarray, data: CountedData) -> tuple[np.ndarray, np.ndarray]:
    """log sum_n exp(log_terms[f, n]) over each variable's states, and over all rows, exactly.

    Each row f is scaled by its own maximum and summed by one matrix product with the data's
    indicator columns; the few sums so small that terms which underflowed could matter (below
    :func:`trusted_sum_threshold`) are redone by :func:`log_sums_by_state`.

    Parameters
    ----------
    log_terms : ndarray, shape (F, U)
        Finite or -inf, one column per distinct row of ``data``; every row has a finite entry.

    Returns
    -------
    log_sums : ndarray, shape (F, D, 3)
        For the states x_d = 0, 1, missing (-inf where no row is in that state).
    log_totals : ndarray, shape (F,)
    """
    F, D = log_terms.shape[0], data.n_variables
    n = 3 if data.has_missing else 2
    peak = log_terms.max(axis=1, keepdims=True)
    q = np.exp(log_terms - peak)                                  # the largest term of each row is 1
    sums = (q @ data.indicators_t[:n * D].T).reshape(F, n, D).transpose(0, 2, 1)
    log_sums = np.full((F, D, 3), -np.inf)
    with np.errstate(divide="ignore"):
        log_sums[:, :, :n] = np.log(sums) + peak[:, :, None]
    suspect = np.zeros((F, D, 3), dtype=bool)
    suspect[:, :, :n] = (sums < trusted_sum_threshold(len(data.counts))) & data.state_present[:, :n]
    if suspect.any():
        log_sums[suspect] = log_sums_by_state(log_terms, data.states_t[:, :-1], suspect)[suspect]
    return log_sums, np.log(q.sum(axis=1)) + peak[:, 0]


def exclusive_log_sums(a: np.ndarray) -> np.ndarray:
    """For every row and column, the sum of the row's *other* entries (prefix + suffix, no subtraction).

    With the logs of the weights on a component's path, these are the logs of d w_k / d u_l;
    exact when an entry is -inf (a weight of 0).
    """
    out = np.zeros_like(a)
    if a.shape[1] > 1:
        out[:, 1:] = np.cumsum(a[:, :-1], axis=1)
        out[:, :-1] += np.cumsum(a[:, :0:-1], axis=1)[:, ::-1]
    return out


def check_leaf_weights(leaf: np.ndarray, index_names: str) -> None:
    """Raise ValueError naming the first leaf weight that is not finite and > 0.

    ``index_names`` names the axes of ``leaf``, e.g. ``"k, d, v"``.
    """
    bad = ~np.isfinite(leaf) | (leaf <= 0)
    if not bad.any():
        return
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    value = float(leaf[idx])
    name = "theta[" + ", ".join(f"{n}={i}" for n, i in zip(index_names.split(", "), idx)) + "]"
    if value == 0.0:
        raise ValueError(
            f"leaf weight {name} is 0: the fast paths need leaf weights > 0, because they compute log C_k(x) "
            "from the log-odds log(theta1 / theta0), which a zero makes undefined. The general evaluator "
            "accepts it (spnlib.log_likelihood_and_gradient on FactorisedMixture.to_spn(params)[0]); "
            "or use a tiny weight such as 1e-300, which the fast paths compute exactly")
    raise ValueError(f"leaf weight {name} is {value!r}; leaf weights must be finite and > 0")

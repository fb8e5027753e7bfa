"""What happens once the symmetry is broken: distinct components, weights on the floor, effective mixture size.

:class:`MechanismRecorder` is an observer for :func:`~spnlib.experiment.training.train` (and
:func:`~spnlib.experiment.protocols.run_protocol`): before every update it records, per model,

* ``distinct`` - the number of distinct components: clusters of components linked by leaf weights
  that agree to :data:`DISTINCT_TOLERANCE` (max |theta_{k,d,v} - theta_{j,d,v}| over d, v; the
  clusters are the connected components of that relation);
* ``layer_at_floor`` / ``leaf_at_floor`` - the share of the layer and of the leaf weights sitting on
  the floor of the projected update (every layer weight starts there);
* ``effective`` - the effective number of components, exp of the entropy of w_k / sum_j w_j;
* ``replicated`` - the share of the mixture weight sum_k w_k carried by clusters of two or more
  identical components (copies that share one component's responsibility, and so its leaf updates).

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.experiment.protocols import Curves, Protocol, run_protocol, structure
from spnlib.numeric.batched import BatchParams, MixtureBatch

__all__ = ["DISTINCT_TOLERANCE", "MechanismTrace", "MechanismRecorder", "cluster_labels", "distinct_components",
           "replicated_share", "effective_components", "run_with_mechanism"]

DISTINCT_TOLERANCE = 1e-3
"""Two components are the same while every leaf weight of one is within this of the other's (the leaf
weights are of order 1/2; a difference of 1e-3 moves a log-likelihood by about 1e-3 nats per variable).
(To move to :mod:`spnlib.tolerances` with the next change there.)"""


def cluster_labels(leaf: np.ndarray, tolerance: float = DISTINCT_TOLERANCE) -> np.ndarray:
    """Cluster of every component, labelled by its lowest-numbered member; leaf (M, K, D, 2) -> (M, K) int.

    Components k and j are linked when max |theta_k - theta_j| <= tolerance; a cluster is a connected
    component of the links (so a chain of close components counts once).
    """
    a = np.asarray(leaf, dtype=np.float64)
    M, K = a.shape[:2]
    flat = a.reshape(M, K, -1)
    gap = np.abs(flat[:, :, None, :] - flat[:, None, :, :]).max(axis=3)       # (M, K, K)
    reach = (gap <= tolerance).astype(np.int64)
    for _ in range(max(1, int(np.ceil(np.log2(max(K, 2)))))):
        reach = (np.einsum("mij,mjk->mik", reach, reach) > 0).astype(np.int64)
    return reach.argmax(axis=2)


def distinct_components(leaf: np.ndarray, tolerance: float = DISTINCT_TOLERANCE) -> np.ndarray:
    """Number of clusters of components per model (see :func:`cluster_labels`); leaf (M, K, D, 2) -> (M,)."""
    labels = cluster_labels(leaf, tolerance)
    return (labels == np.arange(labels.shape[1])).sum(axis=1)


def replicated_share(labels: np.ndarray, log_w: np.ndarray) -> np.ndarray:
    """Share of the mixture weight carried by clusters of two or more components; (M, K), (M, K) -> (M,)."""
    lw = np.asarray(log_w, dtype=np.float64)
    p = np.exp(lw - lw.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    M, K = labels.shape
    size = np.zeros((M, K))
    np.add.at(size, (np.repeat(np.arange(M), K), labels.ravel()), 1.0)
    in_copies = np.take_along_axis(size, labels, axis=1) >= 2
    return (p * in_copies).sum(axis=1)


def effective_components(log_w: np.ndarray) -> np.ndarray:
    """exp(entropy of the normalised mixture weights) per model; log_w (M, K) -> (M,)."""
    lw = np.asarray(log_w, dtype=np.float64)
    lw = lw - lw.max(axis=1, keepdims=True)
    p = np.exp(lw)
    p /= p.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return np.exp(h)


@dataclass
class MechanismTrace:
    """Per model and iteration (before each update), arrays of shape (M, T); see the module docstring."""

    distinct: np.ndarray
    layer_at_floor: np.ndarray
    leaf_at_floor: np.ndarray
    effective: np.ndarray
    nonfinite: np.ndarray
    replicated: np.ndarray

    def by_depth(self, n_depths: int) -> MechanismTrace:
        """The same arrays reshaped to (n_depths, runs, T) (models ordered depth-major, as run_protocol does)."""
        return MechanismTrace(*(a.reshape(n_depths, -1, a.shape[-1]) for a in
                                (self.distinct, self.layer_at_floor, self.leaf_at_floor, self.effective,
                                 self.nonfinite, self.replicated)))


class MechanismRecorder:
    """Observer recording :class:`MechanismTrace` during training.

    Parameters
    ----------
    batch : MixtureBatch
    floor, leaf_floor : float
        The floors of the run's update (a weight counts as on the floor when <= floor * (1 + 1e-12)).
    tolerance : float
        See :func:`distinct_components`.
    """

    def __init__(self, batch: MixtureBatch, floor: float = 1e-4, leaf_floor: float | None = None,
                 tolerance: float = DISTINCT_TOLERANCE) -> None:
        self.batch = batch
        self.floor = float(floor)
        self.leaf_floor = self.floor if leaf_floor is None else float(leaf_floor)
        self.tolerance = float(tolerance)
        self._owner = np.repeat(np.arange(batch.n_models), batch.layer_counts)
        self._counts = np.maximum(batch.layer_counts, 1)
        self._rows: list[tuple[np.ndarray, ...]] = []

    def __call__(self, params: BatchParams, grad: BatchParams) -> None:
        M = self.batch.n_models
        leaf_floor = (params.leaf <= self.leaf_floor * (1 + 1e-12)).reshape(M, -1).mean(axis=1)
        on = (params.layers <= self.floor * (1 + 1e-12)).astype(np.float64)
        layer_floor = np.bincount(self._owner, on, minlength=M) / self._counts
        finite = np.isfinite(params.leaf).reshape(M, -1).all(axis=1) & np.isfinite(grad.leaf).reshape(M, -1).all(axis=1)
        with np.errstate(divide="ignore"):
            log_w = self.batch.component_log_weights(params.layers)
        labels = cluster_labels(params.leaf, self.tolerance)
        distinct = (labels == np.arange(labels.shape[1])).sum(axis=1)
        self._rows.append((distinct, layer_floor, leaf_floor, effective_components(log_w), ~finite,
                           replicated_share(labels, log_w)))

    def trace(self) -> MechanismTrace:
        """Everything recorded so far, (M, T) per quantity."""
        if not self._rows:
            raise ValueError("nothing recorded yet: pass the recorder to train() as its observer")
        cols = [np.stack([r[i] for r in self._rows], axis=1) for i in range(6)]
        return MechanismTrace(*cols)


def run_with_mechanism(protocol: Protocol, data: CountedData, depths: Sequence[int] = (1, 2, 3), runs: int = 20,
                       seed: int = 0, tolerance: float = DISTINCT_TOLERANCE) -> tuple[Curves, MechanismTrace]:
    """:func:`~spnlib.experiment.protocols.run_protocol` with a :class:`MechanismRecorder` attached.

    Returns the curves and the trace reshaped to (n_depths, runs, T) per quantity.
    """
    depths = tuple(int(L) for L in depths)
    seeds = [seed + r for r in range(runs)]
    batch = MixtureBatch([structure(protocol, L, s) for L in depths for s in seeds], data.n_variables)
    recorder = MechanismRecorder(batch, protocol.floor, protocol.leaf_floor, tolerance)
    curves = run_protocol(protocol, data, depths, runs=runs, seed=seed, observer=recorder)
    return curves, recorder.trace().by_depth(len(depths))

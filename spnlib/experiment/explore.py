"""The explorer's computations: curves for a setting of eta and L, and the static explorer's grid.

* :func:`settings_curves` trains one setting (a protocol at a learning rate, on a dataset,
  over some seeds) for the requested depths and caches the curves per depth.
* :func:`explorer_grid` precomputes curves over a grid of eta x L for the static explorer
  in the rendered book.

Their presentation (the live widgets, the drawing, the static HTML explorer) is
:mod:`spnlib.views.explorer`.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.checks import check_eta
from spnlib.data.counted import CountedData
from spnlib.data.debd import load_counted
from spnlib.experiment.protocols import get_protocol, run_protocol
from spnlib.stats.speedup import mean_confidence_band

__all__ = ["EXPLORER_DATASETS", "settings_curves", "ExplorerGrid", "explorer_grid"]

EXPLORER_DATASETS = ("nltcs", "plants", "baudio")
"""Datasets offered by the live explorer."""


_CURVES: dict[tuple, np.ndarray] = {}
_CACHE_SIZE = 128


def _protocol_runs(protocol: str, eta: float, seeds: int):
    proto = get_protocol(protocol).with_changes(eta=check_eta(eta))
    deterministic = proto.init == "released" and not (proto.perturbation or proto.gradient_noise or proto.ulp_share)
    return proto, 1 if deterministic else int(seeds)


def settings_curves(eta: float, depths: int | tuple[int, ...], protocol: str = "perturbed", dataset: str = "nltcs",
                    seeds: int = 3) -> np.ndarray:
    """Train curves (runs, T) of one setting, or (n_depths, runs, T) for a tuple of depths; cached.

    Seeds 0 .. seeds-1 (the faithful protocol has no randomness: 1 run). Each depth is trained
    in a batch of its own: in the variants that break the symmetry, round-off is amplified, and
    a run's last digits (after enough iterations, its curve) depend on the batch it is computed
    in; one batch per depth makes a curve a function of its setting alone, whatever the
    explorer showed before.
    """
    if dataset not in EXPLORER_DATASETS:
        raise ValueError(f"unknown dataset {dataset!r} for the explorer; choose one of {', '.join(EXPLORER_DATASETS)}")
    if int(seeds) != seeds or seeds < 1:
        raise ValueError(f"the number of seeds must be a positive integer, got {seeds!r}")
    many = isinstance(depths, tuple)
    wanted = tuple(int(L) for L in (depths if isinstance(depths, tuple) else (depths,)))
    proto, runs = _protocol_runs(protocol, eta, seeds)
    key = (protocol, float(eta), dataset, runs)
    missing = tuple(L for L in wanted if key + (L,) not in _CURVES)
    if len(_CURVES) + len(missing) > _CACHE_SIZE:
        _CURVES.clear()
    for L in missing:
        data = load_counted(dataset, "train")
        _CURVES[key + (L,)] = run_protocol(proto, data, (L,), dataset=dataset, runs=runs).train[0]
    out = np.stack([_CURVES[key + (L,)] for L in wanted])
    return out if many else out[0]


settings_curves.cache_clear = _CURVES.clear     # type: ignore[attr-defined]


@dataclass
class ExplorerGrid:
    """Downsampled curves over eta x L for the static explorer.

    Attributes
    ----------
    etas : ndarray (n_eta,)
    depths : tuple of int
    iterations : ndarray (n_points,)
        Iterations (from 1) kept after downsampling.
    faithful : ndarray (n_eta, n_depth, n_points)
        The faithful protocol (one deterministic run).
    mean, low, high : ndarray (n_eta, n_depth, n_points)
        The variant's mean over runs and its bootstrap 95 % band.
    variant : str
    runs : int
    """

    etas: np.ndarray
    depths: tuple[int, ...]
    iterations: np.ndarray
    faithful: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    variant: str
    runs: int


def explorer_grid(data: CountedData, etas: Sequence[float], depths: Sequence[int] = (1, 2, 3, 4),
                  variant: str = "perturbed", runs: int = 8, iterations: int = 500, every: int = 5) -> ExplorerGrid:
    """Train the faithful protocol and a variant for every eta and depth (one batch per eta)."""
    eta_arr = np.array([check_eta(e) for e in etas])
    keep = np.unique(np.r_[np.arange(0, iterations, every), iterations - 1])
    shape = (len(eta_arr), len(depths), keep.size)
    faithful, mean, low, high = (np.empty(shape) for _ in range(4))
    for i, eta in enumerate(eta_arr):
        f = run_protocol(get_protocol("released").with_changes(eta=eta, iterations=iterations), data, depths, runs=1)
        faithful[i] = f.train[:, 0, keep]
        v = run_protocol(get_protocol(variant).with_changes(eta=eta, iterations=iterations), data, depths, runs=runs)
        for j in range(len(depths)):
            m, lo, hi = mean_confidence_band(v.train[j])
            mean[i, j], low[i, j], high[i, j] = m[keep], lo[keep], hi[keep]
    return ExplorerGrid(eta_arr, tuple(int(L) for L in depths), keep + 1, faithful, mean, low, high, variant, runs)

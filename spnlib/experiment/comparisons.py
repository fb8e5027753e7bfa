"""Learning-rate sweeps and explicit optimisers against depth.

* :func:`rate_sweep` trains every (eta, depth, run) of a protocol in batches (one
  learning rate per model) and :func:`sweep_summary` condenses it: final LLH,
  updates to close 90 % of the gap to the best value of the whole sweep, and
  the largest single-update drop of the curves (overshooting).
* :func:`tune_rate` picks an optimiser's learning rate on *tuning* seeds (the
  largest mean train LLH averaged over all iterations, i.e. area under the curve),
  and :func:`optimiser_runs` trains the tuned configurations on separate
  *evaluation* seeds.

Defined in the book's chapter "Beyond the single figure".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.checks import check_eta
from spnlib.data.counted import CountedData
from spnlib.experiment.protocols import Protocol, initial_params, structure
from spnlib.experiment.training import Optimiser, train
from spnlib.numeric.batched import MixtureBatch
from spnlib.stats.speedup import iterations_to_fraction

__all__ = ["train_grid", "rate_sweep", "SweepSummary", "sweep_summary", "Config", "tune_rate", "optimiser_runs"]


@dataclass(frozen=True)
class Config:
    """One trained configuration: update rule, learning rate and depth."""

    rule: str
    eta: float
    depth: int

    @property
    def label(self) -> str:
        return f"{self.rule}, L = {self.depth}, eta = {self.eta:.3g}"


def train_grid(protocol: Protocol, data: CountedData, configs: Sequence[Config], seeds: Sequence[int],
               iterations: int | None = None, max_models: int = 240) -> np.ndarray:
    """Train every configuration on every seed; returns curves (n_configs, n_seeds, T).

    The protocol fixes structure and initialisation (run seed s gives the same
    initial weights for every configuration of the same depth). Models are trained
    in batches of at most ``max_models``, each model with its own rule's batch.
    """
    T = protocol.iterations if iterations is None else int(iterations)
    jobs = [(c, s) for c in configs for s in seeds]
    out = np.empty((len(jobs), T))
    rules = sorted({c.rule for c in configs})
    for rule in rules:
        idx = [i for i, (c, _) in enumerate(jobs) if c.rule == rule]
        for start in range(0, len(idx), max_models):
            part = idx[start:start + max_models]
            decs = [structure(protocol, jobs[i][0].depth, jobs[i][1]) for i in part]
            batch = MixtureBatch(decs, data.n_variables)
            params = initial_params(protocol, batch, [jobs[i][1] for i in part])
            opt = Optimiser(rule, np.array([jobs[i][0].eta for i in part]))
            out[part] = train(batch, data, params, opt, T, gradient_noise=protocol.gradient_noise,
                              noise_seed=start, threads=protocol.threads).train_llh
    return out.reshape(len(configs), len(seeds), T)


def rate_sweep(protocol: Protocol, data: CountedData, etas: Sequence[float], depths: Sequence[int],
               seeds: Sequence[int], iterations: int | None = None) -> np.ndarray:
    """Curves (n_eta, n_depth, n_seeds, T) of the protocol's update rule over a grid of learning rates."""
    etas = [check_eta(e) for e in etas]
    configs = [Config(protocol.rule, e, int(L)) for e in etas for L in depths]
    c = train_grid(protocol, data, configs, seeds, iterations)
    return c.reshape(len(etas), len(depths), len(seeds), -1)


@dataclass(frozen=True)
class SweepSummary:
    """Per (eta, depth): the sweep condensed (arrays of shape (n_eta, n_depth)).

    Attributes
    ----------
    final_mean : mean final train LLH over seeds.
    needed_median : median updates to close 90 % of the gap from the initial value to the best
        final value of the whole sweep (inf if most runs never do).
    reached : share of runs that close it.
    largest_drop : median over runs of the largest decrease of the train LLH in one update (0 if it never
        decreases): gradient ascent with a step that is too large overshoots.
    initial, best : the gap's ends.
    """

    etas: np.ndarray
    depths: tuple[int, ...]
    final_mean: np.ndarray
    needed_median: np.ndarray
    reached: np.ndarray
    largest_drop: np.ndarray
    initial: float
    best: float


def sweep_summary(curves: np.ndarray, etas: Sequence[float], depths: Sequence[int],
                  fraction: float = 0.9) -> SweepSummary:
    """Condense :func:`rate_sweep` output; see :class:`SweepSummary`."""
    c = np.asarray(curves)
    initial, best = float(c[..., 0].mean()), float(c[..., -1].max())
    needed = np.array([[iterations_to_fraction(runs, initial, best, fraction) for runs in row] for row in c])
    drops = np.maximum(-np.diff(c, axis=-1), 0.0).max(axis=-1)
    return SweepSummary(np.asarray(etas, dtype=float), tuple(int(L) for L in depths), c[..., -1].mean(axis=-1),
                        np.median(needed, axis=-1), np.isfinite(needed).mean(axis=-1), np.median(drops, axis=-1),
                        initial, best)


def tune_rate(protocol: Protocol, data: CountedData, rule: str, depth: int, etas: Sequence[float],
              seeds: Sequence[int], iterations: int | None = None) -> tuple[float, np.ndarray]:
    """The learning rate with the largest mean train LLH over all iterations (area under the curve).

    Returns
    -------
    best_eta : float
    scores : ndarray (n_eta,)
        Mean over seeds and iterations of the train LLH for every candidate.
    """
    configs = [Config(rule, check_eta(e), int(depth)) for e in etas]
    c = train_grid(protocol, data, configs, seeds, iterations)
    scores = c.mean(axis=(1, 2))
    return float(configs[int(np.argmax(scores))].eta), scores


def optimiser_runs(protocol: Protocol, data: CountedData, configs: Sequence[Config], seeds: Sequence[int],
                   iterations: int | None = None) -> np.ndarray:
    """Curves (n_configs, n_seeds, T) of the given configurations on the evaluation seeds."""
    return train_grid(protocol, data, configs, seeds, iterations)

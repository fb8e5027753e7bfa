"""Learning-rate sweeps, explicit optimisers against depth, and the updated protocol with 20 seeds.

* :func:`rate_sweep` trains every (eta, depth, run) of a protocol in batches (one
  learning rate per model) and :func:`sweep_summary` condenses it: final LLH,
  median updates to close 90 % of the gap (:mod:`spnlib.stats.speedup`: the target is
  the best (eta, depth)'s median final value), and the largest single-update drop of
  the curves (overshooting).
* :func:`tune_rate` picks an optimiser's learning rate on *tuning* seeds (the
  largest mean train LLH averaged over all iterations, i.e. area under the curve),
  and :func:`optimiser_runs` trains the tuned configurations on separate
  *evaluation* seeds; :func:`optimiser_study` does both for every (rule, depth),
  deep networks included, and measures the speed-ups with the book's estimator.
* :func:`updated_study`: the authors' updated script on NLTCS, Plants and Audio with
  20 seeds, train and test LLH, speed-ups of every depth over L = 1.

Defined in the book's chapter "Beyond the single figure".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.checks import check_eta
from spnlib.data.counted import CountedData
from spnlib.data.debd import load_counted
from spnlib.experiment.protocols import Curves, Protocol, get_protocol, initial_params, run_protocol, structure
from spnlib.experiment.training import Optimiser, train
from spnlib.numeric.batched import MixtureBatch
from spnlib.stats.speedup import (
    Acceleration,
    GapRow,
    SpeedUp,
    acceleration,
    gap_ends,
    gap_table,
    iterations_to_fraction,
    lower_median,
    speedups,
)
from spnlib.tolerances import GAP_FRACTIONS

__all__ = ["train_grid", "rate_sweep", "SweepSummary", "sweep_summary", "Config", "tune_rate", "optimiser_runs",
           "OptimiserStudy", "optimiser_study", "OPTIMISER_GRIDS", "UpdatedStudy", "updated_study",
           "UPDATED_DATASETS"]


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
    needed_median : median updates (the ceil(n/2)-th smallest) to close 90 % of the gap from the mean
        initial value to the best (eta, depth)'s median final value (inf if fewer than half the runs do).
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
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 4:
        raise ValueError(f"curves must be (n_eta, n_depth, runs, T), got shape {c.shape}")
    flat = c.reshape(-1, *c.shape[2:])
    start, end = gap_ends(flat, "best")
    initial, best = float(start[0, 0]), float(end[0, 0])
    needed = np.array([iterations_to_fraction(runs, initial, best, fraction) for runs in flat]).reshape(c.shape[:3])
    drops = np.maximum(-np.diff(c, axis=-1), 0.0).max(axis=-1)
    return SweepSummary(np.asarray(etas, dtype=float), tuple(int(L) for L in depths), c[..., -1].mean(axis=-1),
                        lower_median(needed, axis=-1), np.isfinite(needed).mean(axis=-1), np.median(drops, axis=-1),
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


# ------------------------------------------------------------------ optimisers on every depth
OPTIMISER_GRIDS = {"projected": tuple(np.logspace(-3, 0, 7)), "momentum": tuple(np.logspace(-4, -1, 7)),
                   "adam": tuple(np.logspace(-4, -1, 7))}
"""Learning-rate grids (half decades) the optimiser study tunes on."""


@dataclass(frozen=True)
class OptimiserStudy:
    """Every (rule, depth) at its rate tuned on held-out seeds, trained on the evaluation seeds.

    Attributes
    ----------
    configs : tuple of Config
        The tuned configurations; ``configs[0]`` is the reference of :meth:`speedups`.
    scores : ndarray (configs, etas)
        The tuning criterion (mean train LLH over the tuning seeds and all iterations) per rate.
    grids : tuple of ndarray
        Each configuration's grid.
    curves : ndarray (configs, seeds, T)
        Train LLH on the evaluation seeds (run r of every configuration uses seed ``seeds[r]``).
    """

    protocol: Protocol
    configs: tuple[Config, ...]
    grids: tuple[np.ndarray, ...]
    scores: np.ndarray
    tuning_seeds: tuple[int, ...]
    seeds: tuple[int, ...]
    curves: np.ndarray

    def at_grid_edge(self) -> list[bool]:
        return [c.eta in (g[0], g[-1]) for c, g in zip(self.configs, self.grids)]

    def gap_rows(self, fractions: Sequence[float] = GAP_FRACTIONS) -> tuple[list[GapRow], float, float]:
        """Median updates to each share of the gap to the best configuration's median final value."""
        return gap_table(self.curves, list(range(len(self.configs))), fractions)

    def speedups(self, fraction: float = GAP_FRACTIONS[0], reference: int = 0) -> list[SpeedUp]:
        """Speed-up of every configuration over ``configs[reference]`` (paired by seed)."""
        start, end = gap_ends(self.curves, "best")
        times = np.array([iterations_to_fraction(c, a, b, fraction) for c, a, b in zip(self.curves, start, end)])
        return speedups(times, self.curves.shape[2] - 1, reference, fraction)


def optimiser_study(protocol: Protocol, data: CountedData, rules: Sequence[str] = ("projected", "momentum", "adam"),
                    depths: Sequence[int] = (1, 2, 3), grids: dict[str, Sequence[float]] | None = None,
                    tuning_seeds: Sequence[int] = range(100, 105), seeds: Sequence[int] = range(20),
                    iterations: int | None = None) -> OptimiserStudy:
    """Tune every (rule, depth) with :func:`tune_rate` on ``tuning_seeds``, train it on ``seeds``.

    The configurations are ordered by rule, then depth; the first is the reference.
    """
    if set(seeds) & set(tuning_seeds):
        raise ValueError("tuning seeds must be held out from the evaluation seeds")
    grids = dict(OPTIMISER_GRIDS if grids is None else grids)
    configs, used, scores = [], [], []
    for rule in rules:
        for L in depths:
            eta, score = tune_rate(protocol, data, rule, int(L), grids[rule], tuning_seeds, iterations)
            configs.append(Config(rule, eta, int(L)))
            used.append(np.asarray(grids[rule], dtype=float))
            scores.append(score)
    curves = optimiser_runs(protocol, data, configs, seeds, iterations)
    width = max(len(s) for s in scores)
    table = np.array([np.pad(s, (0, width - len(s)), constant_values=np.nan) for s in scores])
    return OptimiserStudy(protocol, tuple(configs), tuple(used), table, tuple(tuning_seeds), tuple(seeds), curves)


# ------------------------------------------------------------------ the updated protocol, 20 seeds
UPDATED_DATASETS = ("nltcs", "plants", "baudio")
"""The datasets of the authors' updated script."""


@dataclass(frozen=True)
class UpdatedStudy:
    """The updated protocol on several datasets: ``curves[name]`` holds train and test curves."""

    curves: dict[str, Curves]

    def _c(self, name: str, which: str) -> np.ndarray:
        if which not in ("train", "test"):
            raise ValueError(f"which must be 'train' or 'test', got {which!r}")
        c = self.curves[name].train if which == "train" else self.curves[name].test
        if c is None:
            raise ValueError(f"no {which} curves for {name}")
        return c

    def gap_rows(self, name: str, which: str = "train", target: str = "best") -> tuple[list[GapRow], float, float]:
        return gap_table(self._c(name, which), self.curves[name].depths, GAP_FRACTIONS, target)

    def speedups(self, name: str, which: str = "train", fraction: float = GAP_FRACTIONS[0],
                 target: str = "best") -> list[Acceleration]:
        """Speed-up of every depth over L = 1 on ``which`` LLH (train or test)."""
        return acceleration(self._c(name, which), self.curves[name].depths, fraction, target=target)


def updated_study(datasets: Sequence[str] = UPDATED_DATASETS, depths: Sequence[int] = (1, 2, 3), runs: int = 20,
                  seed: int = 0, iterations: int | dict[str, int] | None = None,
                  data: dict[str, tuple[CountedData, CountedData]] | None = None) -> UpdatedStudy:
    """Run the authors' updated protocol (its own eta, not tuned) with ``runs`` seeds per depth.

    ``iterations`` is one number for every dataset or a mapping dataset -> iterations (datasets it
    omits keep the protocol's 1,000): a lighter run can shorten only the costly datasets.
    ``data`` maps a dataset to (train, test); by default both are loaded with :func:`load_counted`.
    """
    proto = get_protocol("updated")
    per = iterations if isinstance(iterations, dict) else {name: iterations for name in datasets}
    unknown = set(per) - set(datasets)
    if unknown:
        raise ValueError(f"iterations given for datasets not in the study: {sorted(unknown)}")
    out = {}
    for name in datasets:
        train_data, test_data = (data or {}).get(name) or (load_counted(name, "train"), load_counted(name, "test"))
        T = per.get(name)
        p = proto if T is None else proto.with_changes(iterations=int(T))
        out[name] = run_protocol(p, train_data, depths, dataset=name, runs=runs, seed=seed, test=test_data)
    return UpdatedStudy(out)

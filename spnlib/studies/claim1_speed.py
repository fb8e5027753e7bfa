"""Claim 1 of the verification chapter: random deep SPNs as mixtures of their induced trees, and
the speed test against a baseline of the *same function class*.

* :func:`claim1_study`: the trees' sharing of weights, the step-for-step equality of gradient
  ascent on the SPN and on its tree weights, and :func:`claim1_speed`;
* :func:`claim1_speed`: each random SPN against its overparameterized version (and the SPN under
  Adam or momentum), rates tuned on held-out SPNs, speed-ups with the book's estimator
  (:mod:`spnlib.stats.speedup`) to 90 % and 99 % of the gap to an EM optimum.

Moved out of :mod:`spnlib.studies.verification` (which re-exports its public names) to keep each
module readable in one sitting.

Defined in the book's chapter "Numerical verification of the dynamics".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.numeric.evaluate import log_value
from spnlib.stats.speedup import SpeedUp, iterations_to_fraction, lower_median, speedups
from spnlib.structure.builders import random_spn
from spnlib.studies.claim1 import (
    ARMS,
    Arm,
    TreeMixture,
    em_reference,
    overparameterize,
    sharing_summary,
    step_equality,
    train_arms,
    tree_step,
)

__all__ = ["CLAIM1_GRIDS", "CLAIM1_LEAN", "SMALL_STEP", "Claim1Speed", "Claim1Study", "claim1_speed",
           "claim1_study"]

CLAIM1_GRIDS = {"gradient": tuple(10.0 ** np.arange(-2, 2.01, 0.5)),
                "momentum": tuple(10.0 ** np.arange(-3, 1.01, 0.5)),
                "adam": tuple(10.0 ** np.arange(-3, 0.01, 0.5))}
"""Learning-rate grids of the Claim 1 speed test, per update rule (half decades)."""

CLAIM1_LEAN = {"arms": tuple(a for a in ARMS if a.rule != "momentum"),
               "grids": {"gradient": tuple(10.0 ** np.arange(-1, 1.51, 0.5)),
                         "adam": tuple(10.0 ** np.arange(-1.5, 0.01, 0.5))},
               "n_steps": 200, "em_tol": 1e-7}
"""Light keyword arguments of :func:`claim1_speed` / :func:`claim1_study` for the book and the report:
the default 20 evaluation and 5 tuning SPNs, but no momentum arm, grids narrowed to the region where
the default grids' tuned rates lie (gradient ascent 0.1-31.6, Adam 0.03-1, half decades) and a horizon
of 200 updates instead of 300 (every arm's median time to 90 % of the gap is at most 113 updates), and
the EM reference stopped once a step gains less than 1e-7 nats instead of 1e-9 (its level moves by at
most 2e-5 nats, a thousandth of the distance between the 99 % target and the EM level).
Measured in the verification chapter's notes; against about 2,200 s for the full study with its
small-step regime."""

SMALL_STEP = 0.1
"""The claim's "small eta", made concrete: no parameter changes by more than this share of its
value in any of the first 20 updates (on every tuning SPN), and the projection clips nothing then."""


@dataclass(frozen=True)
class Claim1Speed:
    """The Claim 1 speed test on one kind of random SPN: every arm at its tuned learning rate.

    Attributes
    ----------
    kind : str
        "shared" (DAGs) or "tree-shaped".
    regime : str
        "tuned" (any step size) or "small steps" (only rates that keep :data:`SMALL_STEP`).
    arms : tuple of Arm
        ``arms[0]`` is the reference (the SPN under plain gradient ascent).
    tuned_eta : ndarray (arms,)
        The rate each arm uses, chosen on the tuning SPNs.
    at_grid_edge : ndarray of bool (arms,)
    curves : ndarray (arms, seeds, T + 1)
        Mean train LLH on the evaluation SPNs.
    start, reference : ndarray (seeds,)
        Each SPN's initial LLH (shared by every arm) and its EM level (:func:`em_reference`).
    clipped, early_step : ndarray (arms, seeds)
    """

    kind: str
    regime: str
    arms: tuple[Arm, ...]
    tuned_eta: np.ndarray
    at_grid_edge: np.ndarray
    curves: np.ndarray
    start: np.ndarray
    reference: np.ndarray
    clipped: np.ndarray
    early_step: np.ndarray

    def times(self, fraction: float) -> np.ndarray:
        """(arms, seeds): first update closing ``fraction`` of the gap from the start to the EM level."""
        return np.array([iterations_to_fraction(c, self.start, self.reference, fraction) for c in self.curves])

    def speedups(self, fraction: float) -> list[SpeedUp]:
        """Speed-up of every arm over ``arms[0]`` (:func:`spnlib.stats.speedup.speedups`, paired by SPN)."""
        return speedups(self.times(fraction), self.curves.shape[2] - 1, 0, fraction)


def _score(curves: np.ndarray, start: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """Tuning score of one (arm, eta) from its curves on the tuning SPNs (smaller is better): the
    median updates to 99 %, then to 90 % of the gap (censored runs count as never), then minus
    the mean LLH over all runs and updates."""
    t99, t90 = (float(lower_median(iterations_to_fraction(curves, start, reference, q))) for q in (0.99, 0.9))
    return t99, t90, -float(curves.mean())


def _spns(data: CountedData, seeds: Sequence[int], kind: str, depth: int, n_sums: int):
    return [random_spn(data.n_variables, s, depth=depth, n_sums=n_sums, shared=kind == "shared", leaf="bernoulli")
            for s in seeds]


def claim1_speed(data: CountedData, kind: str = "shared", seeds: Sequence[int] = range(20),
                 tuning_seeds: Sequence[int] = range(1000, 1005), arms: Sequence[Arm] = ARMS,
                 grids: dict[str, Sequence[float]] | None = None, n_steps: int = 300,
                 regimes: dict[str, int] | None = None, depth: int = 2, n_sums: int = 2,
                 em_tol: float = 1e-9) -> dict[str, Claim1Speed]:
    """The Claim 1 speed test: random SPNs against their overparameterized versions (same function class).

    Each arm's rate is tuned on the ``tuning_seeds`` SPNs (held out from the evaluation
    ``seeds``) by :func:`_rank` over its rule's grid, then every arm trains every
    evaluation SPN. ``regimes`` maps a regime ("tuned", "small steps") to its horizon
    (default: ``{"tuned": n_steps}``); "small steps" keeps only rates that satisfy
    :data:`SMALL_STEP` on the tuning SPNs (the claim's condition) and picks the best of those.
    ``em_tol`` is the EM reference's stopping tolerance (:func:`em_reference`: stop once a step gains less).
    """
    if kind not in ("shared", "tree-shaped"):
        raise ValueError(f"kind must be 'shared' or 'tree-shaped', got {kind!r}")
    if set(seeds) & set(tuning_seeds):
        raise ValueError("tuning seeds must be held out from the evaluation seeds")
    regimes = {"tuned": n_steps} if regimes is None else dict(regimes)
    unknown = set(regimes) - {"tuned", "small steps"}
    if unknown:
        raise ValueError(f"unknown regimes {sorted(unknown)}; use 'tuned' and/or 'small steps'")
    grid_of = {r: np.asarray(g, dtype=float) for r, g in (CLAIM1_GRIDS if grids is None else grids).items()}
    arms = tuple(arms)
    configs = [(a, float(e)) for a in arms for e in grid_of[a.rule]]
    tuning_runs, early, starts, levels_tuning = [], [], [], []
    for spn in _spns(data, tuning_seeds, kind, depth, n_sums):
        m = TreeMixture(spn, data)
        c, _, e = train_arms(m, overparameterize(spn), configs, n_steps)
        tuning_runs.append(c)
        early.append(e)
        starts.append(c[0, 0])
        levels_tuning.append(em_reference(m, spn.weights(), tol=em_tol)[0])
    tuning = np.array(tuning_runs).transpose(1, 0, 2)                       # (configs, tuning SPNs, T + 1)
    small = np.all(np.array(early) <= SMALL_STEP, axis=0)             # (configs,)
    scores = [_score(c, np.array(starts), np.array(levels_tuning)) for c in tuning]
    chosen: dict[str, list[float]] = {}
    edges: dict[str, list[bool]] = {}
    for regime in regimes:
        chosen[regime], edges[regime] = [], []
        for arm in arms:
            idx = [i for i, (a, _) in enumerate(configs) if a is arm]
            if regime == "small steps":
                idx = [i for i in idx if small[i]] or idx[:1]         # none small: the smallest rate
            best = min(idx, key=lambda i: scores[i])
            chosen[regime].append(configs[best][1])
            grid = grid_of[arm.rule]
            edges[regime].append(bool(configs[best][1] in (grid[0], grid[-1])))
    out = {}
    evals = [(spn, TreeMixture(spn, data)) for spn in _spns(data, seeds, kind, depth, n_sums)]
    levels = np.array([em_reference(m, spn.weights(), tol=em_tol)[0] for spn, m in evals])
    for regime, horizon in regimes.items():
        cs, cl, es = [], [], []
        for spn, m in evals:
            c, clipped, first = train_arms(m, overparameterize(spn), list(zip(arms, chosen[regime])), horizon)
            cs.append(c)
            cl.append(clipped)
            es.append(first)
        curves = np.array(cs).transpose(1, 0, 2)
        out[regime] = Claim1Speed(kind, regime, arms, np.array(chosen[regime]), np.array(edges[regime]), curves,
                                  curves[0, :, 0].copy(), levels, np.array(cl).T, np.array(es).T)
    return out


@dataclass(frozen=True)
class Claim1Study:
    """Random deep SPNs (``kind``: "shared" DAGs or "tree-shaped") as mixtures of trees, and the speed test.

    ``sharing[kind]``, ``value_residual[kind]``, ``step_residual[kind]`` and ``own_share[kind]``
    hold one entry per SPN of the identity checks; ``speed[kind][regime]`` is a :class:`Claim1Speed`.
    """

    seeds: tuple[int, ...]
    sharing: dict[str, list[dict]]
    value_residual: dict[str, list[float]]
    step_residual: dict[str, list[np.ndarray]]
    own_share: dict[str, list[float]]
    speed: dict[str, dict[str, Claim1Speed]]

    def summary(self, fractions: Sequence[float] = (0.9, 0.99)) -> dict[str, dict]:
        """Per kind: the identity checks' largest residuals, the sharing statistics, and per regime
        and arm the speed-up over plain gradient ascent on the SPN (``speedup[regime][arm][q]``:
        a :class:`~spnlib.stats.speedup.SpeedUp`), with the tuned rates."""
        out = {}
        for kind in self.sharing:
            entry: dict = {
                "n_spns": len(self.seeds),
                "value_residual_max": max(self.value_residual[kind]),
                "step_residual_max": max(float(r.max()) for r in self.step_residual[kind]),
                "n_trees": [s["n_trees"] for s in self.sharing[kind]],
                "rank_over_n_trees_max": max(s["rank"] / s["n_trees"] for s in self.sharing[kind]),
                "private_fraction_max": max(s["private_fraction"] for s in self.sharing[kind]),
                "own_gradient_share_mean": float(np.mean(self.own_share[kind])),
                "speedup": {}, "tuned_eta": {}, "at_grid_edge": {},
            }
            for regime, sp in self.speed.get(kind, {}).items():
                ups = {q: sp.speedups(q) for q in fractions}
                entry["speedup"][regime] = {a.name: {q: ups[q][i] for q in fractions} for i, a in enumerate(sp.arms)}
                entry["tuned_eta"][regime] = {a.name: float(e) for a, e in zip(sp.arms, sp.tuned_eta)}
                entry["at_grid_edge"][regime] = {a.name: bool(e) for a, e in zip(sp.arms, sp.at_grid_edge)}
            out[kind] = entry
        return out


def claim1_study(data: CountedData, seeds: Sequence[int] = range(20), tuning_seeds: Sequence[int] = range(1000, 1005),
                 depth: int = 2, n_sums: int = 2, n_steps: int = 300, regimes: dict[str, int] | None = None,
                 kinds: Sequence[str] = ("shared", "tree-shaped"), identity_seeds: Sequence[int] = range(8),
                 equality_eta: float = 0.02, equality_steps: int = 10, arms: Sequence[Arm] = ARMS,
                 grids: dict[str, Sequence[float]] | None = None, em_tol: float = 1e-9) -> Claim1Study:
    """The identity checks on ``identity_seeds`` SPNs and the speed test (:func:`claim1_speed`) per kind."""
    sharing: dict[str, list[dict]] = {}
    value_res: dict[str, list[float]] = {}
    step_res: dict[str, list[np.ndarray]] = {}
    own: dict[str, list[float]] = {}
    speed: dict[str, dict[str, Claim1Speed]] = {}
    for kind in kinds:
        sharing[kind], value_res[kind], step_res[kind], own[kind] = [], [], [], []
        for spn in _spns(data, identity_seeds, kind, depth, n_sums):
            m = TreeMixture(spn, data)
            theta = spn.weights()
            sharing[kind].append(sharing_summary(m))
            value_res[kind].append(float(np.max(np.abs(m.log_values(m.tree_weights(theta))
                                                        - log_value(spn, data.rows, theta)))))
            step_res[kind].append(step_equality(m, equality_eta, equality_steps))
            parts = tree_step(m, theta, 1e-6)
            own[kind].append(float(np.linalg.norm(parts["own"]) / np.linalg.norm(parts["first_order"])))
        if seeds:
            speed[kind] = claim1_speed(data, kind, seeds, tuning_seeds, arms, grids, n_steps, regimes, depth, n_sums,
                                       em_tol)
    return Claim1Study(tuple(identity_seeds), sharing, value_res, step_res, own, speed)

"""The verification chapter's studies, as data-returning functions with verdict summaries.

Each study runs with the chapter's settings by default and returns its raw
results (for plots) together with a ``summary()`` of the numbers the chapter's
verdict rests on, so that a reproducibility report can recompute them:

* :func:`first_order_slopes`: one-step error vs eta, fitted log-log slopes per form;
* :func:`observation1_study`: many-step runs, the Eq. 14 reconstruction and the
  explicit adaptive-momentum optimiser, plus the initial-scale regimes;
* :func:`claim1_study`: random deep SPNs as mixtures of induced trees, the
  step-for-step equality and the speed comparison with the free mixture.

Defined in the book's chapter "Numerical verification of the dynamics".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.numeric.evaluate import log_value
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.structure.builders import random_spn
from spnlib.structure.decomposition import Decomposition, balanced, random_decomposition, released
from spnlib.studies.claim1 import (
    SpeedResult,
    TreeMixture,
    sharing_summary,
    speed_comparison,
    step_equality,
    tree_step,
)
from spnlib.studies.dynamics import SlopeStudy, slope_study
from spnlib.studies.observation1 import (
    MomentumForm,
    OverparameterizedRun,
    ShallowRun,
    adaptive_momentum_ascent,
    coefficients,
    component_groups,
    drift,
    fit_rho_lambda,
    near_zero_params,
    train_overparameterized,
)

__all__ = [
    "SLOPE_STRUCTURES",
    "Claim1Study",
    "Observation1Study",
    "claim1_study",
    "first_order_slopes",
    "observation1_study",
    "regime_table",
    "slope_summary",
]

SLOPE_STRUCTURES = {
    "Fig. 2 (2, 2)": balanced((2, 2)),
    "L = 3 (2, 2, 2)": released(3),
    "L = 4 (2, 2, 2, 2)": balanced((2, 2, 2, 2)),
    "unbalanced, K = 8": lambda seed: random_decomposition(8, seed),
}
"""The decompositions of the one-step study (the unbalanced one is redrawn per seed)."""


def first_order_slopes(data: CountedData, seeds: Sequence[int] = range(5), **kw) -> SlopeStudy:
    """The one-step study on :data:`SLOPE_STRUCTURES` with random weights (see :func:`slope_study`)."""
    return slope_study(SLOPE_STRUCTURES, data, seeds, **kw)


def slope_summary(study: SlopeStudy) -> dict[str, dict[str, tuple[float, float, float]]]:
    """``{structure: {form: (mean slope, 95 % low, 95 % high)}}`` over seeds."""
    return {s: {f: study.slope(s, f).as_tuple() for f in study.forms} for s in study.structures}


@dataclass(frozen=True)
class Observation1Study:
    """Runs of decomposed mixtures, their Eq. 14 schedules and the explicit optimiser's runs.

    Attributes
    ----------
    runs : dict
        ``runs[name]`` is an :class:`~spnlib.studies.observation1.OverparameterizedRun`.
    forms : dict
        ``forms[(name, variant)]`` is the :class:`~spnlib.studies.observation1.MomentumForm`.
    shallow : dict
        ``shallow[(name, variant)]`` is the explicit optimiser's
        :class:`~spnlib.studies.observation1.ShallowRun` with that schedule.
    fits : dict
        ``fits[name] = (rho, lambda, residual)`` per group; ``scalar_fits[name]``
        the same with one coefficient pair shared by all components.
    """

    runs: dict[str, OverparameterizedRun]
    forms: dict[tuple[str, str], MomentumForm]
    shallow: dict[tuple[str, str], ShallowRun]
    fits: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    scalar_fits: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    variants: tuple[str, ...] = field(default=())

    def summary(self) -> dict[str, dict]:
        """Per structure: residuals of the reconstruction and drift of every schedule."""
        out = {}
        for name, run in self.runs.items():
            exact = self.forms[(name, "exact")]
            parts = exact.terms(run.shallow_grads)
            dw = np.linalg.norm(np.diff(run.weights, axis=0), axis=1)
            entry = {
                "eta": run.eta, "n_steps": run.n_steps, "max_relative_step": float(run.relative_steps().max()),
                "llh_start": float(run.llh[0]), "llh_end": float(run.llh[-1]),
                "eq14_exact_residual_max": float(exact.residual(run.weights, run.shallow_grads).max()),
                "group_fit_residual_max": float(self.fits[name][2].max()),
                "scalar_fit_residual_median": float(np.median(self.scalar_fits[name][2])),
                "share_of_change": {k: float(np.mean(np.linalg.norm(v, axis=1) / dw)) for k, v in parts.items()},
            }
            for v in self.variants:
                s = self.shallow[(name, v)]
                entry[f"drift[{v}]"] = float(drift(run.weights, s.weights)[-1])
                entry[f"stopped_at[{v}]"] = s.stopped_at
                entry[f"llh_gap[{v}]"] = float(s.llh[-1] - run.llh[len(s.llh) - 1])
            out[name] = entry
        return out


def observation1_study(data: CountedData, structures: dict[str, Decomposition] | None = None,
                       scale: float = 0.3, eta: float = 1e-3, n_steps: int = 500, seed: int = 0,
                       variants: Sequence[str] = ("exact", "first order", "printed (Eq. 13)", "exact, no carry",
                                                  "plain gradient")) -> Observation1Study:
    """Train each decomposition from layer weights ~ ``scale``, reconstruct Eq. 14, replay it shallowly."""
    structures = {"L = 2": released(2), "L = 3": released(3)} if structures is None else structures
    runs, forms, shallow, fits, scalar = {}, {}, {}, {}, {}
    for name, dec in structures.items():
        run = train_overparameterized(dec, data, near_zero_params(dec, data.n_variables, scale, seed), eta, n_steps)
        runs[name] = run
        start = MixtureParams(run.initial.leaf, (run.weights[0],))
        for v in variants:
            forms[(name, v)] = coefficients(run, v)
            shallow[(name, v)] = adaptive_momentum_ascent(data, start, forms[(name, v)], eta, on_invalid="stop")
        fits[name] = fit_rho_lambda(run.weights, run.shallow_grads, component_groups(dec))
        scalar[name] = fit_rho_lambda(run.weights, run.shallow_grads, [np.arange(dec.n_components)])
    return Observation1Study(runs, forms, shallow, fits, scalar, tuple(variants))


def regime_table(data: CountedData, decomposition: Decomposition, settings: Sequence[tuple[float, float]],
                 n_steps: int, seed: int = 0) -> list[dict]:
    """For each (initial scale, eta): the relative step, when (if) a weight turns <= 0, and
    how much of the change of w comes from the initial-weight carry of Eq. 14.

    ``first_relative_step`` is max |eta g_l / u_l| at the start (also when that step is not taken).
    """
    rows = []
    model = FactorisedMixture(decomposition, data.n_variables)
    for scale, eta in settings:
        start = near_zero_params(decomposition, data.n_variables, scale, seed)
        _, grad = model.llh_and_grad(start, data)
        run = train_overparameterized(decomposition, data, start, eta, n_steps, on_invalid="stop")
        row = {"scale": scale, "eta": eta, "stopped_at": run.stopped_at, "steps_run": run.n_steps,
               "llh_end": float(run.llh[-1]),
               "first_relative_step": float(max(np.max(np.abs(eta * g / u)) for g, u in zip(grad.layers,
                                                                                             start.layers)))}
        if run.n_steps >= 1:
            dw = np.linalg.norm(np.diff(run.weights, axis=0), axis=1)
            carry = np.linalg.norm(coefficients(run, "exact").carry, axis=1)
            row.update(max_relative_step=float(run.relative_steps().max()), carry_share=float(np.mean(carry / dw)))
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Claim1Study:
    """Random deep SPNs (``shared``: DAGs with shared sub-networks, or trees) as mixtures of trees.

    ``sharing[kind]``, ``value_residual[kind]``, ``step_residual[kind]`` and
    ``own_share[kind]`` hold one entry per SPN; ``speed[kind]`` is a
    :class:`~spnlib.studies.claim1.SpeedResult`. ``kind`` is "shared" or "tree-shaped".
    """

    seeds: tuple[int, ...]
    sharing: dict[str, list[dict]]
    value_residual: dict[str, list[float]]
    step_residual: dict[str, list[np.ndarray]]
    own_share: dict[str, list[float]]
    speed: dict[str, SpeedResult]

    def summary(self, fractions: Sequence[float] = (0.9, 0.99)) -> dict[str, dict]:
        """Per kind: the largest residuals, sharing statistics and the speed ratios with intervals."""
        out = {}
        for kind in self.speed:
            sp = self.speed[kind]
            final_deep, final_free = sp.final_best()
            entry = {
                "n_spns": len(self.seeds),
                "value_residual_max": max(self.value_residual[kind]),
                "step_residual_max": max(float(r.max()) for r in self.step_residual[kind]),
                "n_trees": [s["n_trees"] for s in self.sharing[kind]],
                "rank_over_n_trees_max": max(s["rank"] / s["n_trees"] for s in self.sharing[kind]),
                "private_fraction_max": max(s["private_fraction"] for s in self.sharing[kind]),
                "own_gradient_share_mean": float(np.mean(self.own_share[kind])),
                "final_llh_deep_minus_free": (float(np.min(final_deep - final_free)),
                                              float(np.max(final_deep - final_free))),
            }
            for q in fractions:
                iv, unfinished = sp.deep_speedup(q)
                entry[f"deep_speedup@{q}"] = None if iv is None else (iv.estimate, iv.low, iv.high)
                entry[f"unfinished@{q}"] = unfinished
            out[kind] = entry
        return out


def claim1_study(data: CountedData, seeds: Sequence[int] = range(8), depth: int = 2, n_sums: int = 2,
                 etas_deep: Sequence[float] = tuple(0.1 * np.sqrt(10) ** np.arange(7)),
                 etas_free: Sequence[float] = tuple(0.003 * np.sqrt(10) ** np.arange(8)),
                 n_steps: int = 120, equality_eta: float = 0.02, equality_steps: int = 10,
                 route: str = "trees") -> Claim1Study:
    """Enumerate, check and train random deep SPNs with Bernoulli leaves on ``data``."""
    sharing: dict[str, list[dict]] = {}
    value_res: dict[str, list[float]] = {}
    step_res: dict[str, list[np.ndarray]] = {}
    own: dict[str, list[float]] = {}
    speed: dict[str, SpeedResult] = {}
    for kind, shared in (("shared", True), ("tree-shaped", False)):
        spns = [random_spn(data.n_variables, s, depth=depth, n_sums=n_sums, shared=shared, leaf="bernoulli")
                for s in seeds]
        sharing[kind], value_res[kind], step_res[kind], own[kind] = [], [], [], []
        for spn in spns:
            m = TreeMixture(spn, data)
            theta = spn.weights()
            sharing[kind].append(sharing_summary(m))
            value_res[kind].append(float(np.max(np.abs(m.log_values(m.tree_weights(theta))
                                                        - log_value(spn, data.rows, theta)))))
            step_res[kind].append(step_equality(m, equality_eta, equality_steps))
            parts = tree_step(m, theta, 1e-6)
            own[kind].append(float(np.linalg.norm(parts["own"]) / np.linalg.norm(parts["first_order"])))
        speed[kind] = speed_comparison(spns, data, etas_deep, etas_free, n_steps, route=route)
    return Claim1Study(tuple(seeds), sharing, value_res, step_res, own, speed)

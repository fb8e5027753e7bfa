"""The verification chapter's studies, as data-returning functions with verdict summaries.

Each study runs with the chapter's settings by default and returns its raw
results (for plots) together with a ``summary()`` of the numbers the chapter's
verdict rests on, so that a reproducibility report can recompute them:

* :func:`first_order_slopes`: one-step error vs eta, fitted log-log slopes per form;
* :func:`observation1_study`: many-step runs, the Eq. 14 reconstruction and the
  explicit adaptive-momentum optimiser (a replay: its schedule is read off the run), plus the
  initial-scale regimes;
* :func:`end_to_end_study`: Observation 1 without that circularity: the end-to-end optimiser
  (conservation laws, :mod:`spnlib.studies.end_to_end`) against gradient ascent on the layers,
  over several eta at a fixed time eta T, from a balanced and from the released start;
* :func:`claim1_study` and :func:`claim1_speed` (defined in :mod:`spnlib.studies.claim1_speed`,
  re-exported here): random deep SPNs as mixtures of induced trees, and the speed test against a
  baseline of the *same function class*.

Defined in the book's chapter "Numerical verification of the dynamics".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.structure.decomposition import Decomposition, balanced, random_decomposition, released
from spnlib.studies.claim1_speed import (  # re-exported: the chapter and the report read them here
    CLAIM1_GRIDS,
    CLAIM1_LEAN,
    SMALL_STEP,
    Claim1Speed,
    Claim1Study,
    claim1_speed,
    claim1_study,
)
from spnlib.studies.dynamics import SlopeStudy, slope_study
from spnlib.studies.end_to_end import Tracking, balanced_start, noether_residual, tracking
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
from spnlib.symbolic.conservation import heights

__all__ = [
    "CLAIM1_GRIDS",
    "CLAIM1_LEAN",
    "SLOPE_STRUCTURES",
    "OBS1_STRUCTURES",
    "OBS1_ETAS",
    "OBS1_TRAINED_ETAS",
    "OBS1_LEAN",
    "SMALL_STEP",
    "Claim1Speed",
    "Claim1Study",
    "EndToEndStudy",
    "Observation1Study",
    "claim1_speed",
    "claim1_study",
    "end_to_end_study",
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


OBS1_STRUCTURES = {
    "Fig. 2 (2, 2)": balanced((2, 2)),
    "L = 2 (2, 4)": released(2),
    "L = 3 (2, 2, 2)": released(3),
    "unbalanced, K = 8": random_decomposition(8, 8),
}
"""The decompositions of the end-to-end study (the unbalanced one has a component under the root)."""

OBS1_ETAS = (0.1, 0.03, 0.01, 0.003, 0.001)
"""Learning rates of the end-to-end study in units of the initial scale squared (eta / s^2)."""

OBS1_TRAINED_ETAS = (0.01, 0.003, 0.001)
"""Learning rates with the leaves trained (absolute, layer scale 1, over a time 0.5: the flow itself drives
a weight of the unbalanced tree's balanced start to 0 at a time of about 0.84)."""

OBS1_STARTS = ("balanced", "released")

OBS1_LEAN = {"etas": (0.03, 0.01, 0.003), "time": 1.0, "trained_etas": (0.01, 0.003), "trained_time": 0.3}
"""Light keyword arguments of :func:`end_to_end_study` for the book and the report
(``end_to_end_study(data, **OBS1_LEAN)``): every structure and start, three etas over one decade at
eta T = 1 s^2 (fixed leaves) and two etas at eta T = 0.3 (trained leaves), about 470 and 130 steps per
run instead of 4,430 and 1,300. About 14 CPU s instead of about 330 s; the same conclusions, with the
margins measured in the verification chapter (slopes 0.97-1.01, deviation at the smallest eta at most
1.3e-4, i.e. 8 times below :data:`~spnlib.tolerances.TRACKING_RTOL`). The runs move w by 4-36 %
(fixed leaves) instead of 13-75 %."""


def _start_layers(dec: Decomposition, start: str, scale: float, seed: int) -> list[np.ndarray]:
    if start == "balanced":
        return balanced_start(dec, scale, seed)
    if start == "released":
        return dec.constant_layer_weights(scale)
    raise ValueError(f"unknown start {start!r}; choose from {OBS1_STARTS}")


@dataclass(frozen=True)
class EndToEndStudy:
    """The end-to-end optimiser against gradient ascent on the layers, per structure and start.

    Attributes
    ----------
    scale : float
        Initial scale s of the layer weights (1; equivalent to the released code's 1e-4 on the
        balanced trees); learning rates and the time are eta = s^2 * ``etas`` and eta T = s^2 * ``time``.
    fixed : dict
        ``fixed[(structure, start)]``: :class:`~spnlib.studies.end_to_end.Tracking` with the leaves fixed.
    trained : dict
        The same with the leaves trained (same eta for every weight), at layer scale ``leaf_scale``,
        with ``trained_etas`` (absolute) over ``trained_time``.
    noether : dict
        ``noether[structure]``: the largest :func:`~spnlib.studies.end_to_end.noether_residual` at the
        starts (the laws' identity with the numeric core's gradient).
    """

    scale: float
    leaf_scale: float
    etas: tuple[float, ...]
    time: float
    trained_etas: tuple[float, ...]
    trained_time: float
    fixed: dict[tuple[str, str], Tracking]
    trained: dict[tuple[str, str], Tracking]
    noether: dict[str, float]

    def summary(self) -> dict[str, dict]:
        """Per "structure | start | leaves": deviation at the smallest eta and the fitted slopes."""
        out = {}
        for leaves, table in (("fixed", self.fixed), ("trained", self.trained)):
            for (name, start), tr in table.items():
                entry = {"deviation_max": float(tr.deviation.max()), "deviation_min_eta": float(tr.deviation[-1]),
                         "llh_gap_min_eta": float(tr.llh_gap[-1]), "movement": float(tr.movement[-1]),
                         "llh_gain": float(tr.llh_gain[-1]), "drift_min_eta": float(tr.drift[-1]),
                         "slopes": tr.slopes()}
                for c, v in tr.controls.items():
                    entry[f"control[{c}]_min_eta"] = float(v[-1])
                    entry[f"control[{c}]_stopped"] = [s for s in tr.control_stops[c] if s is not None]
                out[f"{name} | {start} | leaves {leaves}"] = entry
        return out

    def evidence(self) -> dict[str, float | tuple[float, float]]:
        """The numbers the report's Observation 1 rule rests on.

        ``slope_fixed`` / ``slope_trained``: (min, max) over structures and starts of the log-log slope
        of the deviation against eta; ``deviation_fixed`` / ``deviation_trained``: the largest deviation
        at the smallest eta; ``noether``: the largest Noether residual; ``balanced_form_on_released``:
        the smallest deviation, at the smallest eta, of the balanced closed form on the released start
        (leaves fixed; absent when no decomposition with a balanced closed form ran from the released
        start); ``rate_only``: the same for the rate-only control over all starts.
        """
        def slopes(table: dict[tuple[str, str], Tracking]) -> tuple[float, float]:
            values = [tr.slopes()["deviation"] for tr in table.values()]
            return min(values), max(values)

        out: dict[str, float | tuple[float, float]] = {
            "slope_fixed": slopes(self.fixed),
            "deviation_fixed": max(float(tr.deviation[-1]) for tr in self.fixed.values()),
            "noether": max(self.noether.values()),
            "rate_only": min(float(tr.controls["rate only"][-1]) for tr in self.fixed.values()),
        }
        balanced_form = [float(tr.controls["balanced form"][-1]) for (_, start), tr in self.fixed.items()
                         if start == "released" and "balanced form" in tr.controls]
        if balanced_form:
            out["balanced_form_on_released"] = min(balanced_form)
        if self.trained:
            out["slope_trained"] = slopes(self.trained)
            out["deviation_trained"] = max(float(tr.deviation[-1]) for tr in self.trained.values())
        return out


def end_to_end_study(data: CountedData, structures: dict[str, Decomposition] | None = None,
                     starts: Sequence[str] = OBS1_STARTS, etas: Sequence[float] = OBS1_ETAS, time: float = 3.0,
                     scale: float = 1.0, seed: int = 0, trained_structures: Sequence[str] | None = None,
                     trained_etas: Sequence[float] = OBS1_TRAINED_ETAS, trained_time: float = 0.5,
                     leaf_scale: float = 1.0) -> EndToEndStudy:
    """Track gradient ascent on the layers (no floor) with the end-to-end optimiser on the shallow model.

    Leaves: uniform on [0.25, 0.75) (``seed``; the released code's identical leaves give no
    gradient). Starts: "balanced" (every Q_S = 0, :func:`~spnlib.studies.end_to_end.balanced_start`)
    and "released" (every layer weight ``scale``). For each eta in ``etas`` (units of scale^2), a
    fixed time ``time`` (same units). On a balanced tree with fixed leaves, gradient ascent is
    invariant under u -> s u, eta -> s^2 eta, so ``scale = 1`` is the released code's 1e-4 exactly
    (the tests check it); on the unbalanced tree the scale matters (at 1e-4 its components carry
    weights 1e-4 to 1e-12 and the deep ones barely move), so 1 is the informative choice.

    With trained leaves (``trained_structures``, default: all) the layer scale is ``leaf_scale``,
    comparable to the leaves' (at 1e-4 one eta leaves them unmoved over the layers' time scale),
    with ``trained_etas`` over ``trained_time`` (absolute: within that time no weight reaches 0).
    """
    structures = OBS1_STRUCTURES if structures is None else structures
    trained_names = list(structures) if trained_structures is None else list(trained_structures)
    fixed: dict[tuple[str, str], Tracking] = {}
    trained: dict[tuple[str, str], Tracking] = {}
    noether: dict[str, float] = {}
    for name, dec in structures.items():
        leaf = near_zero_params(dec, data.n_variables, 1.0, seed).leaf
        try:
            heights(dec)
            controls: tuple[str, ...] = ("balanced form", "rate only")
        except ValueError:
            controls = ("rate only",)
        res = []
        for start in starts:
            for leaves, s in (("fixed", scale), ("trained", leaf_scale)):
                if leaves == "trained" and name not in trained_names:
                    continue
                params = MixtureParams(leaf, tuple(_start_layers(dec, start, s, seed)))
                res.append(float(np.max(noether_residual(dec, params, data))))
                if leaves == "fixed":
                    tr = tracking(data, dec, params, [e * s ** 2 for e in etas], time * s ** 2, controls=controls)
                else:
                    tr = tracking(data, dec, params, trained_etas, trained_time, train_leaves=True, controls=controls)
                (fixed if leaves == "fixed" else trained)[(name, start)] = tr
        noether[name] = max(res)
    return EndToEndStudy(scale, leaf_scale, tuple(etas), time, tuple(trained_etas), trained_time, fixed, trained,
                         noether)

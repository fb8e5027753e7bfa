"""The verdict-bearing numbers of Sec. 3.1, as data: recomputed by the chapters and the introduction.

* :func:`faithful_reproduction` - the released protocol against the paper's Fig. 3,
  and the facts that explain the mismatch (identical runs, identical depths,
  the independent-model ceiling, where the paper's curves leave the symmetric run).
* :func:`acceleration_summary` - the depth effect under the variants that break the
  symmetry, with bootstrap intervals.
* :func:`order_report` - the released code's summation order (and other symmetry breakers) against
  the paper's curves, with the mechanism traces; :func:`floor_ablations` and :func:`asymmetry_sweep` -
  what the floor, and the size and place of the initial asymmetry, do to the depth effect.
* :func:`escape_and_plateau` - where the depth effect is made: when each depth leaves the symmetric
  curve, how long it stays on the shallow network's plateau, when it reaches a late level;
  :func:`order_grid` - a variant's runs of :func:`order_report` as a grid of the static explorer.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.data.debd import load_counted
from spnlib.experiment.explore import ExplorerGrid
from spnlib.experiment.fig3_match import match_paper
from spnlib.experiment.mechanism import run_with_mechanism
from spnlib.experiment.protocols import Curves, Protocol, fig3_comparison, get_protocol, paper_fig3, run_protocol
from spnlib.experiment.symmetry import departure_iteration, independent_llh
from spnlib.stats.speedup import Acceleration, GapRow, acceleration, first_reaching, gap_table, mean_confidence_band

__all__ = ["FaithfulReport", "faithful_reproduction", "AccelerationReport", "acceleration_summary", "OrderReport",
           "order_report", "ABLATIONS", "AblationRow", "floor_ablations", "asymmetry_settings", "AsymmetryRow",
           "asymmetry_sweep", "PLATEAU", "LEVEL", "EscapeAndPlateau", "escape_and_plateau", "order_grid"]


def _nltcs(data: CountedData | None) -> CountedData:
    return data if data is not None else load_counted("nltcs", "train")


@dataclass
class FaithfulReport:
    """The faithful reproduction of Fig. 3 and what explains its mismatch.

    Attributes
    ----------
    curves : Curves
        The released protocol, L = 1, 2, 3, 2 runs, 500 iterations.
    comparison : dict
        :func:`~spnlib.experiment.protocols.fig3_comparison` (reproduced vs paper at the table's iterations).
    runs_identical : bool
        The two runs of every depth are bit-identical (the protocol has no randomness).
    depth_spread : float
        Largest difference between the depths' curves (round-off only).
    independent_optimum : float
        Best mean LLH of one product of Bernoullis, the ceiling of identical components.
    final : float
        The faithful curves' value at iteration 500.
    paper_final : ndarray (3,)
        The paper's values at iteration 500.
    paper_departure : list of int
        Iteration (from 1) at which each paper curve leaves the faithful one by more than 1e-3.
    """

    curves: Curves
    comparison: dict
    runs_identical: bool
    depth_spread: float
    independent_optimum: float
    final: float
    paper_final: np.ndarray
    paper_departure: list


def faithful_reproduction(data: CountedData | None = None) -> FaithfulReport:
    """Run the released protocol on NLTCS (train) and compare it with the paper's Fig. 3."""
    data = _nltcs(data)
    curves = run_protocol(get_protocol("released"), data, (1, 2, 3), dataset="nltcs")
    agg = curves.aggregate()
    paper = paper_fig3()
    return FaithfulReport(
        curves=curves, comparison=fig3_comparison(curves),
        runs_identical=bool(all(np.array_equal(c[0], c[r]) for c in curves.train for r in range(c.shape[0]))),
        depth_spread=float(np.abs(agg - agg[0]).max()),
        independent_optimum=independent_llh(data), final=float(agg[0, -1]), paper_final=paper[:, -1],
        paper_departure=[departure_iteration(p, agg[0]) for p in paper])


@dataclass
class AccelerationReport:
    """Per variant: the gap table and the acceleration factors of every depth over L = 1."""

    protocol: str
    label: str
    depths: tuple[int, ...]
    runs: int
    rows: list[GapRow]
    initial: float
    best: float
    acceleration_90: list[Acceleration]
    acceleration_99: list[Acceleration]
    curves: np.ndarray


def acceleration_summary(data: CountedData | None = None,
                         protocols: Sequence[str] = ("perturbed", "ulp", "random-structure"),
                         depths: Sequence[int] = (1, 2, 3, 4), runs: int = 20, seed: int = 0,
                         target: str = "best") -> list[AccelerationReport]:
    """The depth effect under each variant: updates to 90 % / 99 % of the gap and speed-ups over L = 1."""
    data = _nltcs(data)
    out = []
    for name in protocols:
        proto = get_protocol(name)
        c = run_protocol(proto, data, depths, runs=runs, seed=seed).train
        rows, initial, best = gap_table(c, depths, target=target)
        out.append(AccelerationReport(name, proto.label, tuple(depths), runs, rows, initial, best,
                                      acceleration(c, depths, 0.9, target=target),
                                      acceleration(c, depths, 0.99, target=target), c))
    return out


# ------------------------------------------------------------------ the released code's summation order
def _symmetric(data: CountedData, iterations: int) -> np.ndarray:
    """The faithful protocol's single curve (every depth and run follows it)."""
    return run_protocol(get_protocol("released").with_changes(iterations=iterations), data, (1,), runs=1).train[0, 0]


@dataclass
class OrderReport:
    """Symmetry-breaking variants against the paper's Fig. 3, with their mechanism traces.

    Attributes
    ----------
    curves : dict name -> Curves (L = 1, 2, 3; ``runs`` draws each, paired across depths)
    traces : dict name -> MechanismTrace, arrays (3, runs, T)
    matches : dict name -> list of DepthMatch (coverage of the paper's curves, departures, values)
    symmetric : ndarray (T,), the faithful (symmetric) curve
    """

    curves: dict
    traces: dict
    matches: dict
    symmetric: np.ndarray


def order_report(data: CountedData | None = None, variants: Sequence[str] = ("released-order", "ulp"),
                 runs: int = 24, seed: int = 0, n_boot: int = 200, iterations: int = 500) -> OrderReport:
    """Run each variant with a mechanism recorder and match it to the paper (see :mod:`.fig3_match`)."""
    data = _nltcs(data)
    symmetric = _symmetric(data, iterations)
    curves, traces, matches = {}, {}, {}
    for name in variants:
        proto = get_protocol(name).with_changes(iterations=iterations)
        c, tr = run_with_mechanism(proto, data, (1, 2, 3), runs=runs, seed=seed)
        curves[name], traces[name] = c, tr
        matches[name] = match_paper(c.train, paper_fig3(), symmetric, n_boot=n_boot)
    return OrderReport(curves, traces, matches, symmetric)


ABLATIONS: dict[str, dict[str, object]] = {
    "floor 1e-4 (released)": {},
    "floor 1e-8": {"floor": 1e-8},
    "floor on the layer weights only": {"leaf_floor": 1e-300},
    "floor on the leaf weights only": {"floor": 1e-300, "leaf_floor": 1e-4},
    "no floor (log-space update)": {"rule": "log"},
}
"""The floor ablations of the mechanism study: changes to a symmetry-breaking variant (1e-300 stands for
no floor: positivity only)."""


@dataclass
class AblationRow:
    """One ablation: final values, speed-ups of L = 2, 3 over L = 1 at 90 % of the gap, mechanism at the end."""

    name: str
    final_median: np.ndarray
    acceleration: list[Acceleration]
    distinct: np.ndarray
    layer_at_floor: np.ndarray
    effective: np.ndarray
    nonfinite: bool


def floor_ablations(data: CountedData | None = None, variant: str = "ulp", runs: int = 20, seed: int = 0,
                    ablations: dict[str, dict[str, object]] | None = None, iterations: int = 500,
                    target: str = "best") -> list[AblationRow]:
    """Every floor ablation of ``variant``, L = 1, 2, 3 (medians over runs, at the last iteration).

    ``target`` is the gap target of the speed-ups (:data:`spnlib.stats.speedup.TARGETS`); with chaotic runs
    ``"own"`` is the more robust (one exceptional draw sets the common ``"best"`` target).
    """
    data = _nltcs(data)
    out = []
    for name, changes in (ablations or ABLATIONS).items():
        proto = get_protocol(variant).with_changes(iterations=iterations, **changes)
        c, tr = run_with_mechanism(proto, data, (1, 2, 3), runs=runs, seed=seed)
        out.append(AblationRow(name, np.median(c.train[:, :, -1], axis=1),
                               acceleration(c.train, (1, 2, 3), 0.9, target=target),
                               np.median(tr.distinct[:, :, -1], axis=1), np.median(tr.layer_at_floor[:, :, -1], axis=1),
                               np.median(tr.effective[:, :, -1], axis=1), bool(tr.nonfinite.any())))
    return out


def asymmetry_settings(sizes: Sequence[float] = (1e-12, 1e-9, 1e-6, 1e-3, 1e-1)) -> dict[str, Protocol]:
    """Initial asymmetries by size and place: leaf weights, layer weights (ulp, then relative sizes)."""
    released_p, perturbed = get_protocol("released"), get_protocol("perturbed")
    out: dict[str, Protocol] = {"leaf, ulp": get_protocol("ulp")}
    out.update({f"leaf, {s:g}": perturbed.with_changes(perturbation=s) for s in sizes})
    out["layer, ulp"] = released_p.with_changes(layer_ulp_share=0.5, runs=20, aggregate="mean")
    out.update({f"layer, {s:g}": released_p.with_changes(layer_perturbation=s, runs=20, aggregate="mean")
                for s in sizes})
    return out


@dataclass
class AsymmetryRow:
    """Departure from the symmetric curve (median over runs, per depth) and the 90 % speed-up of L = 3."""

    setting: str
    departure: np.ndarray
    acceleration_3: Acceleration


def asymmetry_sweep(data: CountedData | None = None, settings: dict[str, Protocol] | None = None, runs: int = 20,
                    seed: int = 0, iterations: int = 500, target: str = "best") -> list[AsymmetryRow]:
    """Departure iteration and speed-up of L = 3 against the size and place of the initial asymmetry."""
    data = _nltcs(data)
    symmetric = _symmetric(data, iterations)
    out = []
    for name, proto in (settings or asymmetry_settings()).items():
        c = run_protocol(proto.with_changes(iterations=iterations), data, (1, 2, 3), runs=runs, seed=seed).train
        T = c.shape[-1]
        dep = np.array([[departure_iteration(r, symmetric) or T + 1 for r in runs_] for runs_ in c])
        out.append(AsymmetryRow(name, np.median(dep, axis=1), acceleration(c, (1, 2, 3), 0.9, target=target)[2]))
    return out


# ------------------------------------------------------------------ where the depth effect is made
PLATEAU = (-7.9, -7.6)
"""The band of mean train LLH (nats) in which the shallow network (L = 1) lingers after it has left the
symmetric start, with identical copies of one component (the experiment chapter's mechanism section;
the paper's L = 1 curve crosses it between iterations 180 and 300)."""

LEVEL = -7.2
"""A level late in every symmetry-broken run (the runs end near -7.05): updates to reach it measure how
far apart the depths are at the end, as against when they left the symmetric start."""


@dataclass(frozen=True)
class EscapeAndPlateau:
    """Medians over runs, per depth: when a run leaves the symmetric curve, how long it spends in
    :data:`PLATEAU`, how many updates it needs to reach :data:`LEVEL`.

    Attributes
    ----------
    depths : tuple of int
    departure : ndarray (n_depths,)
        Median iteration (from 1) at which a run first differs from the symmetric curve by more than
        :data:`~spnlib.tolerances.DIGITISATION` (a run that never does counts as T + 1).
    plateau : ndarray (n_depths,)
        Median number of iterations with the curve inside ``plateau`` (open band).
    reach : ndarray (n_depths,)
        Median number of updates until the curve first reaches ``level`` (inf: the median run does not).
    """

    depths: tuple[int, ...]
    departure: np.ndarray
    plateau: np.ndarray
    reach: np.ndarray

    @property
    def departure_spread(self) -> float:
        """Largest difference between the depths' median departures (iterations)."""
        return float(self.departure.max() - self.departure.min())

    @property
    def reach_gap(self) -> float:
        """Updates by which the shallowest depth reaches :data:`LEVEL` after the deepest (inf if it never does)."""
        return float(self.reach[0] - self.reach[-1])


def escape_and_plateau(curves: np.ndarray, symmetric: np.ndarray, depths: Sequence[int] = (1, 2, 3),
                       plateau: tuple[float, float] = PLATEAU, level: float = LEVEL) -> EscapeAndPlateau:
    """Departure, time on the plateau and updates to a late level per depth; curves (n_depths, runs, T)."""
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 3 or c.shape[0] != len(depths):
        raise ValueError(f"need curves (n_depths, runs, T) for depths {tuple(depths)}, got shape {c.shape}")
    low, high = plateau
    if not low < high:
        raise ValueError(f"the plateau band must be (low, high) with low < high, got {plateau}")
    T = c.shape[2]
    departure = np.array([np.median([departure_iteration(r, symmetric) or T + 1 for r in runs]) for runs in c])
    inside = np.median(((c > low) & (c < high)).sum(axis=2), axis=1)
    reach = np.array([np.median(first_reaching(runs, level)) for runs in c])
    return EscapeAndPlateau(tuple(int(L) for L in depths), departure, inside.astype(np.float64), reach)


def order_grid(report: OrderReport, faithful: Curves, variant: str = "released-order", every: int = 5) -> ExplorerGrid:
    """The runs of ``variant`` in an :func:`order_report` as a one-learning-rate grid of the static explorer.

    No training: the curves are the report's (mean and bootstrap 95 % band over its draws, as
    :func:`~spnlib.experiment.explore.explorer_grid` computes them); ``faithful`` is the released protocol
    on the same depths (e.g. :attr:`FaithfulReport.curves`), whose first run is drawn in black.
    """
    if variant not in report.curves:
        raise ValueError(f"the report has no variant {variant!r}; it has {', '.join(report.curves)}")
    c = report.curves[variant]
    if tuple(faithful.depths) != tuple(c.depths) or faithful.train.shape[-1] != c.train.shape[-1]:
        raise ValueError(f"the faithful curves (depths {faithful.depths}, {faithful.train.shape[-1]} iterations) "
                         f"do not match the variant's (depths {c.depths}, {c.train.shape[-1]} iterations)")
    if every < 1:
        raise ValueError(f"every must be a positive number of iterations, got {every}")
    T = c.train.shape[-1]
    keep = np.unique(np.r_[np.arange(0, T, every), T - 1])
    bands = [mean_confidence_band(runs) for runs in c.train]
    mean, low, high = (np.stack([b[i][keep] for b in bands])[None] for i in range(3))
    return ExplorerGrid(np.array([c.protocol.eta]), tuple(c.depths), keep + 1, faithful.train[:, 0, keep][None],
                        mean, low, high, variant, c.train.shape[1], c.protocol.label)

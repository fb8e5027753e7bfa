"""The verdict-bearing numbers of Sec. 3.1, as data: recomputed by the chapters and the introduction.

* :func:`faithful_reproduction` - the released protocol against the paper's Fig. 3,
  and the facts that explain the mismatch (identical runs, identical depths,
  the independent-model ceiling, where the paper's curves leave the symmetric run).
* :func:`acceleration_summary` - the depth effect under the variants that break the
  symmetry, with bootstrap intervals.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.data.debd import load_counted
from spnlib.experiment.protocols import Curves, fig3_comparison, get_protocol, paper_fig3, run_protocol
from spnlib.experiment.symmetry import departure_iteration, independent_llh
from spnlib.stats.speedup import Acceleration, GapRow, acceleration, gap_table

__all__ = ["FaithfulReport", "faithful_reproduction", "AccelerationReport", "acceleration_summary"]


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

"""What the report's empirical rules read: small, documented records of the chapters' results.

The rules of the empirical claims do not read a study's internals; they read these records,
which :class:`~spnlib.report.evidence.Evidence` builds from the studies. A study that changes
(a new estimator, a new variant, a new baseline) changes only the adaptor in ``evidence.py``
that fills them, never a rule. Every record separates what is machine-robust (what a rule may
print in the table) from what is not (``chaotic``: point estimates of runs whose symmetry is
broken at round-off level, which go to the finding's ``detail``).

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["SpeedupEstimate", "CoverageEstimate", "TrackingRun", "ControlRun", "Observation1Evidence", "Claim1Premise"]


@dataclass(frozen=True)
class SpeedupEstimate:
    """One speed-up of a configuration over a reference, by the book's one estimator
    (:mod:`spnlib.stats.speedup`): ratio of the median numbers of updates to close ``fraction``
    of the gap, with a paired bootstrap interval over seeds.

    Attributes
    ----------
    setting : str
        What was run, as the glossary names it: a variant ("ulp", "released-order"), "updated, nltcs",
        or a Claim 1 family ("random deep SPNs").
    faster, reference : str
        The two configurations, e.g. "L = 3" over "L = 1" (a factor 2: half the updates).
    fraction : float
        Share of the gap (one of ``spnlib.tolerances.GAP_FRACTIONS``).
    estimate, low, high : float
        Point estimate and interval. A censored median makes a bound: ``high = inf`` when the
        reference never reaches the target in most runs, ``low = 0`` when the faster one does not.
    level : float
        Confidence level of the interval.
    n_seeds, n_censored : int
        Seeds evaluated, and runs (of either configuration) that never reached the target:
        kept, as censored, never dropped.
    chaotic : bool
        The runs are chaotic (symmetry broken by round-off): only conclusions drawn from the
        interval with a margin measured across floating-point setups may be printed.
    text : str
        The estimate in the estimator's words (:meth:`spnlib.stats.speedup.SpeedUp.text`: bounds
        and censoring said in words); empty: :meth:`numbers` writes it from the fields.
    """
    setting: str
    faster: str
    reference: str
    fraction: float
    estimate: float
    low: float
    high: float
    level: float
    n_seeds: int
    n_censored: int = 0
    chaotic: bool = True
    text: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.fraction <= 1 or not 0 < self.level < 1:
            raise ValueError(f"fraction must be in (0, 1] and level in (0, 1), got {self.fraction}, {self.level}")
        if math.isnan(self.low) or math.isnan(self.high) or not self.low <= self.high:
            raise ValueError(f"interval [{self.low}, {self.high}] of {self.setting!r} is not an interval")

    def above(self, value: float) -> bool:
        """The whole interval lies above ``value``."""
        return self.low > value

    def below(self, value: float) -> bool:
        """The whole interval lies below ``value``."""
        return self.high < value

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def numbers(self) -> str:
        """The estimate and its interval in words (for the machine-dependent detail): :attr:`text`
        if the estimator wrote it, else ``2.79 [2.48, 3.04]`` at the precision the interval supports
        (:func:`spnlib.stats.printing.format_estimate`; unbounded ends and undetermined ratios in words)."""
        if self.text:
            return self.text
        from spnlib.stats.printing import format_estimate
        return format_estimate(self.estimate, self.low, self.high)


@dataclass(frozen=True)
class CoverageEstimate:
    """How much of one paper curve of Fig. 3 lies inside a variant's band of runs.

    Attributes
    ----------
    setting : str
        The variant (glossary name).
    depth : int
        L = 1, 2 or 3.
    share : float
        Fraction of the curve's 500 points inside the band (widened by the digitisation error).
    band : str
        The band, e.g. "min-max of 20 runs" or "5-95 % quantiles of 40 runs".
    n_runs : int
    chaotic : bool
        As in :class:`SpeedupEstimate`.
    """
    setting: str
    depth: int
    share: float
    band: str
    n_runs: int
    chaotic: bool = True


@dataclass(frozen=True)
class TrackingRun:
    """The closed-form end-to-end optimiser on the shallow network against the deep run.

    ``deviation`` is the largest relative distance max_t |w_closed(t) - w_deep(t)| / |w_deep(t)|
    over a fixed time ``time`` = eta * T; Observation 1 holds as a first-order statement when it
    vanishes as eta -> 0 (linearly: a log-log slope of 1).
    """
    start: str          # "balanced" or "released"
    eta: float
    time: float
    deviation: float
    structure: str = ""  # the decomposition (as the verification chapter names it)


@dataclass(frozen=True)
class ControlRun:
    """Another optimiser on the shallow model against the same deep run (a control): e.g. the
    near-zero ("balanced form") closed form, or the adaptive rate alone ("rate only"). It tracks
    the deep run only if its ``deviation`` also vanishes as eta -> 0."""
    control: str
    start: str
    eta: float
    deviation: float
    structure: str = ""


@dataclass(frozen=True)
class Observation1Evidence:
    """Observation 1 tested without reading the deep run (the conservation law and the closed form).

    Attributes
    ----------
    conservation_symbolic : dict
        Decomposition name -> whether SymPy finds a dJ/da - sum_j b_j dJ/db_j = 0 identically
        for every weight a above a sum node with child weights b_j.
    conservation_drift : dict
        eta -> largest relative drift of a^2 - sum_j b_j^2 over a fixed time (gradient ascent).
    tracking : tuple of TrackingRun
        From every start, over several eta.
    leaves_trained : float or None
        The same deviation when the leaf weights are trained too (the paper's experiment, which
        Observation 1's fixed components do not cover); None if not measured.
    controls : tuple of ControlRun
        The controls' deviations from the same deep runs.
    noether : float
        Largest residual of the laws' identity sum_i s_i u_i dJ/du_i = 0 on the numeric core's
        gradient at the starts (round-off if it holds).
    """
    conservation_symbolic: dict[str, bool]
    conservation_drift: dict[float, float]
    tracking: tuple[TrackingRun, ...]
    leaves_trained: float | None = None
    controls: tuple[ControlRun, ...] = ()
    noether: float = 0.0


@dataclass(frozen=True)
class Claim1Premise:
    """Claim 1's premise on random deep SPNs: values and steps through the trees, and sharing.

    Attributes
    ----------
    families : tuple of str
        The kinds of SPN checked ("shared", "tree-shaped").
    n_spns : int
        SPNs per family.
    value_residual : float
        Largest |log f(x) - log sum_T W_T T(x)| over the data rows and SPNs.
    step_residual : float
        Largest relative difference of a tree weight after gradient steps on the SPN, computed
        through the core's backward pass and through the trees.
    private_fraction : float
        Largest share of the trees that have a sum weight no other tree uses.
    dimension_over_trees : float
        Largest upper bound on rank(A) / number of trees (rank A <= number of sum weights): the
        dimension of the family of log tree weights the SPN can reach, per tree.
    """
    families: tuple[str, ...]
    n_spns: int
    value_residual: float
    step_residual: float
    private_fraction: float
    dimension_over_trees: float

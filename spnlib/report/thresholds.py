"""Every threshold a verdict of the report depends on, as a stated choice the page prints.

The values come from :mod:`spnlib.tolerances`, where the book states each once; this module only
re-states them under the names the rules use (:data:`TRACKING` is ``TRACKING_RTOL``, ...). The one
number only the report uses, :data:`NO_EFFECT` (a speed-up of 1), is defined here.
:data:`THRESHOLDS` lists them with the rule each one enters, and :func:`thresholds_markdown` writes
that list under the report's table, so that no verdict rests on a number the reader cannot see.

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

from dataclasses import dataclass

from spnlib.tolerances import (
    ENVELOPE_SHARE,
    EXACT_RTOL,
    FIG3_NATS,
    FIRST_ORDER_SLOPE,
    GAP_FRACTIONS,
    HALF,
    ROUNDOFF,
    SAME_CURVE,
    TRACKING_RTOL,
)

__all__ = ["Threshold", "THRESHOLDS", "thresholds_markdown", "IDENTITY_TOLERANCE", "REPLAY_TOLERANCE",
           "FIG3_TOLERANCE", "GAP_FRACTION", "NO_EFFECT", "TRACKING", "FIRST_ORDER_SLOPE", "HALF", "ENVELOPE_SHARE",
           "SAME_CURVE", "GAP_FRACTIONS"]

IDENTITY_TOLERANCE = ROUNDOFF          # |log difference| of two computations of the same network
REPLAY_TOLERANCE = EXACT_RTOL          # relative difference of two exact computations by different routes
FIG3_TOLERANCE = FIG3_NATS
GAP_FRACTION = GAP_FRACTIONS[0]        # "near optimal": this share of the gap

NO_EFFECT = 1.0
"""A speed-up of 1: both configurations need the same number of updates. "Faster" needs the whole
interval above it; an interval that contains it cannot tell a speed-up from none."""

TRACKING = TRACKING_RTOL               # a shallow optimiser's largest relative distance from the deep run


@dataclass(frozen=True)
class Threshold:
    name: str          # as in the code
    value: str         # as printed
    decides: str       # the rule it enters
    source: str        # where it is stated


def _fmt(x: float) -> str:
    return f"{x:g}"


THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("ROUNDOFF", _fmt(ROUNDOFF), "an identity between two computations of one network holds "
              "(largest absolute difference of log values below it)", "spnlib.tolerances"),
    Threshold("EXACT_RTOL", _fmt(EXACT_RTOL), "two exact computations by different routes agree (a step "
              "through the trees against the core's, a replay): largest relative difference below it",
              "spnlib.tolerances"),
    Threshold("FIG3_NATS", _fmt(FIG3_NATS), "the released protocol reproduces a Fig. 3 curve: within this "
              "many nats of it at every iteration", "spnlib.tolerances"),
    Threshold("SAME_CURVE", _fmt(SAME_CURVE), "depths whose curves differ by less than this (nats) follow "
              "one curve", "spnlib.tolerances"),
    Threshold("ENVELOPE_SHARE", f"{ENVELOPE_SHARE:.0%}", "a variant's band covers a paper curve: at least "
              "this share of the curve's 500 points inside it", "spnlib.tolerances"),
    Threshold("GAP_FRACTIONS", " and ".join(f"{q:.0%}" for q in GAP_FRACTIONS), "shares of the gap at "
              f"which speed is measured; the first ({GAP_FRACTION:.0%}) is \"near optimal\"", "spnlib.tolerances"),
    Threshold("NO_EFFECT", _fmt(NO_EFFECT), "\"faster\": the speed-up's interval lies above it at every "
              "share of the gap; an interval containing it is \"not distinguishable\"", "spnlib.report.thresholds"),
    Threshold("HALF", _fmt(HALF), "\"after only half the iterations\": the interval of L = 3 over L = 1 "
              "excludes 1 and reaches this value (contains it, or lies above it: the paper's \"only half\" "
              "bounds the iterations from above, so fewer also satisfy it); an interval containing 1, e.g. "
              "[0.5, 2.0], does not", "spnlib.tolerances"),
    Threshold("TRACKING_RTOL", _fmt(TRACKING_RTOL), "a shallow optimiser tracks the deep run (Observation 1 "
              "without circularity): its largest relative distance from the deep run's weights over a fixed time "
              "ηT is below this at the smallest η, and it vanishes to first order in η", "spnlib.tolerances"),
    Threshold("FIRST_ORDER_SLOPE", " to ".join(_fmt(x) for x in FIRST_ORDER_SLOPE), "a distance vanishes to first "
              "order in η: its log-log slope against η lies in this range", "spnlib.tolerances"),
)
"""The thresholds, in the order the page lists them."""


def thresholds_markdown() -> str:
    """The list of thresholds as Markdown bullets."""
    return "\n".join(f"- `{t.name}` = {t.value}: {t.decides} (`{t.source}`)." for t in THRESHOLDS)

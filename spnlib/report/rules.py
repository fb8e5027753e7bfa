"""The rules of the reproducibility report: how each claim's verdict follows from the numbers.

Each function takes the :class:`~spnlib.report.evidence.Evidence` (the chapters' computations, run
once) and returns a :class:`~spnlib.report.model.Finding`. Its docstring states the rule; the
thresholds come from :mod:`spnlib.tolerances`, where each is stated once.

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from spnlib.report.evidence import Evidence
from spnlib.report.model import Finding, Status
from spnlib.tolerances import DIGITISATION, ENVELOPE_SHARE, FIG3_NATS, GAP_FRACTIONS, HALF, ROUNDOFF, SAME_CURVE

if TYPE_CHECKING:
    from spnlib.stats.speedup import Acceleration

HOLDS = ("holds exactly",)
HOLDS_FIRST_ORDER = ("holds exactly", "holds to first order in η")
MAX_RESIDUAL_CHARS = 90        # longer residuals are left to the derivation chapter
IDENTITY_TOLERANCE = ROUNDOFF          # |log difference| of two computations of the same network
FIG3_TOLERANCE = FIG3_NATS
ENVELOPE_TOLERANCE = DIGITISATION
GAP_FRACTION = GAP_FRACTIONS[0]        # "near optimal": 90 % of the gap (the report's acceleration_90)


def _small(x: float, bound: float) -> str:
    """A round-off-sized number as "below <bound>" (its digits differ between machines)."""
    return f"below {bound:.0e}" if x < bound else f"{x:.1e}"


def _fmt(a) -> str:
    """An acceleration factor with its interval, e.g. ×2.79 [2.48, 3.04]."""
    from spnlib.stats.speedup import format_interval
    return "×" + format_interval(a.factor, a.low, a.high, digits=2)


def _residual(row: dict) -> str:
    """The residual in LaTeX, when it is short enough for a table cell (and has no '|')."""
    r = row.get("residual", "")
    return f": derived − printed = ${r}$" if r and len(r) <= MAX_RESIDUAL_CHARS and "|" not in r else ""


def _math(text: str) -> str:
    """A condition of the verdict table as math when it is written in TeX (w^{[l]}_j ≠ 0)."""
    return f"${text}$" if re.search(r"[_^]\{|\\[A-Za-z]", text) else text


def _trees(rows: Iterable[dict]) -> str:
    return ", ".join(r["decomposition"] for r in rows)


def equation_rule(name: str, accept: Sequence[str] = HOLDS) -> Callable[[Evidence], Finding]:
    """Rule for a printed equation: compared on every tree where it applies (the derivation's
    verdict table). All accepted -> reproduced; some -> under conditions; none -> paper error."""
    def assess(ev: Evidence) -> Finding:
        rows = [r for r in ev.equation(name) if r["verdict"] != "not applicable"]
        if not rows:
            raise LookupError(f"{name} applies to none of the trees {list(ev.TREES)}")
        good = [r for r in rows if r["verdict"] in accept]
        bad = [r for r in rows if r["verdict"] not in accept]
        conditions = sorted({_math(r["condition"]) for r in rows if r.get("condition")})
        when = f" (for {'; '.join(conditions)})" if conditions else ""
        if not bad:
            kinds = " / ".join(sorted({r["verdict"] for r in good}))
            return Finding(Status.REPRODUCED, f"{kinds} on {_trees(good)}{when}")
        where = f" ({bad[0]['where']})" if bad[0].get("where") else ""
        detail = f"does not hold on {_trees(bad)}{where}{_residual(bad[0])}"
        if good:
            return Finding(Status.CONDITIONS, f"holds on {_trees(good)}{when}; {detail}")
        return Finding(Status.PAPER_ERROR, detail)
    return assess


def eq13(ev: Evidence) -> Finding:
    """Eq. 13 is read two ways (L = number of sum layers, or L as in Eq. 3). A reading that
    holds to first order on every tree -> reproduced; else paper error, with where each fails."""
    readings = sorted({r["equation"] for r in ev.equations if r["equation"].startswith("Eq. 13 (")})
    if not readings:
        raise LookupError("spnlib.symbolic.verdicts reports no reading of Eq. 13")
    failing = {name: [r for r in ev.equation(name) if r["verdict"] not in HOLDS_FIRST_ORDER]
               for name in readings}
    for name, bad in failing.items():
        if not bad:
            return Finding(Status.REPRODUCED, f"holds to first order in η on every tree, read as {name}")
    fixed = [r for r in ev.equation("Eq. 13 corrected") if r["verdict"] not in HOLDS_FIRST_ORDER]
    parts = "; ".join(f"{name[len('Eq. 13 ('):-1]}: fails on {_trees(bad)}" for name, bad in failing.items())
    fix = ("the corrected form (last weight pulled out) holds to first order on every tree" if not fixed
           else f"the corrected form fails too, on {_trees(fixed)}")
    return Finding(Status.PAPER_ERROR, f"as printed, for either reading of L ({parts}); {fix}")


def eq14(ev: Evidence) -> Finding:
    """Eq. 14 as printed has w^(t) on both sides. Printed form holds -> reproduced; else, if the
    form with w^(t+1) on the left holds (to first order) -> paper error with its condition."""
    printed, fixed = ev.equation("Eq. 14 as printed"), ev.equation("Eq. 14 with w^(t+1) on the left")
    if all(r["verdict"] in HOLDS_FIRST_ORDER for r in printed):
        return Finding(Status.REPRODUCED, f"holds on {_trees(printed)}")
    if all(r["verdict"] in HOLDS_FIRST_ORDER for r in fixed):
        cond = sorted({_math(r["condition"]) for r in fixed if r.get("condition")})
        when = f", given {'; '.join(cond)}" if cond else ""
        return Finding(Status.PAPER_ERROR, "as printed (w^(t) on the left) it does not hold; with "
                       f"w^(t+1) on the left it holds to first order in η on {_trees(fixed)}{when}")
    return Finding(Status.NOT_REPRODUCED, f"does not hold on {_trees(fixed)}, even with w^(t+1) on the left")


def _linear(ev: Evidence, prefix: str) -> dict[str, bool]:
    found = {k: v for k, v in ev.linear.items() if k.startswith(prefix)}
    if not found:
        raise LookupError(f"spnlib.studies.linear.derive_linear has no check starting {prefix!r}")
    return found


def linear_gradients(ev: Evidence) -> Finding:
    """The three printed gradients of Sec. 2.1 (and the chain rule behind them), by SymPy."""
    checks = {**_linear(ev, "grad_"), **_linear(ev, "chain rule")}
    failed = [k for k, ok in checks.items() if not ok]
    if failed:
        return Finding(Status.PAPER_ERROR, f"SymPy: {', '.join(failed)} does not hold")
    return Finding(Status.REPRODUCED, f"SymPy: all {len(checks)} gradient formulas and chain-rule identities hold")


def linear_update(ev: Evidence) -> Finding:
    """The end-to-end update is printed with '='. Exact -> reproduced; true to first order in
    eta with a non-zero remainder -> under conditions; false at first order -> paper error."""
    first = all(_linear(ev, "end-to-end").values())
    remainder = all(_linear(ev, "remainder").values())   # remainder = eta^2 w2 grad_w2 grad_w (not 0)
    if not first:
        return Finding(Status.PAPER_ERROR, "SymPy: the update does not hold even to first order in η")
    return Finding(Status.CONDITIONS, "SymPy: holds to first order in η (printed with '='); the exact step "
                   + ("adds $\\eta^2 w_2 \\nabla_{w_2} \\nabla_{w}$" if remainder else "differs at order η²"))


def network_identity(key: str, what: str) -> Callable[[Evidence], Finding]:
    """A network identity checked on all 2^3 states: largest |log difference| below
    IDENTITY_TOLERANCE -> reproduced, else not reproduced."""
    def assess(ev: Evidence) -> Finding:
        gap = ev.network_checks[key]
        status = Status.REPRODUCED if gap < IDENTITY_TOLERANCE else Status.NOT_REPRODUCED
        return Finding(status, f"{what}: largest absolute difference of the log values over all "
                       f"2³ states {_small(gap, IDENTITY_TOLERANCE)}")
    return assess


# ------------------------------------------------------------- the experiment (Sec. 3.1)
def _at(reports: list, depth: int) -> list[tuple[str, Acceleration]]:
    """(variant, speed-up of ``depth`` over L = 1 to GAP_FRACTION of the gap) for every variant."""
    return [(rep.protocol, a) for rep in reports for a in rep.acceleration_90 if a.depth == depth]


def fig3_curves(ev: Evidence) -> Finding:
    """The released protocol's curves within FIG3_TOLERANCE of the paper's for L = 1, 2, 3 ->
    reproduced; else, if some variant's runs cover >= ENVELOPE_SHARE of each paper curve ->
    under conditions (naming the variant); else not reproduced."""
    rep = ev.faithful
    worst = float(np.max(rep.comparison["max_abs_difference"]))
    if worst < FIG3_TOLERANCE:
        return Finding(Status.REPRODUCED, f"released protocol within {worst:.3f} nats of every curve")
    from spnlib.experiment.protocols import paper_fig3
    paper = paper_fig3()
    coverage = {}
    for acc in ev.acceleration:
        runs = acc.curves[:3, :, :paper.shape[1]]
        inside = (paper >= runs.min(axis=1) - ENVELOPE_TOLERANCE) & (paper <= runs.max(axis=1) + ENVELOPE_TOLERANCE)
        coverage[acc.protocol] = inside.mean(axis=1)
    same = "one curve for L = 1, 2, 3" if rep.depth_spread < SAME_CURVE else "different curves"
    base = (f"released protocol: {same}, {rep.final:.2f} at iteration 500 against the paper's "
            + "/".join(f"{v:.2f}" for v in rep.paper_final))
    covered = [name for name, share in coverage.items() if np.all(share >= ENVELOPE_SHARE)]
    if covered:
        return Finding(Status.CONDITIONS, base + f"; inside the range of the runs of {', '.join(covered)}")
    best = max(coverage, key=lambda n: coverage[n].min())
    return Finding(Status.NOT_REPRODUCED, base + f"; the closest variant, {best}, covers "
                   + "/".join(f"{100 * s:.0f}" for s in coverage[best]) + " % of the paper's L = 1/2/3 points")


def two_runs(ev: Evidence) -> Finding:
    """"Estimated over 2 independent re-runs to account for random effects of the structure
    generation": bit-identical runs of the released script -> paper error."""
    if ev.faithful.runs_identical:
        return Finding(Status.PAPER_ERROR, "the released script has no randomness: the two runs of every "
                       "depth are bit-identical (the figure plots their element-wise maximum)")
    return Finding(Status.REPRODUCED, "the released script's runs differ")


def deeper_is_faster(ev: Evidence) -> Finding:
    """"Increasing the number of sum layers leads to faster optimisation": the released protocol
    separates the depths, and every variant's L = 3 speed-up has its interval above 1 ->
    reproduced; some variants -> under conditions; none -> not reproduced."""
    faithful_same = ev.faithful.depth_spread < SAME_CURVE
    speedups = _at(ev.acceleration, 3)
    faster = [(n, a) for n, a in speedups if a.low > 1]
    listing = "; ".join(f"{n} {_fmt(a)}" for n, a in speedups)
    base = ("released protocol: all depths follow one curve" if faithful_same
            else "released protocol: the depths differ")
    detail = f"{base}; L = 3 over L = 1, updates to {GAP_FRACTION:.0%} of the gap: {listing}"
    if not faithful_same and len(faster) == len(speedups):
        return Finding(Status.REPRODUCED, detail)
    return Finding(Status.CONDITIONS if faster else Status.NOT_REPRODUCED, detail)


def half_the_iterations(ev: Evidence) -> Finding:
    """"L = 3 finds a near optimal solution after only half the iterations of L = 1": the
    speed-up of L = 3 over L = 1 (to GAP_FRACTION of the gap) has an interval reaching HALF.
    The released protocol's depths follow one curve (speed-up 1), so at best some variants
    -> under conditions; none -> not reproduced."""
    speedups = _at(ev.acceleration, 3)
    hits = [(n, a) for n, a in speedups if a.high >= HALF]
    listing = "; ".join(f"{n} {_fmt(a)}" for n, a in speedups)
    same = ev.faithful.depth_spread < SAME_CURVE
    base = "released protocol: ×1 (one curve)" if same else "released protocol: the depths differ"
    status = Status.CONDITIONS if hits else Status.NOT_REPRODUCED
    return Finding(status, f"{base}; variants, L = 3 over L = 1 to {GAP_FRACTION:.0%} of the gap: {listing}")


# ------------------------------------------------------- Observation 1 and Claim 1
ROUND_OFF = 1e-10              # a reconstruction or replay this close is exact (round-off)
MATERIAL = 0.05                # a term that makes up more than this share of a step matters


def observation1(ev: Evidence) -> Finding:
    """Observation 1 on NLTCS runs of decomposed mixtures (the verification chapter's study):
    if Eq. 14 with per-component rho_k, lambda_k reconstructs every step and the shallow model
    replays the run to ROUND_OFF, the momentum reading holds; it is "under conditions" when
    the initial-weight carry (dropped by the near-zero reading) is a MATERIAL part of a step or
    dropping it changes the run; otherwise reproduced. No exact reconstruction: not reproduced."""
    summary = ev.observation1
    residual = max(s["eq14_exact_residual_max"] for s in summary.values())
    replay = max(s["drift[exact]"] for s in summary.values())
    if residual > ROUND_OFF or replay > ROUND_OFF:
        return Finding(Status.NOT_REPRODUCED,
                       f"Eq. 14 reconstruction residual {residual:.0e}, replay drift {replay:.0e}")
    carry = [s["share_of_change"]["carry"] for s in summary.values()]
    no_carry = [s["drift[exact, no carry]"] for s in summary.values()]
    detail = (f"runs of {', '.join(summary)} replayed ({_small(replay, ROUND_OFF)}) by the shallow model with adaptive "
              f"per-component rates, momentum on past gradients and a carry of the initial weights")
    if min(carry) > MATERIAL or min(no_carry) > MATERIAL:
        return Finding(Status.CONDITIONS, detail + f"; the carry is {min(carry):.0%}-{max(carry):.0%} of a step "
                       f"and dropping it (the near-zero reading) moves the run by {min(no_carry):.0%}-"
                       f"{max(no_carry):.0%}")
    return Finding(Status.REPRODUCED, detail)


def claim1(ev: Evidence) -> Finding:
    """Claim 1 on random deep SPNs (the verification chapter's study). The premise (the SPN is
    the mixture of its induced trees, and its steps move the tree weights as the mixture's do)
    must hold to ROUND_OFF. If no tree has a weight of its own, the decomposition argument of
    Observation 1 does not carry over: not reproduced; else reproduced. The speed-up of the
    deep SPN over the free mixture of its trees is reported as evidence."""
    summary = ev.claim1
    value = max(s["value_residual_max"] for s in summary.values())
    step = max(s["step_residual_max"] for s in summary.values())
    if value > ROUND_OFF or step > ROUND_OFF:
        return Finding(Status.NOT_REPRODUCED, f"the tree mixture misses the SPN by {max(value, step):.0e}")
    private = max(s["private_fraction_max"] for s in summary.values())
    speed = "; ".join(f"{kind} ×" + "{:.2f} [{:.2f}, {:.2f}]".format(*s["deep_speedup@0.99"])
                      for kind, s in summary.items())
    detail = (f"an SPN is the mixture of its induced trees and its steps move them exactly "
              f"({_small(max(value, step), ROUND_OFF)}); "
              f"{'no' if private == 0 else f'{private:.0%} of the'} trees have a weight of their own; speed-up of "
              f"the deep SPN over the free mixture of its trees (updates to 99 % of the gap): {speed}")
    return Finding(Status.NOT_REPRODUCED if private == 0 else Status.REPRODUCED, detail)

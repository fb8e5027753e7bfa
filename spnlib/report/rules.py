"""The rules of the reproducibility report for the algebraic identities (Sec. 2.1, Eqs. 1-14, trees).

Each function takes the :class:`~spnlib.report.evidence.Evidence` (the chapters' computations, run
once) and returns a :class:`~spnlib.report.model.Finding`. Its docstring states the rule; the
thresholds come from :mod:`spnlib.report.thresholds`, which takes them from :mod:`spnlib.tolerances`
and states each on the page. The empirical claims' rules are in :mod:`spnlib.report.empirical`.

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from spnlib.report.evidence import Evidence
from spnlib.report.model import Finding, Status
from spnlib.report.thresholds import IDENTITY_TOLERANCE

__all__ = ["HOLDS", "HOLDS_FIRST_ORDER", "equation_rule", "eq2", "eq13", "eq14", "linear_gradients",
           "linear_update", "network_identity", "below"]

HOLDS = ("holds exactly",)
HOLDS_FIRST_ORDER = ("holds exactly", "holds to first order in η")
MAX_RESIDUAL_CHARS = 90        # longer residuals are left to the derivation chapter


def below(x: float, bound: float) -> str:
    """A round-off-sized number as "below <bound>" (its digits differ between machines)."""
    return f"below {bound:.0e}" if x < bound else f"{x:.1e}"


def _residual(row: dict) -> str:
    """The residual in LaTeX, when it is short enough for a table cell (and has no '|')."""
    r = row.get("residual", "")
    return f": derived − printed = ${r}$" if r and len(r) <= MAX_RESIDUAL_CHARS and "|" not in r else ""


def _math(text: str) -> str:
    """A condition of the verdict table as math when it is written in TeX (w^{[l]}_j ≠ 0)."""
    return f"${text}$" if re.search(r"[_^]\{|\\[A-Za-z]", text) else text


def _trees(rows: Iterable[dict]) -> str:
    return ", ".join(r["decomposition"] for r in rows)


def equation_rule(name: str, accept: Sequence[str] = HOLDS, note: str = "") -> Callable[[Evidence], Finding]:
    """Rule for a printed equation: compared on every tree where it applies (the derivation's
    verdict table). All accepted -> reproduced; some -> under conditions; none -> paper error.
    ``note`` is appended to the evidence of a finding that is not "reproduced"."""
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
        detail = f"does not hold on {_trees(bad)}{where}{_residual(bad[0])}" + (f"; {note}" if note else "")
        if good:
            return Finding(Status.CONDITIONS, f"holds on {_trees(good)}{when}; {detail}")
        return Finding(Status.PAPER_ERROR, detail)
    return assess


def eq2(ev: Evidence) -> Finding:
    """Eq. 2 is a per-sample gradient. It holds exactly on every tree -> reproduced, and the
    evidence says of which objective it is the gradient once summed over the N samples: of the
    corrected one, sum_n log f(x_n) - N log f(*), and (if so) not of Eq. 1 as printed."""
    per_sample = equation_rule("Eq. 2")(ev)
    if per_sample.status is not Status.REPRODUCED:
        return per_sample
    corrected = all(r["verdict"] in HOLDS for r in ev.equation("Eq. 2 vs corrected Eq. 1"))
    printed = all(r["verdict"] in HOLDS for r in ev.equation("Eq. 1-2"))
    of = ("the corrected objective $\\sum_n \\log f(x_n) - N \\log f(*)$" if corrected else "no objective checked")
    against = "" if printed else " (not of Eq. 1 as printed)"
    return Finding(Status.REPRODUCED, f"{per_sample.evidence}, as the per-sample gradient of "
                   f"$\\log f(x) - \\log f(*)$; summed over the $N$ samples it is the gradient of {of}{against}")


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
                       f"2³ states {below(gap, IDENTITY_TOLERANCE)}")
    return assess

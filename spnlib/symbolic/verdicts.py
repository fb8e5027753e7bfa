"""Verdicts: each printed equation (:mod:`spnlib.symbolic.printed`) against the derivation.

For every equation and decomposition the verdict is computed, never typed:

* **holds exactly** - derived minus printed simplifies to 0;
* **holds to first order in eta** - for the "~" equations: the coefficients of
  eta^0 and eta^1 agree, higher ones do not (the residual is the dropped part);
* **does not hold** - the residual (derived minus printed) is shown, for the
  first component or weight where it is not 0;
* **not applicable** - the equation's premise does not occur in the tree
  (e.g. Eq. 5 needs a component with w_k = w^{[0]}_gamma w^{[1]}_k).

Exact comparisons first expand with f(x), f(*) kept as symbols (an identity
for all f is one for the actual sums); only a non-zero result is re-checked
with the sums substituted and ``cancel``-ed, so a false "does not hold" cannot
arise. Gradient placeholders nabla_{w^{[l]}_j} in printed forms are replaced by
the derived component-level gradients before comparing.

Defined in the book's chapter "The derivation".
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache

import numpy as np
import sympy as sp

from spnlib.structure.decomposition import Decomposition
from spnlib.symbolic import objective as oc
from spnlib.symbolic import printed as pe
from spnlib.symbolic.derivation import Derivation
from spnlib.symbolic.eq14 import momentum_coefficients, unroll

__all__ = ["Verdict", "Check", "compare_exact", "compare_first_order", "check_equations", "verdict_table"]


class Verdict(str, Enum):
    EXACT = "holds exactly"
    FIRST_ORDER = "holds to first order in η"
    FAILS = "does not hold"
    NOT_APPLICABLE = "not applicable"


_RANK = {Verdict.EXACT: 0, Verdict.FIRST_ORDER: 1, Verdict.FAILS: 2}


@dataclass(frozen=True)
class Check:
    """One verdict: an equation on one decomposition.

    ``residual`` is derived minus printed where it is not 0 (for the first
    item named by ``where``); ``corrected`` is a form that holds, when the
    printed one does not.
    """

    equation: str
    claim: str
    decomposition: str
    verdict: Verdict
    where: str = ""
    residual: sp.Expr = sp.S.Zero
    corrected: sp.Expr | None = None
    condition: str = ""
    names: tuple[tuple[sp.Symbol, str], ...] = ()


# ------------------------------------------------------------- comparisons
def compare_exact(der: Derivation, derived: sp.Expr, printed: sp.Expr) -> sp.Expr:
    """derived - printed, simplified; 0 exactly when the two agree as functions."""
    r = sp.expand(derived - printed)
    if r == 0:
        return sp.S.Zero
    if sp.cancel(sp.together(der.spn.concrete(r))) == 0:
        return sp.S.Zero
    return sp.factor_terms(sp.together(r))


def _coefficients(expr: sp.Expr, eta: sp.Symbol, order: int, expand: bool = True) -> list[sp.Expr]:
    """Taylor coefficients in eta at 0 up to ``order`` (by differentiation)."""
    out = []
    for m in range(order + 1):
        c = expr.subs(eta, 0) / sp.factorial(m)
        out.append(sp.expand(c) if expand else c)
        expr = sp.diff(expr, eta)
    return out


def _eta_degree(expr: sp.Expr, eta: sp.Symbol) -> int:
    """An upper bound on the degree in eta of a polynomial expression, without expanding it."""
    if expr == eta:
        return 1
    if eta not in expr.free_symbols:
        return 0
    if isinstance(expr, sp.Add):
        return max(_eta_degree(a, eta) for a in expr.args)
    if isinstance(expr, sp.Mul):
        return sum(_eta_degree(a, eta) for a in expr.args)
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp >= 0:
        return int(expr.exp) * _eta_degree(expr.base, eta)
    raise ValueError(f"not a polynomial in {eta}: {expr}")


def _is_zero(expr: sp.Expr, seed: int = 0) -> bool:
    """Exact zero test: a non-zero value at random positive integers proves non-zero; else expand."""
    rng = np.random.default_rng(seed)
    point = {x: sp.Integer(int(v)) for x, v in zip(sorted(expr.free_symbols, key=str),
                                                   rng.integers(2, 1000, len(expr.free_symbols)))}
    if expr.xreplace(point) != 0:
        return False
    return sp.expand(expr) == 0


def compare_first_order(der: Derivation, derived: sp.Expr, printed: sp.Expr) -> tuple[Verdict, sp.Expr]:
    """Compare two polynomials in eta order by order: (verdict, residual).

    Orders 0 and 1 must agree for "holds to first order"; if every order
    agrees the verdict is "holds exactly". The residual is derived - printed:
    eta^2 times the second-order coefficient (plus O(eta^3) when higher orders
    remain), or the part of orders 0-1 that does not match.
    """
    eta = der.spn.eta
    diff = derived - printed
    low = _coefficients(diff, eta, 1)
    if any(c != 0 for c in low):
        return Verdict.FAILS, sp.factor_terms(low[0] + eta * low[1])
    higher = _coefficients(diff, eta, _eta_degree(diff, eta), expand=False)[2:]
    nonzero = [m + 2 for m, c in enumerate(higher) if not _is_zero(c)]
    if not nonzero:
        return Verdict.EXACT, sp.S.Zero
    leading = eta ** nonzero[0] * higher[nonzero[0] - 2]
    return Verdict.FIRST_ORDER, leading + sp.O(eta ** (nonzero[0] + 1)) if len(nonzero) > 1 else leading


def _merge(items: Iterable[tuple[str, Verdict, sp.Expr]], n_components: int) -> tuple[Verdict, str, sp.Expr, str]:
    """Worst verdict over the items: (verdict, every item that has it, first one's residual, first item)."""
    names: list[str]
    worst, names, residual = Verdict.EXACT, [], sp.S.Zero
    for where, verdict, r in items:
        if _RANK[verdict] > _RANK[worst]:
            worst, names, residual = verdict, [], r
        if verdict == worst and where:
            names.append(where)
    if worst == Verdict.EXACT:
        return worst, "", sp.S.Zero, ""
    first = names[0] if names else ""
    if names and all(n.startswith("k = ") for n in names):
        names = ["all k" if len(names) == n_components > 1 else "k = " + _ranges([int(n[4:]) for n in names])]
    return worst, "; ".join(names), residual, first


def _ranges(ks: list[int]) -> str:
    """1, 2, 4, 5, 6 -> '1, 2, 4–6'."""
    runs: list[list[int]] = []
    for k in ks:
        if runs and k == runs[-1][-1] + 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


# ---------------------------------------------------------- the equations
def _shallow_grad_subs(der: Derivation) -> dict:
    """nabla_{w_k} -> the derived Eq. 2 with w_k decomposed (the concrete level)."""
    s = der.spn
    return {g: s.decomposed(e) for g, e in zip(s.shallow_grads, der.shallow_gradient)}


def _layer_gradient_items(der: Derivation, printed: dict[tuple[int, int], sp.Expr]):
    """Compare printed layer gradients with the derived ones, component level and concrete."""
    to_concrete = _shallow_grad_subs(der)
    for (l, j), expr in printed.items():
        where = f"w^{{[{l}]}}_{{{j + 1}}}"
        r = compare_exact(der, der.chain_gradient[(l, j)], expr)
        if r == 0:
            r = compare_exact(der, der.layer_gradient[(l, j)], expr.xreplace(to_concrete))
        yield where, Verdict.EXACT if r == 0 else Verdict.FAILS, r


def _update_items(der: Derivation, printed: Callable[[int], sp.Expr], comps: Sequence[int]):
    sub = der.gradient_substitution()
    for k in comps:
        verdict, r = compare_first_order(der, der.update[k], printed(k).xreplace(sub))
        yield f"k = {k + 1}", verdict, r


def check_equations(structure: Decomposition | Sequence | Derivation, name: str | None = None,
                    overrides: dict[str, Callable] | None = None) -> list[Check]:
    """Every verdict for one decomposition.

    Parameters
    ----------
    structure : Decomposition, nested tuple or Derivation
    name : str, optional
        How the decomposition is named in the table (default: its tree).
    overrides : dict, optional
        Replace a printed encoding by name (``"eq5"``, ``"eq13"``, ...) with another
        function of the same signature; the tests use it to perturb an equation
        and see its verdict change.
    """
    der = structure if isinstance(structure, Derivation) else Derivation(structure)
    s = der.spn
    enc = {n: getattr(pe, n) for n in pe.__all__}
    enc.update(overrides or {})
    dec_name = name or str(s.decomposition.tree)
    K = range(s.n_components)
    fig2, fig6 = enc["fig2_components"](s), enc["eq6_components"](s)
    out: list[Check] = []

    def add(eq: str, claim: str, items, na: str = "", corrected=None, condition: str = "", names=()) -> None:
        items = list(items)
        if not items:
            out.append(Check(eq, claim, dec_name, Verdict.NOT_APPLICABLE, na))
            return
        verdict, where, residual, first = _merge(items, s.n_components)
        fix = corrected(first) if corrected is not None and verdict == Verdict.FAILS else None
        out.append(Check(eq, claim, dec_name, verdict, where, residual, fix, condition, tuple(names.items())
                         if isinstance(names, dict) else names))

    # Eq. 1: the data set's log-likelihood, and the gradient that Eq. 2 implies for it
    r = oc.eq1_residual(der, enc["eq1"](s))
    add("Eq. 1", "equals the log-likelihood of N samples under f/f(*)",
        [("", Verdict.EXACT if r == 0 else Verdict.FAILS, r)], corrected=lambda _: oc.corrected_eq1(der))
    r = oc.eq1_gradient_residual(der, enc["eq1"](s), 0)
    add("Eq. 1-2", "Eq. 2 summed over n is the gradient of Eq. 1",
        [("k = 1", Verdict.EXACT if r == 0 else Verdict.FAILS, r)],
        corrected=lambda _: sp.Sum(s.comp_xn[1, s.n] / s.f_sample(), (s.n, 1, s.N)) - s.N * s.comp_star[0] / s.f_star)
    add("Eq. 2", "gradient of log f(x) - log f(*) w.r.t. w_k",
        ((f"k = {k + 1}", *_verdict_exact(der, der.shallow_gradient[k], enc["eq2"](s, k))) for k in K))
    add("Eq. 5", "gradient of the last-layer weight (Fig. 2)",
        _layer_gradient_items(der, dict(enc["eq5"](s, k) for k in fig2)),
        na="no component with w_k = w^[0] w^[1]")
    add("Eq. 6", "gradient of a root weight (Fig. 2)",
        _layer_gradient_items(der, dict(enc["eq6"](s, k) for k in fig6)),
        na="no sum node at depth 1 with only components below")
    add("Eq. 7", "gradient of every layer weight", _layer_gradient_items(
        der, {(l, j): enc["eq7"](s, l, j) for l, j, _ in s.all_layer_weights()}),
        condition="w^{[l]}_j ≠ 0")
    add("Eq. 8-9", "one-step update of w_k (Fig. 2)", _update_items(der, lambda k: enc["eq9"](s, k), fig2),
        na="no component with w_k = w^[0] w^[1]")
    add("Eq. 10", "its expansion in η (Fig. 2)", _update_items(der, lambda k: enc["eq10"](s, k), fig2),
        na="no component with w_k = w^[0] w^[1]")
    add("Eq. 11-12", "w_k + ρ ∇w_k + λ w_k (Fig. 2)", _update_items(der, lambda k: enc["eq11"](s, k), fig2),
        na="no component with w_k = w^[0] w^[1]")
    def derived_form(where: str):
        return _derived_eq13(der, int(where.split("= ")[1]) - 1)

    for reading, label in (("sum layers", "L = sum layers"), ("eq3", "L = Eq. 3's upper index")):
        def printed_eq13(k: int, reading: str = reading) -> sp.Expr:  # a def, not a lambda: mypy can type it
            return enc["eq13"](s, k, reading)[0]

        add(f"Eq. 13 ({label})", "w_k + ρ ∇w_k + λ w_k, any tree",
            _update_items(der, printed_eq13, K), corrected=derived_form)
    add("Eq. 13 corrected", "last weight pulled out: ρ_k, λ_k over l < d_k - 1",
        _update_items(der, lambda k: enc["eq13_corrected"](s, k)[0], K))
    _eq14(der, add)
    return out


EQ14_STEPS = 3   # Eq. 14 is checked at t = 3: w^{(4)} against the gradients of steps 1, 2, 3


def _eq14(der: Derivation, add) -> None:
    """Eq. 14, as printed and with w^{(t+1)} on the left, for every component's first-order recursion."""
    forms = ((False, "Eq. 14 as printed", "w^(t) = w^(t) + ρ∇^(t) + Σ μ ∇^(τ)"),
             (True, "Eq. 14 with w^(t+1) on the left", "w^(t+1) = w^(t) + ρ∇^(t) + Σ μ ∇^(τ)"))
    for lhs_next, eq, claim in forms:
        items, names = [], {}
        for k in range(der.spn.n_components):
            flat = der.lam[k] == 0    # a component directly under the root: plain gradient ascent
            verdict, r, latex_names = _eq14_verdict(lhs_next, flat)
            names.update(latex_names)
            items.append((f"k = {k + 1}", verdict, r))
        add(eq, claim, items, condition="w_k^(1) = 0" if lhs_next else "", names=names)


@cache
def _eq14_verdict(lhs_next: bool, flat: bool) -> tuple[Verdict, sp.Expr, dict]:
    u = unroll(EQ14_STEPS, no_lambda=flat)
    _, r = momentum_coefficients(u, EQ14_STEPS, lhs_next)
    if r == 0:
        verdict = Verdict.EXACT if flat else Verdict.FIRST_ORDER
    elif r.xreplace({u.w_init: 0}) == 0:
        verdict = Verdict.FIRST_ORDER
    else:
        verdict = Verdict.FAILS
    return verdict, r, u.latex_names


def _verdict_exact(der: Derivation, derived: sp.Expr, printed: sp.Expr) -> tuple[Verdict, sp.Expr]:
    r = compare_exact(der, derived, printed)
    return (Verdict.EXACT if r == 0 else Verdict.FAILS), r


def _derived_eq13(der: Derivation, k: int) -> tuple[sp.Expr, sp.Expr]:
    """The derived rho_k and lambda_k (lambda with the layer gradients as placeholders)."""
    return sp.Eq(sp.Symbol("rho"), der.rho[k]), sp.Eq(sp.Symbol("lambda"), der.lam_layer_form(k))


def verdict_table(structures: Iterable[Decomposition | Sequence | tuple[str, Decomposition]],
                  latex: bool = True) -> list[dict]:
    """The verdict table as data: one dict per (equation, decomposition).

    Parameters
    ----------
    structures : iterable
        Decompositions, nested tuples, or ``(name, decomposition)`` pairs.
    latex : bool
        Render residuals and corrections as LaTeX (else as SymPy strings).

    Returns
    -------
    list of dict
        Keys: equation, claim, decomposition, verdict, where, residual,
        corrected, condition. Defined in the book's chapter "The derivation".
    """
    rows = []
    for item in structures:
        name, structure = item if (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)) \
            else (None, item)
        der = Derivation(structure)
        for c in check_equations(der, name):
            names = {**der.spn.latex_names, **dict(c.names)}
            show = (lambda e, names=names: sp.latex(e, symbol_names=names)) if latex else str
            rows.append({"equation": c.equation, "claim": c.claim, "decomposition": c.decomposition,
                         "verdict": c.verdict.value, "where": c.where,
                         "residual": "" if c.residual == 0 else show(_tidy(c.residual)),
                         "corrected": "" if c.corrected is None else _show_corrected(c.corrected, show),
                         "condition": c.condition})
    return rows


def _tidy(expr: sp.Expr) -> sp.Expr:
    """A residual in a readable form: expanded and with common factors pulled out."""
    if isinstance(expr, sp.Add) and any(isinstance(a, sp.Order) for a in expr.args):
        order = [a for a in expr.args if isinstance(a, sp.Order)]
        return sp.Add(_tidy(sp.Add(*[a for a in expr.args if not isinstance(a, sp.Order)])), *order)
    expr = sp.expand(expr)
    return sp.factor(expr) if sp.count_ops(expr) < 60 else sp.factor_terms(expr)


def _show_corrected(corrected, show) -> str:
    if isinstance(corrected, tuple):
        return ", ".join(show(e) for e in corrected)
    return show(corrected)

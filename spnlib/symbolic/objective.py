"""The data set's objective (Eq. 1): how often log f(*) is subtracted, and what that does.

The model is f(x)/f(*). N samples under it have log-likelihood
sum_n log f(x_n) - N log f(*); Eq. 1 prints the partition-function term once.
Sums over n = 1..N stay symbolic (N is a symbol): :func:`split_sum` splits them
term by term, so no general-purpose ``simplify`` is needed.

:func:`scaling_identity` derives Euler's identity sum_k w_k d/dw_k for the
objectives: 0 for the normalised log-likelihood (it is invariant under w -> c w,
so its gradient is orthogonal to w and of size 1/|w|), N - 1 for Eq. 1 as printed
(so gradient ascent on it only grows the weights).

Defined in the book's chapter "The derivation".
"""
from __future__ import annotations

import sympy as sp

from spnlib.symbolic.derivation import Derivation

__all__ = ["split_sum", "eq1_residual", "eq1_gradient_residual", "corrected_eq1", "scaling_identity"]


def split_sum(expr: sp.Expr, n: sp.Symbol, N: sp.Symbol) -> sp.Expr:
    """Sums over n = 1..N split term by term: a term free of n becomes N times the term."""
    def split(e: sp.Expr) -> sp.Expr:
        if isinstance(e, sp.Sum):
            (var, lo, hi), = e.limits
            if (var, lo, hi) != (n, 1, N):
                raise ValueError(f"expected a sum over {n} = 1..{N}, got limits {e.limits}")
            terms = sp.Add.make_args(sp.expand(e.function))
            return sp.Add(*[N * t if n not in t.free_symbols else sp.Sum(t, (n, 1, N)) for t in terms])
        return e.func(*[split(a) for a in e.args]) if e.args else e
    return split(expr)


def _star(der: Derivation) -> dict:
    s = der.spn
    return {s.f_shallow(star=True): s.f_star}


def eq1_residual(der: Derivation, printed: sp.Expr) -> sp.Expr:
    """[log-likelihood of N samples under f/f(*)] minus the printed Eq. 1 (0 if they agree)."""
    s = der.spn
    r = sp.expand(split_sum(der.dataset_loglik, s.n, s.N) - split_sum(printed, s.n, s.N))
    return sp.factor_terms(r.xreplace(_star(der)))


def eq1_gradient_residual(der: Derivation, printed: sp.Expr, k: int = 0) -> sp.Expr:
    """d(printed Eq. 1)/dw_k minus sum_n of Eq. 2 at x_n (0 if Eq. 2 is Eq. 1's per-sample gradient)."""
    s = der.spn
    grad = split_sum(sp.diff(printed, s.shallow_weights[k]), s.n, s.N)
    per_sample = s.comp_xn[k + 1, s.n] / s.f_sample() - s.comp_star[k] / s.f_shallow(star=True)
    r = sp.expand(grad - split_sum(sp.Sum(per_sample, (s.n, 1, s.N)), s.n, s.N))
    return sp.factor_terms(r.xreplace(_star(der)))


def corrected_eq1(der: Derivation) -> sp.Expr:
    """sum_n log f(x_n | theta) - N log f(* | theta)."""
    s = der.spn
    return sp.Sum(sp.log(s.f_sample()), (s.n, 1, s.N)) - s.N * sp.log(s.f_star)


def scaling_identity(der: Derivation, printed: sp.Expr) -> dict[str, sp.Expr]:
    """sum_k w_k d/dw_k of the per-sample objective, of the printed Eq. 1 and of the corrected one.

    Returns a dict with keys ``"one sample"``, ``"Eq. 1 as printed"``, ``"Eq. 1 corrected"``.
    """
    s = der.spn

    def euler(e: sp.Expr) -> sp.Expr:
        if isinstance(e, sp.Sum):      # sum_k w_k d/dw_k commutes with the sum over n
            return split_sum(sp.Sum(euler(e.function), *e.limits), s.n, s.N).doit()
        if isinstance(e, sp.Add):
            return sp.Add(*[euler(a) for a in e.args])
        return sp.cancel(sp.together(sp.Add(*[w * sp.diff(e, w) for w in s.shallow_weights])))

    corrected = sp.Sum(sp.log(s.f_sample()), (s.n, 1, s.N)) - s.N * sp.log(s.f_shallow(star=True))
    return {"one sample": euler(der.shallow_loglik), "Eq. 1 as printed": euler(printed),
            "Eq. 1 corrected": euler(corrected)}

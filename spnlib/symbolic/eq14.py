"""Observation 1 / Eq. 14: the first-order dynamics unrolled, and where the momentum reading is loose.

To first order in eta one gradient step moves w_k by (Eqs. 12-13, corrected form in
:mod:`spnlib.symbolic.printed`)

    w^{(t+1)} = w^{(t)} + rho^{(t)} nabla^{(t)} + lambda^{(t)} w^{(t)}.

:func:`unroll` iterates this recursion symbolically for a few steps (1-based t,
as in the paper: w^{(1)} is the initial value) and reads off, by differentiation,
the coefficient of every past gradient; :func:`momentum_coefficients` solves
Eq. 14's "there exists mu^{(t,tau)}" for the mu's and returns what is left over.
:func:`heavy_ball_match` asks whether constant rho, lambda ever give heavy-ball
momentum. :func:`relative_step` and :func:`scaling_degree` quantify when the
first-order truncation is accurate (:func:`spnlib.studies.dynamics.first_order_error` measures
it on the numeric core).

Defined in the book's chapter "The derivation".
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from spnlib.symbolic.derivation import Derivation

__all__ = ["Unrolled", "unroll", "momentum_coefficients", "eq14_printed", "heavy_ball_match",
           "relative_step", "scaling_degree"]


@dataclass(frozen=True)
class Unrolled:
    """The first-order recursion iterated ``steps`` times.

    Attributes
    ----------
    rho, lam, grad : tuple of Symbol
        rho^{(t)}, lambda^{(t)}, nabla_{w_k}^{(t)} for t = 1..steps (index t - 1).
    w_init : Symbol
        w_k^{(1)}.
    w : tuple of Expr
        w_k^{(t)} for t = 1..steps + 1 (index t - 1), expanded.
    """

    steps: int
    rho: tuple[sp.Symbol, ...]
    lam: tuple[sp.Symbol, ...]
    grad: tuple[sp.Symbol, ...]
    w_init: sp.Symbol
    w: tuple[sp.Expr, ...]

    @property
    def latex_names(self) -> dict[sp.Symbol, str]:
        """LaTeX names: rho^{(t)}, lambda^{(t)}, nabla_{w_k}^{(t)}, w_k^{(1)}, mu^{(t,tau)}."""
        names = {self.w_init: "w_k^{(1)}"}
        for t in range(self.steps):
            names[self.rho[t]] = f"\\rho^{{({t + 1})}}"
            names[self.grad[t]] = f"\\nabla_{{w_k}}^{{({t + 1})}}"
            if isinstance(self.lam[t], sp.Symbol):
                names[self.lam[t]] = f"\\lambda^{{({t + 1})}}"
            for tau in range(t):
                names[_mu(t + 1, tau + 1)] = f"\\mu^{{({t + 1},{tau + 1})}}"
        return names

    def latex(self, expr: sp.Expr) -> str:
        """LaTeX in the paper's notation."""
        return sp.latex(expr, symbol_names=self.latex_names)

    def at(self, t: int) -> sp.Expr:
        """w_k^{(t)}, 1-based."""
        if not 1 <= t <= self.steps + 1:
            raise IndexError(f"t must be in 1..{self.steps + 1}, got {t}")
        return self.w[t - 1]

    def coefficient(self, t: int, tau: int) -> sp.Expr:
        """The weight of nabla^{(tau)} in w_k^{(t)} (by differentiation)."""
        return sp.factor(sp.diff(self.at(t), self.grad[tau - 1]))


def unroll(steps: int, no_lambda: bool = False) -> Unrolled:
    """Iterate w^{(t+1)} = w^{(t)} + rho^{(t)} nabla^{(t)} + lambda^{(t)} w^{(t)} from w^{(1)}.

    ``no_lambda``: lambda = 0, the case of a component directly under the root
    (and of the shallow network), where the step is plain gradient ascent.
    """
    if steps < 1:
        raise ValueError(f"need at least one step, got {steps}")
    rho = sp.symbols(f"rho1:{steps + 1}", real=True)
    lam = (0,) * steps if no_lambda else sp.symbols(f"lambda1:{steps + 1}", real=True)
    grad = sp.symbols(f"zg1:{steps + 1}", real=True)   # named to print after rho, mu
    w_init = sp.Symbol("w1", real=True)
    w = [w_init]
    for t in range(steps):
        w.append(sp.expand(w[-1] + rho[t] * grad[t] + lam[t] * w[-1]))
    return Unrolled(steps, rho, tuple(lam), grad, w_init, tuple(w))


def _mu(t: int, tau: int) -> sp.Symbol:
    return sp.Symbol(f"mu_{t}_{tau}", real=True)


def eq14_printed(u: Unrolled, t: int) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """Eq. 14's right-hand side w^{(t)} + rho^{(t)} nabla^{(t)} + sum_{tau=1}^{t-1} mu^{(t,tau)} nabla^{(tau)}.

    Returns the expression and the unknowns mu^{(t,1)}..mu^{(t,t-1)}.
    """
    mu = tuple(_mu(t, tau) for tau in range(1, t))
    rhs = u.at(t) + u.rho[t - 1] * u.grad[t - 1] + sp.Add(*[m * g for m, g in zip(mu, u.grad)])
    return rhs, tuple(mu)


def momentum_coefficients(u: Unrolled, t: int, lhs_next: bool = True) -> tuple[dict, sp.Expr]:
    """Solve Eq. 14 for its mu's: (solution, residual left over).

    ``lhs_next=True`` puts w^{(t+1)} on the left (what the paper presumably
    means); ``False`` takes the printed w^{(t)}. The mu's are chosen so that the
    coefficient of every past gradient nabla^{(tau)}, tau < t, matches; the
    residual (left minus right) is what no choice of mu can remove.
    """
    if not 1 <= t <= u.steps:
        raise IndexError(f"t must be in 1..{u.steps}, got {t}")
    lhs = u.at(t + 1) if lhs_next else u.at(t)
    rhs, mu = eq14_printed(u, t)
    diff = sp.expand(lhs - rhs)
    equations = [sp.diff(diff, g) for g in u.grad[:t - 1]]
    solution = sp.solve(equations, mu, dict=True)[0] if mu else {}
    residual = sp.factor(sp.expand(diff.xreplace(solution)))
    return {m: sp.factor(solution[m]) for m in mu}, residual


def heavy_ball_match(steps: int = 3) -> list[dict]:
    """Constant rho, lambda that make the unrolled dynamics heavy-ball momentum.

    Heavy ball: v^{(t+1)} = beta v^{(t)} + alpha nabla^{(t)}, w^{(t+1)} = w^{(t)} + v^{(t+1)}
    from v^{(1)} = 0 and w^{(1)} = 0, i.e. w^{(t+1)} - w^{(t)} = sum_{tau<=t} alpha beta^{t-tau} nabla^{(tau)}.
    Returns every solution (rho, lambda, alpha, beta) with alpha != 0 (from sympy.solve).
    """
    u = unroll(steps)
    rho, lam, alpha, beta = sp.symbols("rho lambda alpha beta", real=True)
    const = {**{r: rho for r in u.rho}, **{m: lam for m in u.lam}, u.w_init: 0}
    equations = []
    for t in range(1, steps + 1):
        step = sp.expand((u.at(t + 1) - u.at(t)).xreplace(const))
        for tau in range(1, t + 1):
            equations.append(sp.diff(step, u.grad[tau - 1]) - alpha * beta ** (t - tau))
    solutions = sp.solve(equations, [rho, lam, alpha, beta], dict=True)
    return [dict(sorted(s.items(), key=lambda kv: kv[0].name)) for s in solutions if s.get(alpha, alpha) != 0]


def relative_step(der: Derivation) -> dict[tuple[int, int], tuple[sp.Expr, sp.Expr]]:
    """w^{[l]}_j nabla_{w^{[l]}_j} and the edge's responsibility difference, for every layer weight.

    The second entry is sum_{i below the edge} [w_i C_i(x) / f(x) - w_i C_i(*) / f(*)]
    (a number in [-1, 1] for one sample); :mod:`spnlib.symbolic.verdicts` checks they agree,
    so the relative step eta nabla / w^{[l]}_j is eta (R(x) - R(*)) / (w^{[l]}_j)^2.
    """
    s = der.spn
    out = {}
    for l, j, u in s.all_layer_weights():
        below = s.decomposition.sharing(l, j)
        resp = sp.Add(*[s.weight(i) * (s.comp_x[i] / s.f_x - s.comp_star[i] / s.f_star) for i in below])
        out[(l, j)] = (u * der.layer_gradient[(l, j)], resp)
    return out


def scaling_degree(der: Derivation, expr: sp.Expr) -> int | None:
    """m with expr(s w) = s^m expr(w) when every layer weight is scaled by s, else None.

    ``expr`` may contain f(x), f(*) placeholders (they are substituted first).
    """
    scale = sp.Symbol("s", positive=True)
    concrete = der.spn.concrete(expr)
    scaled = concrete.xreplace({u: scale * u for _, _, u in der.spn.all_layer_weights()})
    ratio = sp.cancel(sp.together(scaled / concrete))
    if ratio.free_symbols - {scale}:
        return None
    m = sp.degree(sp.numer(ratio), scale) - sp.degree(sp.denom(ratio), scale)
    return int(m) if sp.simplify(ratio - scale ** m) == 0 else None

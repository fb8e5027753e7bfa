"""Sec. 2.1 background: l_p regression with w and with w = w_1 w_2 (Arora et al. 2018).

* :func:`derive_linear`: SymPy derivation of the gradients and of the end-to-end
  update of w = w_1 w_2 (the paper's rho and lambda), with the exact remainder.
* :func:`lp_loss`, :func:`lp_gradient`, :func:`end_to_end_step`: the same in NumPy,
  for a numeric check against a real gradient step.
* :func:`regression_problem`, :func:`lp_minimum`, :func:`descent_curves`: gradient descent
  on the plain and the overparameterized model, vectorised over learning rates.
* :func:`linear_speed_study`: the speed-up of w1 w2 over w with the book's one estimator
  (:mod:`spnlib.stats.speedup`): learning rates tuned on held-out problems, updates to close
  90 % and 99 % of the gap to the exact minimum, censored runs kept.

The loss is l_p(w) = mean_n (1/p)(x_n^T w - y_n)^p for even p (p = 2, 4).

Defined in the book's chapter "Overparameterization in linear regression".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
import sympy as sp

from spnlib.stats.speedup import MedianTime, SpeedUp, first_reaching, lower_median, median_time, speedups
from spnlib.tolerances import GAP_FRACTIONS

__all__ = [
    "LinearDerivation",
    "LinearSpeedStudy",
    "SpeedComparison",
    "compare_descent",
    "derive_linear",
    "descent_curves",
    "end_to_end_step",
    "linear_speed_study",
    "lp_gradient",
    "lp_loss",
    "lp_minimum",
    "overparameterized_gradients",
    "regression_problem",
]


@dataclass(frozen=True)
class LinearDerivation:
    """The symbolic derivation for one sample (the expectation is linear, so it carries over).

    Attributes
    ----------
    x, w, w1, g : sympy.Matrix
        Column vectors of symbols x^(i), w^(i), w_1^(i), g^(i) (i = 1..D); g stands
        for grad_w evaluated at w = w1 w2 (averaged over the data or not).
    y, w2, eta, p : sympy.Symbol
    grad_w, grad_w1 : sympy.Matrix
    grad_w2 : sympy.Expr
        Gradients obtained by differentiating the loss (not copied from the paper).
    rho, lam : sympy.Expr
        rho = eta w2^2 and lambda = eta w2^{-1} grad_{w2} (with grad_{w2} = w1^T g),
        the paper's end-to-end coefficients.
    remainder : sympy.Matrix
        Exact w1' w2' - (w - rho g - lambda w) after one step, in terms of g.
    checks : dict of str to bool
        Each printed formula of Sec. 2.1, and each identity used, compared with
        the derived expression (True = the difference simplifies to 0).
    """

    x: sp.Matrix
    w: sp.Matrix
    w1: sp.Matrix
    g: sp.Matrix
    y: sp.Symbol
    w2: sp.Symbol
    eta: sp.Symbol
    p: sp.Symbol
    grad_w: sp.Matrix
    grad_w1: sp.Matrix
    grad_w2: sp.Expr
    rho: sp.Expr
    lam: sp.Expr
    remainder: sp.Matrix
    checks: dict


def derive_linear(n_features: int = 2) -> LinearDerivation:
    """Derive the Sec. 2.1 gradients and end-to-end update with SymPy for D = ``n_features``.

    The gradients are derived for one sample; the mean over samples follows by
    linearity. The end-to-end update uses only the chain-rule identities
    grad_{w1} = w2 g and grad_{w2} = w1^T g, with g = grad_w at w = w1 w2 (checked
    here), so it is derived for an abstract gradient vector g: it holds for the
    data-averaged gradient as well.
    """
    if int(n_features) != n_features or n_features < 1:
        raise ValueError(f"n_features must be an integer >= 1, got {n_features!r}")
    D = int(n_features)

    def vector(name: str) -> sp.Matrix:
        return sp.Matrix([sp.Symbol(f"{name}^{{({i})}}", real=True) for i in range(1, D + 1)])

    x, w, w1, g = vector("x"), vector("w"), vector("w_1"), vector("g")
    y, w2, eta = sp.Symbol("y", real=True), sp.Symbol("w_2", real=True), sp.Symbol("eta", positive=True)
    p = sp.Symbol("p", positive=True, integer=True)

    def loss(weights: sp.Matrix) -> sp.Expr:
        return ((x.T * weights)[0] - y) ** p / p

    grad_w = sp.simplify(sp.Matrix([sp.diff(loss(w), wi) for wi in w]))
    over = loss(w1 * w2)
    grad_w1 = sp.simplify(sp.Matrix([sp.diff(over, wi) for wi in w1]))
    grad_w2 = sp.simplify(sp.diff(over, w2))
    residual = (x.T * w1)[0] * w2 - y
    grad_w_at = grad_w.subs(dict(zip(w, w1 * w2)))           # grad_w evaluated at w = w1 w2
    differences = {
        "grad_w = (x^T w - y)^(p-1) x": grad_w - ((x.T * w)[0] - y) ** (p - 1) * x,
        "grad_w1 = (x^T w1 w2 - y)^(p-1) w2 x": grad_w1 - residual ** (p - 1) * w2 * x,
        "grad_w2 = (x^T w1 w2 - y)^(p-1) w1^T x": sp.Matrix([grad_w2 - residual ** (p - 1) * (w1.T * x)[0]]),
        "chain rule: grad_w1 = w2 grad_w(w1 w2)": grad_w1 - w2 * grad_w_at,
        "chain rule: grad_w2 = w1^T grad_w(w1 w2)": sp.Matrix([grad_w2 - (w1.T * grad_w_at)[0]]),
    }
    # one gradient step on (w1, w2), multiplied out, with g = grad_w(w1 w2) left abstract
    g_w2 = (w1.T * g)[0]
    exact = (w1 - eta * w2 * g) * (w2 - eta * g_w2)
    rho, lam = eta * w2 ** 2, eta * g_w2 / w2
    remainder = sp.expand(exact - (w1 * w2 - rho * g - lam * (w1 * w2)))
    differences["end-to-end: w' = w - rho grad_w - lambda w + O(eta^2)"] = sp.Matrix(
        [sp.limit(r / eta, eta, 0) for r in remainder])
    differences["remainder = eta^2 w2 grad_w2 grad_w"] = remainder - eta ** 2 * w2 * g_w2 * g
    checks = {name: all(sp.simplify(e) == 0 for e in diff) for name, diff in differences.items()}
    return LinearDerivation(x, w, w1, g, y, w2, eta, p, grad_w, grad_w1, grad_w2, rho, lam,
                            remainder, checks)


# ------------------------------------------------------------------ numeric side
def _check_problem(X: np.ndarray, y: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (N, D) and y (N,), got shapes {X.shape} and {y.shape}")
    if p not in (2, 4, 6, 8):
        raise ValueError(f"p must be an even integer in 2..8 (the l_p loss needs even p), got {p!r}")
    return X, y


def _ipow(r: np.ndarray, k: int) -> np.ndarray:
    """r**k for a small integer k >= 1 by repeated multiplication (np.power is slow for k > 2)."""
    out = r.copy()
    for _ in range(k - 1):
        out *= r
    return out


def lp_loss(w: np.ndarray, X: np.ndarray, y: np.ndarray, p: int) -> np.ndarray:
    """mean_n (1/p)(x_n^T w - y_n)^p for a weight vector (D,) or a batch of them (B, D)."""
    X, y = _check_problem(X, y, p)
    r = np.asarray(w, dtype=np.float64) @ X.T - y
    return np.mean(_ipow(r, p), axis=-1) / p


def lp_gradient(w: np.ndarray, X: np.ndarray, y: np.ndarray, p: int) -> np.ndarray:
    """grad_w l_p = mean_n (x_n^T w - y_n)^{p-1} x_n (shape of ``w``)."""
    X, y = _check_problem(X, y, p)
    r = np.asarray(w, dtype=np.float64) @ X.T - y
    return _ipow(r, p - 1) @ X / X.shape[0]


def overparameterized_gradients(w1: np.ndarray, w2: float, X: np.ndarray, y: np.ndarray,
                                p: int) -> tuple[np.ndarray, float]:
    """(grad_{w1}, grad_{w2}) of l_p(w1 w2), by the chain rule from :func:`lp_gradient`."""
    g = lp_gradient(np.asarray(w1) * w2, X, y, p)
    return w2 * g, float(np.asarray(w1) @ g)


def end_to_end_step(w1: np.ndarray, w2: float, X: np.ndarray, y: np.ndarray, p: int,
                    eta: float) -> dict[str, np.ndarray | np.float64]:
    """One real gradient step on (w1, w2) and the paper's first-order prediction of w.

    Returns a dict with ``exact`` (w1' w2' after the step), ``first_order``
    (w - rho grad_w - lambda w), ``with_remainder`` (first order plus
    eta^2 w2 grad_{w2} grad_w), ``rho`` and ``lam``.
    """
    if not np.isfinite(eta) or eta <= 0:
        raise ValueError(f"the learning rate eta must be finite and > 0, got {eta!r}")
    w1 = np.asarray(w1, dtype=np.float64)
    g1, g2 = overparameterized_gradients(w1, w2, X, y, p)
    gw = lp_gradient(w1 * w2, X, y, p)
    exact = (w1 - eta * g1) * (w2 - eta * g2)
    rho, lam = eta * w2 ** 2, eta * g2 / w2
    first = w1 * w2 - rho * gw - lam * (w1 * w2)
    return {"exact": exact, "first_order": first, "with_remainder": first + eta ** 2 * w2 * g2 * gw,
            "rho": np.float64(rho), "lam": np.float64(lam)}


def regression_problem(seed: int, n_samples: int = 200, n_features: int = 10, noise: float = 0.1,
                       condition: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic regression problem: Gaussian features with variances spread over
    ``condition`` (ratio of largest to smallest), y = X w* + noise."""
    if n_samples < 1 or n_features < 1 or noise < 0 or condition < 1:
        raise ValueError("need n_samples >= 1, n_features >= 1, noise >= 0, condition >= 1")
    rng = np.random.default_rng(seed)
    scales = np.sqrt(np.logspace(0, -np.log10(condition), n_features))
    X = rng.normal(size=(n_samples, n_features)) * scales
    y = X @ rng.normal(size=n_features) + noise * rng.normal(size=n_samples)
    return X, y


def lp_minimum(X: np.ndarray, y: np.ndarray, p: int, max_iter: int = 200) -> tuple[np.ndarray, float]:
    """The minimiser of the (convex) l_p loss and its value, by damped Newton from least squares."""
    X, y = _check_problem(X, y, p)
    w = np.linalg.lstsq(X, y, rcond=None)[0]
    for _ in range(max_iter if p > 2 else 0):
        r = X @ w - y
        g = (r ** (p - 1)) @ X / len(y)
        H = (p - 1) * (X.T * r ** (p - 2)) @ X / len(y)
        step = np.linalg.lstsq(H, g, rcond=None)[0]
        t, base = 1.0, lp_loss(w, X, y, p)
        while lp_loss(w - t * step, X, y, p) > base and t > 1e-12:
            t /= 2
        w = w - t * step
        if np.max(np.abs(t * step)) < 1e-15 * (1 + np.max(np.abs(w))):
            break
    return w, float(lp_loss(w, X, y, p))


@overload
def descent_curves(X: np.ndarray, y: np.ndarray, p: int, etas: Sequence[float] | np.ndarray, n_steps: int,
                   w0: np.ndarray, w2_0: float | None = ..., blowup: float = ...,
                   return_w2: Literal[False] = ...) -> np.ndarray: ...


@overload
def descent_curves(X: np.ndarray, y: np.ndarray, p: int, etas: Sequence[float] | np.ndarray, n_steps: int,
                   w0: np.ndarray, w2_0: float | None = ..., blowup: float = ..., *,
                   return_w2: Literal[True]) -> tuple[np.ndarray, np.ndarray]: ...


@overload
def descent_curves(X: np.ndarray, y: np.ndarray, p: int, etas: Sequence[float] | np.ndarray, n_steps: int,
                   w0: np.ndarray, w2_0: float | None = ..., blowup: float = ...,
                   return_w2: bool = ...) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...


def descent_curves(X: np.ndarray, y: np.ndarray, p: int, etas: Sequence[float] | np.ndarray, n_steps: int,
                   w0: np.ndarray, w2_0: float | None = None, blowup: float = 1e6,
                   return_w2: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Loss curves of gradient descent, one per learning rate, shape (len(etas), n_steps + 1).

    With ``w2_0 = None`` the plain model w is trained from ``w0``; otherwise the
    overparameterized model w1 w2 from w1 = w0 / w2_0, w2 = w2_0 (the same
    end-to-end start). A run whose loss exceeds ``blowup`` times its start (or
    is not finite) has diverged: it is frozen and its remaining losses are inf.
    With ``return_w2`` also return the trajectories of w2 (same shape; all 1 for
    the plain model), from which rho = eta w2^2 follows.
    """
    X, y = _check_problem(X, y, p)
    e = np.asarray(etas, dtype=np.float64)
    if e.ndim != 1 or e.size == 0 or not np.all(np.isfinite(e)) or np.any(e <= 0):
        raise ValueError(f"learning rates must be a non-empty 1-D array of finite values > 0, got {etas!r}")
    w0 = np.asarray(w0, dtype=np.float64)
    if w0.shape != (X.shape[1],):
        raise ValueError(f"w0 must have shape ({X.shape[1]},), got {w0.shape}")
    if w2_0 is not None and (not np.isfinite(w2_0) or w2_0 == 0):
        raise ValueError(f"w2_0 must be finite and non-zero, got {w2_0!r}")
    B = e.size
    w1 = np.tile(w0 / (1.0 if w2_0 is None else w2_0), (B, 1))
    w2 = np.full(B, 1.0 if w2_0 is None else float(w2_0))
    out = np.full((B, n_steps + 1), np.inf)
    w2_path = np.full((B, n_steps + 1), np.nan)
    alive = np.ones(B, dtype=bool)
    start = float(lp_loss(w0, X, y, p))
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps + 1):
            w = w1 * w2[:, None]
            loss = lp_loss(w, X, y, p)
            alive &= np.isfinite(loss) & (loss <= blowup * max(start, 1e-300))
            out[alive, t] = loss[alive]
            w2_path[alive, t] = w2[alive]
            if t == n_steps or not alive.any():
                break
            g = lp_gradient(w, X, y, p)
            if w2_0 is None:
                w1[alive] -= e[alive, None] * g[alive]
            else:
                g2 = np.einsum("bd,bd->b", w1, g)
                w1[alive] -= (e * w2)[alive, None] * g[alive]
                w2[alive] -= e[alive] * g2[alive]
    return (out, w2_path) if return_w2 else out


@dataclass(frozen=True)
class SpeedComparison:
    """Plain vs overparameterized gradient descent on ``regression_problem(seed)``, several seeds.

    Attributes
    ----------
    p : int
    etas : ndarray
        The learning-rate grid (every method is run with every eta).
    methods : tuple of str
        ``"plain"`` and ``"w1 w2, w2(0) = c"`` for each initial w2 = c.
    iterations : ndarray, shape (methods, seeds, etas)
        Iterations until the excess loss l_p(w) - min l_p falls to ``tolerance``
        times its initial value (inf if not within ``n_steps`` or diverged).
    excess : ndarray, shape (methods, seeds, etas, n_steps + 1)
        Excess-loss curves.
    """

    p: int
    etas: np.ndarray
    seeds: tuple[int, ...]
    methods: tuple[str, ...]
    iterations: np.ndarray
    excess: np.ndarray
    tolerance: float

    def best(self) -> tuple[np.ndarray, np.ndarray]:
        """(iterations, eta) of each method at its best eta, per seed: shapes (methods, seeds)."""
        i = np.argmin(self.iterations, axis=2)
        return np.take_along_axis(self.iterations, i[..., None], 2)[..., 0], self.etas[i]

    def speedup(self, method: str, at_eta: float | None = None) -> np.ndarray:
        """Per seed: iterations of the plain model / iterations of ``method`` (descriptive).

        Each at its own best eta on that seed (an oracle choice: optimistic for both), or both
        at the grid value ``at_eta``. For the speed-up the book reports, see :func:`linear_speed_study`.
        """
        m = self.methods.index(method)
        return self._iterations(at_eta)[0] / self._iterations(at_eta)[m]

    def _iterations(self, at_eta: float | None) -> np.ndarray:
        if at_eta is None:
            return self.best()[0]
        j = int(np.argmin(np.abs(np.log(self.etas / at_eta))))
        return self.iterations[:, :, j]

    def speedup_interval(self, method: str, at_eta: float | None = None) -> tuple[SpeedUp, int]:
        """The speed-up of ``method`` over plain descent with the book's estimator
        (:func:`spnlib.stats.speedup.speedups`: ratio of median iterations, paired bootstrap,
        runs that never reach the tolerance kept as censored), and the number of seeds where
        at least one of the two did not reach it. ``at_eta`` as in :meth:`speedup`."""
        it = self._iterations(at_eta)
        m = self.methods.index(method)
        n_unfinished = int((~(np.isfinite(it[0]) & np.isfinite(it[m]))).sum())
        horizon = self.excess.shape[-1] - 1
        return speedups(it[[m, 0]], horizon, reference=1, fraction=1 - self.tolerance)[0], n_unfinished


@dataclass(frozen=True)
class LinearSpeedStudy:
    """w1 w2 against w on ``regression_problem(seed)``: every method at its rate tuned on held-out problems.

    Attributes
    ----------
    methods : tuple of str
        ``"plain"`` first (the reference), then ``"w1 w2, w2(0) = c"``.
    etas : ndarray
        The grid the rates are tuned on.
    tuned_eta : ndarray (methods,)
        Chosen on ``tuning_seeds`` among the rates that diverge on none of them (``stable``; all
        rates if none is stable): the fewest median updates to close ``tune_fraction`` of the
        gap, then to close 90 %, then the smaller rate.
    tuning_times : ndarray (methods, etas)
        That median on the tuning problems for every rate (inf: censored).
    stable : ndarray of bool (methods, etas)
        The rate diverges on none of the tuning problems.
    excess : ndarray (methods, seeds, T + 1)
        Excess loss l_p(w) - min l_p on the evaluation problems at the tuned rates.
    """

    p: int
    methods: tuple[str, ...]
    etas: np.ndarray
    seeds: tuple[int, ...]
    tuning_seeds: tuple[int, ...]
    tune_fraction: float
    tuned_eta: np.ndarray
    tuning_times: np.ndarray
    stable: np.ndarray
    excess: np.ndarray

    @property
    def horizon(self) -> int:
        return self.excess.shape[-1] - 1

    def times(self, fraction: float) -> np.ndarray:
        """(methods, seeds): first update with excess <= (1 - fraction) x initial excess (inf: never)."""
        return _gap_times(self.excess, fraction)

    def median_times(self, fraction: float) -> list[MedianTime]:
        return [median_time(t, self.horizon) for t in self.times(fraction)]

    def speedups(self, fraction: float) -> list[SpeedUp]:
        """Speed-up of every method over plain descent (the first entry: plain over itself)."""
        return speedups(self.times(fraction), self.horizon, 0, fraction)

    def at_grid_edge(self) -> np.ndarray:
        return np.isin(self.tuned_eta, [self.etas[0], self.etas[-1]])


def _gap_times(excess: np.ndarray, fraction: float) -> np.ndarray:
    """First update at which each curve (last axis) closes ``fraction`` of its gap to 0."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1) (the exact minimum is reached only in the limit), "
                         f"got {fraction!r}")
    e = np.asarray(excess)
    flat = e.reshape(-1, e.shape[-1])
    return first_reaching(flat, (1 - fraction) * flat[:, 0], increasing=False).reshape(e.shape[:-1])


def linear_speed_study(p: int, etas: Sequence[float], n_steps: int, w2_inits: Sequence[float] = (0.5, 1.0, 2.0),
                       seeds: Sequence[int] = range(20), tuning_seeds: Sequence[int] = range(100, 110),
                       tune_fraction: float = GAP_FRACTIONS[-1], init_scale: float = 0.0,
                       **problem_kw) -> LinearSpeedStudy:
    """Tune every method's rate on ``tuning_seeds`` problems, then train it on the ``seeds`` problems.

    The gap runs from the initial loss to the exact minimum (:func:`lp_minimum`), so the
    target is set by no run. A rate that diverges on a tuning problem is not chosen (the
    median alone would accept a rate that diverges on almost half of them).
    """
    if set(seeds) & set(tuning_seeds):
        raise ValueError("tuning seeds must be held out from the evaluation seeds")
    tune = compare_descent(p, tuning_seeds, etas, n_steps, w2_inits, init_scale=init_scale, **problem_kw)
    t_tune = lower_median(_gap_times(tune.excess, tune_fraction), axis=1)          # (methods, etas)
    t90 = lower_median(_gap_times(tune.excess, GAP_FRACTIONS[0]), axis=1)
    stable = np.all(np.isfinite(tune.excess[..., -1]), axis=1)                    # (methods, etas)
    best: list[int] = []
    for m in range(len(tune.methods)):
        allowed = [int(j) for j in np.flatnonzero(stable[m])] or list(range(len(tune.etas)))
        best.append(min(allowed, key=lambda j: (t_tune[m, j], t90[m, j], tune.etas[j])))
    evaluation = compare_descent(p, seeds, etas, n_steps, w2_inits, init_scale=init_scale, **problem_kw)
    excess = np.array([evaluation.excess[m, :, j] for m, j in enumerate(best)])
    return LinearSpeedStudy(p, tune.methods, tune.etas, tuple(seeds), tuple(tuning_seeds), tune_fraction,
                            tune.etas[best], t_tune, stable, excess)


def compare_descent(p: int, seeds: Sequence[int], etas: Sequence[float], n_steps: int,
                    w2_inits: Sequence[float] = (1.0,), tolerance: float = 1e-4, init_scale: float = 0.0,
                    **problem_kw) -> SpeedComparison:
    """Run plain and overparameterized gradient descent on several problems and learning rates.

    Every method starts from the same end-to-end weights w(0): zero for
    ``init_scale = 0``, else N(0, init_scale^2) entries (seeded by the problem's seed).
    """
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance must lie in (0, 1), got {tolerance!r}")
    eta_arr = np.asarray(etas, dtype=np.float64)
    methods = ("plain",) + tuple(f"w1 w2, w2(0) = {c:g}" for c in w2_inits)
    its, exc = [], []
    for seed in seeds:
        X, y = regression_problem(seed, **problem_kw)
        _, best = lp_minimum(X, y, p)
        w0 = init_scale * np.random.default_rng(10_000 + seed).normal(size=int(X.shape[1]))
        start = float(lp_loss(w0, X, y, p)) - best
        curves = [descent_curves(X, y, p, eta_arr, n_steps, w0, w2_0=c) - best for c in (None, *w2_inits)]
        exc.append(curves)
        its.append([first_reaching(c, tolerance * start, increasing=False) for c in curves])
    return SpeedComparison(p, eta_arr, tuple(seeds), methods, np.array(its).transpose(1, 0, 2),
                           np.array(exc).transpose(1, 0, 2, 3), tolerance)

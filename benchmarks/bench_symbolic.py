"""Benchmark: the symbolic derivation (and its verdict table) for decompositions up to
4 sum layers and 16 components. Target: the derivation finishes in under 10 s.

Run: ``python benchmarks/bench_symbolic.py [repeat]``. Each repetition starts from a
cleared SymPy cache (cold), the cases are interleaved so machine noise hits all alike,
and medians (and maxima) are reported. "derive" is :func:`spnlib.symbolic.derivation.derive`
(every gradient, the one-step update, its first-order coefficient, rho and lambda);
"verdicts" is :func:`spnlib.symbolic.verdicts.verdict_table` on a fresh derivation (every
comparison of Eqs. 1-14, rendered to LaTeX).
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from sympy.core.cache import clear_cache  # noqa: E402

from spnlib.structure.decomposition import Decomposition, balanced, random_decomposition  # noqa: E402
from spnlib.symbolic.derivation import derive  # noqa: E402
from spnlib.symbolic.verdicts import verdict_table  # noqa: E402


def _deepest_random(K: int, max_layers: int) -> Decomposition:
    """The first random (unbalanced) tree over K components with at most ``max_layers`` sum layers."""
    for seed in range(1000):
        dec = random_decomposition(K, seed, max_branching=3)
        if dec.n_layers == max_layers:
            return dec
    raise RuntimeError("no such tree")


CASES = {
    "balanced (2, 2, 2, 2): K = 16, L = 4": balanced((2, 2, 2, 2)),
    "balanced (4, 4): K = 16, L = 2": balanced((4, 4)),
    "released L = 3 (2, 2, 4): K = 16": balanced((2, 2, 4)),
    "unbalanced random: K = 16, L = 4": _deepest_random(16, 4),
}


def cold(fn) -> float:
    clear_cache()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(repeat: int = 5) -> None:
    times = {(name, what): [] for name in CASES for what in ("derive", "verdicts")}
    for _ in range(repeat):
        for name, dec in CASES.items():
            times[(name, "derive")].append(cold(lambda dec=dec: derive(dec)))
            times[(name, "verdicts")].append(cold(lambda dec=dec: verdict_table([dec])))
    print(f"SymPy derivation, {repeat} cold repetitions each (median / max, seconds)")
    for name, dec in CASES.items():
        d, v = np.array(times[(name, "derive")]), np.array(times[(name, "verdicts")])
        print(f"  {name:40s} {dec.n_weights:3d} layer weights   derive {np.median(d):6.2f} / {d.max():6.2f}"
              f"   verdict table {np.median(v):6.2f} / {v.max():6.2f}")
    worst = max(max(t) for t in times.values())
    print(f"slowest single run {worst:.2f} s: {'under' if worst < 10 else 'OVER'} the 10 s target")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)

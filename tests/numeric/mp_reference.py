"""An independent 40-digit reference for factorised mixtures (mpmath; shares no code with spnlib.numeric).

It evaluates f(x) = sum_k w_k prod_d theta_{k,d,x_d} and f(*) term by term in 40-digit decimal
floating point, whose exponent range is unlimited (nothing under- or overflows), and returns
every gradient as its two terms: the data term mean_n (d f(x_n)/dv) / f(x_n) and the partition
term (d f(*)/dv) / f(*). A fast path is right when it matches data - partition to a small multiple
of the larger term.

Only the decomposition's paths (which layer weight sits on the way to component k) are taken from
spnlib; the arithmetic is all here.
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

DIGITS = 40


@dataclass
class Reference:
    llh: float                  # mean_n log f(x_n) - log f(*)
    leaf_data: np.ndarray       # (K, D, 2) data term of d llh / d theta_{k,d,v}
    leaf_partition: np.ndarray  # (K, D, 2) partition term
    layer_data: list            # per layer: data term of d llh / d w^[l]_j
    layer_partition: list
    log_terms: tuple = ()       # the same four, times the weight: terms of d llh / d log v

    def leaf_gradient(self) -> np.ndarray:
        return self.leaf_data - self.leaf_partition

    def layer_gradient(self) -> list:
        return [d - p for d, p in zip(self.layer_data, self.layer_partition)]


def _float(x) -> float:
    """The nearest float64; beyond its range, +-inf or 0 (without a NumPy warning)."""
    if abs(x) > mpmath.mpf(np.finfo(np.float64).max):
        return float(np.copysign(np.inf, float(mpmath.sign(x))))
    return float(x)


def reference(paths, leaf: np.ndarray, layers, rows: np.ndarray, counts: np.ndarray) -> Reference:
    """The 40-digit values for weights ``leaf`` (K, D, 2), ``layers`` and distinct ``rows`` (-1: missing)."""
    mp = mpmath.mp
    with mpmath.workdps(DIGITS):
        K, D, _ = leaf.shape
        th = [[[mp.mpf(float(leaf[k, d, v])) for v in (0, 1)] for d in range(D)] for k in range(K)]
        u = [[mp.mpf(float(x)) for x in layer] for layer in layers]
        s = [[th[k][d][0] + th[k][d][1] for d in range(D)] for k in range(K)]

        def others(k: int, l_skip: int):
            out = mp.mpf(1)
            for l, j in enumerate(paths[k]):
                if l != l_skip:
                    out *= u[l][j]
            return out

        w = [others(k, -1) for k in range(K)]
        cstar = [mp.fprod(s[k]) for k in range(K)]
        fstar = mp.fsum(w[k] * cstar[k] for k in range(K))
        n_total = mp.mpf(float(np.sum(counts)))
        share = [mp.mpf(float(c)) / n_total for c in counts]

        def value(k: int, d: int, x: int):
            return s[k][d] if x < 0 else th[k][d][x]

        llh = mp.mpf(0)
        leaf_data = [[[mp.mpf(0), mp.mpf(0)] for _ in range(D)] for _ in range(K)]
        comp_data = [mp.mpf(0)] * K                   # mean_n C_k(x_n) / f(x_n)
        for row, c in zip(rows, share):
            if c == 0:
                continue
            values = [[value(k, d, int(row[d])) for d in range(D)] for k in range(K)]
            comp = [mp.fprod(values[k]) for k in range(K)]
            f = mp.fsum(w[k] * comp[k] for k in range(K))
            llh += c * mp.log(f)
            for k in range(K):
                comp_data[k] += c * comp[k] / f
                for d in range(D):
                    x = int(row[d])
                    rest = c * w[k] * mp.fprod(values[k][e] for e in range(D) if e != d) / f
                    for v in (0, 1):
                        if x < 0 or x == v:
                            leaf_data[k][d][v] += rest
        llh -= mp.log(fstar)
        leaf_part = [[[w[k] * mp.fprod(s[k][e] for e in range(D) if e != d) / fstar] * 2 for d in range(D)]
                     for k in range(K)]
        layer_data = [[mp.mpf(0)] * len(layer) for layer in layers]
        layer_part = [[mp.mpf(0)] * len(layer) for layer in layers]
        for k in range(K):
            for l, j in enumerate(paths[k]):
                o = others(k, l)
                layer_data[l][j] += o * comp_data[k]
                layer_part[l][j] += o * cstar[k] / fstar
        to_array = np.vectorize(_float, otypes=[float])
        scaled = (  # times the weight, in 40 digits (a product of two floats could under- or overflow)
            to_array(np.array([[[leaf_data[k][d][v] * th[k][d][v] for v in (0, 1)] for d in range(D)]
                               for k in range(K)], dtype=object)),
            to_array(np.array([[[leaf_part[k][d][v] * th[k][d][v] for v in (0, 1)] for d in range(D)]
                               for k in range(K)], dtype=object)),
            [to_array(np.array([x * y for x, y in zip(a, b)], dtype=object)) for a, b in zip(layer_data, u)],
            [to_array(np.array([x * y for x, y in zip(a, b)], dtype=object)) for a, b in zip(layer_part, u)],
        )
        return Reference(
            llh=_float(llh),
            leaf_data=to_array(np.array(leaf_data, dtype=object)),
            leaf_partition=to_array(np.array(leaf_part, dtype=object)),
            layer_data=[to_array(np.array(x, dtype=object)) for x in layer_data],
            layer_partition=[to_array(np.array(x, dtype=object)) for x in layer_part],
            log_terms=scaled,
        )

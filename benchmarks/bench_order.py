"""Benchmark: the released code's summation order (variant ``released-order``) against the fast path.

Run: ``python benchmarks/bench_order.py`` (SPNLIB_DATA must point at the DEBD files). One core (BLAS
threads = 1). Reported per model and iteration, as medians and minima over repetitions (the minimum is
the better estimate on a shared machine).

* fast path: ``MixtureBatch.llh_and_grad`` (value and gradient of every model), the faithful protocol's
  whole cost per iteration;
* explicit order: ``ReleasedOrder.correction``, the explicit sibling sums in every component's order and
  in child order (the extra cost of ``released-order`` per iteration), for several work-chunk sizes;
* a whole run: ``run_protocol`` of ``released`` and of ``released-order``, 3 depths x 8 runs x 100 iterations.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

import spnlib.experiment.released_order as ro  # noqa: E402
from spnlib.data.debd import load_counted  # noqa: E402
from spnlib.experiment.protocols import get_protocol, run_protocol  # noqa: E402
from spnlib.numeric.batched import MixtureBatch  # noqa: E402
from spnlib.structure.decomposition import released  # noqa: E402


def times(fn, repeat: int) -> np.ndarray:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return np.array(out)


def per_model(t: np.ndarray, models: int) -> str:
    return f"median {np.median(t) / models * 1e3:6.2f} ms   min {np.min(t) / models * 1e3:6.2f} ms"


def main(repeat: int = 9, runs: int = 8) -> None:
    data = load_counted("nltcs", "train")
    seeds = [s for _ in (1, 2, 3) for s in range(runs)]
    batch = MixtureBatch([released(L) for L in (1, 2, 3) for _ in range(runs)], data.n_variables)
    p = batch.initial_params()
    p.leaf *= 1 + 1e-3 * np.random.default_rng(0).standard_normal(p.leaf.shape)
    M = batch.n_models
    fast = times(lambda: batch.llh_and_grad(p, data), repeat)
    print(f"{M} models (L = 1, 2, 3 x {runs}), NLTCS, per model and iteration:")
    print(f"  fast path value + gradient         {per_model(fast, M)}")
    default = ro._CHUNK_ELEMENTS
    for chunk in (1 << 11, 1 << 12, 1 << 13, 1 << 14):
        ro._CHUNK_ELEMENTS = chunk
        hook = ro.ReleasedOrder(batch, data, ro.component_orders(seeds, 8, data.n_variables))
        t = times(lambda h=hook: h.correction(p), repeat)
        mark = " (default)" if chunk == default else ""
        print(f"  explicit order, chunk {chunk:6d}{mark:10s} {per_model(t, M)}   "
              f"x{np.min(t) / np.min(fast):.0f} the fast path")
    ro._CHUNK_ELEMENTS = default
    short = {"iterations": 100}
    for name in ("released", "released-order"):
        proto = get_protocol(name).with_changes(**short)
        t = times(lambda pr=proto: run_protocol(pr, data, (1, 2, 3), runs=runs), 3)
        print(f"  run_protocol {name:15s} 100 iterations: {per_model(t / 100, M)} per model-iteration")


if __name__ == "__main__":
    main()

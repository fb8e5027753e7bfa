"""Benchmark: one evaluation plus full gradient of the 8-component shallow SPN on
the whole NLTCS training set, fast path against the general graph evaluator.

Run: ``python benchmarks/bench_core.py`` (SPNLIB_DATA must point at the DEBD files).
Both paths are timed interleaved in one process, on one core (BLAS threads = 1),
and reported as medians (and minima) over many repetitions; the same state goes
into both and their results are compared first.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

import spnlib  # noqa: E402


def timings(fn, repeat: int) -> np.ndarray:
    out = np.empty(repeat)
    for i in range(repeat):
        start = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - start
    return out


def main(repeat: int = 400) -> None:
    X = spnlib.load_debd("nltcs", "train")
    data = spnlib.CountedData.from_array(X)
    model = spnlib.FactorisedMixture(spnlib.shallow(8), X.shape[1])
    rng = np.random.default_rng(0)
    params = spnlib.MixtureParams(rng.uniform(0.1, 1.0, (8, X.shape[1], 2)), (rng.uniform(0.1, 1.0, 8),))
    dspn, order = model.to_spn(params)
    compiled = spnlib.compile_spn(dspn.spn)
    weights = dspn.spn.weights()

    fast = lambda: model.llh_and_grad(params, data)  # noqa: E731
    general = lambda: spnlib.log_likelihood_and_gradient(compiled, data, weights)  # noqa: E731
    general_all_rows = lambda: spnlib.log_likelihood_and_gradient(compiled, X, weights)  # noqa: E731

    llh_fast, grad_fast = fast()
    llh_general, grad_general = general()
    rel = np.max(np.abs(grad_fast.flatten()[order] - grad_general) / np.abs(grad_general))
    print(f"NLTCS train: {X.shape[0]} rows, {len(data.counts)} distinct; shallow SPN, K = 8")
    print(f"agreement: |dLLH| = {abs(llh_fast.mean - llh_general.mean):.1e}, max rel. gradient diff = {rel:.1e}")

    for fn in (fast, general):  # warm-up
        timings(fn, 20)
    t_fast, t_general = np.empty(0), np.empty(0)
    for _ in range(repeat // 20):  # interleave, so machine noise hits both alike
        t_fast = np.append(t_fast, timings(fast, 20))
        t_general = np.append(t_general, timings(general, 20))
    t_rows = timings(general_all_rows, 20)
    ms = lambda t: f"median {np.median(t) * 1e3:7.3f} ms   min {np.min(t) * 1e3:7.3f} ms"  # noqa: E731
    print(f"fast path (distinct rows)        {ms(t_fast)}")
    print(f"general evaluator (distinct rows) {ms(t_general)}")
    print(f"general evaluator (all rows)      {ms(t_rows)}")
    print(f"ratio general / fast: median {np.median(t_general) / np.median(t_fast):.1f}x, "
          f"min {np.min(t_general) / np.min(t_fast):.1f}x")


if __name__ == "__main__":
    main()

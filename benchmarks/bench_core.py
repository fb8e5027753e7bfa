"""Benchmark: the fast path (MixtureBatch), the plainer one-model path (FactorisedMixture) and the
general graph evaluator, one evaluation plus full gradient on the whole NLTCS training set.

Run: ``python benchmarks/bench_core.py`` (SPNLIB_DATA must point at the DEBD files).
Everything is timed interleaved in one process, on one core (BLAS threads = 1), and reported as
medians (and minima) over many repetitions; the same weights go into every path and their results
are compared first. Also timed: the fast path at an extreme weight (one leaf pair at (1e-300, 1e300),
where one component's sums are redone exactly in log space) and the faithful Fig. 3 batch
(six models, released L = 1, 2, 3, two runs each).

Cost of making the fast paths exact at extreme weights (issue 16) and of the cheaper forward pass
(issue 15), measured on the development machine (2 cores shared with other jobs, load 11-15, so
absolute times are inflated) as *paired* medians: the code before (commit 879c929) and after ran
in two worker processes that alternated bursts of 40 calls (3 for the protocol), 16 rounds; the
ratio is the median over rounds of after / before, [quartiles]:

===================================================  =========  =========  ==================
call (NLTCS train, 2,671 distinct rows)              before     after      after / before
===================================================  =========  =========  ==================
MixtureBatch, 1 model (released L = 3), gradient     0.153 ms   0.160 ms   1.05 [1.03, 1.06]
... the same, gradient w.r.t. log weights            0.150 ms   0.148 ms   0.98 [0.98, 1.00]
... the same, log-likelihood only                    0.096 ms   0.088 ms   0.92 [0.92, 0.93]
MixtureBatch, 6 models (the Fig. 3 batch), gradient  0.694 ms   0.744 ms   1.06 [1.01, 1.12]
... the same, log-gradient                           0.690 ms   0.710 ms   1.02 [1.00, 1.05]
... the same, log-likelihood only                    0.409 ms   0.332 ms   0.82 [0.80, 0.83]
FactorisedMixture, 1 model, gradient                 0.307 ms   0.387 ms   1.26 [1.22, 1.27]
general evaluator, 1 model, gradient                 10.6 ms    12.2 ms    1.03 [1.00, 1.14]
faithful protocol, 500 iterations, 6 models          775 ms     800 ms     1.02 [0.99, 1.07]
===================================================  =========  =========  ==================

Where the time went: the exact gradient needs the sums over the rows with x_d = 0 *and* over those
with x_d = 1 (2D columns in the backward product instead of D + 1: about +70 us of ~750 us for the
Fig. 3 batch). The forward pass no longer takes a max over the components of every row nor
subtracts it (the shift is one upper bound per model, folded into the matrix product), which paid
for that: against the same exact code with the per-row max, the gradient takes 0.87-0.91x, the
log-likelihood 0.77-0.87x and the faithful protocol 0.83x the time. At an extreme weight only the
affected sums are redone (one leaf pair at (1e-300, 1e300): ~4x an ordinary call, not 250x).
FactorisedMixture, the plainer check of the fast path, forms every term in log space; MixtureBatch
is about 2.5x faster than it for one model.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

import spnlib  # noqa: E402
from spnlib.experiment.protocols import get_protocol, run_protocol  # noqa: E402


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
    dec = spnlib.released(3)
    model = spnlib.FactorisedMixture(dec, X.shape[1])
    rng = np.random.default_rng(0)
    params = spnlib.MixtureParams(rng.uniform(0.1, 1.0, (8, X.shape[1], 2)),
                                  tuple(rng.uniform(0.1, 1.0, n) for n in dec.layer_sizes))
    fast = spnlib.MixtureBatch(dec, X.shape[1])
    stacked = fast.stack([params])
    extreme_leaf = params.leaf.copy()
    extreme_leaf[0, 0] = (1e-300, 1e300)
    extreme = fast.stack([spnlib.MixtureParams(extreme_leaf, params.layers)])
    dspn, _ = model.to_spn(params)
    compiled = spnlib.compile_spn(dspn)
    weights = model.to_spn_layout(params)

    llh_fast, grad_fast = fast.llh_and_grad(stacked, data)
    llh_model, grad_model = model.llh_and_grad(params, data)
    llh_general, grad_general = spnlib.log_likelihood_and_gradient(compiled, data, weights)
    flat_fast = model.to_spn_layout(fast.unstack(grad_fast)[0])
    rel = lambda a, b: np.max(np.abs(a - b) / np.abs(b))  # noqa: E731
    print(f"NLTCS train: {X.shape[0]} rows, {len(data.counts)} distinct; released L = 3, K = 8")
    print(f"agreement with the general evaluator: |dLLH| MixtureBatch {abs(llh_fast[0] - llh_general.mean):.1e}, "
          f"FactorisedMixture {abs(llh_model.mean - llh_general.mean):.1e}; max rel. gradient diff "
          f"{rel(flat_fast, grad_general):.1e}, {rel(model.to_spn_layout(grad_model), grad_general):.1e}")

    cases = {
        "MixtureBatch, gradient": lambda: fast.llh_and_grad(stacked, data),
        "MixtureBatch, log-gradient": lambda: fast.llh_and_log_grad(stacked, data),
        "MixtureBatch, log-likelihood": lambda: fast.log_likelihood(stacked, data),
        "MixtureBatch, gradient, one leaf (1e-300, 1e300)": lambda: fast.llh_and_grad(extreme, data),
        "FactorisedMixture, gradient": lambda: model.llh_and_grad(params, data),
        "general evaluator, gradient (distinct rows)": lambda: spnlib.log_likelihood_and_gradient(
            compiled, data, weights),
    }
    for fn in cases.values():  # warm-up
        timings(fn, 20)
    times: dict[str, np.ndarray] = {name: np.empty(0) for name in cases}
    for _ in range(repeat // 20):  # interleave, so machine noise hits all alike
        for name, fn in cases.items():
            times[name] = np.append(times[name], timings(fn, 20))
    ms = lambda t: f"median {np.median(t) * 1e3:7.3f} ms   min {np.min(t) * 1e3:7.3f} ms"  # noqa: E731
    for name, t in times.items():
        print(f"{name:50s} {ms(t)}")
    base = np.median(times["MixtureBatch, gradient"])
    print(f"ratio FactorisedMixture / MixtureBatch: {np.median(times['FactorisedMixture, gradient']) / base:.1f}x; "
          f"general / MixtureBatch: {np.median(times['general evaluator, gradient (distinct rows)']) / base:.1f}x")

    faithful = get_protocol("released")
    t_fig3 = timings(lambda: run_protocol(faithful, data, (1, 2, 3)), 7)
    print(f"faithful protocol (Fig. 3 batch: 6 models x 500 iterations): {ms(t_fig3)}")


if __name__ == "__main__":
    main()

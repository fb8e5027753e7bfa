"""Benchmark: the faithful Fig. 3 reproduction and the live explorer's redraw.

Run: ``python benchmarks/bench_experiment.py`` (SPNLIB_DATA must point at the DEBD files).
One core (BLAS threads = 1). Reported as medians (and minima) over repetitions.

* Fig. 3: the released protocol, 3 depths x 2 runs x 500 iterations, trained as one batch
  (``spnlib.experiment.protocols.run_protocol``), against the same six runs one after the other with the
  core fast path (``spnlib.experiment.symmetry.reference_run``, one FactorisedMixture step per iteration).
* Explorer: ``spnlib.views.explorer.draw_settings`` for a sequence of slider moves (eta, then L), including
  drawing the matplotlib figure: with the cache emptied before every call (both curves trained), and
  as a reader would move the sliders (the shallow curve is reused when only L changes).
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from spnlib.data.debd import load_counted  # noqa: E402
from spnlib.experiment.protocols import get_protocol, run_protocol  # noqa: E402
from spnlib.experiment.symmetry import reference_run  # noqa: E402
from spnlib.numeric.fastpath import FactorisedMixture  # noqa: E402
from spnlib.structure.decomposition import released  # noqa: E402
from spnlib.views import explorer  # noqa: E402


def clock(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ms(t) -> str:
    return f"median {np.median(t) * 1e3:8.1f} ms   min {np.min(t) * 1e3:8.1f} ms   (n = {len(t)})"


def main(repeat: int = 15) -> None:
    data = load_counted("nltcs", "train")
    faithful = get_protocol("released")

    def batched():
        return run_protocol(faithful, data, (1, 2, 3))

    def one_by_one():
        return [reference_run(released(L), data, FactorisedMixture(released(L), 16).initial_params())
                for L in (1, 2, 3) for _ in range(2)]

    a, b = batched().train.reshape(6, -1), np.array(one_by_one())
    print(f"Fig. 3 (3 depths x 2 runs x 500 iterations): batch vs one-by-one agree to "
          f"{np.abs(a - b).max():.1e}")
    t_batch, t_single = [], []
    for _ in range(repeat):                       # interleaved
        t_batch.append(clock(batched))
        t_single.append(clock(one_by_one))
    print(f"  batched (spnlib.experiment.protocols)      {ms(t_batch)}")
    print(f"  one by one (FactorisedMixture)  {ms(t_single)}")

    load_counted("nltcs", "train")               # data loading is not part of a redraw (cached)
    moves = [(0.01, 3), (0.02, 3), (0.05, 3), (0.05, 2), (0.05, 4), (0.1, 4), (0.2, 4), (0.2, 1), (0.005, 1),
             (0.005, 3)]
    for protocol, seeds in (("released", 3), ("perturbed", 3), ("ulp", 3), ("perturbed", 5)):
        explorer.settings_curves.cache_clear()
        times = []
        for eta, depth in moves * 2:
            explorer.settings_curves.cache_clear()
            fig, ax = plt.subplots(figsize=(6, 3.5))
            times.append(clock(lambda e=eta, d=depth, p=protocol, s=seeds, a=ax, f=fig: (
                explorer.draw_settings(e, d, p, "nltcs", s, ax=a), f.canvas.draw())))
            plt.close(fig)
        print(f"explorer redraw, {protocol}, {seeds} seeds, NLTCS, cold cache: {ms(times)}")
        explorer.settings_curves.cache_clear()
        times = []
        for eta, depth in moves:                 # a reader's slider moves: L = 1 is reused when only L changes
            fig, ax = plt.subplots(figsize=(6, 3.5))
            times.append(clock(lambda e=eta, d=depth, p=protocol, s=seeds, a=ax, f=fig: (
                explorer.draw_settings(e, d, p, "nltcs", s, ax=a), f.canvas.draw())))
            plt.close(fig)
        print(f"explorer redraw, {protocol}, {seeds} seeds, NLTCS, slider sequence:  {ms(times)}")


if __name__ == "__main__":
    main()

"""Benchmark: the faithful Fig. 3 reproduction and the live explorer's response to the reader's moves.

Run: ``python benchmarks/bench_experiment.py [--quick] [--one-core]`` (SPNLIB_DATA must point at the DEBD
files). BLAS threads = 1. Times are medians (and minima) over repetitions, each also given as a RATIO to a
fixed NumPy yardstick timed just before it, so that machines (and a busy moment of one machine) compare.
Where it applies, the CPU time of the critical path (the process, or the busiest worker) is given too,
as a ratio to the yardstick's CPU time: it predicts the wall time on an idle machine with a core per
process, which a machine shared with other jobs cannot show (Linux shares CPU between sessions, so
two workers of one session do not run in parallel while other sessions keep both cores busy).

* Yardstick: 100 times a (24 x 17) @ (17 x 2671) product, its exponential, column sums and
  logarithm, and the (17 x 2671) @ (2671 x 24) product back: plain NumPy, the shape of 100
  iterations of a 3-model batch on NLTCS, and no spnlib code (so it never changes with spnlib).
* Fig. 3: the released protocol, 3 depths x 2 runs x 500 iterations, trained as one batch,
  against the same six runs one after the other with the core fast path.
* Explorer, synchronous redraw (the live explorer before issue 15, and the checked cell's
  ``draw_settings`` now): train L = 1 and L, then draw; "cold" empties the cache before every move,
  "slider sequence" keeps it (L = 1 is reused when only L changes).
* Explorer, live (``spnlib.views.explorer.LiveExplorer`` on worker processes): per move, the time to
  the first frame drawn (a visible response; curves drawn as they train) and to the finished figure.
  "cold": empty cache, no prefetch; "slider sequence": the moves back to back, prefetch on (a new
  move cancels it); "with 1 s looks": the reader looks at each figure for a second before moving on
  (the other depths are trained meanwhile). Workers: 2 (two cores) and 1; ``--one-core`` repeats
  the live measurements in a process pinned to one core (one worker, as on Binder).
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from spnlib.data.debd import load_counted  # noqa: E402
from spnlib.experiment import explore  # noqa: E402
from spnlib.experiment.protocols import PROTOCOLS, get_protocol, run_protocol  # noqa: E402
from spnlib.experiment.symmetry import reference_run  # noqa: E402
from spnlib.numeric.fastpath import FactorisedMixture  # noqa: E402
from spnlib.structure.decomposition import released  # noqa: E402
from spnlib.views import explorer  # noqa: E402

ETA_STEP = 0.25
"""The live explorer's eta slider: 10 ** (-3 + 0.25 k)."""
MOVES = [(10 ** (-3 + ETA_STEP * k), L) for k, L in ((4, 3), (5, 3), (6, 3), (6, 2), (6, 4), (8, 4), (9, 4), (9, 1),
                                                      (3, 1), (3, 3))]
"""A reader's slider moves (eta, L), on the slider's positions: eta by one step and by several, L at one eta."""

_RNG = np.random.default_rng(0)
_A, _B, _W = _RNG.random((24, 17)), _RNG.random((17, 2671)), _RNG.random(2671)


def yardstick() -> tuple[float, float]:
    """Wall and CPU seconds of the fixed NumPy workload (see the module docstring)."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(100):
        a = _A @ _B
        a -= a.max(axis=0)
        np.exp(a, out=a)
        s = a.sum(axis=0)
        np.log(s)
        a *= _W / s
        _B @ a.T
    return time.perf_counter() - start, time.process_time() - cpu


def cpu_seconds(pid: int) -> float:
    """CPU seconds a process has run (Linux /proc/PID/schedstat, nanoseconds)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


class Timings:
    """Wall times (and CPU seconds on the critical path) with the yardstick taken just before each.

    The CPU ratio does not depend on how busy the machine is: on an idle machine with a core
    per process, the wall time is about the critical path's CPU time.
    """

    def __init__(self) -> None:
        self.t: list[float] = []
        self.y: list[float] = []
        self.cpu: list[float] = []
        self.ycpu: list[float] = []

    def add(self, t: float, y: tuple[float, float], cpu: float | None = None) -> None:
        self.t.append(t)
        self.y.append(y[0])
        if cpu is not None:
            self.cpu.append(cpu)
            self.ycpu.append(y[1])

    def __str__(self) -> str:
        t, r = np.array(self.t), np.array(self.t) / np.array(self.y)
        out = (f"median {np.median(t) * 1e3:6.0f} ms (min {t.min() * 1e3:5.0f}) = "
               f"{np.median(r):5.2f} yardsticks (min {r.min():5.2f}), n = {t.size}")
        if self.cpu:
            c, rc = np.array(self.cpu), np.array(self.cpu) / np.array(self.ycpu)
            out += f"; critical-path CPU median {np.median(c) * 1e3:5.0f} ms = {np.median(rc):5.2f} yardstick-CPU"
        return out


def fig3(repeat: int) -> None:
    data = load_counted("nltcs", "train")
    faithful = get_protocol("released")

    def batched():
        return run_protocol(faithful, data, (1, 2, 3))

    def one_by_one():
        return [reference_run(released(L), data, FactorisedMixture(released(L), 16).initial_params())
                for L in (1, 2, 3) for _ in range(2)]

    a, b = batched().train.reshape(6, -1), np.array(one_by_one())
    print(f"Fig. 3 (3 depths x 2 runs x 500 iterations): batch vs one-by-one agree to {np.abs(a - b).max():.1e}")
    t_batch, t_single = Timings(), Timings()
    for _ in range(repeat):                       # interleaved
        for fn, out in ((batched, t_batch), (one_by_one, t_single)):
            y = yardstick()
            start, cpu = time.perf_counter(), time.process_time()
            fn()
            out.add(time.perf_counter() - start, y, time.process_time() - cpu)
    print(f"  batched (run_protocol)          {t_batch}")
    print(f"  one by one (FactorisedMixture)  {t_single}")


def sync_redraw(protocol: str, seeds: int, rounds: int) -> tuple[Timings, Timings]:
    """The synchronous path: train L = 1 and L (cached per depth), draw, render."""
    cold, sequence = Timings(), Timings()

    def redraw(eta, depth, out):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        y = yardstick()
        start, cpu = time.perf_counter(), time.process_time()
        explorer.draw_settings(eta, depth, protocol, "nltcs", seeds, ax=ax)
        fig.canvas.draw()
        out.add(time.perf_counter() - start, y, time.process_time() - cpu)
        plt.close(fig)

    for _ in range(rounds):
        for eta, depth in MOVES:
            explore.settings_curves.cache_clear()
            redraw(eta, depth, cold)
        explore.settings_curves.cache_clear()
        for eta, depth in MOVES:
            redraw(eta, depth, sequence)
    return cold, sequence


class _Driver(explorer.LiveExplorer):
    """The live driver, noting when it drew the first frame and the finished figure of a request."""

    def request(self, **setting) -> None:
        self.asked, self.first, self.done = time.perf_counter(), None, None
        super().request(**setting)

    def render(self, frame) -> None:
        super().render(frame)
        now = time.perf_counter()
        self.first = self.first or now
        if frame.complete and frame.view == self.session.view:
            self.done = now


def live(driver: _Driver, protocol: str, seeds: int, rounds: int, mode: str, moves) -> tuple[Timings, Timings]:
    """Time to the first frame and to the finished figure per move of the live driver."""
    first, finished = Timings(), Timings()
    for _ in range(rounds):
        explore.settings_curves.cache_clear()
        for eta, depth in moves:
            if mode == "cold":
                explore.settings_curves.cache_clear()
            y = yardstick()
            pids = driver.session.runner.pids
            workers, kernel = [cpu_seconds(p) for p in pids], time.process_time()
            driver.request(eta=eta, depth=depth, protocol=protocol, dataset="nltcs", seeds=seeds,
                           prefetch=mode != "cold")
            while driver.done is None:            # the notebook's loop pumps every 10 ms
                driver.pump()
                time.sleep(0.005)
            busiest = max(cpu_seconds(p) - w for p, w in zip(pids, workers))
            first.add(driver.first - driver.asked, y)
            finished.add(driver.done - driver.asked, y, max(busiest, time.process_time() - kernel))
            if mode == "look":                    # the reader looks for a second: prefetch runs
                end = time.monotonic() + 1.0
                while time.monotonic() < end:
                    driver.pump()
                    time.sleep(0.002)
    return first, finished


MODES = {"cold": "cold", "sequence": "slider sequence", "look": "with 1 s looks"}


def live_section(rounds: int, workers_list: tuple[int, ...], cases, modes=tuple(MODES), moves=MOVES) -> None:
    for workers in workers_list:
        runner = explore.ProcessRunner(workers)
        driver = _Driver(explore.LiveSession(runner, eta_step=ETA_STEP), show=lambda html: None)
        time.sleep(2.0)                               # the workers start (once per session)
        try:
            for protocol, seeds in cases:
                for mode in modes:
                    first, finished = live(driver, protocol, seeds, rounds, mode, moves)
                    print(f"live, {workers} worker(s), {protocol}, {seeds} seeds, {MODES[mode]}:")
                    print(f"    first frame      {first}")
                    print(f"    finished figure  {finished}", flush=True)
                    driver.run_until_idle()
        finally:
            runner.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--one-core", action="store_true", help="also the live explorer pinned to one core")
    parser.add_argument("--only-one-core", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    rounds = 1 if args.quick else 2
    cases = [("perturbed", 3), ("perturbed", 1), ("perturbed", 5), ("released", 3)]
    load_counted("nltcs", "train")                # data loading is not part of a redraw (cached)
    ys = np.array([yardstick() for _ in range(9)])
    print(f"yardstick: median {np.median(ys[:, 0]) * 1e3:.1f} ms (min {ys[:, 0].min() * 1e3:.1f}; CPU median "
          f"{np.median(ys[:, 1]) * 1e3:.1f} ms); usable cores {explore.usable_cores()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    if args.only_one_core:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        print(f"pinned to one core: usable cores {explore.usable_cores()}")
        cold, sequence = sync_redraw("perturbed", 3, rounds)
        print(f"one core, synchronous redraw (before), perturbed, 3 seeds: cold {cold}")
        print(f"one core, synchronous redraw (before), perturbed, 3 seeds: slider sequence {sequence}")
        live_section(rounds, (1,), cases[:3])
        return
    fig3(5 if args.quick else 15)
    for protocol, seeds in cases:
        cold, sequence = sync_redraw(protocol, seeds, rounds)
        print(f"synchronous redraw (before), {protocol}, {seeds} seeds: cold {cold}")
        print(f"synchronous redraw (before), {protocol}, {seeds} seeds: slider sequence {sequence}")
    live_section(rounds, (2, 1), cases)
    if "released-order" in PROTOCOLS:
        live_section(1, (2,), [("released-order", 3)], modes=("cold",), moves=MOVES[:3])
    if args.one_core and hasattr(os, "sched_setaffinity"):
        subprocess.run([sys.executable, __file__, "--only-one-core"] + (["--quick"] if args.quick else []),
                       check=True)


if __name__ == "__main__":
    main()

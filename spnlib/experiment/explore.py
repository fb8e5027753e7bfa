"""The explorers' computations: curves of a setting as they train, their cache, the live schedule, the grid.

* :class:`Setting` is one curve set the explorer can show: a protocol at a learning rate,
  on a dataset, over some seeds, for one depth L.
* :func:`curve_steps` trains a setting and yields its curves as they grow (every
  :data:`CHUNK` iterations); the last value is the whole run, equal to
  :func:`spnlib.experiment.protocols.run_protocol` for that depth alone. :func:`settings_curves`
  is the same to completion, cached (most recently used settings are kept).
* :class:`LiveSession` schedules the live explorer's training: the depth shown first, then
  L = 1, then (while the reader looks) the other depths; a new request cancels work it no
  longer needs. It runs the work on a :class:`ProcessRunner` (worker processes; the kernel stays
  free) or an :class:`InlineRunner` (in the caller, one chunk per poll; headless tests).
* :func:`explorer_grid` precomputes curves over eta x L for the static explorer in the rendered book.

Their presentation (widgets, figures, the static HTML explorer) is :mod:`spnlib.views.explorer`.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spnlib.checks import check_eta
from spnlib.data.counted import CountedData
from spnlib.data.debd import load_counted
from spnlib.experiment.protocols import PROTOCOLS, Protocol, get_protocol, initial_params, run_protocol, structure
from spnlib.experiment.training import Optimiser, train
from spnlib.numeric.batched import MixtureBatch
from spnlib.stats.speedup import mean_confidence_band

__all__ = ["EXPLORER_DATASETS", "EXPLORER_DEPTHS", "CHUNK", "Setting", "continuable", "curve_steps",
           "settings_curves", "curve_band", "plan", "Frame", "LiveSession", "InlineRunner", "ProcessRunner",
           "usable_cores", "ExplorerGrid", "explorer_grid"]

EXPLORER_DATASETS = ("nltcs", "plants", "baudio")
"""Datasets offered by the live explorer."""
EXPLORER_DEPTHS = (1, 2, 3, 4)
"""Depths offered by the explorers."""
CHUNK = 25
"""Iterations between two partial curves of :func:`curve_steps`."""


@dataclass(frozen=True)
class Setting:
    """One curve set of the explorer: ``runs`` runs (seeds 0 .. runs-1) of a protocol at ``eta``, depth L."""

    protocol: str
    eta: float
    dataset: str
    runs: int
    depth: int

    @classmethod
    def of(cls, eta: float, depth: int, protocol: str = "perturbed", dataset: str = "nltcs",
           seeds: int = 3) -> Setting:
        """Validated setting; a protocol without randomness gets one run whatever ``seeds`` says."""
        if dataset not in EXPLORER_DATASETS:
            raise ValueError(f"unknown dataset {dataset!r} for the explorer; "
                             f"choose one of {', '.join(EXPLORER_DATASETS)}")
        if isinstance(seeds, bool) or int(seeds) != seeds or seeds < 1:
            raise ValueError(f"the number of seeds must be a positive integer, got {seeds!r}")
        if isinstance(depth, bool) or int(depth) != depth or int(depth) not in EXPLORER_DEPTHS:
            raise ValueError(f"the depth L must be one of {EXPLORER_DEPTHS}, got {depth!r}")
        p = get_protocol(protocol)
        deterministic = p.init == "released" and not (p.perturbation or p.gradient_noise or p.ulp_share
                                                       or p.random_structure or not continuable(p))
        return cls(protocol, _round_eta(check_eta(eta)), dataset, 1 if deterministic else int(seeds), int(depth))

    def at_depth(self, depth: int) -> Setting:
        return dataclasses.replace(self, depth=int(depth))

    def protocol_object(self) -> Protocol:
        return get_protocol(self.protocol).with_changes(eta=self.eta)

    @property
    def iterations(self) -> int:
        return get_protocol(self.protocol).iterations


def _round_eta(eta: float) -> float:
    """eta to 12 significant digits: a slider's value computed in the browser (10 ** x there) and the
    same value computed here name one setting."""
    return float(f"{eta:.12g}")


_KNOWN_FIELDS = {"name", "label", "faithful", "rule", "eta", "iterations", "runs", "aggregate", "init",
                 "perturbation", "ulp_share", "gradient_noise", "random_structure", "n_components",
                 "init_scale", "threads"}


def continuable(protocol: Protocol) -> bool:
    """True if training can stop and go on from the weights alone, bit for bit (see :func:`curve_steps`).

    So for the projected update without gradient noise (its state is the weights), and only if
    every setting the protocol has beyond the ones known here is at its default (a protocol that
    adds machinery to training is trained in one piece instead).
    """
    others = (f for f in dataclasses.fields(Protocol) if f.name not in _KNOWN_FIELDS)
    return (protocol.rule == "projected" and protocol.gradient_noise == 0
            and all(getattr(protocol, f.name) == f.default for f in others))


def curve_steps(setting: Setting, every: int = CHUNK,
                progress: Callable[[int], None] | None = None) -> Iterator[np.ndarray]:
    """Yield the curves (runs, t) of ``setting`` as they train; the last has t = the protocol's iterations.

    A :func:`continuable` protocol is trained ``every`` iterations at a time, each piece from
    the weights the last one ended with: the pieces join bit for bit, so the last value is
    exactly ``run_protocol(protocol, data, (L,), runs=runs).train[0]`` (a test checks it for
    every protocol). Any other protocol yields the first ``every`` iterations (a run of its own:
    a prefix of the whole run, exactly) and then the whole run, with ``progress`` called after
    every iteration of both (``progress`` may raise to stop the run).
    """
    proto, data = setting.protocol_object(), load_counted(setting.dataset, "train")
    T = proto.iterations
    if not continuable(proto):
        if every < T:
            yield run_protocol(proto.with_changes(iterations=every), data, (setting.depth,), runs=setting.runs,
                               progress=progress).train[0]
        yield run_protocol(proto, data, (setting.depth,), runs=setting.runs, progress=progress).train[0]
        return
    seeds = list(range(setting.runs))        # run_protocol's seeds and batch for one depth
    batch = MixtureBatch([structure(proto, setting.depth, s) for s in seeds], data.n_variables)
    params = initial_params(proto, batch, seeds)
    opt = Optimiser(proto.rule, proto.eta)
    done: list[np.ndarray] = []
    for start in range(0, T, every):
        result = train(batch, data, params, opt, min(every, T - start), threads=proto.threads)
        params = result.params
        done.append(result.train_llh)
        yield np.concatenate(done, axis=1)


# ------------------------------------------------------------------------------------------ cache
_CURVES: OrderedDict[Setting, np.ndarray] = OrderedDict()
_BANDS: dict[Setting, tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}   # (curves, band)
_CACHE_SIZE = 128


def cached(setting: Setting) -> np.ndarray | None:
    """The finished curves of ``setting`` if they are cached (and mark them recently used)."""
    out = _CURVES.get(setting)
    if out is not None:
        _CURVES.move_to_end(setting)
    return out


def remember(setting: Setting, curves: np.ndarray) -> None:
    """Cache finished curves; the least recently used go beyond :data:`_CACHE_SIZE` settings."""
    _CURVES[setting] = curves
    _CURVES.move_to_end(setting)
    while len(_CURVES) > _CACHE_SIZE:
        _BANDS.pop(_CURVES.popitem(last=False)[0], None)


Band = tuple[np.ndarray, np.ndarray, np.ndarray]


def curve_band(setting: Setting, curves: np.ndarray, band: Band | None = None) -> Band:
    """Mean over runs and bootstrap 95 % band (:func:`~spnlib.stats.speedup.mean_confidence_band`) of
    a setting's finished curves, computed once for these curves (``band``: already computed, by a worker)."""
    kept = _BANDS.get(setting)
    if kept is None or kept[0] is not curves:
        kept = (curves, band if band is not None else mean_confidence_band(curves))
        _BANDS[setting] = kept
    return kept[1]


def _clear() -> None:
    _CURVES.clear()
    _BANDS.clear()


def settings_curves(eta: float, depths: int | tuple[int, ...], protocol: str = "perturbed", dataset: str = "nltcs",
                    seeds: int = 3) -> np.ndarray:
    """Curves (runs, T) of one setting, or (n_depths, runs, T) for a tuple of depths; cached.

    Seeds 0 .. seeds-1 (a protocol without randomness: 1 run). Each depth is trained in a
    batch of its own: in the variants that break the symmetry, round-off is amplified, and a
    run's last digits (after enough iterations, its curve) depend on the batch it is computed
    in; one batch per depth makes a curve a function of its setting alone, whatever the
    explorer showed before.
    """
    many = isinstance(depths, tuple)
    wanted = [Setting.of(eta, L, protocol, dataset, seeds)
              for L in (depths if isinstance(depths, tuple) else (depths,))]
    out = []
    for s in wanted:
        curves = cached(s)
        if curves is None:
            *_, curves = curve_steps(s)
            remember(s, curves)
        out.append(curves)
    stacked = np.stack(out)
    return stacked if many else stacked[0]


settings_curves.cache_clear = _clear     # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ live schedule
def plan(view: Setting, prefetch: bool = True, eta_step: float | None = None) -> list[Setting]:
    """What to train for ``view``, most needed first.

    Its depth, then L = 1 (drawn beside it); with ``prefetch``, then the other depths at this eta,
    nearest first, and (given the slider's ``eta_step`` in decades) the depth shown and L = 1 at
    the learning rates one step down and up.
    """
    out = [view] + ([view.at_depth(1)] if view.depth != 1 else [])
    if prefetch:
        out += [view.at_depth(L) for L in sorted(EXPLORER_DEPTHS, key=lambda L: (abs(L - view.depth), L))
                if L not in (1, view.depth)]
        for sign in ((-1, 1) if eta_step else ()):
            eta = _round_eta(view.eta * 10.0 ** (sign * float(eta_step)))       # type: ignore[arg-type]
            out += [dataclasses.replace(s, eta=eta) for s in out[:2]]
    return out


@dataclass
class Frame:
    """What the live figure shows now: curves of the view's depths so far (finished or partial).

    ``curves`` maps depth -> (runs, t) with t <= ``iterations``; ``progress`` maps depth -> iterations
    done (ahead of t while a protocol trained in one piece runs); ``error`` says why a curve failed.
    """

    view: Setting
    curves: dict[int, np.ndarray]
    progress: dict[int, int]
    iterations: int
    complete: bool
    error: str | None = None


class InlineRunner:
    """Runs the jobs in the caller: each :meth:`messages` call trains one chunk of the current job."""

    n_slots = 1

    def __init__(self) -> None:
        self._job: tuple[int, Iterator[np.ndarray]] | None = None
        self._iterations = 0

    def start(self, slot: int, job: int, setting: Setting) -> None:
        self._job = (job, curve_steps(setting))
        self._iterations = setting.iterations

    def cancel(self, slot: int) -> None:
        self._job = None

    def messages(self) -> list[tuple[int, int, object]]:
        if self._job is None:
            return []
        job, steps = self._job
        try:
            curves = next(steps)
            return [(0, job, (curves, None) if curves.shape[1] == self._iterations else curves)]
        except StopIteration:            # not reached: the session stops at the last curve
            self._job = None
            return []
        except Exception as e:           # noqa: BLE001 - reported to the reader, not raised into the UI
            self._job = None
            return [(0, job, f"{type(e).__name__}: {e}")]

    def close(self) -> None:
        self._job = None


class LiveSession:
    """The live explorer's schedule, without any widget: :meth:`request` a view, :meth:`poll` for frames.

    ``eta_step`` is the eta slider's step in decades, for prefetching its neighbours (:func:`plan`).

    Jobs go to the runner's slots in :func:`plan` order; a new request keeps the running jobs it
    still needs, cancels the others and drops queued work. Finished curves go to the same cache
    as :func:`settings_curves`, so a setting seen before is drawn at once.
    """

    def __init__(self, runner: InlineRunner | ProcessRunner | None = None, eta_step: float | None = None) -> None:
        self.runner = runner if runner is not None else InlineRunner()
        self.eta_step = eta_step
        self.view: Setting | None = None
        self._slots: list[tuple[int, Setting] | None] = [None] * self.runner.n_slots
        self._queue: list[Setting] = []
        self._partial: dict[Setting, np.ndarray] = {}
        self._progress: dict[Setting, int] = {}
        self._errors: dict[Setting, str] = {}
        self._jobs = 0
        self._changed = False

    def request(self, eta: float, depth: int, protocol: str = "perturbed", dataset: str = "nltcs", seeds: int = 3,
                prefetch: bool = True) -> Setting:
        """Show this view next (ValueError for a bad setting, before anything changes)."""
        view = Setting.of(eta, depth, protocol, dataset, seeds)
        self.view = view
        wanted = [s for s in plan(view, prefetch, self.eta_step) if cached(s) is None and s not in self._errors]
        for i, job in enumerate(self._slots):
            if job is not None and job[1] not in wanted:
                self.runner.cancel(i)
                self._drop(i)
        running = {job[1] for job in self._slots if job is not None}
        self._queue = [s for s in wanted if s not in running]
        self._dispatch()
        self._changed = True
        return view

    @property
    def idle(self) -> bool:
        """True when nothing is training or queued."""
        return not self._queue and all(job is None for job in self._slots)

    def poll(self) -> Frame | None:
        """Take the runner's news; a :class:`Frame` if what the view shows changed, else None."""
        shown = self._shown()
        for slot, job, payload in self.runner.messages():
            current = self._slots[slot]
            if current is None or current[0] != job:
                continue                                   # news of a cancelled job
            setting = current[1]
            if isinstance(payload, str):
                self._errors[setting] = payload
                self._drop(slot)
            elif isinstance(payload, tuple):               # finished: curves and their band
                remember(setting, payload[0])
                if payload[1] is not None:
                    curve_band(setting, payload[0], payload[1])
                self._drop(slot)
            elif isinstance(payload, np.ndarray):
                self._progress[setting] = payload.shape[1]
                self._partial[setting] = payload
            else:
                self._progress[setting] = int(payload)     # type: ignore[call-overload]
            self._changed |= setting in shown
        self._dispatch()
        if not self._changed or self.view is None:
            return None
        self._changed = False
        return self.frame()

    def frame(self) -> Frame:
        """The current view's curves as far as they are trained."""
        if self.view is None:
            raise ValueError("nothing requested yet")
        curves, progress = {}, {}
        for s in self._shown():
            c = cached(s)
            c = c if c is not None else self._partial.get(s)
            if c is not None:
                curves[s.depth] = c
            progress[s.depth] = s.iterations if cached(s) is not None else self._progress.get(s, 0)
        errors = [self._errors[s] for s in self._shown() if s in self._errors]
        complete = all(cached(s) is not None for s in self._shown())
        return Frame(self.view, curves, progress, self.view.iterations, complete, errors[0] if errors else None)

    def close(self) -> None:
        self.runner.close()

    def _shown(self) -> list[Setting]:
        return plan(self.view, prefetch=False) if self.view is not None else []

    def _drop(self, slot: int) -> None:
        job = self._slots[slot]
        if job is not None:
            self._partial.pop(job[1], None)
        self._slots[slot] = None

    def _dispatch(self) -> None:
        for i in range(len(self._slots)):
            if self._slots[i] is None and self._queue:
                setting = self._queue.pop(0)
                self._jobs += 1
                self._slots[i] = (self._jobs, setting)
                self.runner.start(i, self._jobs, setting)


# ---------------------------------------------------------------------------- worker processes
def usable_cores() -> int:
    """Cores this process may use: its CPU affinity, capped by a cgroup CPU quota (as on Binder)."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    for quota_file, period_file in (("cpu.max", None), ("cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us")):
        try:
            words = Path("/sys/fs/cgroup", quota_file).read_text().split()
            quota = words[0]
            period = words[1] if period_file is None else Path("/sys/fs/cgroup", period_file).read_text().strip()
            if quota not in ("max", "-1"):
                n = min(n, max(1, int(quota) // int(period)))
            break
        except (OSError, ValueError, IndexError):
            continue
    return max(1, n)


class _Superseded(Exception):
    """Raised inside a worker's training when a newer message has arrived."""


def _worker(conn) -> None:  # pragma: no cover - runs in a child process (tested through ProcessRunner)
    """A worker process: train each setting it is sent, sending its curves as they grow.

    It ignores SIGINT (a reader interrupting the kernel interrupts the kernel, not its explorer)
    and ends when the kernel closes its end of the pipe or sends None.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        load_counted("nltcs", "train")          # warm: the default dataset, read once
    except Exception:  # noqa: BLE001 - the first job reports it
        pass
    try:
        _serve(conn)
    except (EOFError, OSError):                 # the kernel has gone
        return


def _serve(conn) -> None:  # pragma: no cover - runs in a child process
    while True:
        msg = conn.recv()
        if msg is None:
            return
        if msg[0] != "run":
            continue
        _, job, setting = msg
        count, last = [0], [time.monotonic()]

        def progress(_: int, job=job, count=count, last=last) -> None:
            count[0] += 1
            if conn.poll():
                raise _Superseded
            if time.monotonic() - last[0] > 0.1:
                last[0] = time.monotonic()
                conn.send((job, count[0]))

        try:
            for curves in curve_steps(setting, progress=progress):
                if curves.shape[1] == setting.iterations:       # finished: with its band, computed here
                    conn.send((job, (curves, mean_confidence_band(curves) if curves.shape[0] > 1 else None)))
                    break
                conn.send((job, curves))
                count[0] = 0                    # the whole run of a protocol trained in one piece starts
                if conn.poll():
                    break
        except _Superseded:
            pass
        except (EOFError, OSError):
            raise
        except Exception as e:  # noqa: BLE001 - reported to the reader
            conn.send((job, f"{type(e).__name__}: {e}"))


class ProcessRunner:
    """Worker processes (one per usable core, at most ``workers``) that train settings for a session.

    The caller's process only sends settings and receives curves, so a Jupyter kernel stays
    free to take the reader's next move while training runs. Each worker trains with one BLAS
    thread, as every training in spnlib does: its curves are those of :func:`settings_curves`.
    """

    def __init__(self, workers: int | None = None) -> None:
        n = int(workers) if workers is not None else min(2, usable_cores())
        if n < 1:
            raise ValueError(f"need at least one worker, got {workers!r}")
        self._ctx = multiprocessing.get_context("spawn")
        self._conns: list = [None] * n
        self._procs: list = [None] * n
        self._jobs = [0] * n
        for i in range(n):
            self._spawn(i)
        self.n_slots = n

    def _spawn(self, i: int) -> None:
        if self._procs[i] is not None and self._procs[i].is_alive():
            self._procs[i].terminate()
        mine, theirs = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker, args=(theirs,), daemon=True, name="spnlib-explorer")
        proc.start()
        theirs.close()
        self._conns[i], self._procs[i] = mine, proc

    @property
    def pids(self) -> list[int]:
        """The workers' process ids."""
        return [p.pid for p in self._procs]

    def start(self, slot: int, job: int, setting: Setting) -> None:
        self._jobs[slot] = job
        self._send(slot, ("run", job, setting))

    def cancel(self, slot: int) -> None:
        self._jobs[slot] = 0
        self._send(slot, ("cancel",))

    def _send(self, slot: int, msg: tuple) -> None:
        try:
            self._conns[slot].send(msg)
        except OSError:                   # the worker has gone: a new one takes the message
            self._spawn(slot)
            self._conns[slot].send(msg)

    def messages(self) -> list[tuple[int, int, object]]:
        """News from the workers: (slot, job, curves | (curves, band) | iterations done | error text)."""
        out: list[tuple[int, int, object]] = []
        for i, conn in enumerate(self._conns):
            try:
                while conn.poll():
                    job, payload = conn.recv()
                    out.append((i, job, payload))
            except (EOFError, OSError):
                out.append((i, self._jobs[i], "the worker process stopped (it has been restarted)"))
                self._spawn(i)
        return out

    def close(self) -> None:
        for conn in self._conns:
            try:
                conn.send(None)
            except OSError:
                pass
        for proc in self._procs:
            proc.join(timeout=2)
            if proc.is_alive():
                proc.terminate()
        self._conns, self._procs, self.n_slots = [], [], 0


# ------------------------------------------------------------------------- the static explorer
@dataclass
class ExplorerGrid:
    """Downsampled curves over eta x L of one variant (and the faithful protocol) for the static explorer.

    Attributes
    ----------
    etas : ndarray (n_eta,)
    depths : tuple of int
    iterations : ndarray (n_points,)
        Iterations (from 1) kept after downsampling.
    faithful : ndarray (n_eta, n_depth, n_points)
        The faithful protocol (one deterministic run).
    mean, low, high : ndarray (n_eta, n_depth, n_points)
        The variant's mean over runs and its bootstrap 95 % band.
    variant : str
    runs : int
    label : str
        The variant's description (:attr:`Protocol.label`).
    """

    etas: np.ndarray
    depths: tuple[int, ...]
    iterations: np.ndarray
    faithful: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    variant: str
    runs: int
    label: str = ""


def explorer_grid(data: CountedData, etas: Sequence[float], depths: Sequence[int] = (1, 2, 3, 4),
                  variant: str = "perturbed", runs: int = 8, iterations: int = 500, every: int = 5) -> ExplorerGrid:
    """Train the faithful protocol and a variant for every eta and depth (one batch per eta and protocol).

    Several variants go into one static explorer as several grids (each may have its own etas
    and runs: a slow variant on a small grid).
    """
    if variant not in PROTOCOLS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(PROTOCOLS)}")
    eta_arr = np.array([check_eta(e) for e in etas])
    keep = np.unique(np.r_[np.arange(0, iterations, every), iterations - 1])
    shape = (len(eta_arr), len(depths), keep.size)
    faithful, mean, low, high = (np.empty(shape) for _ in range(4))
    for i, eta in enumerate(eta_arr):
        f = run_protocol(get_protocol("released").with_changes(eta=eta, iterations=iterations), data, depths, runs=1)
        faithful[i] = f.train[:, 0, keep]
        v = run_protocol(get_protocol(variant).with_changes(eta=eta, iterations=iterations), data, depths, runs=runs)
        for j in range(len(depths)):
            m, lo, hi = mean_confidence_band(v.train[j])
            mean[i, j], low[i, j], high[i, j] = m[keep], lo[keep], hi[keep]
    return ExplorerGrid(eta_arr, tuple(int(L) for L in depths), keep + 1, faithful, mean, low, high, variant, runs,
                        get_protocol(variant).label)

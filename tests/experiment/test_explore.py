"""The explorers' computations (spnlib.experiment.explore): curves as they train, cache, live schedule, workers."""
from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

import spnlib.experiment.explore as explore
from spnlib.data.counted import CountedData
from spnlib.experiment.explore import (
    CHUNK,
    InlineRunner,
    LiveSession,
    ProcessRunner,
    Setting,
    continuable,
    curve_steps,
    plan,
    settings_curves,
)
from spnlib.experiment.protocols import PROTOCOLS, get_protocol, run_protocol
from spnlib.stats.speedup import mean_confidence_band

DATA = CountedData.from_array(np.random.default_rng(0).integers(0, 2, (60, 4)))


def alone(setting: Setting, data: CountedData = DATA) -> np.ndarray:
    """The setting's curves as run_protocol trains its depth alone (the reference)."""
    return run_protocol(setting.protocol_object(), data, (setting.depth,), runs=setting.runs).train[0]


@pytest.mark.parametrize("name", list(PROTOCOLS))
def test_curves_as_they_train_join_into_the_whole_run_exactly(small_data, name):
    """For every protocol: each partial curve is a prefix of the whole run, and the last is the whole run,
    bit for bit (so the faithful protocol's curves are unchanged, and a variant's too)."""
    setting = Setting.of(0.05, 2, name, "nltcs", 2)
    steps = list(curve_steps(setting))
    reference = alone(setting)
    assert np.array_equal(steps[-1], reference)
    assert all(np.array_equal(s, reference[:, :s.shape[1]]) for s in steps)
    lengths = [s.shape[1] for s in steps]
    assert lengths == sorted(set(lengths)) and lengths[0] == CHUNK and lengths[-1] == setting.iterations
    if continuable(setting.protocol_object()):
        assert lengths == list(range(CHUNK, setting.iterations + 1, CHUNK))


def test_which_protocols_train_in_pieces(monkeypatch):
    assert continuable(get_protocol("released")) and continuable(get_protocol("perturbed"))
    assert not continuable(get_protocol("roundoff"))          # its noise stream would restart
    assert not continuable(get_protocol("updated"))           # log-space state is not the weights
    assert not continuable(get_protocol("released").with_changes(rule="momentum"))
    # a setting this module does not know about (as a new protocol's machinery would add) stops it
    monkeypatch.setattr(explore, "_KNOWN_FIELDS", explore._KNOWN_FIELDS - {"init_scale"})
    assert continuable(get_protocol("released"))
    assert not continuable(get_protocol("released").with_changes(init_scale=0.5))


def test_settings_are_checked():
    assert Setting.of(0.01, 3, "released", "nltcs", 5).runs == 1      # no randomness: one run
    assert Setting.of(0.01, 3, "perturbed", "nltcs", 5).runs == 5
    for kwargs, message in (({"dataset": "mnist"}, "unknown dataset"), ({"seeds": 0}, "seeds"),
                            ({"seeds": 1.5}, "seeds"), ({"depth": 5}, "depth L"), ({"depth": 0}, "depth L"),
                            ({"eta": -1}, "learning rate"), ({"protocol": "sgd"}, "unknown protocol")):
        args = {"eta": 0.01, "depth": 2, "protocol": "perturbed", "dataset": "nltcs", "seeds": 2} | kwargs
        with pytest.raises(ValueError, match=message):
            Setting.of(**args)


def test_the_cache_keeps_the_most_recently_used(small_data, monkeypatch):
    monkeypatch.setattr(explore, "_CACHE_SIZE", 2)
    a, b, c = (Setting.of(eta, 1, "released") for eta in (0.01, 0.02, 0.03))
    for s in (a, b):
        explore.remember(s, np.zeros((1, 1)))
    assert explore.cached(a) is not None                       # a is now the most recent
    explore.remember(c, np.zeros((1, 1)))
    assert explore.cached(b) is None and explore.cached(a) is not None and explore.cached(c) is not None


def test_plan_trains_the_depth_shown_first():
    view = Setting.of(0.01, 3, "perturbed")
    assert [s.depth for s in plan(view)] == [3, 1, 2, 4]
    assert [s.depth for s in plan(view, prefetch=False)] == [3, 1]
    assert [s.depth for s in plan(view.at_depth(1))] == [1, 2, 3, 4]
    assert all(dataclasses.replace(s, depth=3) == view for s in plan(view))
    nearby = plan(view, eta_step=0.25)
    assert nearby[:4] == plan(view) and [(s.eta, s.depth) for s in nearby[4:]] == [
        (0.00562341325190, 3), (0.00562341325190, 1), (0.0177827941004, 3), (0.0177827941004, 1)]
    assert Setting.of(10 ** -1.75, 1).eta == Setting.of(0.017782794100389226, 1).eta == 0.0177827941004


def run_session(session: LiveSession, limit: int = 10_000) -> list:
    frames = []
    for _ in range(limit):
        frame = session.poll()
        if frame is not None:
            frames.append(frame)
        if session.idle:
            return frames
    raise AssertionError("the session did not finish")


def test_a_session_draws_the_depth_shown_first_then_prefetches(small_data):
    session = LiveSession(InlineRunner())
    session.request(0.05, 3, "perturbed", "nltcs", 2)
    frames = run_session(session)
    first = next(f for f in frames if f.curves)
    assert list(first.curves) == [3] and first.curves[3].shape == (2, CHUNK) and not first.complete
    assert frames[-1].complete and set(frames[-1].curves) == {1, 3}
    for L in (1, 2, 3, 4):                                     # the other depths were trained meanwhile
        setting = Setting.of(0.05, L, "perturbed", "nltcs", 2)
        assert np.array_equal(explore.cached(setting), alone(setting))
    session.request(0.05, 2, "perturbed", "nltcs", 2)          # seen: drawn at once, nothing to train
    assert session.idle and session.poll().complete


class CountingRunner(InlineRunner):
    def __init__(self) -> None:
        super().__init__()
        self.started: list[Setting] = []

    def start(self, slot, job, setting):
        self.started.append(setting)
        super().start(slot, job, setting)


def test_a_new_request_cancels_what_it_no_longer_needs_and_keeps_the_rest(small_data):
    runner = CountingRunner()
    session = LiveSession(runner)
    session.request(0.05, 3, "perturbed", "nltcs", 2)
    for _ in range(3):
        session.poll()                                         # L = 3 is part-trained
    session.request(0.05, 2, "perturbed", "nltcs", 2)          # L = 3 is still wanted (prefetch): kept
    assert runner.started == [Setting.of(0.05, 3, "perturbed", "nltcs", 2)]
    for _ in range(3):
        session.poll()
    session.request(0.2, 2, "perturbed", "nltcs", 2)           # another eta: the running job goes
    frames = run_session(session)
    assert runner.started[1] == Setting.of(0.2, 2, "perturbed", "nltcs", 2)
    assert frames[-1].view == Setting.of(0.2, 2, "perturbed", "nltcs", 2) and frames[-1].complete
    for L in (1, 2, 3, 4):
        setting = Setting.of(0.2, L, "perturbed", "nltcs", 2)
        assert np.array_equal(explore.cached(setting), alone(setting))


def test_a_live_curve_depends_on_its_setting_only(small_data):
    """Whatever was requested or drawn before, a depth's curve is the run of that depth alone."""
    setting = Setting.of(0.05, 2, "perturbed", "nltcs", 3)
    session = LiveSession(InlineRunner())
    for eta, depth in ((0.01, 3), (0.05, 4), (0.05, 1), (0.05, 2)):
        session.request(eta, depth, "perturbed", "nltcs", 3)
        session.poll()
    run_session(session)
    live = explore.cached(setting)
    settings_curves.cache_clear()
    assert np.array_equal(live, alone(setting))
    assert np.array_equal(settings_curves(0.05, 2, "perturbed", "nltcs", 3), alone(setting))
    assert np.array_equal(settings_curves(0.05, (1, 2), "perturbed", "nltcs", 3)[1], alone(setting))


def test_a_failing_setting_is_reported_not_raised(small_data, monkeypatch):
    def fails(setting, every=CHUNK, progress=None):
        raise FloatingPointError("model(s) [0] reached a non-finite log-likelihood")
        yield
    monkeypatch.setattr(explore, "curve_steps", fails)
    session = LiveSession(InlineRunner())
    session.request(0.5, 2, "perturbed", "nltcs", 2, prefetch=False)
    frames = run_session(session)
    assert "FloatingPointError" in frames[-1].error and not frames[-1].complete


def test_usable_cores():
    assert 1 <= explore.usable_cores()


def test_worker_processes_train_the_same_curves_and_can_be_cancelled(nltcs_train):
    """The worker processes compute bit-identical curves to the caller's (real NLTCS: a worker
    cannot see a monkeypatched loader), and a cancelled job sends nothing more."""
    runner = ProcessRunner(workers=2)
    try:
        session = LiveSession(runner)
        slow = Setting.of(0.01, 4, "released")
        session.request(0.01, 4, "released", prefetch=False)   # L = 4 and L = 1, one worker each
        deadline = time.monotonic() + 600
        while not session.idle and time.monotonic() < deadline:
            session.poll()
            time.sleep(0.005)
        live = session.frame().curves
        data = CountedData.from_array(nltcs_train)
        for L in (1, 4):
            assert np.array_equal(live[L], alone(slow.at_depth(L), data))
        session.request(0.02, 3, "perturbed", "nltcs", 2, prefetch=False)
        session.request(0.03, 2, "perturbed", "nltcs", 2, prefetch=False)      # cancels the first at once
        while not session.idle and time.monotonic() < deadline:
            session.poll()
            time.sleep(0.005)
        assert explore.cached(Setting.of(0.02, 3, "perturbed", "nltcs", 2)) is None
        setting = Setting.of(0.03, 2, "perturbed", "nltcs", 2)
        curves = explore.cached(setting)
        assert np.array_equal(curves, alone(setting, data))
        band = explore._BANDS[setting][1]                              # computed by the worker
        assert all(np.array_equal(a, b) for a, b in zip(band, mean_confidence_band(curves)))
        runner._procs[0].kill()                                         # a worker dies: said, and replaced
        runner._procs[0].join()
        session.request(0.04, 2, "perturbed", "nltcs", 2, prefetch=False)
        while not session.idle and time.monotonic() < deadline:
            session.poll()
            time.sleep(0.005)
        assert "worker process stopped" in (session.frame().error or "") or session.frame().complete
        session.request(0.05, 2, "perturbed", "nltcs", 2, prefetch=False)
        while not session.idle and time.monotonic() < deadline:
            session.poll()
            time.sleep(0.005)
        assert session.frame().complete and all(p.is_alive() for p in runner._procs)
    finally:
        runner.close()
        settings_curves.cache_clear()

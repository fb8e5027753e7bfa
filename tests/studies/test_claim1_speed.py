"""Tests for spnlib.studies.claim1_speed: Claim 1's study returns what its summary claims, and the
light preset keeps the comparison's meaning."""
from __future__ import annotations

import numpy as np
import pytest
from strategies import random_data

from spnlib.data.counted import CountedData
from spnlib.studies import verification
from spnlib.studies.claim1 import ARMS
from spnlib.studies.claim1_speed import CLAIM1_LEAN, claim1_speed, claim1_study
from spnlib.tolerances import ROUNDOFF

D = 5


@pytest.fixture(scope="module")
def data():
    return CountedData.from_array(random_data(np.random.default_rng(5), 300, D))


def test_claim1_study_summary(data):
    grids = {"gradient": [0.1, 1.0], "momentum": [0.01, 0.1], "adam": [0.01, 0.1]}
    study = claim1_study(data, seeds=[0, 1, 2], tuning_seeds=[7, 8], n_steps=15, identity_seeds=[0, 1],
                         equality_steps=3, grids=grids, regimes={"tuned": 15, "small steps": 25})
    summary = study.summary(fractions=(0.9,))
    assert set(summary) == {"shared", "tree-shaped"}
    for kind, s in summary.items():
        assert s["n_spns"] == 2 and s["value_residual_max"] < 1e-10 and s["step_residual_max"] < 1e-10
        assert s["private_fraction_max"] == 0.0 and 0 < s["rank_over_n_trees_max"] < 1
        assert 0 < s["own_gradient_share_mean"] < 1
        for regime in ("tuned", "small steps"):
            sp = study.speed[kind][regime]
            assert sp.curves.shape == (len(ARMS), 3, {"tuned": 16, "small steps": 26}[regime])
            arms = s["speedup"][regime]
            assert list(arms) == [a.name for a in ARMS]
            first = arms[ARMS[0].name][0.9]
            assert first.bound in ("=", "?") and (first.bound == "?" or first.factor == 1)
            for a, eta in s["tuned_eta"][regime].items():
                assert eta in grids[next(x.rule for x in ARMS if x.name == a)]
            # one start: the same function computed by each arm's model (1 ulp apart under some BLAS kernels)
            np.testing.assert_allclose(sp.curves[:, :, 0], sp.curves[:1, :, 0].repeat(len(ARMS), 0), rtol=ROUNDOFF)
            assert np.all(sp.reference >= sp.curves[0, :, 0])
        small = study.speed[kind]["small steps"]
        tuned = study.speed[kind]["tuned"]
        assert np.all(small.tuned_eta <= tuned.tuned_eta)
    with pytest.raises(ValueError, match="held out"):
        claim1_speed(data, "shared", seeds=[0, 1], tuning_seeds=[1])
    with pytest.raises(ValueError, match="regimes"):
        claim1_speed(data, "shared", seeds=[0], tuning_seeds=[1], regimes={"fast": 10})


def test_claim1_lean_preset_and_em_tol(data):
    """CLAIM1_LEAN names only claim1_speed's keywords, drops the momentum arm, keeps the reference arm first,
    and its looser EM tolerance moves the reference level by far less than the 99 % target's distance
    from it (it is never above the converged level: EM increases the likelihood at every step)."""
    assert CLAIM1_LEAN["arms"][0] == ARMS[0] and all(a.rule != "momentum" for a in CLAIM1_LEAN["arms"])
    kw = {**CLAIM1_LEAN, "n_steps": 10}
    loose = claim1_speed(data, "tree-shaped", seeds=[0, 1], tuning_seeds=[7], **kw)["tuned"]
    tight = claim1_speed(data, "tree-shaped", seeds=[0, 1], tuning_seeds=[7], **{**kw, "em_tol": 1e-11})["tuned"]
    gap = tight.reference - tight.start
    assert np.all(loose.reference <= tight.reference + 1e-12)
    assert np.all(tight.reference - loose.reference < 1e-3 * gap)
    np.testing.assert_array_equal(loose.curves, tight.curves)


def test_the_verification_module_re_exports_claim1():
    """The chapter and the report read Claim 1's study through spnlib.studies.verification."""
    assert verification.claim1_study is claim1_study and verification.CLAIM1_LEAN is CLAIM1_LEAN

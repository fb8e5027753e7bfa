"""Mechanism measurements (spnlib.experiment.mechanism): clusters, floors, effective number of components."""
from __future__ import annotations

import numpy as np
import pytest

from spnlib.data.counted import CountedData
from spnlib.experiment.mechanism import (
    MechanismRecorder,
    distinct_components,
    effective_components,
    run_with_mechanism,
)
from spnlib.experiment.protocols import get_protocol
from spnlib.experiment.training import Optimiser, train
from spnlib.numeric.batched import MixtureBatch
from spnlib.structure.decomposition import released

DATA = CountedData.from_array(np.random.default_rng(3).integers(0, 2, (50, 5)))


def brute_clusters(leaf: np.ndarray, tol: float) -> int:
    """Connected components of 'max |difference| <= tol' by repeated merging (plain Python)."""
    K = leaf.shape[0]
    label = list(range(K))
    changed = True
    while changed:
        changed = False
        for i in range(K):
            for j in range(K):
                if np.abs(leaf[i] - leaf[j]).max() <= tol and label[i] != label[j]:
                    a, b = sorted((label[i], label[j]))
                    label = [a if x == b else x for x in label]
                    changed = True
    return len(set(label))


def test_distinct_components_against_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(30):
        base = rng.uniform(0.3, 0.7, (3, 4, 2))
        pick = rng.integers(0, 3, 8)
        leaf = base[pick] + rng.choice([0.0, 4e-4, 2e-3], (8, 1, 1))
        assert distinct_components(leaf[None], 1e-3)[0] == brute_clusters(leaf, 1e-3)


def test_a_chain_of_close_components_is_one_cluster():
    leaf = np.full((1, 4, 2, 2), 0.5)
    leaf[0, :, 0, 0] += np.array([0, 0.8e-3, 1.6e-3, 2.4e-3])       # neighbours close, the ends not
    assert distinct_components(leaf, 1e-3)[0] == 1
    assert distinct_components(leaf, 1e-4)[0] == 4


def test_effective_components():
    assert np.allclose(effective_components(np.zeros((1, 8))), 8)
    assert np.allclose(effective_components(np.array([[0.0, -800, -800]])), 1)
    p = np.array([0.5, 0.25, 0.25])
    assert np.allclose(effective_components(np.log(p)[None] + 3), np.exp(-(p * np.log(p)).sum()))


def test_recorder_on_the_faithful_start():
    batch = MixtureBatch([released(1), released(3)], 5)
    rec = MechanismRecorder(batch)
    train(batch, DATA, batch.initial_params(), Optimiser("projected", 0.01), 5, observer=rec)
    tr = rec.trace()
    assert tr.distinct.shape == (2, 5)
    assert np.all(tr.distinct == 1)                  # identical components stay one cluster
    assert np.all(tr.layer_at_floor[:, 0] == 1)      # every layer weight starts on the floor
    assert np.all(tr.leaf_at_floor == 0)
    assert np.allclose(tr.effective, 8)
    assert not tr.nonfinite.any() and np.allclose(tr.replicated, 1)
    with pytest.raises(ValueError, match="nothing recorded"):
        MechanismRecorder(batch).trace()


def test_run_with_mechanism_shapes_and_a_broken_symmetry():
    proto = get_protocol("perturbed").with_changes(iterations=30, perturbation=0.2)
    curves, tr = run_with_mechanism(proto, DATA, (1, 2), runs=3)
    assert curves.train.shape == (2, 3, 30) and tr.distinct.shape == (2, 3, 30)
    assert np.all(tr.distinct[:, :, 0] == 8)         # a 20 % perturbation separates every component


def test_replicated_share_counts_the_weight_of_identical_copies():
    from spnlib.experiment.mechanism import cluster_labels, replicated_share

    leaf = np.full((1, 4, 2, 2), 0.5)
    leaf[0, 0] += 0.1                                       # component 0 apart, 1-3 identical
    labels = cluster_labels(leaf)
    assert labels.tolist() == [[0, 1, 1, 1]]
    w = np.log(np.array([[0.4, 0.2, 0.2, 0.2]]))
    assert np.isclose(replicated_share(labels, w)[0], 0.6)
    assert replicated_share(np.array([[0, 1, 2, 3]]), w)[0] == 0

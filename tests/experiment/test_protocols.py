"""Protocols (spnlib.experiment.protocols): the faithful one, its variants, structures, initialisations, Fig. 3 data."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spnlib.data.counted import CountedData
from spnlib.experiment.protocols import (
    PROTOCOLS,
    TABLE_ITERATIONS,
    fig3_comparison,
    get_protocol,
    initial_params,
    paper_fig3,
    random_layered,
    run_protocol,
    structure,
)
from spnlib.numeric.batched import MixtureBatch
from spnlib.structure.decomposition import released

TINY = CountedData.from_array(np.array([[0, 1, 1], [1, 1, 0], [0, 0, 0], [1, 1, 1]]))


def test_the_faithful_protocol_is_the_released_script():
    p = get_protocol("released")
    assert p.faithful and p.rule == "projected" and p.eta == 0.01 and p.iterations == 500
    assert p.runs == 2 and p.aggregate == "max" and p.perturbation == 0 and p.gradient_noise == 0
    assert [q.faithful for q in PROTOCOLS.values()].count(True) == 1


def test_a_changed_faithful_protocol_is_named_a_variant():
    v = get_protocol("released").with_changes(eta=0.1)
    assert not v.faithful and "variant" in v.label and v.name == "released-variant"
    same = get_protocol("released").with_changes(eta=0.01)
    assert same.faithful
    with pytest.raises(ValueError, match="learning rate"):
        get_protocol("released").with_changes(eta=0)


def test_unknown_protocol():
    with pytest.raises(ValueError, match="unknown protocol 'fast'.*released"):
        get_protocol("fast")


def test_released_protocol_runs_are_identical_and_depths_agree_to_round_off():
    c = run_protocol(get_protocol("released").with_changes(iterations=30), TINY, (1, 2, 3))
    assert c.train.shape == (3, 2, 30)
    assert np.array_equal(c.train[:, 0], c.train[:, 1])
    assert np.abs(c.train - c.train[0, 0]).max() < 1e-12
    assert np.array_equal(c.aggregate(), c.train.max(axis=1))


@given(st.integers(1, 5), st.integers(1, 12), st.integers(0, 1000))
@settings(max_examples=60, deadline=None)
def test_random_layered_puts_every_component_at_depth_L(L, K, seed):
    dec = random_layered(L, K, np.random.default_rng(seed))
    assert dec.n_components == K and dec.n_layers == L and dec.is_balanced


def test_structures_and_initialisations():
    assert structure(get_protocol("released"), 3, 0) == released(3)
    rs = get_protocol("random-structure")
    assert structure(rs, 3, 7) == structure(rs, 3, 7) and structure(rs, 2, 7).n_layers == 2
    with pytest.raises(ValueError, match="depth L"):
        structure(rs, 0, 1)
    batch = MixtureBatch([released(1), released(3)], 3)
    upd = initial_params(get_protocol("updated"), batch, [0, 0])
    assert np.all(upd.leaf > 0) and np.all(np.isfinite(upd.layers))
    assert np.array_equal(upd.leaf[0], upd.leaf[1])                 # same seed, same leaves for both depths
    # upper layers of the updated script are exp(N(0, 0.1)), near 1; the bottom |N(0, 0.1)|, near 0.08
    top = upd.layers[batch.layer_offsets[1]:batch.layer_offsets[1] + 6]
    assert np.all(np.abs(np.log(top)) < 0.6)
    per = initial_params(get_protocol("perturbed"), batch, [3, 4])
    assert np.all(np.abs(per.leaf / 0.5 - 1) < 0.01) and not np.array_equal(per.leaf[0], per.leaf[1])
    assert np.all(per.layers == 1e-4)


def test_updated_protocol_records_test_llh():
    p = get_protocol("updated").with_changes(iterations=5)
    c = run_protocol(p, TINY, (1, 2), runs=2, test=TINY)
    assert c.test.shape == c.train.shape == (2, 2, 5)
    assert np.allclose(c.test, c.train)          # same data: same values
    assert np.all(np.diff(c.train, axis=-1) > 0)  # small steps of gradient ascent go up


def test_rows_have_the_documented_columns():
    c = run_protocol(get_protocol("released").with_changes(iterations=3), TINY, (1, 2), runs=1)
    rows = c.rows()
    assert len(rows) == 2 * 1 * 3
    assert list(rows[0]) == ["protocol", "dataset", "depth", "run", "iteration", "train_llh"]
    assert rows[0]["iteration"] == 1 and rows[-1]["depth"] == 2


def test_paper_fig3_and_the_comparison_table():
    paper = paper_fig3()
    assert paper.shape == (3, 500)
    assert np.allclose(paper[:, 0], 16 * np.log(0.5), atol=1e-4)
    c = run_protocol(get_protocol("released").with_changes(iterations=500), TINY, (1, 2, 3), runs=1)
    table = fig3_comparison(c)
    assert table["iterations"] == list(TABLE_ITERATIONS)
    assert table["reproduced"].shape == table["paper"].shape == (3, len(TABLE_ITERATIONS))
    assert np.allclose(table["difference"], table["reproduced"] - table["paper"])
    with pytest.raises(ValueError, match="depths 1, 2, 3"):
        fig3_comparison(run_protocol(get_protocol("released").with_changes(iterations=2), TINY, (2,), runs=1))


def test_bad_run_arguments():
    with pytest.raises(ValueError, match="at least one depth"):
        run_protocol(get_protocol("released"), TINY, ())
    with pytest.raises(ValueError, match="at least one run"):
        run_protocol(get_protocol("released"), TINY, (1,), runs=0)


def test_ulp_variant_moves_half_the_leaves_by_one_ulp_and_pairs_depths():
    batch = MixtureBatch([released(1), released(3)], 3)
    p = initial_params(get_protocol("ulp"), batch, [5, 5])
    up = p.leaf != 0.5
    assert 0.3 < up.mean() < 0.7 and np.all(p.leaf[up] == np.nextafter(0.5, 1))
    assert np.array_equal(p.leaf[0], p.leaf[1])


def test_released_order_is_the_faithful_protocol_but_for_the_summation_order():
    ro, faithful = get_protocol("released-order"), get_protocol("released")
    assert not ro.faithful and ro.sibling_order == "hash" and faithful.sibling_order == "child"
    same = {f for f in ("rule", "eta", "iterations", "runs", "aggregate", "init", "floor", "perturbation", "ulp_share")}
    assert all(getattr(ro, f) == getattr(faithful, f) for f in same)
    with pytest.raises(ValueError, match="summation order"):
        faithful.with_changes(sibling_order="sorted")


def test_layer_perturbations_stay_on_or_above_the_floor():
    batch = MixtureBatch([released(1), released(3)], 3)
    p = initial_params(get_protocol("released").with_changes(layer_perturbation=1e-3), batch, [1, 1])
    assert np.all(p.layers >= 1e-4) and np.any(p.layers > 1e-4) and np.all(p.leaf == 0.5)
    u = initial_params(get_protocol("released").with_changes(layer_ulp_share=0.5), batch, [2, 2])
    assert set(np.unique(u.layers)) <= {1e-4, np.nextafter(1e-4, 1)}
    assert get_protocol("released").with_changes(floor=1e-8, leaf_floor=1e-9).optimiser().floor_leaf == 1e-9

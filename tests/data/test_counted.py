"""Data validation and distinct-row collapsing (spnlib.data.counted)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import random_data

from spnlib.data.counted import MISSING, CountedData, check_data


@given(st.integers(0, 10_000), st.integers(1, 60), st.integers(1, 6))
@settings(max_examples=50, deadline=None)
def test_counted_data_preserves_the_multiset_of_rows(seed, n, d):
    X = random_data(np.random.default_rng(seed), n, d, 0.2)
    data = CountedData.from_array(X)
    assert data.n_samples == n and data.n_variables == d
    expanded = np.repeat(data.rows, data.counts.astype(int), axis=0)
    np.testing.assert_array_equal(np.sort(expanded.view([("", expanded.dtype)] * d), axis=0),
                                  np.sort(X.view([("", X.dtype)] * d), axis=0))
    np.testing.assert_array_equal(data.zeros + data.ones + data.missing, np.ones_like(data.zeros))
    np.testing.assert_array_equal(data.states_t[:, -1], 2)   # the appended all-missing row
    assert data.one_hot.shape == (d, len(data.counts), 3)


def test_check_data_accepts_bool_nan_and_1d():
    assert check_data(np.array([True, False])).tolist() == [[1, 0]]
    assert check_data(np.array([[np.nan, 1.0]])).tolist() == [[MISSING, 1]]


def test_from_rows_errors():
    with pytest.raises(ValueError, match="counts"):
        CountedData.from_rows(np.zeros((2, 2)), counts=[1.0])
    with pytest.raises(ValueError, match="no samples"):
        CountedData.from_rows(np.zeros((2, 2)), counts=[0.0, 0.0])

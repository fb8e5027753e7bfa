"""BLAS thread control (spnlib.numeric.blas)."""
from __future__ import annotations

import numpy as np
import pytest

from spnlib.numeric.blas import blas_control_available, blas_threads, get_blas_threads


def test_threads_are_set_inside_and_restored_after():
    if not blas_control_available():
        pytest.skip("NumPy's OpenBLAS was not found; blas_threads is a no-op here")
    before = get_blas_threads()
    with blas_threads(1):
        assert get_blas_threads() == 1
        a = np.ones((50, 50)) @ np.ones((50, 50))
    assert get_blas_threads() == before and a[0, 0] == 50


def test_bad_thread_counts_and_none():
    with blas_threads(None):
        pass
    if blas_control_available():
        with pytest.raises(ValueError, match="positive integer"):
            with blas_threads(0):
                pass

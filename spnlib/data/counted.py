"""Data in the form the evaluators use: validated 0/1 matrices, distinct rows with counts.

A missing value (``-1`` in integer arrays, ``NaN`` in float arrays) marginalises
its variable. :class:`CountedData` collapses a data set to its distinct rows
(NLTCS's 16,181 training rows hold 2,671 distinct ones) and precomputes what
both evaluators reuse in every iteration of a training run.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["MISSING", "check_data", "CountedData"]

MISSING = -1
"""The integer code of a missing (marginalised) value in a data array."""


def check_data(X: np.ndarray, n_variables: int | None = None) -> np.ndarray:
    """Validate a data matrix and return it as ``int8`` with ``MISSING`` for missing.

    Parameters
    ----------
    X : array_like, shape (N, D) or (D,)
        Values 0 or 1; -1 or NaN for a missing value. A 1-D array is one sample.
    n_variables : int, optional
        If given, ``D`` must be at least this.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, has too few columns, or holds any other value.
    """
    A = np.asarray(X)
    if A.ndim == 1:
        A = A[None, :]
    if A.ndim != 2:
        raise ValueError(f"data must be a 2-D array (samples x variables), got shape {A.shape}")
    if A.dtype.kind == "f":
        A = np.where(np.isnan(A), MISSING, A)
    elif A.dtype.kind == "b":
        A = A.astype(np.int8)
    elif A.dtype.kind not in "iu":
        raise ValueError(f"data must be numeric 0/1 (missing: -1 or NaN), got dtype {A.dtype}")
    ok = (A == 0) | (A == 1) | (A == MISSING)
    if not ok.all():
        r, c = np.argwhere(~ok)[0]
        raise ValueError(f"data value {A[r, c]!r} at row {r}, column {c} is not 0, 1 or missing (-1/NaN)")
    if n_variables is not None and A.shape[1] < n_variables:
        raise ValueError(f"data have {A.shape[1]} columns but the SPN uses {n_variables} variables")
    return A.astype(np.int8)


@dataclass(frozen=True)
class CountedData:
    """The distinct rows of a binary data matrix with their multiplicities.

    Attributes
    ----------
    rows : ndarray, shape (U, D), int8
    counts : ndarray, shape (U,)
    zeros, ones, missing : ndarray, shape (U, D), float
        Indicator matrices [x = 0], [x = 1], [x missing] of the rows.
    ones_t, missing_t : ndarray, shape (D, U)
        Contiguous transposes (the fast path works component-major, (K, U)).

    Both evaluators accept it: the fast path requires it, and
    :func:`spnlib.numeric.evaluate.log_likelihood_and_gradient` reuses what is
    precomputed here across the iterations of a training run.
    """

    rows: np.ndarray
    counts: np.ndarray
    zeros: np.ndarray
    ones: np.ndarray
    missing: np.ndarray
    ones_t: np.ndarray
    missing_t: np.ndarray

    @classmethod
    def from_array(cls, X: np.ndarray) -> CountedData:
        """Collapse an (N, D) 0/1 matrix (missing: -1 or NaN) to its distinct rows."""
        rows, counts = np.unique(check_data(X), axis=0, return_counts=True)
        return cls.from_rows(rows, counts)

    @classmethod
    def from_rows(cls, X: np.ndarray, counts: np.ndarray | None = None) -> CountedData:
        """Use the rows of X as they are, each with its count (default 1)."""
        rows = check_data(X)
        if counts is None:
            counts = np.ones(rows.shape[0])
        c = np.asarray(counts, dtype=np.float64)
        if c.shape != (rows.shape[0],) or np.any(c < 0) or not np.all(np.isfinite(c)):
            raise ValueError(f"counts must be {rows.shape[0]} finite non-negative numbers, got shape {c.shape}")
        if c.sum() <= 0:
            raise ValueError("the data hold no samples (the counts sum to 0)")
        ones, missing = (rows == 1).astype(np.float64), (rows == MISSING).astype(np.float64)
        return cls(rows=rows, counts=c, zeros=(rows == 0).astype(np.float64),
                   ones=ones, missing=missing, ones_t=np.ascontiguousarray(ones.T),
                   missing_t=np.ascontiguousarray(missing.T))

    @property
    def n_samples(self) -> float:
        """N, the number of rows before collapsing."""
        return float(self.counts.sum())

    @property
    def n_variables(self) -> int:
        return self.rows.shape[1]

    @property
    def has_missing(self) -> bool:
        return bool(self.missing.any())

    @cached_property
    def indicators_t(self) -> np.ndarray:
        """``(3D, U)``: the rows of :attr:`zeros`, :attr:`ones` and :attr:`missing` transposed, stacked."""
        return np.ascontiguousarray(np.hstack([self.zeros, self.ones, self.missing]).T)

    @cached_property
    def rows_with_star(self) -> np.ndarray:
        """The rows with one all-missing row appended (its value is the partition function)."""
        return np.vstack([self.rows, np.full((1, self.n_variables), MISSING, dtype=np.int8)])

    @cached_property
    def states_t(self) -> np.ndarray:
        """``(D, U + 1)`` state codes of :attr:`rows_with_star`: 0, 1, or 2 for missing."""
        s = self.rows_with_star.T.astype(np.intp)
        s[s == MISSING] = 2
        return s

    @cached_property
    def state_present(self) -> np.ndarray:
        """``(D, 3)``: whether some row with a positive count has x_d = 0, 1, missing."""
        positive = self.counts > 0
        return np.stack([((self.rows == value) & positive[:, None]).any(axis=0) for value in (0, 1, MISSING)], axis=1)

    @cached_property
    def one_hot(self) -> np.ndarray:
        """``(D, U, 3)`` one-hot codes of the rows' states (x = 0, x = 1, missing)."""
        return np.stack([self.zeros.T, self.ones.T, self.missing.T], axis=2)

"""Hypothesis strategies: random valid SPNs, decompositions and data."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from spnlib.structure.builders import random_spn
from spnlib.structure.decomposition import random_decomposition
from spnlib.structure.graph import SPN


@st.composite
def spns(draw, max_variables: int = 5, shared: bool | None = None, leaf: str | None = None) -> SPN:
    """A random valid SPN (deep or shallow, tree or DAG, indicator or Bernoulli leaves)."""
    n_variables = draw(st.integers(1, max_variables))
    return random_spn(
        n_variables,
        seed=draw(st.integers(0, 2**31 - 1)),
        depth=draw(st.integers(0, 3)),
        n_sums=draw(st.integers(1, 2)),
        n_splits=draw(st.integers(1, 2)),
        shared=draw(st.booleans()) if shared is None else shared,
        leaf=draw(st.sampled_from(["indicator", "bernoulli"])) if leaf is None else leaf,
    )


@st.composite
def decompositions(draw, max_components: int = 9):
    """A random (generally unbalanced) decomposition."""
    return random_decomposition(draw(st.integers(1, max_components)), seed=draw(st.integers(0, 10_000)),
                                max_branching=draw(st.integers(2, 4)))


def random_weights(spn: SPN, rng: np.random.Generator, low: float = 0.05, high: float = 2.0) -> np.ndarray:
    """Positive unnormalised weights for every sum edge."""
    return rng.uniform(low, high, spn.n_weights)


def random_data(rng: np.random.Generator, n: int, d: int, missing: float = 0.0) -> np.ndarray:
    """An (n, d) 0/1 matrix with a fraction ``missing`` of -1 entries."""
    X = rng.integers(0, 2, (n, d)).astype(np.int8)
    X[rng.random((n, d)) < missing] = -1
    return X

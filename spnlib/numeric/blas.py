"""Control of the number of BLAS threads NumPy's matrix products use (via threadpoolctl).

Why it matters here: with several threads, OpenBLAS splits the rows of one matrix
product between threads, and rows that hold *identical* components can then be
rounded differently. In the faithful protocol, whose components are identical
by construction, that is enough to break their symmetry (the book shows it). The
training loops therefore run single-threaded by default; it is also faster for
these small products on a busy machine.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import numpy as np  # noqa: F401  (loads the BLAS library that threadpoolctl then finds)
from threadpoolctl import ThreadpoolController

__all__ = ["blas_control_available", "get_blas_threads", "blas_threads"]


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def blas_control_available() -> bool:
    """True if a BLAS library NumPy loaded was found and its thread count can be set."""
    return bool(_controller().select(user_api="blas").lib_controllers)


def get_blas_threads() -> int | None:
    """The current number of BLAS threads, or None if no BLAS library was found."""
    info = _controller().select(user_api="blas").info()
    return int(info[0]["num_threads"]) if info else None


@contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` BLAS threads (``None``: leave the setting alone)."""
    if n is None:
        yield
        return
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"the number of BLAS threads must be a positive integer, got {n!r}")
    with _controller().limit(limits=int(n), user_api="blas"):
        yield

"""Control of the number of BLAS threads NumPy's matrix products use, without extra dependencies.

Why it matters here: with several threads, OpenBLAS splits the rows of one matrix
product between threads, and rows that hold *identical* components can then be
rounded differently. In the faithful protocol, whose components are identical
by construction, that is enough to break their symmetry (the book shows it). The
training loops therefore run single-threaded by default; it is also faster for
these small products on a busy machine.

:func:`blas_threads` talks to the OpenBLAS library NumPy loaded (found in
``/proc/self/maps`` or beside NumPy); where none is found it does nothing and
:func:`blas_control_available` is False.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

import ctypes
import glob
import os
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

import numpy as np

__all__ = ["blas_control_available", "get_blas_threads", "blas_threads"]

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")


def _candidates() -> list[str]:
    paths = []
    try:
        with open("/proc/self/maps") as fh:
            paths = sorted({line.split()[-1] for line in fh if "openblas" in line.lower() and "/" in line})
    except OSError:
        pass
    base = os.path.dirname(os.path.dirname(np.__file__))
    paths += sorted(glob.glob(os.path.join(base, "numpy.libs", "*openblas*")))
    return paths


@lru_cache(maxsize=1)
def _library():
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(lib, n) for n in _SETTERS if hasattr(lib, n)), None)
        getter = next((getattr(lib, n) for n in _GETTERS if hasattr(lib, n)), None)
        if setter is not None and getter is not None:
            setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
            return setter, getter
    return None


def blas_control_available() -> bool:
    """True if the OpenBLAS NumPy uses was found and its thread count can be set."""
    return _library() is not None


def get_blas_threads() -> int | None:
    """The current number of OpenBLAS threads, or None if it cannot be read."""
    lib = _library()
    return None if lib is None else int(lib[1]())


@contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` OpenBLAS threads (``None``: leave the setting alone)."""
    lib = _library()
    if n is None or lib is None:
        yield
        return
    if int(n) != n or n < 1:
        raise ValueError(f"the number of BLAS threads must be a positive integer, got {n!r}")
    before = int(lib[1]())
    lib[0](int(n))
    try:
        yield
    finally:
        lib[0](before)

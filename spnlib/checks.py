"""Argument checks shared by every layer: a bad value is refused with a message naming it.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

import numpy as np

__all__ = ["check_eta"]


def check_eta(eta: float | str) -> float:
    """Return ``eta`` as a float, or raise ValueError unless it is a finite number > 0."""
    try:
        value = float(eta)
    except (TypeError, ValueError):
        raise ValueError(f"the learning rate eta must be a number > 0, got {eta!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"the learning rate eta must be finite and > 0, got {eta!r}")
    return value

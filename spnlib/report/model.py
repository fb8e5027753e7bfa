"""The report's data types: a claim of the paper, the finding about it, and their row.

A :class:`Claim` names what the paper states, where the book shows it, and the rule
(``assess``) that turns the evidence into a :class:`Finding`: a :class:`Status` and one line of
evidence. This module holds data only; :mod:`spnlib.report.evidence` computes, the rules
(:mod:`spnlib.report.rules`) judge, :mod:`spnlib.report.render` writes.

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spnlib.report.evidence import Evidence

__all__ = ["Status", "Finding", "Claim", "Row"]


class Status(str, Enum):
    REPRODUCED = "reproduced"
    CONDITIONS = "reproduced under conditions"
    NOT_REPRODUCED = "not reproduced"
    PAPER_ERROR = "paper error"


@dataclass(frozen=True)
class Finding:
    status: Status
    evidence: str


@dataclass(frozen=True)
class Claim:
    """One claim of the paper: its label, its wording, where the book shows it, its rule."""
    key: str
    label: str
    statement: str
    chapter: str           # document in book/ (without suffix)
    heading: str           # heading of the section that shows it ("" for the chapter)
    assess: Callable[[Evidence], Finding]


@dataclass(frozen=True)
class Row:
    claim: Claim
    finding: Finding

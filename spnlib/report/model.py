"""The report's data types: a claim of the paper, the finding about it, and their row.

A :class:`Claim` names what the paper states, which :class:`Kind` of claim it is (an algebraic
identity or an empirical claim: the two are counted apart), where the book shows it, and the
rule (``assess``) that turns the evidence into a :class:`Finding`: a :class:`Status`, one line of
machine-robust evidence, and the machine-dependent ``detail`` behind it. This module holds data
only; :mod:`spnlib.report.evidence` computes, the rules judge, :mod:`spnlib.report.render` writes.

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spnlib.report.evidence import Evidence

__all__ = ["Status", "Kind", "Finding", "Claim", "Row", "STATUS_MEANING", "SUPPORTS", "CONTRADICTS"]


class Status(str, Enum):
    """The verdict of one row (its ``value`` is what the page prints)."""
    REPRODUCED = "reproduced"
    CONDITIONS = "reproduced under conditions"
    NOT_REPRODUCED = "not reproduced"
    PAPER_ERROR = "paper error"
    GAP = "gap in the argument"
    PENDING = "not yet tested"


STATUS_MEANING: dict[Status, str] = {
    Status.REPRODUCED: "the claim holds as stated, on every setting checked",
    Status.CONDITIONS: "it holds only for some of the settings checked, or only to the order the paper "
                       "implies; the evidence names the conditions",
    Status.NOT_REPRODUCED: "the computation contradicts it, or does not show it where the paper says it does",
    Status.PAPER_ERROR: "the statement as printed is wrong: a formula that does not hold, or a description "
                        "that does not match the authors' code",
    Status.GAP: "the premises hold but the conclusion does not follow from them: a step of the paper's "
                "argument is missing (not a failed experiment)",
    Status.PENDING: "no computation in the book tests the claim as stated yet; the evidence says what exists",
}
"""What each status means, as the page states it."""

SUPPORTS = frozenset({Status.REPRODUCED, Status.CONDITIONS})
"""Statuses under which prose may say that a claim is reproduced (or holds)."""

CONTRADICTS = frozenset({Status.NOT_REPRODUCED, Status.PAPER_ERROR, Status.GAP, Status.CONDITIONS})
"""Statuses under which prose may say that a claim is not reproduced (or does not hold)."""


class Kind(str, Enum):
    """The two kinds of claim, counted apart: a row of one kind says nothing about the other."""
    IDENTITY = "algebraic identities"
    EMPIRICAL = "empirical claims"


@dataclass(frozen=True)
class Finding:
    """A verdict with its evidence.

    Attributes
    ----------
    status : Status
    evidence : str
        One line for the table. It must read the same on every machine (verdicts, bounds,
        ranges, conclusions with a measured margin): nbval compares it.
    detail : str
        The machine-dependent numbers behind it (point estimates and intervals of chaotic
        runs), shown beside the table in a cell nbval does not compare; "" if there are none.
    """
    status: Status
    evidence: str
    detail: str = ""


@dataclass(frozen=True)
class Claim:
    """One claim of the paper: its label, its wording, its kind, where the book shows it, its rule."""
    key: str
    label: str
    statement: str
    chapter: str           # document in book/ (without suffix)
    heading: str           # heading of the section that shows it ("" for the chapter)
    assess: Callable[[Evidence], Finding]
    kind: Kind = Kind.IDENTITY
    short: str = ""        # a name for running text (the summary, the errata); the label if empty


@dataclass(frozen=True)
class Row:
    claim: Claim
    finding: Finding

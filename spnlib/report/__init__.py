"""The reproducibility report: one row per claim of the paper, each verdict computed now.

A :class:`Claim` names what the paper states, which :class:`Kind` it is (an algebraic identity or
an empirical claim, counted apart) and where the book shows it; its ``assess`` function reads the
chapters' computations (through :class:`Evidence`, which runs each one once, and the records of
:mod:`spnlib.report.interfaces`) and returns a :class:`Finding`: a :class:`Status`, one line of
machine-robust evidence and the machine-dependent detail behind it. Nothing in a row is typed by
hand except the claim's wording and the rule that turns the numbers into a verdict; the rules are
stated in each assess function's docstring (:mod:`spnlib.report.rules` for the identities,
:mod:`spnlib.report.empirical` for the empirical claims), and every threshold they use is listed
on the page (:mod:`spnlib.report.thresholds`), as is every term (:mod:`spnlib.report.glossary`).

:mod:`spnlib.report.summary` writes the summary from the statuses and checks the book's prose
against them; :mod:`spnlib.report.errata` writes the errata page from the same evidence.

Defined in the book's introduction (the reproducibility report).
"""
from spnlib.report.evidence import Evidence
from spnlib.report.model import STATUS_MEANING, Claim, Finding, Kind, Row, Status
from spnlib.report.registry import assess, claims_by_key, default_claims, reproducibility_report
from spnlib.report.render import (
    Counts,
    ReportDetail,
    ReproducibilityReport,
    chapter_headings,
    heading_anchor,
    link,
    report_markdown,
    section_link,
)

__all__ = ["Claim", "Counts", "Evidence", "Finding", "Kind", "ReportDetail", "ReproducibilityReport", "Row",
           "STATUS_MEANING", "Status", "assess", "chapter_headings", "claims_by_key", "default_claims",
           "heading_anchor", "link", "report_markdown", "reproducibility_report", "section_link"]

"""The reproducibility report: one row per claim of the paper, each verdict computed now.

A :class:`Claim` names what the paper states and where the book shows it; its ``assess``
function reads the chapters' computations (through :class:`Evidence`, which runs each one
once) and returns a :class:`Finding`: a :class:`Status` and one line of evidence.
Nothing in a row is typed by hand except the claim's wording and the rule that turns the
numbers into a verdict; the rules are stated in each assess function's docstring.

Statuses: "reproduced" (holds as stated), "reproduced under conditions" (holds for some
of the settings checked, or only to the order the paper implies; the evidence names them),
"not reproduced" (the computation contradicts it), "paper error" (the statement as printed
is wrong, e.g. a formula that does not hold, or a description that does not match the
authors' code).

Defined in the book's introduction (the reproducibility report).
"""
from spnlib.report.evidence import Evidence
from spnlib.report.model import Claim, Finding, Row, Status
from spnlib.report.registry import assess, default_claims, reproducibility_report
from spnlib.report.render import ReproducibilityReport, chapter_headings, heading_anchor, report_markdown, section_link

__all__ = ["Claim", "Evidence", "Finding", "ReproducibilityReport", "Row", "Status", "assess", "chapter_headings",
           "default_claims", "heading_anchor", "report_markdown", "reproducibility_report", "section_link"]

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
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import ClassVar

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.data.debd import load_debd
from spnlib.structure.decomposition import Decomposition, balanced, released

__all__ = [
    "Claim",
    "Evidence",
    "Finding",
    "ReproducibilityReport",
    "Row",
    "Status",
    "assess",
    "default_claims",
    "heading_anchor",
    "report_markdown",
    "reproducibility_report",
    "section_link",
    "table_cell",
]


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


# ---------------------------------------------------------------------- the evidence
class Evidence:
    """The chapters' computations that the verdicts read, each run once when first needed.

    Parameters
    ----------
    data : CountedData, optional
        NLTCS (train); loaded with :func:`~spnlib.data.debd.load_debd` if omitted.
    """

    #: the trees on which every printed equation is compared (names as the table shows them)
    TREES: ClassVar[dict[str, Decomposition]] = {"Fig. 2": balanced((2, 2)), "an unbalanced tree": Decomposition(((0, 1), (2, (3, 4)))),
             "the released L = 3": released(3)}

    def __init__(self, data: CountedData | None = None) -> None:
        self._data = data

    @cached_property
    def data(self) -> CountedData:
        return self._data if self._data is not None else CountedData.from_array(load_debd("nltcs", "train"))

    @cached_property
    def equations(self) -> list[dict]:
        """verdicts.verdict_table over :attr:`TREES` (the derivation chapter's comparison)."""
        from spnlib.symbolic.verdicts import verdict_table
        return verdict_table(list(self.TREES.items()))

    def equation(self, name: str) -> list[dict]:
        rows = [r for r in self.equations if r["equation"] == name]
        if not rows:
            known = sorted({r["equation"] for r in self.equations})
            raise LookupError(f"spnlib.symbolic.verdicts reports no equation {name!r}; it reports {known}")
        return rows

    @cached_property
    def linear(self) -> dict[str, bool]:
        from spnlib.studies.linear import derive_linear
        return derive_linear(3).checks

    @cached_property
    def faithful(self):
        from spnlib.experiment.findings import faithful_reproduction
        return faithful_reproduction(self.data)

    @cached_property
    def acceleration(self) -> list:
        from spnlib.experiment.findings import acceleration_summary
        return acceleration_summary(self.data)

    @cached_property
    def observation1(self) -> dict:
        """The verification chapter's Observation 1 study (its settings), summarised."""
        from spnlib.studies.verification import observation1_study
        return observation1_study(self.data).summary()

    @cached_property
    def claim1(self) -> dict:
        """The verification chapter's Claim 1 study (its settings; about two minutes), summarised."""
        from spnlib.studies.verification import claim1_study
        return claim1_study(self.data).summary()

    @cached_property
    def network_checks(self) -> dict[str, float]:
        """Fig. 2 vs the shallow network with w_k = product of layer weights, and the sum over
        its induced trees vs its value: largest |log difference| over all 2^3 states."""
        from spnlib.structure import builders
        from spnlib.numeric import evaluate
        from spnlib.numeric import induced_trees
        from spnlib.structure.decomposition import shallow
        rng = np.random.default_rng(2019)
        D, K = 3, 4
        indicators = builders.indicator_pairs(D)
        components = [builders.factorised_component(D, f"C{k + 1}", rng.uniform(0.2, 1.0, (D, 2)), indicators)
                      for k in range(K)]
        deep = builders.decomposed_spn(balanced((2, 2)), components, [rng.uniform(0.1, 1.0, 2),
                                                                      rng.uniform(0.1, 1.0, 4)])
        w = deep.spn.weights()
        flat = builders.decomposed_spn(shallow(K), components, [deep.component_weights(w)])
        states = np.array(np.meshgrid(*[[0, 1]] * D, indexing="ij")).reshape(D, -1).T
        log_f = evaluate.log_value(deep.spn, states)
        trees = induced_trees.induced_trees(deep.spn)
        return {"expressiveness": float(np.max(np.abs(log_f - evaluate.log_value(flat.spn, states)))),
                "induced_trees": float(np.max(np.abs(induced_trees.trees_log_value(trees, states, w) - log_f))),
                "n_trees": float(len(trees))}




# ------------------------------------------------------------------------ rendering
def heading_anchor(heading: str) -> str:
    """The anchor MyST gives a heading (GitHub style): lower case, spaces to '-', punctuation
    dropped; inline math is not part of it, inline code is (without the backticks)."""
    text = re.sub(r"\$[^$]*\$", "", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("`", "").replace("*", "")
    return re.sub(r"[^\w\u4e00-\u9fff\- ]", "", text.lower().replace(" ", "-"))


def chapter_headings(source: Path) -> list[str]:
    """Headings (levels 1-3) of a chapter, an .ipynb (markdown cells) or a .md file."""
    if source.suffix == ".ipynb":
        cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = source.read_text(encoding="utf-8")
    text = re.sub(r"^(```|:::).*?^\1", "", text, flags=re.MULTILINE | re.DOTALL)       # no code fences
    return [m.group(2).strip() for m in re.finditer(r"^(#{1,3}) +(.+)$", text, flags=re.MULTILINE)]


def section_link(claim: Claim, book_dir: Path) -> str:
    """A Markdown link to the chapter (and section, if its heading exists) that shows a claim;
    plain text if the chapter is not in ``book_dir`` yet."""
    for suffix in (".ipynb", ".md"):
        source = book_dir / f"{claim.chapter}{suffix}"
        if source.exists():
            break
    else:
        return f"{claim.chapter} (not yet written)"
    headings = chapter_headings(source)
    title = headings[0] if headings else claim.chapter
    if claim.heading and claim.heading in headings:
        return f"[{title}: {claim.heading}]({source.name}#{heading_anchor(claim.heading)})"
    return f"[{title}]({source.name})"


def report_markdown(rows: Sequence[Row], book_dir: Path | str = ".") -> str:
    """The report as a Markdown table (MyST: math and links render in the book)."""
    book_dir = Path(book_dir)
    lines = ["| Claim | Verdict | Evidence (computed when this page was built) | Shown in |",
             "|---|---|---|---|"]
    for row in rows:
        cells = [f"**{row.claim.label}**: {row.claim.statement}", row.finding.status.value,
                 row.finding.evidence, section_link(row.claim, book_dir)]
        lines.append("| " + " | ".join(table_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def table_cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table: one line, no bare '|' (escaped in
    prose, \\vert inside $math$)."""
    parts = re.split(r"(\$[^$]*\$)", text.replace("\n", " "))
    return "".join(p.replace("|", r"\vert ") if p.startswith("$") else p.replace("|", r"\|") for p in parts)


@dataclass
class ReproducibilityReport:
    """The computed report. Displays as a Markdown table in Jupyter and in the book; its
    text form (what nbval compares) lists each claim with its verdict."""
    rows: list[Row]
    book_dir: Path

    def counts(self) -> dict[str, int]:
        return {s.value: sum(r.finding.status is s for r in self.rows) for s in Status}

    def _repr_markdown_(self) -> str:
        return report_markdown(self.rows, self.book_dir)

    def __repr__(self) -> str:
        return "\n".join(f"{r.claim.label}: {r.finding.status.value}" for r in self.rows)


def assess(claims: Iterable[Claim], evidence: Evidence) -> list[Row]:
    """Run every claim's rule on the shared evidence."""
    return [Row(claim, claim.assess(evidence)) for claim in claims]


def reproducibility_report(data: CountedData | None = None, claims: Sequence[Claim] | None = None,
                           book_dir: Path | str = ".") -> ReproducibilityReport:
    """Compute every verdict (about a minute: it re-runs the experiment's variants).

    Parameters
    ----------
    data : CountedData, optional
        NLTCS (train); loaded if omitted.
    claims : sequence of Claim, optional
        Default :func:`default_claims`.
    book_dir : path
        The folder of the book's chapters (for the links); the notebook's own folder by default.
    """
    rows = assess(default_claims() if claims is None else claims, Evidence(data))
    return ReproducibilityReport(rows, Path(book_dir))


def default_claims() -> list[Claim]:
    """The registry: every claim of the paper whose computation exists in spnlib."""
    from spnlib.report import rules as r
    eq = r.equation_rule
    layer_gradients, one_step = "Gradients of the layer weights: Eqs. 5-7", "One step of gradient ascent: Eqs. 8-10"
    first = r.HOLDS_FIRST_ORDER
    return [
        Claim("sec21-gradients", "Sec. 2.1", "gradients of the $\\ell_p$ loss of $w$ and of $w = w_1 w_2$",
              "linear_networks", "The model and its gradients", r.linear_gradients),
        Claim("sec21-update", "Sec. 2.1", "end-to-end update $w - \\rho \\nabla_w - \\lambda w$ (Arora et al.)",
              "linear_networks", "The first-order update against a real step", r.linear_update),
        Claim("eq1", "Eq. 1", "the log-likelihood of the data set", "derivation", "The objective: Eq. 1", eq("Eq. 1")),
        Claim("eq2", "Eq. 2", "the gradient of a mixture weight $w_k$", "derivation", "The shallow gradient: Eq. 2", eq("Eq. 2")),
        Claim("eq3-4", "Eqs. 3-4", "decomposed weights compute the same function (equally expressive)",
              "spns", "Fig. 2: the same weights, decomposed",
              r.network_identity("expressiveness", "Fig. 2 vs the shallow network with the same $w_k$")),
        Claim("eq5", "Eq. 5", "gradient of a last-layer weight (Fig. 2)", "derivation", layer_gradients, eq("Eq. 5")),
        Claim("eq6", "Eq. 6", "gradient of a root weight (Fig. 2)", "derivation", layer_gradients, eq("Eq. 6")),
        Claim("eq7", "Eq. 7", "gradient of any layer weight", "derivation", layer_gradients, eq("Eq. 7")),
        Claim("eq8-9", "Eqs. 8-9", "one gradient step on $w_k$ (Fig. 2)", "derivation", one_step, eq("Eq. 8-9")),
        Claim("eq10", "Eq. 10", "its expansion in $\\eta$", "derivation", one_step, eq("Eq. 10", first)),
        Claim("eq11-12", "Eqs. 11-12", "$w_k + \\rho \\nabla_{w_k} + \\lambda w_k$ (Fig. 2)", "derivation",
              "The first-order dynamics: Eqs. 11 and 12", eq("Eq. 11-12", first)),
        Claim("eq13", "Eq. 13", "the same for any decomposition, with its $\\rho$ and $\\lambda$",
              "derivation", "Any decomposition: Eq. 13", r.eq13),
        Claim("eq14", "Eq. 14", "past gradients as momentum terms", "derivation",
              "Observation 1 and Eq. 14: momentum", r.eq14),
        Claim("obs1", "Observation 1", "gradient ascent on an overparameterized SPN is gradient ascent with "
              "adaptive, time-varying rates and momentum (small $\\eta$, near-zero weights)",
              "verification", "Many steps: Observation 1", r.observation1),
        Claim("claim1", "Claim 1", "the same holds for any deep SPN, as a mixture of its induced trees",
              "verification", "Claim 1: deep SPNs as mixtures of induced trees", r.claim1),
        Claim("trees", "Sec. 3, induced trees", "an SPN is the mixture of its induced trees (Definition 1)",
              "spns", "Induced trees",
              r.network_identity("induced_trees", "sum over the induced trees of Fig. 2 vs its value")),
        Claim("fig3", "Fig. 3", "train LLH of $L = 1, 2, 3$ on NLTCS, 500 iterations, $\\eta = 0.01$",
              "experiment", "The faithful reproduction", r.fig3_curves),
        Claim("fig3-runs", "Sec. 3.1", "curves estimated over 2 independent re-runs (random structures)",
              "experiment", "The released code's protocol", r.two_runs),
        Claim("fig3-faster", "Sec. 3.1", "more sum layers lead to faster optimisation",
              "beyond", "Robustness over seeds", r.deeper_is_faster),
        Claim("fig3-half", "Sec. 3.1", "$L = 3$ is near optimal after half the iterations of $L = 1$",
              "beyond", "Robustness over seeds", r.half_the_iterations),
    ]

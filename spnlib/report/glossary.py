"""The words the report's rows use, defined on the page (a glossary under the table).

Each :class:`Term` has a pattern that finds it in a row, a definition, and the section of the
book that shows it. :func:`glossary_markdown` lists the terms that the given rows use, so the page
defines every word it prints and nothing else. The variants' definitions are their labels in
:data:`spnlib.experiment.protocols.PROTOCOLS` where the protocol exists, so they cannot drift.

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from spnlib.report.model import Row
from spnlib.report.thresholds import ENVELOPE_SHARE, NO_EFFECT, SAME_CURVE

__all__ = ["Term", "TERMS", "terms_used", "glossary_markdown", "row_text"]


@dataclass(frozen=True)
class Term:
    name: str
    pattern: str          # regular expression (case-insensitive) that finds the term in a row
    definition: str
    chapter: str = ""     # where the book shows it (document in book/, without suffix)
    heading: str = ""

    def found_in(self, text: str) -> bool:
        return re.search(self.pattern, text, flags=re.IGNORECASE) is not None


def _protocol(name: str, fallback: str) -> str:
    """A protocol's label from spnlib.experiment.protocols (the fallback until it exists there)."""
    from spnlib.experiment.protocols import PROTOCOLS
    p = PROTOCOLS.get(name)
    return p.label if p is not None else fallback


def _terms() -> tuple[Term, ...]:
    seeds = "beyond", "Robustness over seeds"
    return (
        Term("released protocol", r"released protocol|released script|released code",
             "the authors' experiment script as released (" + _protocol("released", "") + "): 8 identical "
             "components, all weights starting at 1e-4, projected gradient ascent, 2 runs",
             "experiment", "The released code's protocol"),
        Term("variant", r"\bvariants?\b", "the released protocol with one change that breaks the symmetry of its "
             "identical components (the paper's curves need one); its runs are chaotic", *seeds),
        Term("chaotic", r"chaotic", "a run whose symmetric start is broken at round-off level: the asymmetry "
             "grows exponentially, so a single curve, and the last digits of statistics over several, differ "
             "from one machine (BLAS kernel, SIMD width) to another; only conclusions with a margin measured "
             "across machines are printed in the table, the numbers beside it", *seeds),
        Term("ulp", r"\bulp\b", "unit in the last place, the spacing of float64 numbers at a value (about "
             "1.1e-16 relative); the variant ulp: " + _protocol("ulp", ""), *seeds),
        Term("perturbed", r"\bperturbed\b", _protocol("perturbed", ""), *seeds),
        Term("random-structure", r"random-structure", _protocol("random-structure", ""), *seeds),
        Term("roundoff", r"\broundoff\b", _protocol("roundoff", ""), *seeds),
        Term("released-order", r"released-order", _protocol(
            "released-order", "variant: released protocol with the leaf-weight gradients summed in a "
            "per-component order, as the authors' Julia code does"), "experiment",
            "The operation that broke the symmetry"),
        Term("updated", r"\bupdated\b", _protocol("updated", ""), "beyond", "The updated protocol"),
        Term("one curve", r"one curve", f"curves that differ by less than {SAME_CURVE:g} nats at every iteration",
             "experiment", "The faithful reproduction"),
        Term("band", r"\bband\b|\bcovers?\b", "the central 90 % of a variant's runs at each iteration (between "
             "their 5 % and 95 % quantiles; the detail names the runs); a band covers a paper curve when at least "
             f"{ENVELOPE_SHARE:.0%} of the curve's 500 points lie inside it",
             "experiment", "The summation order against the paper's Fig. 3"),
        Term("gap", r"\bgap\b", "the rise of the train log-likelihood from the mean initial value to the target, "
             "the best depth's median final value in the setting (for Claim 1: the SPN's EM level); \"90 % of "
             "the gap\" is reached at the first update whose value closes 90 % of it", *seeds),
        Term("speed-up", r"speed-up|over L = 1|×", "the median number of updates the reference needs to close a "
             "share of the gap, divided by the median number the other configuration needs (2: half the "
             "updates); its interval is a 95 % bootstrap over seeds, runs paired by seed; a run that never "
             "reaches the target is censored, not dropped: where it decides a median, the ratio is a bound "
             "(\"more than 2.1\") or undetermined, and the interval is open on that side", *seeds),
        Term("faster / not distinguishable", r"not distinguishable|faster|slower",
             f"an interval above {NO_EFFECT:g} (faster), below it (slower), or containing it (not "
             "distinguishable from no effect)", *seeds),
        Term("first order in η", r"first order", "the terms of a Taylor expansion in the learning rate η up to η¹; "
             "the paper's \"≈\"", "derivation", "How small is a small learning rate?"),
        Term("carry", r"\bcarry\b", "the term of the exact Eq. 14 that carries the initial weights forward, "
             "λ^(t) ∏(1 + λ^(s)) w^(1); the near-zero (momentum) reading drops it", "verification",
             "Many steps: Observation 1"),
        Term("replay", r"replay", "training the shallow network with the adaptive rates and momentum "
             "coefficients read off a deep run; it retraces the run by construction (an identity, not a test)",
             "verification", "Many steps: Observation 1"),
        Term("induced tree", r"induced tree|tree weights?|\btrees\b", "a sub-network that keeps one child of every "
             "sum node and all children of every product node (Definition 1); its weight is the product of "
             "its sum weights", "spns", "Induced trees"),
        Term("weight of its own", r"of its own|of their own", "a sum weight that no other induced tree uses; "
             "Observation 1's derivation pulls such a weight out to obtain the adaptive rate ρ∇",
             "verification", "Claim 1: deep SPNs as mixtures of induced trees"),
        Term("EM level", r"EM level", "the log-likelihood an SPN reaches under expectation-maximisation from "
             "its start (no learning rate to tune): the end of the gap in the Claim 1 speed test",
             "verification", "Does the deep SPN train faster?"),
        Term("conservation laws", r"conservation law|conserved", "for every sum node below the root, with "
             "incoming weight a and outgoing weights b_j, Q = a² − Σ_j b_j² stays constant under gradient flow on "
             "the layer weights (rescaling a by c and every b_j by 1/c changes no w_k)", "verification",
             "Many steps: Observation 1"),
        Term("η/s²", r"η/s²", "the learning rate in units of the squared initial scale s of the layer weights "
             "(on a balanced tree gradient ascent is invariant under u → s u, η → s² η)", "verification",
             "Many steps: Observation 1"),
        Term("near-zero form", r"near-zero", "the closed form of the end-to-end update for balanced layers "
             "(every Q = 0), the regime of near-zero initial weights that Observation 1 appeals to; the released "
             "start (every layer weight equal) is not balanced", "verification", "Many steps: Observation 1"),
        Term("same function class", r"same-class|same function class|same SPN",
             "a baseline that can compute exactly the same functions as the model it is compared with "
             "(here the deep SPN itself, against its overparameterized version)",
             "verification", "Claim 1: deep SPNs as mixtures of induced trees"),
        Term("trees of the comparison", r"unbalanced tree|released L = 3|Fig\. 2",
             "the decompositions on which every printed equation is compared: Fig. 2 (two sum layers, "
             "2 × 2), an unbalanced tree ((C1, C2), (C3, (C4, C5))), and the released code's L = 3 (three "
             "sum layers over 8 components)", "derivation", "Gradients of the layer weights: Eqs. 5-7"),
    )


TERMS: tuple[Term, ...] = _terms()
"""The glossary, in the order the page lists it."""


def row_text(row: Row) -> str:
    """Everything a row prints: statement, evidence and detail."""
    return " ".join((row.claim.statement, row.finding.evidence, row.finding.detail))


def terms_used(rows: Iterable[Row], terms: Sequence[Term] = TERMS) -> list[Term]:
    text = " ".join(row_text(r) for r in rows)
    return [t for t in terms if t.found_in(text)]


def glossary_markdown(rows: Iterable[Row], book_dir: Path | str = ".", terms: Sequence[Term] = TERMS) -> str:
    """The terms the rows use, as Markdown bullets with a link to the section that shows each."""
    from spnlib.report.render import link
    lines = []
    for t in terms_used(rows, terms):
        where = f" ({link(t.chapter, t.heading, Path(book_dir))})" if t.chapter else ""
        lines.append(f"- **{t.name}**: {t.definition}{where}.")
    return "\n".join(lines)

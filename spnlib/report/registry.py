"""The registry of the paper's claims, and the function that computes the whole report.

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from spnlib.data.counted import CountedData
from spnlib.report.evidence import Evidence
from spnlib.report.model import Claim, Row
from spnlib.report.render import ReproducibilityReport

__all__ = ["assess", "reproducibility_report", "default_claims"]


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
        Claim("eq2", "Eq. 2", "the gradient of a mixture weight $w_k$", "derivation", "The shallow gradient: Eq. 2",
              eq("Eq. 2")),
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

"""The registry of the paper's claims, and the function that computes the whole report.

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from spnlib.data.counted import CountedData
from spnlib.report.evidence import Evidence
from spnlib.report.model import Claim, Kind, Row
from spnlib.report.render import ReproducibilityReport

__all__ = ["assess", "reproducibility_report", "default_claims", "claims_by_key"]


def assess(claims: Iterable[Claim], evidence: Evidence) -> list[Row]:
    """Run every claim's rule on the shared evidence (each computation runs once)."""
    return [Row(claim, claim.assess(evidence)) for claim in claims]


def reproducibility_report(data: CountedData | None = None, claims: Sequence[Claim] | None = None,
                           book_dir: Path | str = ".", evidence: Evidence | None = None) -> ReproducibilityReport:
    """Compute every verdict (it re-runs the derivations, the numerical checks and the experiment's
    variants; about half a minute on an idle 2-core machine).

    Parameters
    ----------
    data : CountedData, optional
        NLTCS (train); loaded if omitted.
    claims : sequence of Claim, optional
        Default :func:`default_claims`.
    book_dir : path
        The folder of the book's chapters (for the links); the notebook's own folder by default.
    evidence : Evidence, optional
        Reuse the computations of another report or page (``data`` is then ignored).
    """
    ev = evidence if evidence is not None else Evidence(data)
    rows = assess(default_claims() if claims is None else claims, ev)
    return ReproducibilityReport(rows, Path(book_dir))


def claims_by_key(*keys: str) -> list[Claim]:
    """The claims of :func:`default_claims` with these keys, in that order."""
    known = {c.key: c for c in default_claims()}
    missing = [k for k in keys if k not in known]
    if missing:
        raise KeyError(f"no claims {missing} in the registry; it has {list(known)}")
    return [known[k] for k in keys]


def default_claims() -> list[Claim]:
    """The registry: every claim of the paper whose computation exists in spnlib."""
    from spnlib.report import empirical as e
    from spnlib.report import rules as r
    eq = r.equation_rule
    layer_gradients, one_step = "Gradients of the layer weights: Eqs. 5-7", "One step of gradient ascent: Eqs. 8-10"
    first = r.HOLDS_FIRST_ORDER
    E = Kind.EMPIRICAL
    return [
        # ------------------------------------------------------------ algebraic identities
        Claim("sec21-gradients", "Sec. 2.1", "gradients of the $\\ell_p$ loss of $w$ and of $w = w_1 w_2$",
              "linear_networks", "The model and its gradients", r.linear_gradients, short="the Sec. 2.1 gradients"),
        Claim("sec21-update", "Sec. 2.1", "end-to-end update $w - \\rho \\nabla_w - \\lambda w$ (Arora et al.)",
              "linear_networks", "The first-order update against a real step", r.linear_update,
              short="the Sec. 2.1 end-to-end update"),
        Claim("eq1", "Eq. 1", "the log-likelihood of the data set", "derivation", "The objective: Eq. 1", eq("Eq. 1")),
        Claim("eq2", "Eq. 2", "the gradient of a mixture weight $w_k$", "derivation", "The shallow gradient: Eq. 2",
              r.eq2),
        Claim("eq3", "Eq. 3", "decomposed weights $w_k = \\prod_l w^{[l]}_{\\phi(k,l)}$ compute the same function "
              "(equally expressive)", "spns", "Fig. 2: the same weights, decomposed",
              r.network_identity("expressiveness", "Fig. 2 against the shallow network with the same $w_k$")),
        Claim("eq4", "Eq. 4", "the log-likelihood of the data set under the decomposed weights", "derivation",
              "Decomposed weights: Eqs. 3 and 4",
              eq("Eq. 4", note="Eq. 1's slip again: $\\log f(*)$ counted once, not once per sample")),
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
        Claim("trees", "Sec. 3, induced trees", "an SPN is the mixture of its induced trees (Definition 1)",
              "spns", "Induced trees",
              r.network_identity("induced_trees", "sum over the induced trees of Fig. 2 against its value"),
              short="the induced-tree identity"),
        # ---------------------------------------------------------------- empirical claims
        Claim("obs1", "Observation 1", "gradient ascent on an overparameterized SPN is gradient ascent with "
              "adaptive, time-varying rates and momentum (small $\\eta$, near-zero weights)",
              "verification", "Many steps: Observation 1", e.observation1, E),
        Claim("claim1", "Claim 1", "the same holds for any deep SPN, as a mixture of its induced trees",
              "verification", "Claim 1: deep SPNs as mixtures of induced trees", e.claim1, E),
        Claim("claim1-speed", "Claim 1, consequence", "overparameterizing a deep SPN (extra sum layers, the same "
              "functions) speeds up gradient ascent, as it does for a shallow one",
              "verification", "Does the deep SPN train faster?", e.claim1_speed, E, short="Claim 1's consequence"),
        Claim("fig3", "Fig. 3", "train LLH of $L = 1, 2, 3$ on NLTCS, 500 iterations, $\\eta = 0.01$",
              "experiment", "The faithful reproduction", e.fig3_curves, E, short="the curves of Fig. 3"),
        Claim("fig3-runs", "Sec. 3.1", "curves estimated over 2 independent re-runs (random structures)",
              "experiment", "The released code's protocol", e.two_runs, E, short="the two independent runs"),
        Claim("fig3-faster", "Sec. 3.1", "more sum layers lead to faster optimisation",
              "beyond", "Robustness over seeds", e.deeper_is_faster, E, short="more layers are faster"),
        Claim("fig3-half", "Sec. 3.1", "$L = 3$ is near optimal after only half the iterations of $L = 1$",
              "beyond", "Robustness over seeds", e.half_the_iterations, E, short="half the iterations"),
    ]

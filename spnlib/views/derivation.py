"""Presentation of the derivation: printed next to derived in LaTeX, verdict tables, the explorer.

Everything returns Markdown strings (LaTeX in ``$...$``) that render in Jupyter and in
the book, or a matplotlib figure at most the page's width; the expressions and verdicts come
from :mod:`spnlib.symbolic.derivation`, :mod:`spnlib.symbolic.verdicts`,
:mod:`spnlib.symbolic.printed` and :mod:`spnlib.symbolic.conservation`. Checks read as words
("yes"/"no", "does not apply"), never as Python values.

Defined in the book's chapter "The derivation, redone by machine".
"""
from __future__ import annotations

import ast
from collections.abc import Callable, Sequence

import sympy as sp

from spnlib.structure.decomposition import Decomposition, InvalidDecompositionError, Nested, balanced
from spnlib.symbolic import printed as pe
from spnlib.symbolic.conservation import ConservationLaw, conservation_laws, symmetry_dimensions
from spnlib.symbolic.derivation import Derivation, SymbolicSPN
from spnlib.symbolic.preconditioner import group_preconditioner, uniform_start
from spnlib.symbolic.verdicts import Verdict, compare_first_order, verdict_table
from spnlib.views.tables import markdown_table

__all__ = ["Md", "printed_vs_derived", "verdict_markdown", "verdict_matrix", "eq13_breakdown",
           "eq13_breakdown_markdown", "decomposition_table", "select", "expression_table", "yes_no",
           "value_range", "conservation_markdown", "symmetry_markdown", "uniform_start_markdown", "plot_one_step_error",
           "draw_decompositions", "derivation_summary", "derivation_summary_for", "explore"]


class Md(str):
    """Markdown text that renders as Markdown in Jupyter and the book and shows its source as plain
    text (so that nbval compares the text itself, not an object's repr)."""

    def _repr_markdown_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return str(self)


_MARK = {Verdict.EXACT.value: "✓ exact", Verdict.FIRST_ORDER.value: "≈ first order",
         Verdict.FAILS.value: "✗ fails", Verdict.NOT_APPLICABLE.value: "does not apply"}


def printed_vs_derived(spn: SymbolicSPN, lhs: str, printed: sp.Expr, derived: sp.Expr,
                       verdict: str = "") -> Md:
    """Two display lines, the paper's form above the derived one, and the verdict."""
    out = (f"as printed: $\\displaystyle {lhs} = {spn.latex(printed)}$\n\n"
           f"derived: $\\displaystyle {lhs} = {spn.latex(derived)}$")
    return Md(out + (f"\n\nverdict: **{verdict}**" if verdict else ""))


def verdict_markdown(rows: Sequence[dict], columns: Sequence[str] = ("equation", "decomposition", "verdict",
                                                                     "where", "residual"),
                     residuals_for: Sequence[str] | None = None) -> Md:
    """Rows of :func:`spnlib.symbolic.verdicts.verdict_table` as a Markdown table (LaTeX cells in $...$).

    ``residuals_for``: show residuals only for rows with these verdicts (e.g. ``["does not hold"]``).
    """
    def fmt(row: dict, col: str) -> str:
        value = row[col]
        if col == "residual" and residuals_for is not None and row["verdict"] not in residuals_for:
            return ""
        if col in ("residual", "corrected") and value:
            return f"${str(value)}$"
        return str(value)
    return Md(markdown_table([[fmt(r, c) for c in columns] for r in rows], list(columns)))


def verdict_matrix(rows: Sequence[dict]) -> Md:
    """Equation x decomposition, one short verdict per cell."""
    decs = list(dict.fromkeys(r["decomposition"] for r in rows))
    eqs = list(dict.fromkeys(r["equation"] for r in rows))
    cell = {(r["equation"], r["decomposition"]): _MARK[r["verdict"]] for r in rows}
    return Md(markdown_table([[e] + [cell.get((e, d), "") for d in decs] for e in eqs], ["equation", *decs]))


def select(rows: Sequence[dict], *equations: str) -> list[dict]:
    """The rows of a verdict table (:func:`~spnlib.symbolic.verdicts.verdict_table`) for these equations."""
    known = {r["equation"] for r in rows}
    missing = [e for e in equations if e not in known]
    if missing:
        raise ValueError(f"no rows for {missing}; the table has {sorted(known)}")
    return [r for r in rows if r["equation"] in equations]


def yes_no(flag: bool) -> str:
    """A check's outcome as a word for a sentence or a table cell."""
    return "yes" if flag else "no"


def value_range(low: float, high: float, digits: int = 3) -> str:
    """"0.0133" when both ends agree to ``digits`` significant digits, else "0.0131 to 0.0133"."""
    a, b = f"{low:.{digits}g}", f"{high:.{digits}g}"
    return a if a == b else f"{a} to {b}"


def expression_table(items: dict | Sequence[tuple[str, sp.Expr]], headers: Sequence[str],
                     latex: Callable[[sp.Expr], str] = sp.latex) -> Md:
    """Two columns: a label and an expression (rendered with ``latex``, in $...$)."""
    pairs = items.items() if isinstance(items, dict) else items
    return Md(markdown_table([[label, f"${latex(e)}$"] for label, e in pairs], list(headers)))


def conservation_markdown(laws: Sequence[ConservationLaw], spn: SymbolicSPN) -> Md:
    """One row per conservation law (:func:`~spnlib.symbolic.conservation.conservation_laws`): the scaling,
    the conserved Q, whether the invariance, the Noether identity and dQ/dt = 0 all reduce to 0, and
    the change of Q in one gradient-ascent step."""
    rows = [[law.symmetry.name.replace("sum node below", "below"), f"${spn.latex(law.quantity)}$", yes_no(law.holds),
             f"${spn.latex(sp.factor(law.step_change))}$"] for law in laws]
    return Md(markdown_table(rows, ["sum node", "conserved $Q$", "derived: invariance, identity, $dQ/dt = 0$",
                                    r"$Q(u + \eta \nabla_u) - Q(u)$"]))


def symmetry_markdown(structures: Sequence[tuple[str, Decomposition | Sequence]]) -> Md:
    """Per decomposition: how many scalings keep every w_k (the null space of the incidence matrix),
    how many node laws there are and their rank, how many keep f(x)/f(*), whether every law holds,
    and whether the node laws hold for any objective of w (:mod:`spnlib.symbolic.conservation`)."""
    rows = []
    for name, structure in structures:
        der = Derivation(structure)
        dims, laws = symmetry_dimensions(der.spn), conservation_laws(der)
        rows.append([name, dims["keep w"], dims["node laws"], dims["rank of the node laws"],
                     dims["keep w up to a factor"], yes_no(all(law.holds for law in laws)),
                     yes_no(all(law.any_objective == 0 for law in laws if not law.symmetry.normalised_only))])
    return Md(markdown_table(rows, ["decomposition", "scalings keeping every $w_k$", "node laws", "their rank",
                                    "scalings keeping $f(x)/f(*)$", "every law holds",
                                    "node laws hold for any objective of $w$"]))


def uniform_start_markdown(structures: Sequence[tuple[str, Decomposition | Sequence]]) -> Md:
    """Per two-layer decomposition, at the released code's start (every layer weight s): the constant Q_1 of the
    first group, the rate rho_1 of the derived update and that of the balanced (near-zero) form, and their ratio
    (:mod:`spnlib.symbolic.preconditioner`)."""
    scale = sp.Symbol("s", positive=True)
    rows = []
    for name, structure in structures:
        pre = group_preconditioner(structure)
        start = uniform_start(pre, scale)
        rate = sp.simplify(pre.explicit(pre.rho[0]).xreplace(start))
        balanced_rate = sp.simplify(pre.balanced(pre.rho[0]).xreplace(start))
        rows.append([name, f"${pre.latex(start[pre.constants[0]])}$", f"${pre.latex(rate)}$",
                     f"${pre.latex(balanced_rate)}$", f"${sp.latex(sp.simplify(balanced_rate / rate))}$"])
    return Md(markdown_table(rows, ["decomposition", "$Q_1$", "$\\rho_1$ (derived)", "$\\rho_1$ of the balanced form",
                                    "ratio"]))


def eq13_breakdown(structure: Decomposition | Sequence | Derivation) -> list[dict]:
    """Per component: depth, derived rho_k, printed rho, and Eq. 13's verdict under both readings.

    Keys: k (1-based), depth, rho_derived, lambda_derived, rho_printed (LaTeX),
    verdict_sum_layers, verdict_eq3 (strings), residual_sum_layers, residual_eq3 (LaTeX).
    """
    der = structure if isinstance(structure, Derivation) else Derivation(structure)
    s, sub = der.spn, der.gradient_substitution()
    rows = []
    for k in range(s.n_components):
        row = {"k": k + 1, "depth": s.depth(k), "rho_derived": s.latex(der.rho[k]),
               "lambda_derived": s.latex(der.lam[k]), "rho_printed": s.latex(pe.eq13(s, k)[1])}
        readings: tuple[tuple[pe.Reading, str], ...] = (("sum layers", "sum_layers"), ("eq3", "eq3"))
        for reading, key in readings:
            verdict, r = compare_first_order(der, der.update[k], pe.eq13(s, k, reading)[0].xreplace(sub))
            row[f"verdict_{key}"] = verdict.value
            row[f"residual_{key}"] = s.latex(r) if verdict == Verdict.FAILS else ""
        rows.append(row)
    return rows


def eq13_breakdown_markdown(structure: Decomposition | Sequence | Derivation) -> Md:
    """:func:`eq13_breakdown` as a table: per component, its depth, the derived and the printed rho, and
    the residual of Eq. 13 under both readings of L."""
    def residual(r: dict, key: str) -> str:
        return f"${r[f'residual_{key}']}$" if r[f"residual_{key}"] else r[f"verdict_{key}"]

    rows = [[r["k"], r["depth"], f"${r['rho_derived']}$", f"${r['rho_printed']}$", residual(r, "sum_layers"),
             residual(r, "eq3")] for r in eq13_breakdown(structure)]
    return Md(markdown_table(rows, ["k", "depth $d_k$", "derived $\\rho_k$", "printed $\\rho$",
                                    "residual, $L$ = sum layers", "residual, $L$ = Eq. 3's index"]))


def decomposition_table(structures: Sequence[tuple[str, Decomposition | Sequence]]) -> Md:
    """w_k = prod_l w^{[l]}_{phi(k,l)} (Eq. 3) for several named decompositions, side by side."""
    spns = [(name, SymbolicSPN(st)) for name, st in structures]
    K = max(s.n_components for _, s in spns)
    rows = [[k + 1] + [f"$w_{{{k + 1}}} = {s.latex(s.weight(k))}$" if k < s.n_components else ""
                       for _, s in spns] for k in range(K)]
    return Md(markdown_table(rows, ["k", *[name for name, _ in spns]]))


def plot_one_step_error(errors, etas: Sequence[float], scales: Sequence[float],
                        mark: tuple[float, str] | None = None):
    """Relative error of the first-order step against eta (left) and against eta / s^2 (right).

    ``errors`` is :func:`spnlib.studies.dynamics.first_order_errors` (shape (len(scales), seeds,
    len(etas))). One curve per weight scale s: the median over seeds, with the min-max range as
    a band. The scales get shades of grey (they are not depths, so not the depth colours).
    ``mark`` = (x, label) draws a dotted vertical line at eta / s^2 = x on the right panel.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from spnlib.views.figures import PAGE_WIDTH_IN

    eta_arr = np.asarray(etas, float)
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 2.9), sharey=True)
    shades = plt.cm.Greys(np.linspace(0.95, 0.45, len(scales)))
    for sc, err, marker, colour in zip(scales, errors, "os^vD", shades):
        for ax, x in zip(axes, (eta_arr, eta_arr / sc ** 2)):
            ax.fill_between(x, err.min(axis=0), err.max(axis=0), color=colour, alpha=0.2, lw=0)
            ax.loglog(x, np.median(err, axis=0), marker=marker, ms=3, color=colour, label=f"$s = {sc:g}$")
    axes[0].set_xlabel(r"learning rate $\eta$")
    axes[1].set_xlabel(r"$\eta / s^2$")
    axes[0].set_ylabel("relative error of\nthe first-order step")
    if mark is not None:
        axes[1].axvline(mark[0], color="k", ls=":", lw=1)
        axes[1].annotate(mark[1], (mark[0], 1e-6), rotation=90, ha="right", va="bottom", fontsize=9)
    axes[0].legend(frameon=False, title="weight size")
    fig.tight_layout()
    return fig


def draw_decompositions(structures: Sequence[tuple[str, Decomposition | Sequence]], edge_labels: bool = True,
                        per_row: int = 2):
    """Trees of sum nodes, ``per_row`` to a row at the page's width: sums as circles, components C_k
    as triangles at their own depth, edges labelled with their layer weight w^{[l]}_j (1-based j).

    Within a row each panel's width is proportional to its number of components, so that the
    edge labels of the deepest layer have the same room in every panel.
    """
    import matplotlib.pyplot as plt

    from spnlib.views.figures import PAGE_WIDTH_IN

    decs = [st if isinstance(st, Decomposition) else Decomposition(st) for _, st in structures]
    rows = [list(range(i, min(i + per_row, len(decs)))) for i in range(0, len(decs), per_row)]
    depths = [max(decs[i].n_layers for i in row) for row in rows]
    heights = [0.62 * d + 0.75 for d in depths]
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, sum(heights)))
    outer = fig.add_gridspec(len(rows), 1, height_ratios=heights)
    for r, row in enumerate(rows):
        inner = outer[r].subgridspec(1, len(row), width_ratios=[decs[i].n_components + 0.5 for i in row])
        for c, i in enumerate(row):
            ax, dec = fig.add_subplot(inner[c]), decs[i]
            _draw_tree(ax, dec.tree, 0, [0] * dec.n_layers, iter(range(dec.n_components)), edge_labels)
            ax.set_title(structures[i][0], fontsize=10)
            ax.set_xlim(-0.6, dec.n_components - 0.4)
            ax.set_ylim(-depths[r] - 0.6, 0.35)
            ax.axis("off")
    fig.tight_layout(pad=0.3, h_pad=0.6, w_pad=1.0)
    return fig


def _draw_tree(ax, node: Sequence[Nested], depth: int, counters: list[int], slot, edge_labels: bool) -> float:
    """Draw the subtree of a sum node at ``depth``; returns its x (components get x = 0, 1, ...)."""
    first = counters[depth]
    counters[depth] += len(node)
    xs = []
    for child in node:
        if isinstance(child, int):
            x = float(next(slot))
            ax.plot([x], [-depth - 1], marker="^", ms=11, color="0.85", mec="k", zorder=3)
            ax.text(x, -depth - 1.42, f"$C_{{{child + 1}}}$", ha="center", va="center", fontsize=9)
        else:
            x = _draw_tree(ax, child, depth + 1, counters, slot, edge_labels)
        xs.append(x)
    x0 = sum(xs) / len(xs)
    for i, x in enumerate(xs):
        ax.plot([x0, x], [-depth, -depth - 1], color="0.4", lw=0.8, zorder=1)
        if edge_labels:   # 60 % of the way down: siblings' labels further apart than at the middle
            ax.text(x0 + 0.6 * (x - x0), -depth - 0.6, f"$w^{{[{depth}]}}_{{{first + i + 1}}}$", fontsize=8.5,
                    ha="center", va="center", bbox={"fc": "w", "ec": "none", "pad": 0.1}, zorder=2)
    ax.plot([x0], [-depth], marker="o", ms=10, color="w", mec="k", zorder=3)
    ax.text(x0, -depth, "+", ha="center", va="center", fontsize=8, zorder=4)
    return x0


def derivation_summary(structure: Decomposition | Sequence, name: str | None = None) -> Md:
    """The whole derivation of one decomposition as Markdown: w_k, rho_k, lambda_k, verdicts."""
    der = Derivation(structure)
    s, dec = der.spn, der.spn.decomposition
    head = (f"**{name or dec.tree}**: K = {dec.n_components} components, L = {dec.n_layers} sum layers, "
            f"{dec.n_weights} layer weights{'' if dec.is_balanced else ', unbalanced'}.")
    comps = markdown_table([[k + 1, s.depth(k), f"$w_{{{k + 1}}} = {s.latex(s.weight(k))}$",
                             f"${str(s.latex(der.rho[k]))}$", f"${str(s.latex(der.lam_layer_form(k)))}$"]
                            for k in range(dec.n_components)],
                           ["k", "depth", "decomposition (Eq. 3)", "derived ρ_k", "derived λ_k"])
    rows = verdict_table([(name or str(dec.tree), dec)])
    return Md("\n\n".join([head, comps, verdict_markdown(rows, ("equation", "verdict", "where", "residual"))]))


def derivation_summary_for(n_layers: int, branching: int, tree: str = "") -> Md:
    """The explorer's callback: :func:`derivation_summary` of ``balanced((branching,) * n_layers)``, or of ``tree``.

    ``tree`` is a nested tuple written in Python (e.g. ``"((0, 1), 2)"``); when
    given it replaces the balanced tree. Invalid input gives a message, not an exception.
    """
    try:
        if tree.strip():
            try:
                structure = ast.literal_eval(tree.strip())
            except (ValueError, SyntaxError):
                raise InvalidDecompositionError(
                    f"cannot read {tree!r} as a nested tuple of component indices") from None
            dec = Decomposition(structure) if isinstance(structure, (tuple, list)) else None
            if dec is None:
                raise InvalidDecompositionError(f"{tree!r} is not a nested tuple of sum nodes")
        else:
            dec = balanced((int(branching),) * int(n_layers))
        if dec.n_components > 16:
            raise ValueError(f"K = {dec.n_components} components; the explorer derives up to 16 "
                             "(choose fewer layers or a smaller branching)")
        return derivation_summary(dec)
    except (InvalidDecompositionError, ValueError) as err:
        return Md(f"**Cannot derive:** {err}")


def explore():
    """An ipywidgets explorer: number of layers and branching (or any tree) -> :func:`derivation_summary_for`.

    Needs a live kernel with ipywidgets; the book shows fixed cases instead.
    """
    import ipywidgets as widgets
    from IPython.display import Markdown, display

    layers = widgets.IntSlider(value=2, min=1, max=4, description="sum layers")
    branching = widgets.IntSlider(value=2, min=1, max=4, description="branching")
    tree = widgets.Text(value="", placeholder="or a tree, e.g. ((0, 1), 2)", description="tree")
    out = widgets.Output()

    def update(_=None) -> None:
        out.clear_output(wait=True)
        with out:
            display(Markdown(derivation_summary_for(layers.value, branching.value, tree.value)))

    for w in (layers, branching, tree):
        w.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([layers, branching]), tree, out])


"""Rendering of the derivation: tables, the per-component Eq. 13 breakdown, the explorer callback."""
from __future__ import annotations

import pytest

from spnlib.structure.decomposition import balanced
from spnlib.studies.dynamics import first_order_errors
from spnlib.symbolic.derivation import Derivation
from spnlib.symbolic.verdicts import verdict_table
from spnlib.views.derivation import (
    Md,
    decomposition_table,
    derivation_summary,
    derivation_summary_for,
    draw_decompositions,
    eq13_breakdown,
    explore,
    plot_one_step_error,
    printed_vs_derived,
    verdict_markdown,
    verdict_matrix,
)


def test_eq13_breakdown_for_a_component_under_the_root():
    rows = eq13_breakdown(((0, 1), 2, ((3, 4), 5)))
    root_child = rows[2]
    assert root_child["depth"] == 1 and root_child["rho_derived"] == "\\eta" and root_child["lambda_derived"] == "0"
    assert root_child["verdict_sum_layers"] == root_child["verdict_eq3"] == "does not hold"
    deep = rows[3]
    assert deep["depth"] == 3 and "w^{[1]}_{3}" in deep["rho_derived"] and "w^{[1]}" not in deep["rho_printed"]


def test_tables_render_latex_and_escape_pipes():
    rows = verdict_table([("Fig. 2", balanced((2, 2)))])
    md = verdict_markdown(rows)
    assert md.splitlines()[0] == "| equation | decomposition | verdict | where | residual |"
    assert "$- \\eta \\left(w^{[0]}_{1}\\right)^{2} \\nabla_{w_{1}}$" in md
    rows[0] = {**rows[0], "residual": "a | b"}
    assert "a \\vert  b" in verdict_markdown(rows)
    matrix = verdict_matrix(rows)
    assert "| equation | Fig. 2 |" in matrix and "✗ fails" in matrix and "≈ first order" in matrix


def test_printed_vs_derived():
    der = Derivation(balanced((2, 2)))
    s = der.spn
    md = printed_vs_derived(s, "\\nabla", s.eta, s.eta ** 2, "holds exactly")
    assert "as printed: $\\displaystyle \\nabla = \\eta$" in md and "**holds exactly**" in md


def test_report_and_its_callback():
    md = derivation_summary(balanced((2, 2)), name="Fig. 2")
    assert md.startswith("**Fig. 2**: K = 4 components, L = 2 sum layers")
    assert derivation_summary_for(2, 2) == derivation_summary(balanced((2, 2)))
    assert "unbalanced" in derivation_summary_for(1, 1, "((0, 1), 2)")


@pytest.mark.parametrize("args, message", [
    ((4, 4, ""), "up to 16"),
    ((2, 2, "((0, 1), (1, 2))"), "reached twice"),
    ((2, 2, "((0, 1), ())"), "no children"),
    ((2, 2, "foo"), "cannot read"),
    ((2, 2, "3"), "not a nested tuple"),
])
def test_callback_reports_bad_input_in_words(args, message):
    out = derivation_summary_for(*args)
    assert out.startswith("**Cannot derive:**") and message in out


def test_explorer_builds():
    pytest.importorskip("ipywidgets")
    box = explore()
    assert len(box.children) == 3


def test_markdown_text_shows_itself_as_plain_text():
    md = Md("| a |")
    assert repr(md) == "| a |" and md._repr_markdown_() == "| a |" and isinstance(md, str)


def test_decomposition_table_and_tree_drawing():
    table = decomposition_table([("Fig. 2", balanced((2, 2))), ("unbalanced", ((0, 1), 2))])
    assert "$w_{3} = w^{[0]}_{2}$" in table and "$w_{4} = w^{[0]}_{2} w^{[1]}_{4}$" in table
    fig = draw_decompositions([("Fig. 2", balanced((2, 2))), ("unbalanced", ((0, 1), 2))])
    labels = {t.get_text() for t in fig.axes[1].texts}
    assert {"$w^{[0]}_{1}$", "$w^{[0]}_{2}$", "$w^{[1]}_{1}$", "$w^{[1]}_{2}$", "$C_{3}$"} <= labels
    assert "$w^{[1]}_{3}$" not in labels         # the unbalanced tree has two layer-1 weights


def test_one_step_error_plot_draws_both_panels():
    errors = first_order_errors(balanced((2, 2)), [1e-4, 1e-3], scales=(1.0, 0.1), seeds=(0, 1))
    assert errors.shape == (2, 2, 2)
    assert (errors[1] > errors[0]).all()          # smaller weights, same eta: larger error
    fig = plot_one_step_error(errors, [1e-4, 1e-3], scales=(1.0, 0.1), mark=(1e6, "paper"))
    assert len(fig.axes) == 2

"""Rendering of the derivation: tables, the per-component Eq. 13 breakdown, the explorer callback."""
from __future__ import annotations

import pytest
import sympy as sp

from spnlib.structure.decomposition import balanced, released, shallow
from spnlib.studies.dynamics import first_order_errors
from spnlib.symbolic.conservation import conservation_laws
from spnlib.symbolic.derivation import Derivation
from spnlib.symbolic.verdicts import verdict_table
from spnlib.views.derivation import (
    Md,
    conservation_markdown,
    decomposition_table,
    derivation_summary,
    derivation_summary_for,
    draw_decompositions,
    eq13_breakdown,
    eq13_breakdown_markdown,
    explore,
    expression_table,
    plot_one_step_error,
    printed_vs_derived,
    select,
    symmetry_markdown,
    uniform_start_markdown,
    value_range,
    verdict_markdown,
    verdict_matrix,
    yes_no,
)
from spnlib.views.figures import PAGE_WIDTH_IN
from spnlib.views.tables import python_internals


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


def test_verdict_matrix_says_in_words_where_an_equation_does_not_apply():
    matrix = verdict_matrix(verdict_table([("shallow", shallow(3))]))
    assert "does not apply" in matrix and not python_internals(matrix)


def test_select_picks_rows_and_names_what_is_missing():
    rows = verdict_table([("Fig. 2", balanced((2, 2)))])
    assert {r["equation"] for r in select(rows, "Eq. 5", "Eq. 6")} == {"Eq. 5", "Eq. 6"}
    with pytest.raises(ValueError, match="Eq. 99"):
        select(rows, "Eq. 99")


def test_words_and_ranges():
    assert yes_no(True) == "yes" and yes_no(False) == "no"
    assert value_range(0.013303, 0.013308) == "0.0133"
    assert value_range(0.0131, 0.0133) == "0.0131 to 0.0133"
    table = expression_table({"one": sp.Integer(0), "two": sp.Symbol("N") - 1}, ["objective", "value"])
    assert table.splitlines()[2:] == ["| one | $0$ |", "| two | $N - 1$ |"]


def test_conservation_tables():
    der = Derivation(balanced((2, 2)))
    md = conservation_markdown(conservation_laws(der), der.spn)
    lines = md.splitlines()
    assert len(lines) == 2 + 3 and lines[2].startswith("| below $w^{[0]}_{1}$ |") and "| yes |" in lines[4]
    sym = symmetry_markdown([("Fig. 2", balanced((2, 2))), ("unbalanced", ((0, 1), 2, ((3, 4), 5)))])
    assert "| Fig. 2 | 2 | 2 | 2 | 3 | yes | yes |" in sym and "| unbalanced | 3 | 3 | 3 | 4 | yes | yes |" in sym


def test_uniform_start_table_gives_the_balanced_forms_overestimate():
    md = uniform_start_markdown([("Fig. 2", balanced((2, 2))), ("L = 2", released(2))])
    assert "| Fig. 2 | $- s^{2}$ | $\\eta s^{2}$ | $\\sqrt{2} \\eta s^{2}$ | $\\sqrt{2}$ |" in md
    assert "| L = 2 | $- 3 s^{2}$ | $\\eta s^{2}$ | $2 \\eta s^{2}$ | $2$ |" in md


def test_eq13_breakdown_table_never_leaves_empty_math():
    md = eq13_breakdown_markdown(balanced((2, 2)))
    assert "$$" not in md and "holds to first order in η" in md     # Eq. 3's reading holds on Fig. 2


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
    assert fig.get_size_inches()[0] <= PAGE_WIDTH_IN
    labels = {t.get_text() for t in fig.axes[1].texts}
    assert {"$w^{[0]}_{1}$", "$w^{[0]}_{2}$", "$w^{[1]}_{1}$", "$w^{[1]}_{2}$", "$C_{3}$"} <= labels
    assert "$w^{[1]}_{3}$" not in labels         # the unbalanced tree has two layer-1 weights


def test_one_step_error_plot_draws_both_panels():
    errors = first_order_errors(balanced((2, 2)), [1e-4, 1e-3], scales=(1.0, 0.1), seeds=(0, 1))
    assert errors.shape == (2, 2, 2)
    assert (errors[1] > errors[0]).all()          # smaller weights, same eta: larger error
    fig = plot_one_step_error(errors, [1e-4, 1e-3], scales=(1.0, 0.1), mark=(1e6, "paper"))
    assert len(fig.axes) == 2 and fig.get_size_inches()[0] <= PAGE_WIDTH_IN


def test_tree_drawing_puts_two_trees_in_a_row_at_the_page_width():
    trees = [("a", shallow(4)), ("b", balanced((2, 2))), ("c", released(3))]
    fig = draw_decompositions(trees)
    assert len(fig.axes) == 3 and fig.get_size_inches()[0] == PAGE_WIDTH_IN
    top, bottom = fig.axes[0].get_position(), fig.axes[2].get_position()
    assert bottom.y1 < top.y0                  # the third tree starts a second row

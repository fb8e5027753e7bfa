"""Markdown tables and the number formatter: precision from the interval, words for the rest."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spnlib.views.tables import (
    decimals_for,
    format_estimate,
    format_number,
    markdown_table,
    python_internals,
    python_reprs,
    table_cell,
)


def test_markdown_table_escapes_cells_and_checks_the_row_length() -> None:
    assert markdown_table([["a|b", "$|x|$"]], ["k", "v"]) == "| k | v |\n|---|---|\n| a\\|b | $\\vert x\\vert $ |"
    with pytest.raises(ValueError, match="2 cells"):
        markdown_table([[1]], ["k", "v"])
    assert table_cell("one\ntwo") == "one two"


@pytest.mark.parametrize(("args", "kwargs", "text"), [
    ((2.79, 2.48, 3.04), {}, "2.8 [2.5, 3.0]"),
    ((1.13, 1.09, 1.16), {}, "1.13 [1.09, 1.16]"),
    ((96, 72, 146), {}, "96 [72, 146]"),
    ((-22.314, -22.783, -21.844), {}, "-22.3 [-22.8, -21.8]"),
    ((2.0, 2.0, 2.0), {}, "2.0 (no spread)"),
    ((2.0, 1.9999, 2.0002), {}, "2.000 (interval narrower than 0.001)"),
    ((2.1, 1.63, math.inf), {"bound": ">"}, "more than 2.1 [1.6, no upper bound]"),
    ((0.9, 0.0, 1.3), {"bound": "<"}, "less than 0.9 [0.0, 1.3]"),
    ((293, 286, 499), {"high_bound": ">"}, "293 [286, more than 499]"),
    ((499, 480, 499), {"bound": ">", "high_bound": ">"}, "more than 499 [480, more than 499]"),
    ((1.5, -math.inf, math.inf), {}, "1.5 [no lower bound, no upper bound]"),
    ((math.nan, 1.0, 1.0), {}, "undetermined"),
    ((math.nan,), {"undetermined": "reference"}, "reference"),
    ((0.0123,), {}, "0.012"),
    ((5.0,), {"bound": ">"}, "more than 5.0"),
])
def test_format_estimate(args: tuple, kwargs: dict, text: str) -> None:
    assert format_estimate(*args, **kwargs) == text
    assert python_internals(text) == []


def test_an_infinite_estimate_or_number_needs_words() -> None:
    with pytest.raises(ValueError, match="words"):
        format_estimate(math.inf, 1.0, math.inf)
    with pytest.raises(ValueError, match="words"):
        format_number(math.nan)


@given(st.floats(-1e6, 1e6), st.floats(2e-3, 1e4))
def test_the_last_digit_resolves_the_interval_into_five_steps(centre: float, width: float) -> None:
    """The printed ends differ by at least about five units of the last digit, and the value is
    rounded to the same digit as the ends (unless the decimals hit their cap)."""
    low, high = centre - width / 2, centre + width / 2
    text = format_estimate(centre, low, high)
    value, ends = text.split(" [")
    lo, hi = ends.rstrip("]").split(", ")
    decimals = decimals_for(high - low)
    assert all(len(x.partition(".")[2]) == decimals for x in (value, lo, hi))
    if decimals < 3:
        assert (float(hi) - float(lo)) * 10 ** decimals >= 4 - 1e-6    # five steps, give or take rounding


@pytest.mark.parametrize("text", ["inf [1.63, inf]", "n/a [1.00, 1.00]", "never [480, never]", "nan",
                                  "{'holds': 3}", "None", "True", "array([1, 2])", "np.float64(2.5)"])
def test_python_internals_are_found(text: str) -> None:
    assert python_internals(text)


@pytest.mark.parametrize("text", ["more than 2.1 [1.6, no upper bound]", "information", "infinite",
                                  "the run never reaches it", "Nonetheless", "2.8 [2.5, 3.0]"])
def test_words_are_not_python_internals(text: str) -> None:
    assert python_internals(text) == []


@pytest.mark.parametrize(("text", "found"), [
    ("{'sum': 13, 'product': 4}", ["{'sum':"]), ("[np.float64(2.5), 1]", ["np.float64("]),
    ("<spnlib.structure.graph.SPN object at 0x7f00aa>", ["<spnlib.structure.graph.SPN object at 0x7f00aa>"]),
    ("array([1, 2])", ["array("]), ("holds for every k: True", []), ("13 sum nodes, 4 products", []),
])
def test_python_reprs_in_printed_output(text: str, found: list[str]) -> None:
    assert python_reprs(text) == found


def test_one_estimate_formatter() -> None:
    """The book has one formatter of an estimate: the tables use the statistics' own (views may import stats)."""
    from spnlib.stats import printing
    assert format_estimate is printing.format_estimate and decimals_for is printing.decimals_for

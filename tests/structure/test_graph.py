"""Structure and validation (spnlib.structure.graph)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import spns

from spnlib.structure.graph import SPN, Bernoulli, Indicator, InvalidSPNError, Product, Sum


def small_spn() -> SPN:
    x0, x1 = Indicator(0, 0), Indicator(0, 1)
    y0, y1 = Indicator(1, 0), Indicator(1, 1)
    a, b = Sum([x0, x1], [0.3, 0.7], name="A"), Sum([y0, y1], [0.6, 0.4], name="B")
    return SPN(Sum([Product([a, b], name="P1"), Product([Sum([x0, x1], [1, 2], name="C"), b], name="P2")],
                   [2.0, 3.0], name="root"))


def test_scopes_layout_and_sharing():
    spn = small_spn()
    assert spn.scope(spn.root) == {0, 1}
    assert spn.n_variables == 2
    assert spn.n_weights == 8 and spn.weights().shape == (8,)
    # B is shared by P1 and P2: it appears once in the node list
    assert sum(n.name == "B" for n in spn.nodes) == 1
    # children come before parents
    pos = {id(n): i for i, n in enumerate(spn.nodes)}
    assert all(pos[id(c)] < pos[id(n)] for n in spn.nodes for c in n.children)
    np.testing.assert_array_equal(spn.weights_of(spn.weights(), "root"), [2.0, 3.0])
    assert spn.edge_labels()[-1] == "root->P2"


def test_incomplete_sum_is_named():
    with pytest.raises(InvalidSPNError, match="'S'.*complete") as err:
        SPN(Sum([Indicator(0, 0), Indicator(1, 0)], [1, 1], name="S"))
    assert err.value.node == "S" and err.value.property == "complete (smooth)"


def test_non_decomposable_product_is_named():
    with pytest.raises(InvalidSPNError, match="decomposable") as err:
        SPN(Product([Indicator(0, 0), Indicator(0, 1)], name="P"))
    assert err.value.node == "P"


@pytest.mark.parametrize("weights, prop", [
    ([1.0, -0.5], "non-negative weights"),
    ([1.0, np.nan], "finite weights"),
    ([np.inf, 1.0], "finite weights"),
    ([1.0], "one weight per child"),
])
def test_bad_weights(weights, prop):
    with pytest.raises(InvalidSPNError) as err:
        SPN(Sum([Indicator(0, 0), Indicator(0, 1)], weights, name="S"))
    assert err.value.property == prop and err.value.node == "S"


@pytest.mark.parametrize("node, prop", [
    (Sum([], [], name="S"), "has children"),
    (Product([], name="S"), "has children"),
    (Indicator(0, 2, name="S"), "binary indicator"),
    (Indicator(-1, 0, name="S"), "variable index"),
    (Bernoulli(0, 1.5, name="S"), "Bernoulli parameter"),
])
def test_bad_local_structure(node, prop):
    with pytest.raises(InvalidSPNError) as err:
        SPN(node)
    assert err.value.property == prop and err.value.node == "S"


def test_cycle_is_rejected():
    a = Sum([Indicator(0, 0)], [1.0], name="A")
    p = Product([a], name="P")
    a._children = (p,)  # only possible by mutation; the validator still catches it
    with pytest.raises(InvalidSPNError, match="acyclic"):
        SPN(p)


def test_non_node_child_and_root():
    with pytest.raises(InvalidSPNError, match="children are nodes"):
        SPN(Sum([Indicator(0, 0), "leaf"], [1, 1], name="S"))
    with pytest.raises(InvalidSPNError, match="root is a node"):
        SPN("root")


def test_weight_vector_checks():
    spn = small_spn()
    with pytest.raises(ValueError, match="shape"):
        spn.check_weight_vector(np.ones(3))
    w = spn.weights()
    w[2] = -1
    with pytest.raises(ValueError, match=r"weight 2 \(.*\) is -1"):
        spn.check_weight_vector(w)


@st.composite
def broken_spns(draw):
    """A valid random SPN with one defect injected at a random place: the error must name it."""
    spn = draw(spns(max_variables=4))
    kind = draw(st.sampled_from(["overlap", "incomplete", "negative", "nan"]))
    inner = [n for n in spn.nodes if n.children]
    target = draw(st.sampled_from(inner))
    x = Indicator(0, 1, name="intruder")
    if kind == "overlap":   # a product whose children share variable 0
        bad = Product([target, x], name="BAD") if 0 in spn.scope(target) else \
            Product([target, Indicator(next(iter(spn.scope(target))), 0), ], name="BAD")
        return Sum([bad], [1.0], name="top"), "decomposable", "BAD"
    if kind == "incomplete":  # a sum over children with different scopes
        other = Indicator(spn.n_variables, 0, name="other")
        return Sum([target, other], [1.0, 1.0], name="BAD"), "complete (smooth)", "BAD"
    value = -1.0 if kind == "negative" else np.nan
    prop = "non-negative weights" if kind == "negative" else "finite weights"
    return Sum([target, target], [1.0, value], name="BAD"), prop, "BAD"


@given(broken_spns())
@settings(max_examples=60, deadline=None)
def test_random_invalid_structures_are_named(case):
    root, prop, name = case
    with pytest.raises(InvalidSPNError) as err:
        SPN(root)
    assert err.value.property == prop
    assert err.value.node == name


def test_the_flat_weight_order_runs_from_the_leaves_up_with_the_root_last():
    spn = small_spn()
    offsets = spn.weight_offsets
    for s in spn.sum_nodes:
        below = [c for c in s.children if isinstance(c, Sum)] + [g for c in s.children for g in c.children
                                                                 if isinstance(g, Sum)]
        assert all(offsets[b][1] <= offsets[s][0] for b in below)
    assert offsets[spn.root][1] == spn.n_weights

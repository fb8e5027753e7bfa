"""Tests for spnlib.symbolic.conservation: the conservation laws and the end-to-end dynamics, by SymPy."""
from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from spnlib.structure.decomposition import balanced, random_decomposition, released, shallow
from spnlib.symbolic.conservation import (
    balanced_layers,
    check_recovery,
    closed_form_rho_lambda,
    closed_form_velocity,
    conservation_laws,
    end_to_end_velocity,
    heights,
    scaling_symmetries,
    sum_node_edges,
    symmetry_dimensions,
)
from spnlib.symbolic.derivation import Derivation

TREES = {
    "shallow": shallow(3),
    "Fig. 2": balanced((2, 2)),
    "L = 3": released(3),
    "unbalanced": random_decomposition(8, 3),       # (0, 1, ((2, 3, (4, (5, 6))), 7)): depths 1 to 5
    "unbalanced, small": random_decomposition(6, 1),
}


@pytest.fixture(scope="module")
def derivations():
    return {name: Derivation(dec) for name, dec in TREES.items()}


@pytest.fixture(scope="module")
def all_laws(derivations):
    return {name: conservation_laws(der) for name, der in derivations.items()}


@pytest.mark.parametrize("name", list(TREES))
def test_every_law_is_derived_and_holds(derivations, all_laws, name):
    der = derivations[name]
    s = der.spn
    laws = all_laws[name]
    assert len(laws) == len(sum_node_edges(s.decomposition))      # one per sum node below the root, plus the root
    for law in laws:
        assert law.holds, law.symmetry.name
        gen = law.symmetry.as_dict()
        # the quantity is sum_i s_i u_i^2, and one step changes it by eta^2 sum_i s_i nabla_i^2 exactly
        expected_q = sp.Add(*[e * s.layer_weights[l][j] ** 2 for (l, j), e in gen.items()])
        assert sp.expand(law.quantity - expected_q) == 0
        expected_step = s.eta ** 2 * sp.Add(*[e * s.layer_grads[l][j] ** 2 for (l, j), e in gen.items()])
        assert sp.expand(law.step_change - expected_step) == 0


@pytest.mark.parametrize("name", list(TREES))
def test_node_laws_hold_for_any_objective_the_root_law_needs_the_partition_function(derivations, all_laws, name):
    der = derivations[name]
    s = der.spn
    for law in all_laws[name]:
        if law.symmetry.normalised_only:
            euler = sp.Add(*[s.weight(k) * s.shallow_grads[k] for k in range(s.n_components)])
            assert sp.expand(law.any_objective - euler) == 0
            # ... which vanishes for the normalised objective (Eq. 2 substituted)
            sub = dict(zip(s.shallow_grads, der.shallow_gradient))
            value = s.concrete(s.decomposed(euler.xreplace(sub)).xreplace(
                {s.f_x: s.f_shallow(), s.f_star: s.f_shallow(star=True)}))
            assert sp.cancel(sp.together(s.decomposed(value))) == 0
        else:
            assert law.any_objective == 0


@pytest.mark.parametrize("name", list(TREES))
def test_node_symmetries_are_all_the_scaling_symmetries(name):
    dims = symmetry_dimensions(TREES[name])
    assert dims["keep w"] == dims["node laws"] == dims["rank of the node laws"]
    assert dims["keep w up to a factor"] == dims["keep w"] + 1      # the root scaling, for f(x)/f(*)


def test_sum_nodes_follow_the_paths():
    for dec in [*TREES.values(), random_decomposition(9, 5, 4)]:
        nodes = sum_node_edges(dec)
        assert nodes[0].incoming is None and all(n.incoming is not None for n in nodes[1:])
        for k, path in enumerate(dec.paths):           # walk down from the root along k's path
            i = 0
            for l, j in enumerate(path):
                node = nodes[i]
                pos = node.outgoing.index((l, j))
                kind, idx = node.children[pos]
                if l == len(path) - 1:
                    assert (kind, idx) == ("component", k)
                else:
                    assert kind == "node" and nodes[idx].incoming == (l, j)
                    i = idx


def test_symmetry_generators_of_fig2():
    syms = scaling_symmetries(balanced((2, 2)))
    assert [s.as_dict() for s in syms] == [{(0, 0): 1, (1, 0): -1, (1, 1): -1}, {(0, 1): 1, (1, 2): -1, (1, 3): -1},
                                           {(0, 0): 1, (0, 1): 1}]
    assert [s.normalised_only for s in syms] == [False, False, True]


@settings(max_examples=8, deadline=None)
@given(k=st.integers(2, 5), seed=st.integers(0, 10_000))
def test_laws_hold_on_random_small_trees(k, seed):
    dec = random_decomposition(k, seed)
    assert all(law.holds for law in conservation_laws(dec))


def test_velocity_is_the_first_order_step_split_into_rho_and_lambda(derivations):
    for name in ("Fig. 2", "L = 3", "unbalanced, small"):
        der = derivations[name]
        s = der.spn
        v = end_to_end_velocity(der)
        for k in range(s.n_components):
            assert sp.expand(v[k] - der.first_order[k]) == 0
            assert sp.simplify(s.eta * v[k] - (der.rho[k] * s.shallow_grads[k] + der.lam[k] * s.weight(k))) == 0


@pytest.mark.parametrize("dec", [balanced((2, 2)), released(2), released(3), balanced((3, 2)), shallow(3)])
def test_balanced_layers_satisfy_their_defining_equations(dec):
    assert check_recovery(dec, balanced_layers(dec)) == {"w(u(w)) = w": True, "every Q_S = 0": True}


def test_balanced_closed_form_needs_equal_heights():
    assert heights(released(3)) == (3, 2, 2, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="different heights"):
        heights(TREES["unbalanced"])
    with pytest.raises(ValueError, match="different heights"):
        balanced_layers(TREES["unbalanced"])


def test_fig2_closed_form_is_arora_depth_two_per_group(derivations):
    """dw_k/dt = ||w_g|| nabla_k + w_k (w_g . nabla_g) / ||w_g|| (hand-derived), and rho, lambda likewise."""
    der = derivations["Fig. 2"]
    s = der.spn
    w, g = s.shallow_weights, s.shallow_grads
    v = closed_form_velocity(der)
    rho, lam = closed_form_rho_lambda(der)
    for k in range(4):
        grp = (0, 1) if k < 2 else (2, 3)
        norm = sp.sqrt(sum(w[i] ** 2 for i in grp))
        dot = sum(w[i] * g[i] for i in grp)
        assert sp.simplify(v[k] - (norm * g[k] + w[k] * dot / norm)) == 0
        assert sp.simplify(rho[k] - s.eta * norm) == 0
        assert sp.simplify(lam[k] - s.eta * dot / norm) == 0


def test_three_layer_closed_form():
    """(2, 2, 2) with Q = 0: the root edge is (||w_b1|| + ||w_b2||)^(1/3), hand-derived."""
    dec = released(3)
    layers = balanced_layers(dec)
    w = Derivation(dec).spn.shallow_weights
    n1, n2 = sp.sqrt(w[0] ** 2 + w[1] ** 2), sp.sqrt(w[2] ** 2 + w[3] ** 2)
    assert sp.simplify(layers[(0, 0)] - (n1 + n2) ** sp.Rational(1, 3)) == 0
    assert sp.simplify(layers[(1, 0)] ** 2 - n1 / layers[(0, 0)]) == 0

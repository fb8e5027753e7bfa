"""Conservation laws of gradient flow on consecutive sum layers, and the end-to-end dynamics they give.

The map from layer weights u to mixture weights w_k = prod_{l} u^{[l]}_{phi(k,l)} (Eq. 3) has
scaling symmetries. For a sum node S below the root, with incoming edge weight a and out-edge
weights b_j, the change a -> c a, b_j -> b_j / c leaves every w_k unchanged, so any objective J(w)
satisfies, by differentiating J(u(c)) = J(u) at c = 1 (Noether's argument),

    a dJ/da - sum_j b_j dJ/db_j = 0    identically,

and under gradient flow du/dt = dJ/du the quantity Q_S = a^2 - sum_j b_j^2 is conserved. The
normalised objective (with the partition function, Eqs. 1/4 corrected) has one more symmetry:
scaling every root edge by c multiplies f(x) and f(*) by c, so ||u^{[0]}||^2 is conserved as well.
:func:`scaling_symmetries` lists these generators; :func:`symmetry_dimensions` checks, from the path
incidence matrix, that the node symmetries are *all* the scaling symmetries of u -> w;
:func:`conservation_laws` derives each law with ``sympy.diff`` (never typed in): the invariance, the
Noether identity, dQ/dt = 0 under gradient flow, and the change of Q in one gradient step of size
eta, which is eta^2 sum_i s_i (dJ/du_i)^2 (so Q drifts by O(eta) over a fixed time eta T).

Gradient flow on the layers moves w by dw/dt = J J^T nabla_w with J = dw/du
(:func:`end_to_end_velocity`). With the conserved constants the layers are a function of w:
:func:`balanced_layers` gives it in closed form for a balanced start (every Q_S = 0) on a tree
whose sum nodes have children of equal height, and :func:`closed_form_velocity` the resulting
end-to-end update in w and nabla_w alone (for Fig. 2, dw_k/dt = ||w_g|| nabla_{w_k} +
w_k (w_g . nabla_{w_g}) / ||w_g|| over the group g of w_k's sum node: Arora et al.'s (2018)
preconditioner for depth 2, per group). Unbalanced starts need a nested root-finding
(:func:`spnlib.studies.end_to_end.recover_layers`).

Defined in the book's chapters "The derivation" and "Numerical verification of the dynamics".
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from spnlib.structure.decomposition import Decomposition
from spnlib.symbolic.derivation import Derivation, SymbolicSPN

__all__ = ["SumNode", "sum_node_edges", "ScalingSymmetry", "scaling_symmetries", "symmetry_dimensions",
           "ConservationLaw", "conservation_laws", "end_to_end_velocity", "heights", "balanced_layers",
           "check_recovery", "closed_form_velocity", "closed_form_rho_lambda"]

Edge = tuple[int, int]       # (l, j): the layer weight w^{[l]}_j


@dataclass(frozen=True)
class SumNode:
    """A sum node of a decomposition, by its edges.

    Attributes
    ----------
    depth : int
        0 for the root.
    incoming : (l, j) or None
        The edge into the node (None for the root).
    outgoing : tuple of (l, j)
        Its out-edges, left to right (all at layer ``depth``).
    children : tuple of (str, int)
        Per out-edge, ``("component", k)`` or ``("node", index into sum_node_edges())``.
    """

    depth: int
    incoming: Edge | None
    outgoing: tuple[Edge, ...]
    children: tuple[tuple[str, int], ...]


def sum_node_edges(decomposition: Decomposition) -> tuple[SumNode, ...]:
    """Every sum node of ``decomposition`` with its edges, breadth first (index 0 is the root)."""
    dec = decomposition
    to_component = {(len(p) - 1, p[-1]): k for k, p in enumerate(dec.paths)}
    nodes: list[SumNode] = []
    index: dict[Edge, int] = {}               # incoming edge -> node index
    order = [(l, i) for l, level in enumerate(dec.sum_nodes) for i in range(len(level))]
    # the i-th sum node at depth l + 1 hangs from the i-th edge at layer l that leads to a sum node
    into = {l: [j for j in range(n) if (l, j) not in to_component] for l, n in enumerate(dec.layer_sizes)}
    for n_idx, (l, i) in enumerate(order):
        index[(l - 1, into[l - 1][i]) if l else (-1, 0)] = n_idx
    for l, i in order:
        first, stop = dec.sum_nodes[l][i]
        incoming = (l - 1, into[l - 1][i]) if l else None
        out = tuple((l, j) for j in range(first, stop))
        children = tuple(("component", to_component[e]) if e in to_component else ("node", index[e]) for e in out)
        nodes.append(SumNode(l, incoming, out, children))
    return tuple(nodes)


@dataclass(frozen=True)
class ScalingSymmetry:
    """u_i -> c^{s_i} u_i for the layer weights listed (s_i = +1 or -1; the others are unchanged).

    ``normalised_only``: a symmetry of the normalised objective f(x)/f(*) only (it multiplies
    every w_k by c); the node symmetries leave every w_k itself unchanged.
    """

    name: str
    generator: tuple[tuple[Edge, int], ...]
    normalised_only: bool

    def as_dict(self) -> dict[Edge, int]:
        return dict(self.generator)


def scaling_symmetries(decomposition: Decomposition) -> tuple[ScalingSymmetry, ...]:
    """One symmetry per sum node below the root (a -> c a, its out-edges / c), and the root scaling."""
    out = []
    for node in sum_node_edges(decomposition):
        if node.incoming is None:
            continue
        gen = ((node.incoming, 1),) + tuple((e, -1) for e in node.outgoing)
        l, j = node.incoming
        out.append(ScalingSymmetry(f"sum node below $w^{{[{l}]}}_{{{j + 1}}}$", gen, False))
    root = sum_node_edges(decomposition)[0]
    out.append(ScalingSymmetry("root", tuple((e, 1) for e in root.outgoing), True))
    return tuple(out)


def _incidence(spn: SymbolicSPN) -> tuple[sp.Matrix, list[sp.Symbol]]:
    """A[k, i] = exponent of layer weight i in w_k (0 or 1), derived from the expressions w_k."""
    u = [v for _, _, v in spn.all_layer_weights()]
    rows = [[sp.degree(spn.weight(k), v) for v in u] for k in range(spn.n_components)]
    return sp.Matrix(rows), u


def symmetry_dimensions(structure: Decomposition | SymbolicSPN) -> dict[str, int]:
    """Dimensions of the scaling symmetries of u -> w, from the incidence matrix A of log w = A log u.

    ``"keep w"``: dim of the null space of A (scalings leaving every w_k unchanged);
    ``"keep w up to a factor"``: dim of {s : A s in span(1)} (the normalised objective's);
    ``"node laws"`` and ``"rank of the node laws"``: how many node generators there are and the
    rank they span inside the null space (equal to ``"keep w"`` when they are all of them).
    """
    spn = structure if isinstance(structure, SymbolicSPN) else SymbolicSPN(structure)
    A, u = _incidence(spn)
    pos = {(l, j): i for i, (l, j, _) in enumerate(spn.all_layer_weights())}
    gens = [s for s in scaling_symmetries(spn.decomposition) if not s.normalised_only]
    G = sp.Matrix([[s.as_dict().get(e, 0) for e in pos] for s in gens]) if gens else sp.zeros(0, len(u))
    if gens and not (A * G.T).is_zero_matrix:
        raise AssertionError("a node generator changes some w_k")   # cannot happen in a tree
    ones = sp.Matrix([1] * spn.n_components)
    return {"keep w": len(A.nullspace()), "keep w up to a factor": len(A.row_join(ones).nullspace()),
            "node laws": len(gens), "rank of the node laws": G.rank() if gens else 0}


@dataclass(frozen=True)
class ConservationLaw:
    """One conservation law of gradient flow, derived for a decomposition.

    Attributes
    ----------
    symmetry : ScalingSymmetry
    quantity : Expr
        Q = sum_i s_i u_i^2 in the layer-weight symbols (a^2 - sum_j b_j^2 for a sum node).
    invariance : Expr
        J(c^s u) - J(u) for the per-sample objective, simplified (0: the symmetry holds).
    noether : Expr
        d/dc J(c^s u) at c = 1 = sum_i s_i u_i dJ/du_i, with the gradients derived by ``sympy.diff``,
        reduced (0: the identity holds).
    flow_rate : Expr
        dQ/dt = sum_i dQ/du_i dJ/du_i under gradient flow, reduced (0: Q is conserved).
    step_change : Expr
        Q(u + eta nabla_u) - Q(u) for one gradient-ascent step, in the placeholders nabla_{w^{[l]}_j}
        after the O(eta) term (which is 2 eta times ``noether``) is removed.
    linear_term : Expr
        That O(eta) coefficient with the derived gradients substituted (0).
    any_objective : Expr
        sum_i s_i u_i dJ/du_i for an arbitrary objective J(w), by the chain rule in the
        placeholders nabla_{w_k}: 0 for the node laws; sum_k w_k nabla_{w_k} (Euler's identity, 0
        only for the normalised objective) for the root law.
    """

    symmetry: ScalingSymmetry
    quantity: sp.Expr
    invariance: sp.Expr
    noether: sp.Expr
    flow_rate: sp.Expr
    step_change: sp.Expr
    linear_term: sp.Expr
    any_objective: sp.Expr

    @property
    def holds(self) -> bool:
        """True if the invariance, the Noether identity and dQ/dt = 0 all reduce to 0."""
        return all(e == 0 for e in (self.invariance, self.noether, self.flow_rate, self.linear_term))


def _reduce(expr: sp.Expr, spn: SymbolicSPN) -> sp.Expr:
    """An expression in f(x), f(*) placeholders with the sums put back, as one cancelled fraction."""
    return sp.cancel(sp.together(spn.concrete(expr)))


def _law(der: Derivation, sym: ScalingSymmetry) -> ConservationLaw:
    s = der.spn
    c = sp.Symbol("c", positive=True)
    gen = {s.layer_weights[l][j]: e for (l, j), e in sym.generator}
    # invariance of the normalised per-sample model f(x)/f(*) (J = its log)
    model = s.g() / s.g(star=True)
    scaled = model.xreplace({u: c ** e * u for u, e in gen.items()})
    invariance = sp.cancel(sp.together(scaled - model))
    # Noether: d/dc J(c^s u) at c = 1, J = log g(x) - log g(*)
    J_c = der.loglik.xreplace({u: c ** e * u for u, e in gen.items()})
    at_one = sp.diff(J_c, c).xreplace({c: 1})
    grad = {s.layer_weights[l][j]: der.layer_gradient[(l, j)] for l, j, _ in s.all_layer_weights()}
    noether_f = sp.Add(*[e * u * grad[u] for u, e in gen.items()])   # the same sum with the derived gradients
    if sp.cancel(sp.together(at_one - s.concrete(noether_f))) != 0:
        raise AssertionError("d/dc J(c^s u) at c = 1 differs from sum_i s_i u_i dJ/du_i")
    noether = _reduce(noether_f, s)
    # the conserved quantity and its rate under gradient flow du/dt = dJ/du
    Q = sp.Add(*[e * u ** 2 for u, e in gen.items()])
    flow_rate = _reduce(sp.Add(*[sp.diff(Q, u) * grad[u] for u in gen]), s)
    # one step of gradient ascent, with the layer gradients as placeholders
    place = {s.layer_weights[l][j]: s.layer_grads[l][j] for l, j, _ in s.all_layer_weights()}
    change = sp.expand(Q.xreplace({u: u + s.eta * place[u] for u in gen}) - Q)
    linear = change.coeff(s.eta, 1)
    linear_term = _reduce(linear.xreplace({place[u]: grad[u] for u in gen}), s)
    any_objective = sp.expand(sp.Add(*[e * s.layer_weights[l][j] * der.chain_gradient[(l, j)]
                                       for (l, j), e in sym.generator]))
    return ConservationLaw(sym, Q, invariance, noether, flow_rate, sp.expand(change - s.eta * linear), linear_term,
                           any_objective)


def conservation_laws(structure: Decomposition | Derivation) -> tuple[ConservationLaw, ...]:
    """Every law of :func:`scaling_symmetries`, derived for the per-sample normalised objective.

    The laws hold for the sum or the mean over samples as well (each is linear in the gradients),
    and the node laws for any objective of w alone (they leave every w_k unchanged).
    """
    der = structure if isinstance(structure, Derivation) else Derivation(structure)
    return tuple(_law(der, sym) for sym in scaling_symmetries(der.spn.decomposition))


# ----------------------------------------------------------------- end-to-end
def end_to_end_velocity(der: Derivation) -> tuple[sp.Expr, ...]:
    """dw_k/dt = sum_i (dw_k/du_i) (dJ/du_i) under gradient flow on the layers: J J^T nabla_w.

    In the layer-weight symbols and the placeholders nabla_{w_k} (any objective of w).
    """
    s = der.spn
    weights = [s.weight(k) for k in range(s.n_components)]
    return tuple(sp.expand(sp.Add(*[sp.diff(wk, u) * der.chain_gradient[(l, j)] for l, j, u in s.all_layer_weights()]))
                 for wk in weights)


def heights(decomposition: Decomposition) -> tuple[int, ...]:
    """Per sum node (as in :func:`sum_node_edges`): the number of edges from it down to a component.

    Raises ValueError if the children of some sum node differ in height (no closed form then).
    """
    nodes = sum_node_edges(decomposition)
    out: dict[int, int] = {}
    for i in reversed(range(len(nodes))):
        hs = {1 if kind == "component" else out[idx] + 1 for kind, idx in nodes[i].children}
        if len(hs) != 1:
            raise ValueError(f"sum node {i} has children of different heights {sorted(hs)}; the balanced "
                             "closed form needs equal heights (use the nested root-finding)")
        out[i] = hs.pop()
    return tuple(out[i] for i in range(len(nodes)))


class _Closed:
    """sigma_S: sigma of a component is w_k; of a sum node of height h, (sum_c sigma_c^(2/(h-1)))^((h-1)/2)."""

    def __init__(self, spn: SymbolicSPN) -> None:
        self.spn, self.nodes = spn, sum_node_edges(spn.decomposition)
        self.h = heights(spn.decomposition)

    @cached_property
    def sigma(self) -> dict[int, sp.Expr]:
        out: dict[int, sp.Expr] = {}
        for i in reversed(range(len(self.nodes))):
            h = self.h[i]
            parts = [self.spn.shallow_weights[idx] if kind == "component" else out[idx]
                     for kind, idx in self.nodes[i].children]
            out[i] = sp.Add(*[p ** sp.Rational(2, h) for p in parts]) ** sp.Rational(h, 2)
        return out


def balanced_layers(structure: Decomposition | SymbolicSPN) -> dict[Edge, sp.Expr]:
    """The layer weights as functions of w when every node law has Q_S = 0 (a balanced start).

    Top down, with m the product of the edges above a node S of height h: the edge into S is
    (sigma_S / m)^(1/(h+1)), and an edge into component k is w_k / m. Needs sum nodes whose
    children have equal height (:func:`heights`). Keys ``(l, j)``; values in the symbols w_k.
    :func:`check_recovery` verifies the result against its defining equations.
    """
    spn = structure if isinstance(structure, SymbolicSPN) else SymbolicSPN(structure)
    closed = _Closed(spn)
    out: dict[Edge, sp.Expr] = {}

    def down(i: int, m: sp.Expr) -> None:
        node = closed.nodes[i]
        m_here = m * out[node.incoming] if node.incoming is not None else m
        for e, (kind, idx) in zip(node.outgoing, node.children):
            if kind == "component":
                out[e] = spn.shallow_weights[idx] / m_here
            else:
                out[e] = (closed.sigma[idx] / m_here) ** sp.Rational(1, closed.h[idx] + 1)
                down(idx, m_here)

    down(0, sp.Integer(1))
    return out


def check_recovery(structure: Decomposition | SymbolicSPN, layers: dict[Edge, sp.Expr]) -> dict[str, bool]:
    """Does ``layers`` (layer weights in the symbols w_k) give back w_k, and Q_S = 0 at every node?"""
    spn = structure if isinstance(structure, SymbolicSPN) else SymbolicSPN(structure)
    sub = {spn.layer_weights[l][j]: v for (l, j), v in layers.items()}

    def zero(e: sp.Expr) -> bool:
        return sp.simplify(sp.powdenest(sp.expand(e), force=True)) == 0

    product = all(zero(spn.weight(k).xreplace(sub) - spn.shallow_weights[k]) for k in range(spn.n_components))
    laws = [law for law in scaling_symmetries(spn.decomposition) if not law.normalised_only]
    balanced = all(zero(sp.Add(*[e * spn.layer_weights[l][j] ** 2 for (l, j), e in law.generator]).xreplace(sub))
                   for law in laws)
    return {"w(u(w)) = w": product, "every Q_S = 0": balanced}


def closed_form_velocity(der: Derivation) -> tuple[sp.Expr, ...]:
    """dw_k/dt in w and nabla_w alone, for a balanced start: :func:`end_to_end_velocity` at the
    layers of :func:`balanced_layers`."""
    s = der.spn
    sub = {s.layer_weights[l][j]: v for (l, j), v in balanced_layers(s).items()}
    return tuple(sp.powsimp(sp.expand(v.xreplace(sub)), force=True) for v in end_to_end_velocity(der))


def closed_form_rho_lambda(der: Derivation) -> tuple[tuple[sp.Expr, ...], tuple[sp.Expr, ...]]:
    """The first-order rho_k and lambda_k (:attr:`Derivation.rho`, :attr:`Derivation.lam`, with the
    layer gradients derived) at the layers of :func:`balanced_layers`: functions of the current w and
    nabla_w only, for a balanced start. For Fig. 2, rho_k = eta ||w_g|| and
    lambda_k = eta (w_g . nabla_{w_g}) / ||w_g||."""
    s = der.spn
    sub = {s.layer_weights[l][j]: v for (l, j), v in balanced_layers(s).items()}
    rho = tuple(sp.powsimp(sp.expand(r.xreplace(sub)), force=True) for r in der.rho)
    lam = tuple(sp.powsimp(sp.expand(m.xreplace(sub)), force=True) for m in der.lam)
    return rho, lam

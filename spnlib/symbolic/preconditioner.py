"""The end-to-end update of a two-layer network as a preconditioner per sibling group, from any start.

In a decomposition whose sum nodes below the root have only components as children (Fig. 2, the
released L = 2; components may also hang from the root), every such sum node defines a sibling
group g: its incoming weight a_g = w^{[0]}_g and its out-edges b_j, with w_j = a_g b_j. Gradient
flow on the layers conserves Q_g = a_g^2 - sum_j b_j^2 (:mod:`spnlib.symbolic.conservation`), so
the layers are a function of the mixture weights w and the constants Q_g. This module derives that
function with SymPy (eliminating b_j from the law gives a quadratic in A_g = a_g^2, whose positive
root it takes) and substitutes it into

* the end-to-end velocity J J^T nabla_w (:func:`~spnlib.symbolic.conservation.end_to_end_velocity`),
* the first-order rho_k and lambda_k of Eqs. 11-13 (:attr:`~spnlib.symbolic.derivation.Derivation.rho`,
  :attr:`~spnlib.symbolic.derivation.Derivation.lam`),

which become expressions in w, nabla_w and Q_g alone, for every start. A balanced start (Q_g = 0)
gives A_g = ||w_g||; :func:`arora_form` types in Arora et al.'s (2018) depth-2 preconditioner,
||w_g|| (nabla_{w_k} + w_k (w_g . nabla_{w_g}) / ||w_g||^2) per group, as the independent form the
derivation is compared with (:func:`same`).

Defined in the book's chapter "The derivation, redone by machine".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from spnlib.structure.decomposition import Decomposition
from spnlib.symbolic.conservation import end_to_end_velocity, sum_node_edges
from spnlib.symbolic.derivation import Derivation, SymbolicSPN

__all__ = ["GroupPreconditioner", "group_preconditioner", "arora_form", "same", "uniform_start"]

Edge = tuple[int, int]


@dataclass(frozen=True)
class GroupPreconditioner:
    """The end-to-end dynamics of a two-layer decomposition in w, nabla_w and the constants Q_g.

    Attributes
    ----------
    spn : SymbolicSPN
    groups : tuple of tuple of int
        The components (0-based) of each sibling group, in the order of
        :func:`~spnlib.symbolic.conservation.sum_node_edges`.
    constants : tuple of Symbol
        Q_g = a_g^2 - sum_j b_j^2 per group (LaTeX Q_1, Q_2, ...).
    rates : tuple of Symbol
        A_g = a_g^2 = (w^{[0]}_g)^2 per group, kept as a symbol in :attr:`velocity`, :attr:`rho`
        and :attr:`lam` (LaTeX A_1, A_2, ...).
    rate_values : tuple of Expr
        A_g in w and Q_g: the positive root of the law with b_j = w_j / a_g eliminated.
    velocity, rho, lam : tuple of Expr
        Per component: J J^T nabla_w, and the first-order rho_k and lambda_k of Eqs. 11-13, in w,
        nabla_w and the A_g.
    recovered : dict of str to bool
        The recovered layers give back every w_k and every Q_g (checked symbolically).
    """

    spn: SymbolicSPN
    groups: tuple[tuple[int, ...], ...]
    constants: tuple[sp.Symbol, ...]
    rates: tuple[sp.Symbol, ...]
    rate_values: tuple[sp.Expr, ...]
    velocity: tuple[sp.Expr, ...]
    rho: tuple[sp.Expr, ...]
    lam: tuple[sp.Expr, ...]
    recovered: dict[str, bool]

    @property
    def latex_names(self) -> dict[sp.Symbol, str]:
        names = dict(self.spn.latex_names)
        names.update({q: f"Q_{{{g + 1}}}" for g, q in enumerate(self.constants)})
        names.update({a: f"A_{{{g + 1}}}" for g, a in enumerate(self.rates)})
        return names

    def latex(self, expr: sp.Expr) -> str:
        """LaTeX with the paper's names and Q_g, A_g (1-based)."""
        return sp.latex(expr, symbol_names=self.latex_names)

    def explicit(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with every A_g replaced by its value in w and Q_g."""
        return expr.xreplace(dict(zip(self.rates, self.rate_values)))

    def balanced(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` (A_g replaced) at a balanced start, every Q_g = 0."""
        return sp.simplify(self.explicit(expr).xreplace({q: 0 for q in self.constants}))


def _groups(dec: Decomposition) -> tuple[list[tuple[Edge, tuple[Edge, ...], tuple[int, ...]]], dict[Edge, int]]:
    """The sibling groups (incoming edge, out-edges, components) and the root's edges into components."""
    nodes = sum_node_edges(dec)
    groups, root_components = [], {}
    for edge, (kind, idx) in zip(nodes[0].outgoing, nodes[0].children):
        if kind == "component":
            root_components[edge] = idx
            continue
        node = nodes[idx]
        if any(kind != "component" for kind, _ in node.children):
            raise ValueError(f"the sum node below w^[{edge[0]}]_{edge[1] + 1} has a sum node among its children; "
                             "the per-group form needs every sum node below the root to have only components "
                             "below it (two weight layers at most; deeper trees need the nested root-finding "
                             "of spnlib.studies.end_to_end.recover_layers)")
        groups.append((edge, node.outgoing, tuple(k for _, k in node.children)))
    return groups, root_components


def group_preconditioner(structure: Decomposition | Sequence | Derivation) -> GroupPreconditioner:
    """Derive the end-to-end velocity, rho_k and lambda_k in w, nabla_w and the constants Q_g.

    Raises
    ------
    ValueError
        If a sum node below the root has a sum node among its children.
    """
    der = structure if isinstance(structure, Derivation) else Derivation(structure)
    s = der.spn
    groups, root_components = _groups(s.decomposition)
    w = s.shallow_weights
    layers: dict[sp.Symbol, sp.Expr] = {s.layer_weights[l][j]: w[k] for (l, j), k in root_components.items()}
    constants, rates, values = [], [], []
    a, x = sp.Symbol("a", positive=True), sp.Symbol("x", positive=True)
    for g, (edge, outgoing, comps) in enumerate(groups):
        Q, A = sp.Symbol(f"Q{g}", real=True), sp.Symbol(f"A{g}", positive=True)
        # the law a^2 - sum_j b_j^2 = Q with b_j = w_j / a, as a polynomial in x = a^2
        law = a ** 2 - sp.Add(*[(w[k] / a) ** 2 for k in comps]) - Q
        poly = sp.expand(sp.numer(sp.together(law)).xreplace({a: sp.sqrt(x)}))
        roots = [r for r in sp.solve(poly, x) if r.xreplace({Q: 0}).is_positive]
        if len(roots) != 1:
            raise AssertionError(f"expected one positive root for group {g + 1}, got {roots}")
        constants.append(Q)
        rates.append(A)
        values.append(roots[0])
        layers[s.layer_weights[edge[0]][edge[1]]] = sp.sqrt(A)
        for (l, j), k in zip(outgoing, comps):
            layers[s.layer_weights[l][j]] = w[k] / sp.sqrt(A)

    def tidy(e: sp.Expr) -> sp.Expr:
        return sp.expand(sp.powsimp(e.xreplace(layers), force=True))

    velocity = tuple(tidy(v) for v in end_to_end_velocity(der))
    rho = tuple(tidy(r) for r in der.rho)
    lam = tuple(sp.factor_terms(tidy(m)) for m in der.lam)
    # the recovered layers give back w_k and Q_g (with A_g at its derived value)
    at = dict(zip(rates, values))
    product = all(sp.simplify(s.weight(k).xreplace(layers).xreplace(at) - w[k]) == 0 for k in range(s.n_components))
    laws = all(sp.simplify((layers[s.layer_weights[e[0]][e[1]]] ** 2
                            - sp.Add(*[layers[s.layer_weights[l][j]] ** 2 for l, j in out])).xreplace(at) - Q) == 0
               for (e, out, _), Q in zip(groups, constants))
    return GroupPreconditioner(s, tuple(c for _, _, c in groups), tuple(constants), tuple(rates), tuple(values),
                               velocity, rho, lam, {"w(u(w, Q)) = w": product, "every law gives its Q_g": laws})


def arora_form(spn: SymbolicSPN) -> tuple[sp.Expr, ...]:
    """Arora et al.'s (2018) depth-2 end-to-end velocity applied to each sibling group, typed in.

    For a vector w_g = a b (scalar a, vector b) trained from a balanced start, gradient flow gives
    dw_g/dt = ||w_g|| (nabla_{w_g} + w_hat w_hat^T nabla_{w_g}), w_hat = w_g / ||w_g||. A component
    directly under the root is its own layer weight: dw_k/dt = nabla_{w_k}. The reference the
    derived :attr:`GroupPreconditioner.velocity` is compared with (:func:`same`); not derived here.
    """
    groups, root_components = _groups(spn.decomposition)
    w, g = spn.shallow_weights, spn.shallow_grads
    out: dict[int, sp.Expr] = {k: g[k] for k in root_components.values()}
    for _, _, comps in groups:
        norm = sp.sqrt(sp.Add(*[w[k] ** 2 for k in comps]))
        dot = sp.Add(*[w[k] * g[k] for k in comps])
        for k in comps:
            out[k] = norm * (g[k] + w[k] * dot / norm ** 2)
    return tuple(out[k] for k in range(spn.n_components))


def same(a: sp.Expr, b: sp.Expr) -> bool:
    """Whether two expressions in positive w, real nabla_w (and Q_g) are identical (SymPy simplifies
    their difference to 0)."""
    return sp.simplify(sp.radsimp(sp.expand(a - b))) == 0


def uniform_start(pre: GroupPreconditioner, scale: sp.Symbol) -> dict[sp.Symbol, sp.Expr]:
    """The released code's start, every layer weight equal to ``scale``: w_k and Q_g as substitutions.

    w_k = scale^{d_k} (d_k = 1 under the root, 2 in a group) and Q_g = scale^2 (1 - n_g) for a group
    of n_g siblings; A_g is then scale^2, the paper's (w^{[0]}_g)^2.
    """
    s = pre.spn
    sub: dict[sp.Symbol, sp.Expr] = {s.shallow_weights[k]: scale ** s.depth(k) for k in range(s.n_components)}
    sub.update({q: scale ** 2 * (1 - len(comps)) for q, comps in zip(pre.constants, pre.groups)})
    return sub

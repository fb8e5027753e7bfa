"""The paper's Sec. 3 equations encoded exactly as printed (PAPER.md), for any decomposition.

Nothing here is derived: each function writes down what the paper prints, in the
symbols of a :class:`~spnlib.symbolic.derivation.SymbolicSPN`, so that
:mod:`spnlib.symbolic.verdicts` can compare it with what :mod:`spnlib.symbolic.derivation` derives.
Gradients appear as the placeholders nabla_{w_k} and nabla_{w^{[l]}_j}, as in
the paper; ``gamma`` is phi(k, 0).

Eqs. 5, 6 and 8-12 are stated for Fig. 2, where w_k = w^{[0]}_gamma w^{[1]}_k.
They are encoded for every component whose path has exactly two weights
(:func:`fig2_components`); Eq. 6 in addition needs every child of
S^{[1]}_gamma to be a component (its sum runs over "w_j" of those children).
Eqs. 7 and 13 are the paper's general forms and apply to every tree.

Eq. 13 (and Eq. 3) use an upper index L that the paper does not pin down:
Eq. 3 multiplies l = 0..L, so Fig. 2 (two weight layers) has L = 1, while
Sec. 3.1 calls the networks with 1, 2, 3 sum layers L = 1, 2, 3. Both readings
are encoded (``reading="sum layers"`` or ``"eq3"``). A component above the
deepest layer has no weight at l >= d_k; those terms are left out (weight 1,
not trained), the most charitable reading.

Defined in the book's chapter "The derivation".
"""
from __future__ import annotations

from typing import Literal

import sympy as sp

from spnlib.symbolic.derivation import SymbolicSPN

__all__ = ["fig2_components", "eq6_components", "eq1", "eq2", "eq5", "eq6", "eq7", "eq9", "eq10",
           "eq11", "eq13", "eq13_corrected", "eq13_multiplicative"]

Reading = Literal["sum layers", "eq3"]


def fig2_components(spn: SymbolicSPN) -> list[int]:
    """Components k with w_k = w^{[0]}_gamma w^{[1]}_{phi(k,1)} (depth 2), where Eqs. 5, 8-12 apply."""
    return [k for k in range(spn.n_components) if spn.depth(k) == 2]


def eq6_components(spn: SymbolicSPN) -> list[int]:
    """Depth-2 components whose parent S^{[1]}_gamma has only components as children (Eq. 6)."""
    paths = spn.decomposition.paths
    out = []
    for k in fig2_components(spn):
        siblings = [j for j, p in enumerate(paths) if p[0] == paths[k][0]]
        n_edges = _n_children(spn, 1, paths[k][1])
        if len(siblings) == n_edges and all(len(paths[j]) == 2 for j in siblings):
            out.append(k)
    return out


def _n_children(spn: SymbolicSPN, layer: int, edge: int) -> int:
    """Number of out-edges of the layer-``layer`` sum node that owns weight ``edge``."""
    for a, b in spn.decomposition.sum_nodes[layer]:
        if a <= edge < b:
            return b - a
    raise IndexError(f"no layer-{layer} weight {edge}")


def eq1(spn: SymbolicSPN) -> sp.Expr:
    """(1): L(theta | X) = sum_{n=1}^{N} log f(x_n | theta) - log f(* | theta)."""
    return sp.Sum(sp.log(spn.f_sample()), (spn.n, 1, spn.N)) - sp.log(spn.f_shallow(star=True))


def eq2(spn: SymbolicSPN, k: int) -> sp.Expr:
    """(2): nabla_{w_k} = C_k(x) / f(x | theta) - C_k(*) / f(* | theta), one sample."""
    return spn.comp_x[k] / spn.f_x - spn.comp_star[k] / spn.f_star


def eq5(spn: SymbolicSPN, k: int) -> tuple[tuple[int, int], sp.Expr]:
    """(5): nabla_{w^{[1]}_k} = w^{[0]}_gamma nabla_{w_k}; returns (layer-weight key, printed)."""
    gamma, j = spn.decomposition.paths[k]
    return (1, j), spn.layer_weights[0][gamma] * spn.shallow_grads[k]


def eq6(spn: SymbolicSPN, k: int) -> tuple[tuple[int, int], sp.Expr]:
    """(6): nabla_{w^{[0]}_gamma} = sum_{j in ch(S^{[1]}_gamma)} w^{[1]}_j nabla_{w_j}."""
    gamma = spn.decomposition.paths[k][0]
    children = [j for j, p in enumerate(spn.decomposition.paths) if p[0] == gamma]
    return (0, gamma), sp.Add(*[spn.layer_weights[1][spn.decomposition.paths[j][1]] * spn.shallow_grads[j]
                                for j in children])


def eq7(spn: SymbolicSPN, layer: int, j: int) -> sp.Expr:
    """(7): nabla_{w^{[l]}_j} = sum_{i : w^{[l]}_j in w_i's decomposition} (w^{[l]}_j)^{-1} w_i nabla_{w_i}."""
    u = spn.layer_weights[layer][j]
    return sp.Add(*[u ** -1 * spn.weight(i) * spn.shallow_grads[i]
                    for i in spn.decomposition.sharing(layer, j)])


def _fig2(spn: SymbolicSPN, k: int):
    (u0, u1), (d0, d1) = spn.path(k), spn.path_grads(k)
    return u0, u1, d0, d1


def eq9(spn: SymbolicSPN, k: int) -> sp.Expr:
    """(8)-(9): w_k^{(t+1)} = [w^{[0]}_gamma + eta nabla_{w^{[0]}_gamma}][w^{[1]}_k + eta nabla_{w^{[1]}_k}]."""
    u0, u1, d0, d1 = _fig2(spn, k)
    return (u0 + spn.eta * d0) * (u1 + spn.eta * d1)


def eq10(spn: SymbolicSPN, k: int) -> sp.Expr:
    """(10) without its O(eta^2): w0 w1 + eta w0 nabla_{w1} + eta w1 nabla_{w0}."""
    u0, u1, d0, d1 = _fig2(spn, k)
    return u0 * u1 + spn.eta * u0 * d1 + spn.eta * u1 * d0


def eq11(spn: SymbolicSPN, k: int) -> sp.Expr:
    """(11)-(12): w_k + eta (w^{[0]}_gamma)^2 nabla_{w_k} + eta nabla_{w^{[0]}_gamma} (w^{[0]}_gamma)^{-1} w_k.

    With rho = eta (w^{[0]}_gamma)^2 and lambda = eta nabla_{w^{[0]}_gamma} / w^{[0]}_gamma this is Eq. 12.
    """
    u0, _, d0, _ = _fig2(spn, k)
    wk, eta = spn.weight(k), spn.eta
    return wk + eta * u0 ** 2 * spn.shallow_grads[k] + eta * d0 * u0 ** -1 * wk


def eq13(spn: SymbolicSPN, k: int, reading: Reading = "sum layers") -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(13): w_k + rho nabla_{w_k} + lambda w_k; returns (right-hand side, rho, lambda) as printed.

    rho = eta (w^{[0]}_{phi(k,0)})^2 and lambda = sum_{l=0}^{L-1} eta nabla_{w^{[l]}} (w^{[l]})^{-1},
    with L the number of sum layers (``"sum layers"``) or Eq. 3's upper index,
    one less (``"eq3"``). Terms with l >= d_k are left out.
    """
    n_layers = spn.decomposition.n_layers
    L = {"sum layers": n_layers, "eq3": n_layers - 1}[reading]
    path, grads, eta = spn.path(k), spn.path_grads(k), spn.eta
    rho = eta * path[0] ** 2
    lam = sp.Add(*[eta * grads[l] * path[l] ** -1 for l in range(min(L, len(path)))])
    return spn.weight(k) + rho * spn.shallow_grads[k] + lam * spn.weight(k), rho, lam


def eq13_corrected(spn: SymbolicSPN, k: int) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Eq. 13 with the *last* weight pulled out (this book's correction, not the paper's).

    rho_k = eta prod_{l=0}^{d_k-2} (w^{[l]}_{phi(k,l)})^2 and
    lambda_k = sum_{l=0}^{d_k-2} eta nabla_{w^{[l]}_{phi(k,l)}} (w^{[l]}_{phi(k,l)})^{-1};
    for Fig. 2 (d_k = 2) these are the paper's Eq. 11-12.
    """
    path, grads, eta = spn.path(k), spn.path_grads(k), spn.eta
    rho = eta * sp.Mul(*[u ** 2 for u in path[:-1]])
    lam = sp.Add(*[eta * d * u ** -1 for u, d in zip(path[:-1], grads[:-1])])
    return spn.weight(k) + rho * spn.shallow_grads[k] + lam * spn.weight(k), rho, lam


def eq13_multiplicative(spn: SymbolicSPN, k: int) -> sp.Expr:
    """The same first-order update without a rho term: w_k (1 + sum_{l=0}^{d_k-1} eta nabla_{w^{[l]}} / w^{[l]})."""
    path, grads, eta = spn.path(k), spn.path_grads(k), spn.eta
    return spn.weight(k) * (1 + sp.Add(*[eta * d / u for u, d in zip(path, grads)]))

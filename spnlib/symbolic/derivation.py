"""The paper's Sec. 3 derived by machine (SymPy) for any weight decomposition.

From a :class:`~spnlib.structure.decomposition.Decomposition` (a tree of sum nodes over
components C_1..C_K; balanced or not) :class:`SymbolicSPN` builds symbols for
every layer weight w^{[l]}_j, for C_k(x) and C_k(*), and the expressions
f(x | theta), f(* | theta) and g(x | theta) of Eqs. (1), (3) and (4).
:class:`Derivation` then derives, with ``sympy.diff`` only:

* the shallow gradient of Eq. (2), d/dw_k [log f(x) - log f(*)];
* the gradient of every layer weight (Eqs. 5-7), concretely (in C_k(x),
  C_k(*)) and at the level of components (in the symbols nabla_{w_k});
* the one-step gradient-ascent update of w_k with step eta (Eqs. 8-9), its
  coefficients in eta (Eq. 10) and the first-order coefficients that the paper
  names rho and lambda (Eqs. 11-13).

Everything is **per sample**: the log-likelihood of one x is
log f(x) - log f(*). For a data set the sum over n is implied, and each sample
carries its own log f(*) (so the data set's term is N log f(*); see
:mod:`spnlib.symbolic.printed` for the paper's Eq. 1, which prints it once).
The dynamics depend on the objective only through the shallow gradients
nabla_{w_k}, which stay symbols: they hold for one sample, the sum or the mean.

Two placeholder symbols stand for f(x | theta) and f(* | theta) after
differentiation ("F-form"); :meth:`SymbolicSPN.concrete` substitutes the sums
back. Indices are 0-based in code and 1-based in the LaTeX, as in the paper.

Defined in the book's chapter "The derivation".
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property

import numpy as np
import sympy as sp

from spnlib.structure.decomposition import Decomposition, InvalidDecompositionError

__all__ = ["as_decomposition", "SymbolicSPN", "Derivation", "derive"]

MAX_COMPONENTS = 64   # symbolic expressions grow with K; beyond this use the numeric core


def as_decomposition(structure: Decomposition | Sequence) -> Decomposition:
    """A :class:`Decomposition` from itself or from a nested tuple of sum nodes.

    Raises
    ------
    InvalidDecompositionError
        If the structure is not a tree of sum nodes over components 0..K-1
        (a sum node containing itself, an empty sum node, a component reached
        twice, a bare component as root, i.e. L < 1).
    """
    if isinstance(structure, Decomposition):
        return structure
    if isinstance(structure, (int, np.integer)) and not isinstance(structure, bool):
        return Decomposition(structure)   # refused by the core: a bare component is L = 0
    if not isinstance(structure, (tuple, list)):
        raise InvalidDecompositionError(
            f"expected a Decomposition or a nested tuple of sum nodes, got {type(structure).__name__}")
    stack, on_path = [(structure, False)], set()
    while stack:  # depth-first walk: a sum node inside itself makes a cycle, not a tree
        node, leaving = stack.pop()
        if leaving:
            on_path.discard(id(node))
            continue
        if id(node) in on_path:
            raise InvalidDecompositionError("not a tree: a sum node contains itself")
        on_path.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in node if isinstance(c, (tuple, list)))
    return Decomposition(structure)


class SymbolicSPN:
    """Symbols and expressions of the overparameterized SPN of a decomposition.

    Parameters
    ----------
    structure : Decomposition or nested tuple
        The tree of sum nodes over the components (``balanced((2, 2))`` is Fig. 2).

    Attributes
    ----------
    layer_weights : tuple of tuple of Symbol
        ``layer_weights[l][j]`` is w^{[l]}_{j+1}.
    layer_grads : tuple of tuple of Symbol
        Placeholders nabla_{w^{[l]}_{j+1}} (the paper writes its printed
        equations with them; derived expressions replace them).
    comp_x, comp_star : tuple of Symbol
        C_k(x) and C_k(*).
    shallow_weights, shallow_grads : tuple of Symbol
        w_k of the shallow network (Fig. 1) and placeholders nabla_{w_k}.
    f_x, f_star : Symbol
        Placeholders for f(x | theta) and f(* | theta).
    eta : Symbol
        The learning rate.
    """

    def __init__(self, structure: Decomposition | Sequence) -> None:
        dec = as_decomposition(structure)
        if dec.n_components > MAX_COMPONENTS:
            raise ValueError(f"K = {dec.n_components} components; the symbolic derivation supports "
                             f"at most {MAX_COMPONENTS} (use spnlib.numeric.fastpath for numbers)")
        self.decomposition = dec
        self.n_components = dec.n_components
        names: dict[sp.Symbol, str] = {}

        def sym(name: str, tex: str, **assumptions) -> sp.Symbol:
            s = sp.Symbol(name, **assumptions)
            names[s] = tex
            return s

        self.layer_weights = tuple(tuple(sym(f"w{l}_{j}", f"w^{{[{l}]}}_{{{j + 1}}}", positive=True)
                                         for j in range(n)) for l, n in enumerate(dec.layer_sizes))
        self.layer_grads = tuple(tuple(sym(f"zdw{l}_{j}", f"\\nabla_{{w^{{[{l}]}}_{{{j + 1}}}}}", real=True)
                                       for j in range(n)) for l, n in enumerate(dec.layer_sizes))
        K = range(self.n_components)
        self.comp_x = tuple(sym(f"C{k}_x", f"C_{{{k + 1}}}(x)", positive=True) for k in K)
        self.comp_star = tuple(sym(f"C{k}_s", f"C_{{{k + 1}}}(*)", positive=True) for k in K)
        self.shallow_weights = tuple(sym(f"w_{k}", f"w_{{{k + 1}}}", positive=True) for k in K)
        self.shallow_grads = tuple(sym(f"zdw_{k}", f"\\nabla_{{w_{{{k + 1}}}}}", real=True) for k in K)
        self.f_x = sym("f_x", r"f(x \mid \theta)", positive=True)
        self.f_star = sym("f_s", r"f(* \mid \theta)", positive=True)
        self.eta = sym("eta", r"\eta", positive=True)
        self.n = sym("n", "n", integer=True, positive=True)
        self.N = sym("N", "N", integer=True, positive=True)
        self.comp_xn = sp.IndexedBase("C", positive=True)   # C[k + 1, n] is C_k(x_n)
        self.latex_names = names

    # ----------------------------------------------------------- structure
    def path(self, k: int) -> tuple[sp.Symbol, ...]:
        """The layer weights w^{[l]}_{phi(k,l)}, l = 0..d_k - 1, on the path to C_k."""
        return tuple(self.layer_weights[l][j] for l, j in enumerate(self.decomposition.paths[k]))

    def path_grads(self, k: int) -> tuple[sp.Symbol, ...]:
        """The placeholders nabla_{w^{[l]}_{phi(k,l)}} along the path to C_k."""
        return tuple(self.layer_grads[l][j] for l, j in enumerate(self.decomposition.paths[k]))

    def depth(self, k: int) -> int:
        """d_k, the number of layer weights in w_k's decomposition."""
        return self.decomposition.depth(k)

    def weight(self, k: int) -> sp.Expr:
        """w_k = prod_l w^{[l]}_{phi(k,l)} (Eq. 3; the product runs over the path, l < d_k)."""
        return sp.Mul(*self.path(k))

    def all_layer_weights(self) -> list[tuple[int, int, sp.Symbol]]:
        """``(l, j, w^{[l]}_j)`` for every layer weight, layer by layer."""
        return [(l, j, s) for l, row in enumerate(self.layer_weights) for j, s in enumerate(row)]

    # --------------------------------------------------------- expressions
    def f_shallow(self, star: bool = False) -> sp.Expr:
        """f(x | theta) = sum_k w_k C_k(x) of Fig. 1 (``star``: f(* | theta))."""
        comps = self.comp_star if star else self.comp_x
        return sp.Add(*[w * c for w, c in zip(self.shallow_weights, comps)])

    def g(self, star: bool = False) -> sp.Expr:
        """g(x | theta) = sum_k prod_l w^{[l]}_{phi(k,l)} C_k(x) of Eq. 4 (``star``: at *)."""
        comps = self.comp_star if star else self.comp_x
        return sp.Add(*[self.weight(k) * c for k, c in enumerate(comps)])

    def f_sample(self) -> sp.Expr:
        """f(x_n | theta) = sum_k w_k C_k(x_n) of Fig. 1 for the n-th sample of a data set."""
        return sp.Add(*[w * self.comp_xn[k + 1, self.n] for k, w in enumerate(self.shallow_weights)])

    def concrete(self, expr: sp.Expr) -> sp.Expr:
        """Replace the placeholders f(x | theta), f(* | theta) by the sums over layer weights."""
        return expr.xreplace({self.f_x: self.g(), self.f_star: self.g(star=True)})

    def decomposed(self, expr: sp.Expr) -> sp.Expr:
        """Replace the shallow weights w_k by their decompositions prod_l w^{[l]}_{phi(k,l)}."""
        return expr.xreplace({w: self.weight(k) for k, w in enumerate(self.shallow_weights)})

    def latex(self, expr: sp.Expr) -> str:
        """LaTeX with the paper's names (1-based indices)."""
        return sp.latex(expr, symbol_names=self.latex_names)

    def __repr__(self) -> str:
        return f"SymbolicSPN({self.decomposition})"


class Derivation:
    """Gradients and one-step dynamics of a :class:`SymbolicSPN`, derived with ``sympy.diff``.

    All results are computed lazily and cached. Keys of layer-weight
    dictionaries are ``(l, j)`` (0-based).
    """

    def __init__(self, spn: SymbolicSPN | Decomposition | Sequence) -> None:
        self.spn = spn if isinstance(spn, SymbolicSPN) else SymbolicSPN(spn)

    # ----------------------------------------------------- log-likelihoods
    @cached_property
    def shallow_loglik(self) -> sp.Expr:
        """log f(x | theta) - log f(* | theta) for one sample, in the shallow weights (Eq. 1)."""
        return sp.log(self.spn.f_shallow()) - sp.log(self.spn.f_shallow(star=True))

    @cached_property
    def loglik(self) -> sp.Expr:
        """log g(x | theta) - log f(* | theta) for one sample, in the layer weights (Eq. 4)."""
        return sp.log(self.spn.g()) - sp.log(self.spn.g(star=True))

    @cached_property
    def dataset_loglik(self) -> sp.Expr:
        """sum_{n=1}^{N} log [f(x_n | theta) / f(* | theta)]: N samples of the normalised model."""
        s = self.spn
        return sp.Sum(sp.log(s.f_sample()) - sp.log(s.f_shallow(star=True)), (s.n, 1, s.N))

    # ----------------------------------------------------------- gradients
    @cached_property
    def shallow_gradient(self) -> tuple[sp.Expr, ...]:
        """d loglik / d w_k of the shallow network (Eq. 2), F-form."""
        s = self.spn
        back = {s.f_shallow(): s.f_x, s.f_shallow(star=True): s.f_star}
        return tuple(sp.diff(self.shallow_loglik, w).xreplace(back) for w in s.shallow_weights)

    @cached_property
    def layer_gradient(self) -> dict[tuple[int, int], sp.Expr]:
        """d loglik / d w^{[l]}_j in C_k(x), C_k(*) and the layer weights (Eqs. 5-7), F-form."""
        s = self.spn
        back = {s.g(): s.f_x, s.g(star=True): s.f_star}
        return {(l, j): sp.diff(self.loglik, u).xreplace(back) for l, j, u in s.all_layer_weights()}

    @cached_property
    def chain_gradient(self) -> dict[tuple[int, int], sp.Expr]:
        """d L / d w^{[l]}_j = sum_k nabla_{w_k} d w_k / d w^{[l]}_j, for any objective L(w).

        The component-level form: nabla_{w_k} stays a symbol. The tests check
        that it equals :attr:`layer_gradient` once nabla_{w_k} is replaced by
        the derived Eq. 2.
        """
        s = self.spn
        weights = [s.weight(k) for k in range(s.n_components)]
        return {(l, j): sp.Add(*[gk * sp.diff(wk, u) for gk, wk in zip(s.shallow_grads, weights)])
                for l, j, u in s.all_layer_weights()}

    def gradient_substitution(self) -> dict[sp.Symbol, sp.Expr]:
        """Placeholders nabla_{w^{[l]}_j} -> their derived component-level form."""
        s = self.spn
        return {s.layer_grads[l][j]: g for (l, j), g in self.chain_gradient.items()}

    # ------------------------------------------------------------ dynamics
    def update_layer_form(self, k: int) -> sp.Expr:
        """w_k^{(t+1)} = prod_l (w^{[l]} + eta nabla_{w^{[l]}}) with placeholders (Eqs. 8-9)."""
        s = self.spn
        step = {u: u + s.eta * d for u, d in zip(s.path(k), s.path_grads(k))}
        return s.weight(k).xreplace(step)

    @cached_property
    def update(self) -> tuple[sp.Expr, ...]:
        """w_k^{(t+1)}(eta) in the layer weights and the nabla_{w_j} (one gradient-ascent step)."""
        sub = self.gradient_substitution()
        return tuple(self.update_layer_form(k).xreplace(sub) for k in range(self.spn.n_components))

    def series(self, k: int, order: int = 2) -> tuple[sp.Expr, ...]:
        """Coefficients c_0..c_order of w_k^{(t+1)}(eta) = sum_m c_m eta^m (by d^m/d eta^m at 0)."""
        eta, expr, out = self.spn.eta, self.update[k], []
        for m in range(order + 1):
            out.append(sp.expand(expr.subs(eta, 0) / sp.factorial(m)))
            expr = sp.diff(expr, eta)
        return tuple(out)

    @cached_property
    def first_order(self) -> tuple[sp.Expr, ...]:
        """c_1 for every component: w_k^{(t+1)} = w_k^{(t)} + eta c_1 + O(eta^2)."""
        return tuple(self.series(k, 1)[1] for k in range(self.spn.n_components))

    def layer_contributions(self, k: int, substitute: bool = True) -> tuple[sp.Expr, ...]:
        """The share of layer l in eta c_1: d/d eta of the l-th factor of w_k^{(t+1)} at eta = 0.

        ``substitute=False`` keeps the placeholders nabla_{w^{[l]}} (the paper's notation).
        """
        s = self.spn
        sub = self.gradient_substitution() if substitute else {}
        path, grads = s.path(k), s.path_grads(k)
        out = []
        for l in range(len(path)):
            factors = [v + s.eta * d if i == l else v for i, (v, d) in enumerate(zip(path, grads))]
            out.append(sp.expand(s.eta * sp.diff(sp.Mul(*factors), s.eta).xreplace(sub)))
        return tuple(out)

    @cached_property
    def rho(self) -> tuple[sp.Expr, ...]:
        """rho_k: eta c_1 = rho_k nabla_{w_k} + lambda_k w_k, rho from the weight unique to C_k.

        The last weight on the path (the edge into C_k) belongs to w_k alone; its
        share of eta c_1 is rho_k nabla_{w_k} (the paper's split of Eq. 10 into Eq. 11).
        """
        s, out = self.spn, []
        for k in range(s.n_components):
            r = sp.cancel(self.layer_contributions(k)[-1] / s.shallow_grads[k])
            if r.free_symbols & set(s.shallow_grads):  # cannot happen in a tree; guard the algebra
                raise AssertionError(f"the last layer's share of component {k} is not proportional to its gradient")
            out.append(r)
        return tuple(out)

    @cached_property
    def lam(self) -> tuple[sp.Expr, ...]:
        """lambda_k: the shares of the shared layers (all but the last on the path), divided by w_k."""
        s = self.spn
        return tuple(sp.expand(sp.cancel(sp.Add(*self.layer_contributions(k)[:-1]) / s.weight(k)))
                     for k in range(s.n_components))

    def lam_layer_form(self, k: int) -> sp.Expr:
        """lambda_k with the layer gradients kept as placeholders: eta sum_{l < d_k - 1} nabla_{w^{[l]}} / w^{[l]}."""
        s = self.spn
        return sp.expand(sp.Add(*self.layer_contributions(k, substitute=False)[:-1]) / s.weight(k))

    # ------------------------------------------------------------- numbers
    def gradient_function(self) -> Callable[[Sequence[np.ndarray], np.ndarray, np.ndarray], list[np.ndarray]]:
        """Numeric mean gradient of the layer weights from the derived expressions (lambdify).

        Returns a function ``grad(layer_weights, comp_x, comp_star)``, with
        ``comp_x`` of shape ``(N, K)`` (C_k(x_n)) and ``comp_star`` of shape ``(K,)``,
        giving the mean over n of d/dw^{[l]} [log f(x_n) - log f(*)], layer by layer.
        """
        s = self.spn
        u = [v for _, _, v in s.all_layer_weights()]
        args = [*u, *s.comp_x, *s.comp_star, s.f_x, s.f_star]
        fn = sp.lambdify(args, list(self.layer_gradient.values()), modules="numpy", cse=True)
        dec = s.decomposition

        def grad(layer_weights: Sequence[np.ndarray], comp_x: np.ndarray, comp_star: np.ndarray) -> list[np.ndarray]:
            ws = dec.check_layer_weights(layer_weights)
            cx, cs = np.atleast_2d(np.asarray(comp_x, float)), np.asarray(comp_star, float)
            if cx.shape[1] != s.n_components or cs.shape != (s.n_components,):
                raise ValueError(f"need C_k(x) of shape (N, {s.n_components}) and C_k(*) of shape ({s.n_components},)")
            w = dec.component_weights(ws)
            vals = fn(*np.concatenate(ws), *cx.T, *cs, cx @ w, cs @ w)
            flat = np.array([np.mean(np.broadcast_to(v, cx.shape[:1])) for v in vals])
            return np.split(flat, np.cumsum(dec.layer_sizes)[:-1])

        return grad

    def first_order_function(self) -> Callable[[Sequence[np.ndarray], np.ndarray], np.ndarray]:
        """Numeric c_1 (per unit eta) for every component: ``c1(layer_weights, shallow_grads)``."""
        s = self.spn
        u = [v for _, _, v in s.all_layer_weights()]
        fn = sp.lambdify([*u, *s.shallow_grads], list(self.first_order), modules="numpy", cse=True)
        dec = s.decomposition

        def c1(layer_weights: Sequence[np.ndarray], shallow_grads: np.ndarray) -> np.ndarray:
            ws = dec.check_layer_weights(layer_weights)
            g = np.asarray(shallow_grads, float)
            if g.shape != (s.n_components,):
                raise ValueError(f"need {s.n_components} shallow gradients, got shape {g.shape}")
            return np.array(fn(*np.concatenate(ws), *g), dtype=float)

        return c1


def derive(structure: Decomposition | Sequence) -> Derivation:
    """The full derivation for a decomposition (or a nested tuple), with every result computed.

    Defined in the book's chapter "The derivation".
    """
    d = Derivation(structure)
    d.shallow_gradient, d.layer_gradient, d.update  # noqa: B018  (force the cached derivations)
    d.first_order, d.rho, d.lam  # noqa: B018
    return d

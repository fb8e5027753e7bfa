"""Drawing SPN structures with matplotlib (presentation only; no computation).

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from spnlib.structure.graph import SPN, Indicator, Leaf, Product, Sum

__all__ = ["draw_spn"]


def _heights(spn: SPN) -> dict[int, int]:
    h: dict[int, int] = {}
    for n in spn.nodes:
        h[id(n)] = 0 if not n.children else 1 + max(h[id(c)] for c in n.children)
    return h


def draw_spn(spn: SPN, ax: plt.Axes | None = None, weights: np.ndarray | None = None,
             collapse: Sequence[str] = (), weight_format: str = "{:.2g}", title: str | None = None,
             label_weights_of: Sequence[str] | None = None, label_nodes: bool = True) -> plt.Axes:
    """Draw ``spn`` as a layered graph: sums (+), products (x), leaves (labels).

    Parameters
    ----------
    weights : array, optional
        Flat weight vector to annotate edges with (default: the stored weights).
    collapse : sequence of str
        Names of nodes drawn as a triangle (a sub-SPN, as in the paper's
        figures) without their descendants.
    label_weights_of : sequence of str, optional
        Annotate only the out-edges of these sum nodes (default: every sum node;
        an empty sequence annotates none).
    label_nodes : bool
        Write each sum and product node's name beside it.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    w = spn.weights() if weights is None else np.asarray(weights)
    collapsed = set(collapse)
    # nodes to draw: stop below collapsed nodes
    shown: list = []
    seen: set[int] = set()
    stack = [spn.root]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        shown.append(n)
        if n.name not in collapsed:
            stack.extend(reversed(n.children))
    order = {id(n): i for i, n in enumerate(spn.nodes)}
    full_h = _heights(spn)
    level = {id(n): (0 if n.name in collapsed else full_h[id(n)]) for n in shown}
    if collapsed:  # collapsed sub-SPNs sit on the bottom row
        level = {k: (v if v == 0 else v - min(v2 for v2 in level.values() if v2 > 0) + 1)
                 for k, v in level.items()}
    rows: dict[int, list] = {}
    for n in sorted(shown, key=lambda n: order[id(n)]):
        rows.setdefault(level[id(n)], []).append(n)
    pos = {}
    for lv, members in rows.items():
        for i, n in enumerate(members):
            pos[id(n)] = ((i + 0.5) / len(members), lv)
    for n in shown:
        if n.name in collapsed:
            continue
        x0, y0 = pos[id(n)]
        for j, c in enumerate(n.children):
            x1, y1 = pos[id(c)]
            ax.plot([x0, x1], [y0, y1], color="0.5", lw=0.8, zorder=1)
            if isinstance(n, Sum) and (label_weights_of is None or n.name in label_weights_of):
                start, _ = spn.weight_offsets[n]
                ax.text(0.6 * x0 + 0.4 * x1, 0.6 * y0 + 0.4 * y1, weight_format.format(w[start + j]),
                        fontsize=7, color="C0", ha="center", va="center",
                        bbox=dict(fc="white", ec="none", pad=0.5))
    for n in shown:
        x, y = pos[id(n)]
        if n.name in collapsed:
            ax.scatter([x], [y], marker="^", s=500, color="0.85", edgecolor="k", zorder=2)
            ax.text(x, y - 0.05, n.name, ha="center", va="center", fontsize=8, zorder=3)
        elif isinstance(n, (Sum, Product)):
            ax.scatter([x], [y], s=330, color="white", edgecolor="k", zorder=2)
            ax.text(x, y, "+" if isinstance(n, Sum) else "×", ha="center", va="center", fontsize=11, zorder=3)
            if label_nodes:
                ax.text(x + 0.03, y + 0.18, n.name, fontsize=7, color="0.3", ha="left")
        elif isinstance(n, Leaf):
            label = f"$[x_{{{n.variable}}}={n.value}]$" if isinstance(n, Indicator) else n.name
            ax.text(x, y, label, ha="center", va="center", fontsize=8,
                    bbox=dict(fc="0.95", ec="0.6", boxstyle="round,pad=0.2"), zorder=3)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.5, max(rows) + 0.5)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax

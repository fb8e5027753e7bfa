"""Structure drawings (spnlib.views.spn_drawing) render headless and show what they claim."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from spnlib.structure.builders import decomposed_spn, factorised_component, indicator_pairs  # noqa: E402
from spnlib.structure.decomposition import balanced  # noqa: E402
from spnlib.views.spn_drawing import draw_spn  # noqa: E402


def test_fig2_drawing_with_collapsed_components():
    comps = [factorised_component(2, f"C{k + 1}") for k in range(4)]
    dspn = decomposed_spn(balanced((2, 2)), comps, [np.array([0.3, 0.7]), np.array([0.1, 0.2, 0.3, 0.4])])
    fig, ax = plt.subplots()
    draw_spn(dspn.spn, ax=ax, collapse=[c.name for c in comps])
    texts = [t.get_text() for t in ax.texts]
    assert {"C1", "C2", "C3", "C4", "S[1]_1", "S[1]_2", "root"} <= set(texts)
    assert {"0.3", "0.7", "0.1", "0.4"} <= set(texts)          # edge weights annotated
    assert not any(t.startswith("$[x") for t in texts)          # collapsed: no leaves drawn
    plt.close(fig)


def test_full_drawing_shows_indicator_leaves():
    own = decomposed_spn(balanced((2,)), [factorised_component(2, f"C{k + 1}") for k in range(2)])
    ax = draw_spn(own.spn)
    assert sum(t.get_text().startswith("$[x") for t in ax.texts) == 8   # each component its own
    plt.close(ax.figure)
    ind = indicator_pairs(2)
    shared = decomposed_spn(balanced((2,)), [factorised_component(2, f"C{k + 1}", indicators=ind)
                                             for k in range(2)])
    ax = draw_spn(shared.spn)
    assert sum(t.get_text().startswith("$[x") for t in ax.texts) == 4   # shared indicators, drawn once
    plt.close(ax.figure)

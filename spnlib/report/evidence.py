"""The evidence the report's rules read: the chapters' computations, each run once when needed.

Defined in the book's introduction (the reproducibility report).
"""
from __future__ import annotations

from functools import cached_property
from typing import ClassVar

import numpy as np

from spnlib.data.counted import CountedData
from spnlib.data.debd import load_counted
from spnlib.structure.decomposition import Decomposition, balanced, released

__all__ = ["Evidence"]


class Evidence:
    """The chapters' computations that the verdicts read, each run once when first needed.

    Parameters
    ----------
    data : CountedData, optional
        NLTCS (train); loaded with :func:`~spnlib.data.debd.load_debd` if omitted.
    """

    #: the trees on which every printed equation is compared (names as the table shows them)
    TREES: ClassVar[dict[str, Decomposition]] = {
             "Fig. 2": balanced((2, 2)), "an unbalanced tree": Decomposition(((0, 1), (2, (3, 4)))),
             "the released L = 3": released(3)}

    def __init__(self, data: CountedData | None = None) -> None:
        self._data = data

    @cached_property
    def data(self) -> CountedData:
        return self._data if self._data is not None else load_counted("nltcs", "train")

    @cached_property
    def equations(self) -> list[dict]:
        """verdicts.verdict_table over :attr:`TREES` (the derivation chapter's comparison)."""
        from spnlib.symbolic.verdicts import verdict_table
        return verdict_table(list(self.TREES.items()))

    def equation(self, name: str) -> list[dict]:
        rows = [r for r in self.equations if r["equation"] == name]
        if not rows:
            known = sorted({r["equation"] for r in self.equations})
            raise LookupError(f"spnlib.symbolic.verdicts reports no equation {name!r}; it reports {known}")
        return rows

    @cached_property
    def linear(self) -> dict[str, bool]:
        from spnlib.studies.linear import derive_linear
        return derive_linear(3).checks

    @cached_property
    def faithful(self):
        from spnlib.experiment.findings import faithful_reproduction
        return faithful_reproduction(self.data)

    @cached_property
    def acceleration(self) -> list:
        from spnlib.experiment.findings import acceleration_summary
        return acceleration_summary(self.data)

    @cached_property
    def observation1(self) -> dict:
        """The verification chapter's Observation 1 study (its settings), summarised."""
        from spnlib.studies.verification import observation1_study
        return observation1_study(self.data).summary()

    @cached_property
    def claim1(self) -> dict:
        """The verification chapter's Claim 1 study (its settings; about two minutes), summarised."""
        from spnlib.studies.verification import claim1_study
        return claim1_study(self.data).summary()

    @cached_property
    def network_checks(self) -> dict[str, float]:
        """Fig. 2 vs the shallow network with w_k = product of layer weights, and the sum over
        its induced trees vs its value: largest |log difference| over all 2^3 states."""
        from spnlib.numeric import evaluate, induced_trees
        from spnlib.structure import builders
        from spnlib.structure.decomposition import shallow
        rng = np.random.default_rng(2019)
        D, K = 3, 4
        indicators = builders.indicator_pairs(D)
        components = [builders.factorised_component(D, f"C{k + 1}", rng.uniform(0.2, 1.0, (D, 2)), indicators)
                      for k in range(K)]
        deep = builders.decomposed_spn(balanced((2, 2)), components, [rng.uniform(0.1, 1.0, 2),
                                                                      rng.uniform(0.1, 1.0, 4)])
        w = deep.spn.weights()
        flat = builders.decomposed_spn(shallow(K), components, [deep.component_weights(w)])
        states = np.array(np.meshgrid(*[[0, 1]] * D, indexing="ij")).reshape(D, -1).T
        log_f = evaluate.log_value(deep.spn, states)
        trees = induced_trees.induced_trees(deep.spn)
        return {"expressiveness": float(np.max(np.abs(log_f - evaluate.log_value(flat.spn, states)))),
                "induced_trees": float(np.max(np.abs(induced_trees.trees_log_value(trees, states, w) - log_f))),
                "n_trees": float(len(trees))}

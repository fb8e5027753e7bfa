"""spnlib: sum-product networks for an interactive reproduction of Trapp, Peharz &
Pernkopf, "Optimisation of Overparametrized Sum-Product Networks" (TPM 2019).

The structure of an SPN is kept apart from the code that computes with it.

Core (chapter "Sum-product networks"):

* :mod:`spnlib.structure.graph` - nodes, scopes, validity (no numeric code)
* :mod:`spnlib.structure.decomposition` - weight decompositions w_k = prod_l w^{[l]}_{phi(k,l)} (Eq. 3)
* :mod:`spnlib.structure.builders` - Fig. 1/2 networks, the released code's L = 1, 2, 3, random SPNs
* :mod:`spnlib.numeric.compile` - a structure compiled into layers of index arrays
* :mod:`spnlib.numeric.evaluate` - log-space values, partition function, log-likelihood, exact gradients
* :mod:`spnlib.data.counted` - validated data, distinct rows with counts
* :mod:`spnlib.numeric.induced_trees` - induced trees (Definition 1)
* :mod:`spnlib.numeric.fastpath` - matrix-product path for mixtures of factorised components
* :mod:`spnlib.data.debd` - the DEBD loader with pinned checksums
* :mod:`spnlib.views.spn_drawing`, :mod:`spnlib.views.tables` - drawings and tables for the book

Background (chapter "Overparameterization in linear regression"): :mod:`spnlib.studies.linear`.

The derivation by machine (chapter "The derivation"): :mod:`spnlib.symbolic.derivation` (SymPy),
:mod:`spnlib.symbolic.printed` (the equations as printed), :mod:`spnlib.symbolic.verdicts`,
:mod:`spnlib.symbolic.objective` (Eq. 1), :mod:`spnlib.symbolic.eq14` (Eq. 14),
:mod:`spnlib.views.derivation` (presentation).

Numerical verification (chapter "Numerical verification"): :mod:`spnlib.studies.dynamics` (one step),
:mod:`spnlib.studies.observation1` (many steps, Eq. 14), :mod:`spnlib.studies.claim1` (induced trees),
:mod:`spnlib.studies.verification` (the chapter's studies as data), :mod:`spnlib.stats.intervals` (intervals).

The experiment (chapters "The depth-versus-speed experiment" and "Beyond the single figure"):
:mod:`spnlib.numeric.batched` (many models in one set of matrix products), :mod:`spnlib.experiment.training`,
:mod:`spnlib.experiment.protocols` (faithful, variants, updated), :mod:`spnlib.numeric.blas` (thread control),
:mod:`spnlib.experiment.symmetry`, :mod:`spnlib.stats.speedup`, :mod:`spnlib.experiment.comparisons`,
:mod:`spnlib.views.experiment_plots`, :mod:`spnlib.views.explorer` (widgets, static explorer),
:mod:`spnlib.experiment.findings`, :mod:`spnlib.cli` (``python -m spnlib reproduce``).

The book's reproducibility report: :mod:`spnlib.report.assess`, :mod:`spnlib.report.rules`.
"""
from spnlib.structure.builders import DecomposedSPN, decomposed_spn, factorised_component, random_spn, released_spn
from spnlib.numeric.compile import CompiledSPN, compile_spn
from spnlib.data.counted import MISSING, CountedData, check_data
from spnlib.data.debd import DatasetError, load_debd
from spnlib.structure.decomposition import (Decomposition, InvalidDecompositionError, balanced, random_decomposition,
                            released, shallow)
from spnlib.numeric.evaluate import LogLikelihood, log_likelihood, log_likelihood_and_gradient, log_partition, log_value
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.structure.graph import SPN, Bernoulli, Indicator, InvalidSPNError, Leaf, Node, Product, Sum
from spnlib.numeric.induced_trees import InducedTree, count_induced_trees, trees_log_value

__version__ = "0.1.0"

__all__ = [
    "SPN", "Node", "Leaf", "Indicator", "Bernoulli", "Product", "Sum", "InvalidSPNError",
    "Decomposition", "InvalidDecompositionError", "shallow", "balanced", "released", "random_decomposition",
    "DecomposedSPN", "decomposed_spn", "factorised_component", "released_spn", "random_spn",
    "CompiledSPN", "compile_spn", "MISSING", "CountedData", "check_data",
    "LogLikelihood", "log_value", "log_partition", "log_likelihood", "log_likelihood_and_gradient",
    "InducedTree", "count_induced_trees", "trees_log_value",
    "FactorisedMixture", "MixtureParams", "DatasetError", "load_debd",
]

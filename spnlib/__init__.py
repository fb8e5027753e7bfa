"""spnlib: sum-product networks for an interactive reproduction of Trapp, Peharz &
Pernkopf, "Optimisation of Overparametrized Sum-Product Networks" (TPM 2019).

The structure of an SPN is kept apart from the code that computes with it.

Core (chapter "Sum-product networks"):

* :mod:`spnlib.graph` - nodes, scopes, validity (no numeric code)
* :mod:`spnlib.decomposition` - weight decompositions w_k = prod_l w^{[l]}_{phi(k,l)} (Eq. 3)
* :mod:`spnlib.builders` - Fig. 1/2 networks, the released code's L = 1, 2, 3, random SPNs
* :mod:`spnlib.compile` - a structure compiled into layers of index arrays
* :mod:`spnlib.evaluate` - log-space values, partition function, log-likelihood, exact gradients
* :mod:`spnlib.data` - validated data, distinct rows with counts
* :mod:`spnlib.induced_trees` - induced trees (Definition 1)
* :mod:`spnlib.fastpath` - matrix-product path for mixtures of factorised components
* :mod:`spnlib.datasets` - the DEBD loader with pinned checksums
* :mod:`spnlib.plotting`, :mod:`spnlib.tables` - drawings and tables for the book

Background (chapter "Overparameterization in linear regression"): :mod:`spnlib.linear`.

The derivation by machine (chapter "The derivation"): :mod:`spnlib.symbolic` (SymPy),
:mod:`spnlib.paper_equations` (the equations as printed), :mod:`spnlib.verdicts`,
:mod:`spnlib.objective_checks` (Eq. 1), :mod:`spnlib.momentum` (Eq. 14),
:mod:`spnlib.derivation_view` (presentation).

Numerical verification (chapter "Numerical verification"): :mod:`spnlib.dynamics` (one step),
:mod:`spnlib.observation1` (many steps, Eq. 14), :mod:`spnlib.claim1` (induced trees),
:mod:`spnlib.verification` (the chapter's studies as data), :mod:`spnlib.spread` (intervals).

The experiment (chapters "The depth-versus-speed experiment" and "Beyond the single figure"):
:mod:`spnlib.batched` (many models in one set of matrix products), :mod:`spnlib.training`,
:mod:`spnlib.protocols` (faithful, variants, updated), :mod:`spnlib.blas` (thread control),
:mod:`spnlib.symmetry`, :mod:`spnlib.acceleration`, :mod:`spnlib.comparisons`,
:mod:`spnlib.experiment_plots`, :mod:`spnlib.explorer` (widgets, static explorer),
:mod:`spnlib.experiment_report`, :mod:`spnlib.cli` (``python -m spnlib reproduce``).

The book's reproducibility report: :mod:`spnlib.report`, :mod:`spnlib.report_rules`.
"""
from .builders import DecomposedSPN, decomposed_spn, factorised_component, random_spn, released_spn
from .compile import CompiledSPN, compile_spn
from .data import MISSING, CountedData, check_data
from .datasets import DatasetError, load_debd
from .decomposition import (Decomposition, InvalidDecompositionError, balanced, random_decomposition,
                            released, shallow)
from .evaluate import LogLikelihood, log_likelihood, log_likelihood_and_gradient, log_partition, log_value
from .fastpath import FactorisedMixture, MixtureParams
from .graph import SPN, Bernoulli, Indicator, InvalidSPNError, Leaf, Node, Product, Sum
from .induced_trees import InducedTree, count_induced_trees, trees_log_value

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

"""spnlib: sum-product networks for an interactive reproduction of Trapp, Peharz &
Pernkopf, "Optimisation of Overparametrized Sum-Product Networks" (TPM 2019).

Subpackages are layers; a layer imports only those listed below it, and the symbolic side
never imports the numeric one (``tests/test_architecture.py`` enforces this with import-linter)::

    cli                      python -m spnlib reproduce
    report                   the reproducibility report: claims, evidence, rules, rendering
    views                    figures, tables, widgets, the Sphinx extension (presentation only)
    studies | experiment     verification studies | the depth-versus-speed experiment
    numeric | symbolic | stats   log-space evaluators and fast paths | SymPy derivation | statistics
    structure | data         SPN graphs and weight decompositions | counted data, the DEBD loader
    checks, tolerances       argument checks; every tolerance and threshold, stated once

Code that walks a :class:`~spnlib.structure.graph.SPN` (the general evaluator, induced trees)
and code that walks a :class:`~spnlib.structure.decomposition.Decomposition` (the SymPy
derivation, the fast paths, the experiment) meet in
:func:`~spnlib.structure.builders.decomposed_spn`, which builds the SPN of a decomposition.
The names below are the ones a reader of the README uses. The fast path is :class:`MixtureBatch`
(one model or many); the general evaluator is :func:`log_likelihood_and_gradient` and its siblings.
"""
from spnlib.data.counted import MISSING, CountedData, check_data
from spnlib.data.debd import DatasetError, load_counted, load_debd
from spnlib.numeric.batched import BatchParams, MixtureBatch
from spnlib.numeric.compile import CompiledSPN, compile_spn
from spnlib.numeric.evaluate import LogLikelihood, log_likelihood, log_likelihood_and_gradient, log_partition, log_value
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.numeric.induced_trees import InducedTree, count_induced_trees, trees_log_value
from spnlib.numeric.logspace import GradientOverflowError
from spnlib.structure.builders import (
                            DecomposedSPN,
                            decomposed_spn,
                            factorised_component,
                            random_spn,
                            random_spn_size,
                            released_spn,
)
from spnlib.structure.decomposition import (
                            Decomposition,
                            InvalidDecompositionError,
                            balanced,
                            random_decomposition,
                            released,
                            shallow,
)
from spnlib.structure.graph import SPN, Bernoulli, Indicator, InvalidSPNError, Leaf, Node, Product, Sum

__version__ = "0.1.0"

__all__ = [
    "SPN", "Node", "Leaf", "Indicator", "Bernoulli", "Product", "Sum", "InvalidSPNError",
    "Decomposition", "InvalidDecompositionError", "shallow", "balanced", "released", "random_decomposition",
    "DecomposedSPN", "decomposed_spn", "factorised_component", "released_spn", "random_spn", "random_spn_size",
    "CompiledSPN", "compile_spn", "MISSING", "CountedData", "check_data",
    "LogLikelihood", "log_value", "log_partition", "log_likelihood", "log_likelihood_and_gradient",
    "InducedTree", "count_induced_trees", "trees_log_value",
    "MixtureBatch", "BatchParams", "GradientOverflowError", "FactorisedMixture", "MixtureParams",
    "DatasetError", "load_debd", "load_counted",
]

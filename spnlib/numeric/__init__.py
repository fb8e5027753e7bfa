"""Numeric: float64, log-space evaluation and exact gradients. Above structure and data.

* :mod:`~spnlib.numeric.compile`, :mod:`~spnlib.numeric.evaluate` - the general evaluator of any
  :class:`~spnlib.structure.graph.SPN` (values, marginals, f(*), gradients by one backward pass).
* :mod:`~spnlib.numeric.induced_trees` - induced trees (Definition 1) and their mixture.
* :mod:`~spnlib.numeric.batched` - the fast path: mixtures of factorised components under
  :class:`~spnlib.structure.decomposition.Decomposition` s, one or many in one set of matrix products.
* :mod:`~spnlib.numeric.fastpath` - the same model one at a time, written plainly (the check of the fast
  path, and the bridge to the general evaluator's weight layout).
* :mod:`~spnlib.numeric.logspace` - log-sum-exp and what keeps the fast paths exact at extreme weights.
* :mod:`~spnlib.numeric.blas` - BLAS thread control.

Never imports :mod:`spnlib.symbolic`, :mod:`spnlib.stats` or anything above them.
"""
from spnlib.numeric.batched import BatchParams, MixtureBatch
from spnlib.numeric.compile import CompiledSPN, compile_spn
from spnlib.numeric.evaluate import LogLikelihood, log_likelihood, log_likelihood_and_gradient, log_partition, log_value
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.numeric.induced_trees import InducedTree, count_induced_trees, trees_log_value
from spnlib.numeric.logspace import GradientOverflowError

__all__ = ["BatchParams", "MixtureBatch", "GradientOverflowError", "CompiledSPN", "compile_spn", "LogLikelihood",
           "log_likelihood",
           "log_likelihood_and_gradient", "log_partition", "log_value", "FactorisedMixture", "MixtureParams",
           "InducedTree", "count_induced_trees", "trees_log_value"]

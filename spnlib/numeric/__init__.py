"""Numeric: float64, log-space evaluation and exact gradients. Above structure and data.

* :mod:`~spnlib.numeric.compile`, :mod:`~spnlib.numeric.evaluate` - the general evaluator of any
  :class:`~spnlib.structure.graph.SPN` (values, marginals, f(*), gradients by one backward pass).
* :mod:`~spnlib.numeric.induced_trees` - induced trees (Definition 1) and their mixture.
* :mod:`~spnlib.numeric.fastpath` - one mixture of factorised components under a
  :class:`~spnlib.structure.decomposition.Decomposition`, by matrix products.
* :mod:`~spnlib.numeric.batched` - many such mixtures in one set of matrix products (the experiment's path).
* :mod:`~spnlib.numeric.blas` - BLAS thread control.

Never imports :mod:`spnlib.symbolic`, :mod:`spnlib.stats` or anything above them.
"""
from spnlib.numeric.batched import BatchParams, MixtureBatch
from spnlib.numeric.compile import CompiledSPN, compile_spn
from spnlib.numeric.evaluate import LogLikelihood, log_likelihood, log_likelihood_and_gradient, log_partition, log_value
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams
from spnlib.numeric.induced_trees import InducedTree, count_induced_trees, trees_log_value

__all__ = ["BatchParams", "MixtureBatch", "CompiledSPN", "compile_spn", "LogLikelihood", "log_likelihood",
           "log_likelihood_and_gradient", "log_partition", "log_value", "FactorisedMixture", "MixtureParams",
           "InducedTree", "count_induced_trees", "trees_log_value"]

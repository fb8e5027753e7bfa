"""spnlib: sum-product networks for an interactive reproduction of Trapp, Peharz &
Pernkopf, "Optimisation of Overparametrized Sum-Product Networks" (TPM 2019).

Layout (structure apart from the code that computes with it):

* :mod:`spnlib.graph` - nodes, scopes, validity (no numeric code)
* :mod:`spnlib.decomposition` - weight decompositions w_k = prod_l w^{[l]}_{phi(k,l)}
* :mod:`spnlib.builders` - Fig. 1/2 networks, the released code's L = 1, 2, 3, random SPNs
* :mod:`spnlib.data` - validated data, distinct rows with counts
* :mod:`spnlib.compile` - structure compiled into layers of index arrays
* :mod:`spnlib.evaluate` - log-space values, partition function, log-likelihood, gradients
* :mod:`spnlib.induced_trees` - induced trees (Definition 1)
* :mod:`spnlib.fastpath` - matrix-product path for mixtures of factorised components
* :mod:`spnlib.datasets` - the DEBD loader with pinned checksums
* :mod:`spnlib.plotting` - drawing structures
"""
from .graph import SPN, Bernoulli, Indicator, InvalidSPNError, Leaf, Node, Product, Sum
from .data import MISSING, CountedData, check_data
from .evaluate import (LogLikelihood, compile_spn, log_likelihood,
                       log_likelihood_and_gradient, log_partition, log_value)
from .decomposition import (Decomposition, InvalidDecompositionError, balanced, random_decomposition,
                            released, shallow)
from .builders import DecomposedSPN, decomposed_spn, factorised_component, random_spn, released_spn
from .induced_trees import InducedTree, count_induced_trees, trees_log_value
from .fastpath import FactorisedMixture, MixtureParams
from .datasets import DatasetError, load_debd

__version__ = "0.1.0"

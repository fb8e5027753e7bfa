"""Structure: what an SPN is, with no arithmetic on data. The lowest layer with :mod:`spnlib.data`.

Two descriptions live here, and the code above walks one or the other:

* :mod:`~spnlib.structure.graph` - :class:`SPN`, a rooted DAG of sum, product and leaf nodes with
  scopes and validity checks. The general evaluator (:mod:`spnlib.numeric.evaluate`), the
  induced-tree enumerator (:mod:`spnlib.numeric.induced_trees`), Claim 1's tree mixtures and the
  SPN drawings walk an ``SPN``.
* :mod:`~spnlib.structure.decomposition` - :class:`Decomposition`, the tree of sum layers above K
  components that decomposes w_k into a product of layer weights (the paper's Eq. 3). The SymPy
  derivation (:mod:`spnlib.symbolic`), the fast paths (:mod:`spnlib.numeric.fastpath`,
  :mod:`spnlib.numeric.batched`), the dynamics studies and the experiment walk a ``Decomposition``.
* :mod:`~spnlib.structure.builders` - the bridge: :func:`decomposed_spn` turns a ``Decomposition``
  over component nodes into an ``SPN`` and keeps the map between the two weight layouts
  (:class:`DecomposedSPN`); :func:`released_spn` builds the paper's networks, :func:`random_spn`
  random deep ones.
"""
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

__all__ = ["SPN", "Node", "Leaf", "Indicator", "Bernoulli", "Product", "Sum", "InvalidSPNError",
           "Decomposition", "InvalidDecompositionError", "shallow", "balanced", "released", "random_decomposition",
           "DecomposedSPN", "decomposed_spn", "factorised_component", "released_spn", "random_spn",
           "random_spn_size"]

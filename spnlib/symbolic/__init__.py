"""Symbolic: the paper's derivation by SymPy, for any decomposition. Above structure only.

* :mod:`~spnlib.symbolic.derivation` - gradients and one-step updates derived with ``sympy.diff``.
* :mod:`~spnlib.symbolic.printed` - the paper's equations as printed, encoded separately.
* :mod:`~spnlib.symbolic.verdicts` - printed against derived, exactly or order by order in eta.
* :mod:`~spnlib.symbolic.objective` - Eq. 1 (the partition function per sample).
* :mod:`~spnlib.symbolic.eq14` - Eq. 14: the first-order recursion unrolled, momentum coefficients.

Never imports the numeric engine (:mod:`spnlib.numeric`); the studies compare the two.
"""

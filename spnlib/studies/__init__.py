"""Studies: the verification chapters' computations, numeric against symbolic.

* :mod:`~spnlib.studies.linear` - Sec. 2.1, linear regression with w = w_1 w_2.
* :mod:`~spnlib.studies.dynamics` - one gradient step: exact change against the first-order forms.
* :mod:`~spnlib.studies.observation1` - many steps: Observation 1 and Eq. 14 on training runs.
* :mod:`~spnlib.studies.claim1` - Claim 1: deep SPNs as mixtures of their induced trees.
* :mod:`~spnlib.studies.verification` - the verification chapter's studies, returning data.

Imports numeric, symbolic, stats, structure and data; independent of :mod:`spnlib.experiment`.
"""

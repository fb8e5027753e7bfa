"""Experiment: the depth-versus-speed experiment of Sec. 3.1 (Fig. 3) and its variants.

* :mod:`~spnlib.experiment.training` - gradient ascent and explicit optimisers on a batch of models.
* :mod:`~spnlib.experiment.protocols` - the faithful protocol, its variants, the updated script.
* :mod:`~spnlib.experiment.symmetry` - identical components, and how round-off breaks them apart.
* :mod:`~spnlib.experiment.comparisons` - learning-rate sweeps, tuning, optimisers.
* :mod:`~spnlib.experiment.findings` - the verdict-bearing numbers of Sec. 3.1 as data.
* :mod:`~spnlib.experiment.explore` - the explorer's computations.

Imports numeric, stats, structure and data; independent of :mod:`spnlib.studies`.
"""

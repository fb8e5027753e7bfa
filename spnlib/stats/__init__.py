"""Stats: intervals, bootstrap bands, times to a target and speed-ups. Depends on NumPy only.

* :mod:`~spnlib.stats.intervals` - means with Student-t intervals, log-log slope fits.
* :mod:`~spnlib.stats.speedup` - first time a curve reaches a target (censored when never),
  bootstrap confidence bands of mean curves, gap tables and speed-up factors.
"""

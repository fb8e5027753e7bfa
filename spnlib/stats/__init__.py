"""Stats: intervals, bootstrap bands, times to a target and speed-ups. Depends on NumPy only.

* :mod:`~spnlib.stats.intervals` - means with Student-t intervals, log-log slope fits.
* :mod:`~spnlib.stats.speedup` - the book's one speed-up estimator: censored times to a
  target, median times, speed-ups (ratios of medians, or bounds) with paired bootstrap
  intervals, gap tables; bootstrap confidence bands of mean curves.
* :mod:`~spnlib.stats.printing` - an estimate at the precision its interval supports, in words
  where it is a bound or undetermined.
"""

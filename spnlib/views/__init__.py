"""Views: presentation only (figures, Markdown tables, widgets, the Sphinx extension).

* :mod:`~spnlib.views.figures` - the book's figure style, one colour per depth.
* :mod:`~spnlib.views.tables` - the one Markdown-table writer and cell escaper.
* :mod:`~spnlib.views.spn_drawing` - drawings of SPNs.
* :mod:`~spnlib.views.derivation` - the derivation chapter's tables and figures.
* :mod:`~spnlib.views.experiment_plots` - the experiment's figures.
* :mod:`~spnlib.views.explorer` - the live widgets and the static explorer
  (its JavaScript is ``spnlib/resources/static_explorer.js``).
* :mod:`~spnlib.views.sphinx_paper_numbers` - equations numbered by the paper's numbers.

Nothing below imports a view.
"""

"""Sphinx extension of the book: the paper's equations carry the paper's numbers.

A displayed equation labelled ``paper-eq-N`` (MyST: ``$$ ... $$ (paper-eq-N)``) is shown as
"(N)", and every ``{eq}`paper-eq-N``` reference reads "(N)", whatever its position in the
book; other equations keep Sphinx's chapter-based numbers. Sphinx assigns equation numbers
per chapter (``env.toc_fignumbers``, with ``numfig`` and ``math_numfig``); this replaces them
for the paper's labels once the numbers are assigned and before any page is written.
Listed in ``_config.yml`` (``sphinx.config.extensions``); only Sphinx imports it.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only Sphinx imports this module; spnlib does not depend on Sphinx
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

PAPER_LABEL = re.compile(r"equation-paper-eq-(\d+)")


def use_paper_numbers(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Runs on ``env-get-updated`` after Sphinx's own handler has numbered the figures."""
    for numbers in env.toc_fignumbers.values():
        display = numbers.get("displaymath", {})
        for node_id in display:
            match = PAPER_LABEL.fullmatch(node_id)
            if match:
                display[node_id] = (int(match.group(1)),)
    return []


def setup(app: Sphinx) -> dict:
    app.connect("env-get-updated", use_paper_numbers, priority=900)  # after the toctree collector (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

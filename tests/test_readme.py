"""The README's "Using spnlib" block runs and prints what its comments say."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def using_spnlib_block() -> str:
    """The first Python block of the section, padded so that tracebacks give README line numbers."""
    text = README.read_text()
    start = text.index("## Using spnlib")
    match = re.compile(r"```python\n(.*?)```", re.S).search(text, start)
    assert match, "no python block under 'Using spnlib'"
    return "\n" * text[:match.start(1)].count("\n") + match.group(1)


def test_readme_block_runs_and_prints_what_it_says(nltcs_train):   # the fixture: the data are there
    code = using_spnlib_block()
    expected = [m.group(1).strip() for m in re.finditer(r"print\(.*#\s*->\s*(.*)$", code, re.M)]
    assert len(expected) >= 4
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    assert out.getvalue().split("\n")[:-1] == expected

"""The book as a whole: it builds with warnings as errors, publishes no traceback, works
offline, and every page works in a real browser (headless Chromium).

The HTML is built once per session with execution off (nbval has just re-executed every
notebook and compared it with its committed outputs), from a copy of `_config.yml`, into
`_build/test-book/_build/html`; screenshots of every page go to
`_build/test-book/screenshots`.
"""
from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml
from book_site import (
    ROOT,
    Build,
    LinkChecker,
    anchors_of,
    build_book,
    config_with,
    notebook_errors,
    pages_of,
    problem_lines,
    published_tracebacks,
    raw_markdown,
    raw_tex,
    serve,
    toc_files,
)

BUILD_DIR = ROOT / "_build" / "test-book"
DOCS = toc_files(ROOT / "_toc.yml")
EXPERIMENT = "book/experiment"

slow = pytest.mark.slow


@pytest.fixture(scope="session")
def book(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The book's HTML, built once with execution off, -W -n --keep-going."""
    config = config_with(ROOT / "_config.yml", tmp_path_factory.mktemp("config") / "_config.yml",
                         execute="off")
    return build_book(ROOT, config, BUILD_DIR)


# ----------------------------------------------------------------- the build itself
@slow
def test_book_builds_without_warnings(book: Build) -> None:
    problems = book.problems()
    assert not problems, "the book build reported:\n" + "\n".join(problems)
    assert book.returncode == 0, "jupyter-book build failed:\n" + book.log[-4000:]
    assert (book.html / "index.html").exists()


@slow
def test_book_publishes_no_traceback(book: Build) -> None:
    pages = published_tracebacks(book.html)
    assert not pages, f"pages showing a notebook error output: {pages}"


@slow
def test_mathjax_is_served_by_the_build(book: Build) -> None:
    assert (book.html / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert list((book.html / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))


@slow
def test_paper_equations_carry_the_papers_numbers(book: Build) -> None:
    """Every equation labelled paper-eq-N shows "(N)", and every reference to it reads "(N)"."""
    import re
    labelled, referenced = 0, 0
    for page in book.html.rglob("*.html"):
        text = page.read_text()
        for label, number in re.findall(r'id="equation-paper-eq-(\d+)">\s*<span class="eqno">\(([^)<]*)', text):
            assert number == label, f"{page.name}: paper-eq-{label} is numbered ({number})"
            labelled += 1
        for label, number in re.findall(r'href="[^"]*#equation-paper-eq-(\d+)">\(([^)<]*)\)', text):
            assert number == label, f"{page.name}: a reference to paper-eq-{label} reads ({number})"
            referenced += 1
    assert labelled >= 13 and referenced >= 2   # Eqs. 1-14 are displayed; the chapters cite them


@pytest.mark.parametrize("notebook", sorted((ROOT / "book").rglob("*.ipynb")),
                         ids=lambda p: p.name)
def test_committed_notebook_has_no_error_output(notebook: Path) -> None:
    errors = notebook_errors(notebook)
    assert not errors, "error outputs committed (they would be published):\n" + "\n".join(errors)


@pytest.mark.parametrize("notebook", sorted((ROOT / "book").rglob("*.ipynb")),
                         ids=lambda p: p.name)
def test_notebook_installs_spnlib_from_the_configured_repository(notebook: Path) -> None:
    """Colab opens a notebook alone: its first code cell installs spnlib (hidden in the book)."""
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    code = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    first = "".join(code[0]["source"])
    assert "remove-cell" in code[0]["metadata"].get("tags", []), "the install cell is not hidden in the book"
    assert 'find_spec("spnlib") is None' in first, "the install cell must do nothing where spnlib is installed"
    wanted = f'"{project["name"]}[widgets] @ git+{repository["url"]}@{repository["branch"]}"'
    assert f"%pip install --quiet {wanted}" in first, f"the first code cell does not install {wanted}"
    assert "widgets" in project["optional-dependencies"]


def test_toc_lists_every_page_of_the_book() -> None:
    sources = {str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "book").rglob("*")
               if p.suffix in (".md", ".ipynb") and ".ipynb_checkpoints" not in p.parts}
    missing = sorted(sources - set(DOCS))
    assert not missing, f"in book/ but not in _toc.yml (so not in the book): {missing}"


# -------------------------------------------- the checks themselves can fail (tiny books)
def _tiny_book(tmp_path: Path, cells: list[dict], execute: str) -> Build:
    """A one-notebook book with the project's configuration."""
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "book" / "references.bib", tmp_path / "book" / "references.bib")
    notebook = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                            "language": "python"}}}
    (tmp_path / "book" / "broken.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/broken\n")
    config = config_with(ROOT / "_config.yml", tmp_path / "_config.yml", execute=execute)
    return build_book(tmp_path, config, tmp_path / "out", timeout=600)


def _code(source: str, outputs: list | None = None) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "execution_count": None,
            "outputs": outputs or [], "id": f"c{len(source)}"}


@slow
def test_a_failing_cell_fails_make_book(tmp_path: Path) -> None:
    """With the project's configuration and execution on (as `make book` runs), a cell
    that raises stops the build, naming the notebook and the error."""
    build = _tiny_book(tmp_path, [_code("# Broken\nx = 1"),
                                  _code("raise ValueError('deliberate failure in a cell')")],
                       execute="force")
    assert build.returncode != 0
    assert "broken" in build.log and "deliberate failure in a cell" in build.log


@slow
def test_an_error_output_is_caught_when_execution_is_off(tmp_path: Path) -> None:
    error = {"output_type": "error", "ename": "ValueError", "evalue": "committed error",
             "traceback": ["Traceback (most recent call last):", "ValueError: committed error"]}
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Broken", "id": "m1"},
             _code("raise ValueError('committed error')", [error])]
    build = _tiny_book(tmp_path, cells, execute="off")
    assert published_tracebacks(build.html) == ["book/broken.html"]
    assert notebook_errors(tmp_path / "book" / "broken.ipynb") == [
        "broken.ipynb cell 1: ValueError: committed error"]


def test_problem_lines_finds_sphinx_warnings() -> None:
    log = "reading sources...\n\x1b[91m/x/book/a.md:3: WARNING: unknown document: 'b'\x1b[39;49;00m\nok"
    assert problem_lines(log) == ["/x/book/a.md:3: WARNING: unknown document: 'b'"]
    assert problem_lines("build succeeded.") == []


@pytest.mark.parametrize("text", ["where $$w_k$$ is", r"the rate \frac{1}{2}", r"\(x\)",
                                  "w^{[0]} times", "so $w_k = 1$ here"])
def test_raw_tex_is_found(text: str) -> None:
    assert raw_tex(text)


@pytest.mark.parametrize("text", ["costs 5 dollars", "x_0 and x_1 (0-based)", "L = 1, 2, 3",
                                  "a $ sign"])
def test_plain_prose_is_not_raw_tex(text: str) -> None:
    assert raw_tex(text) == []


def test_raw_markdown_is_found() -> None:
    assert raw_markdown("| k | phi |\n|---|---|\n| 1 | 1 |") == ["|---|---|"]
    assert raw_markdown("## Summary") and raw_markdown("a **bold** claim")
    assert raw_markdown("a | b, and 2 * 3 * 4 - 1") == []


def test_link_checker_finds_missing_pages_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text('<h1 id="top">A</h1><a name="old">x</a>')
    assert anchors_of((tmp_path / "a.html").read_text()) == {"top", "old"}
    with serve(tmp_path) as base:
        links = LinkChecker(base)
        assert links.problem(base + "a.html#top") is None
        assert links.problem(base + "a.html#old") is None
        assert "HTTP 404" in links.problem(base + "missing.html")
        assert "no element with id 'nowhere'" in links.problem(base + "a.html#nowhere")
        assert not links.is_local("https://example.org/a.html")


# ------------------------------------------------------------------------ the browser
@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory):
    """One headless Chromium (fresh profile) for this module. Module-scoped so that it is
    closed before nbval runs the notebooks (Playwright's sync API holds an event loop)."""
    from book_browser import chromium_path, launch

    executable = chromium_path()
    if executable is None:
        pytest.fail("Chromium not found: install Debian's chromium (apt-get install -y chromium; "
                    ".ci/run does this) or set SPNLIB_CHROMIUM to its path")
    with launch(executable, tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture(scope="module")
def browser(book: Build, chromium):
    """The built HTML served from localhost, opened in Chromium; outside requests blocked."""
    from book_browser import BookBrowser

    if not (book.html / "index.html").exists():
        pytest.fail("the book did not build; see test_book_builds_without_warnings")
    shutil.rmtree(book.root / "screenshots", ignore_errors=True)
    with serve(book.html) as base_url:
        yield BookBrowser(chromium, base_url, book.root / "screenshots")


@slow
@pytest.mark.parametrize("page", pages_of(DOCS))
def test_page_in_browser(browser, page: str) -> None:
    """No outside request, no JavaScript error, no failed load, every image decoded,
    every equation typeset without error, no raw TeX, every internal link resolves."""
    report = browser.check_page(page)
    problems = report.problems()
    assert not problems, "\n".join(problems)


@slow
def test_static_explorer_responds_to_its_sliders(browser) -> None:
    if EXPERIMENT not in DOCS:
        pytest.skip(f"{EXPERIMENT} is not in _toc.yml yet: the static explorer check "
                    "(eta and depth sliders change the figure) waits for that chapter")
    problems = browser.static_explorer_problems(f"{EXPERIMENT}.html")
    assert not problems, "\n".join(problems)


# ------------------------------------- the browser checks can fail (fake pages, real browser)
PNG_1x1 = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a0"
                        "5a0a0000000049454e44ae426082")
BROKEN_PAGE = r"""<!DOCTYPE html><html><head><meta charset="utf-8">
<script>window.MathJax = {options: {processHtmlClass: "math", ignoreHtmlClass: "document"}};</script>
<script defer src="_static/mathjax/tex-chtml.js"></script></head>
<body class="document"><h1 id="top">Broken</h1>
<p>good math <span class="math">\(w_k\)</span>, bad math <span class="math">\(\frac{1}\)</span>,
and raw <span class="tex2jax_ignore">$$\rho^{(t)}$$</span> in the text.</p>
<img src="ok.png" alt=""><img src="missing.png" alt=""><img src="https://example.org/x.png" alt="">
<p>| k | phi |</p><p>|---|---|</p>
<a href="#top">fine</a> <a href="#nowhere">no anchor</a> <a href="gone.html">no page</a>
<script>notDefinedAnywhere();</script>
<script>addEventListener("load", () => MathJax.startup.promise.then(() => {  // math MathJax never saw
  const late = document.createElement("span"); late.className = "math"; late.textContent = "\\(x\\)";
  document.body.append(late); }));</script></body></html>"""
EXPLORER = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<div class="static-explorer">
  <input type="range" name="eta" min="0" max="2" value="1">
  <input type="range" name="depth" min="1" max="3" value="1">
  <div class="static-explorer-figure"><img src="ok.png?eta=1&depth=1" alt=""></div>
</div>%s</body></html>"""
EXPLORER_JS = """<script>
document.querySelectorAll('.static-explorer').forEach(ex => ex.addEventListener('input', () => {
  const eta = ex.querySelector('[name=eta]').value, depth = ex.querySelector('[name=depth]').value;
  ex.querySelector('.static-explorer-figure').innerHTML = `<img src="ok.png?eta=${eta}&depth=${depth}" alt="">`;
}));</script>"""


@pytest.fixture(scope="module")
def scratch_browser(book: Build, chromium, tmp_path_factory: pytest.TempPathFactory):
    """The browser checks pointed at fake pages (MathJax borrowed from the built book)."""
    from book_browser import BookBrowser

    site = tmp_path_factory.mktemp("scratch-site")
    (site / "_static").symlink_to(book.html / "_static", target_is_directory=True)
    (site / "ok.png").write_bytes(PNG_1x1)
    (site / "broken.html").write_text(BROKEN_PAGE)
    (site / "explorer.html").write_text(EXPLORER % EXPLORER_JS)
    (site / "dead-explorer.html").write_text(EXPLORER % "")
    with serve(site) as base_url:
        yield BookBrowser(chromium, base_url, site / "screenshots")


@slow
def test_browser_checks_catch_a_broken_page(scratch_browser) -> None:
    report = scratch_browser.check_page("broken.html")
    assert report.outside_requests == ["https://example.org/x.png"]
    assert any("notDefinedAnywhere" in error for error in report.console_errors)
    assert any("404" in load and "missing.png" in load for load in report.failed_loads)
    assert sorted(report.broken_images) == ["https://example.org/x.png", "missing.png"]
    assert any("frac" in problem for problem in report.math)          # MathJax error
    assert any("not typeset" in problem for problem in report.math)   # ignored element
    assert len(report.raw_tex) == 2
    assert "$$\\rho^{(t)}$$" in report.raw_tex[0] and "\\(x\\)" in report.raw_tex[1]
    assert report.raw_markdown == ["|---|---|"]
    assert sorted(p.split(" -> ")[1] for p in report.broken_links) == [
        "HTTP 404", "no element with id 'nowhere' on that page"]


@slow
def test_static_explorer_check_tells_a_live_explorer_from_a_dead_one(scratch_browser) -> None:
    assert scratch_browser.static_explorer_problems("explorer.html") == []
    problems = scratch_browser.static_explorer_problems("dead-explorer.html")
    assert len(problems) == 2 and all("left the figure unchanged" in p for p in problems)
    assert "no <div" in scratch_browser.static_explorer_problems("broken.html")[0]

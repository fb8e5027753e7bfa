"""Helpers for the tests of the built book (tests/test_book.py), browser-free part.

Building the book with execution off, reading its warnings, finding error outputs in
notebooks and tracebacks in the HTML, serving the HTML on localhost and checking its
internal links. The Playwright part is in ``book_browser.py``.
"""
from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# A Sphinx / docutils problem line: "path:line: WARNING: ..." or "ERROR: ...".
PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL|SEVERE)\b[:/]")


# --------------------------------------------------------------------------- building
@dataclass(frozen=True)
class Build:
    """The outcome of one `jupyter-book build`."""
    returncode: int
    log: str
    html: Path          # the HTML output folder
    root: Path          # the --path-output folder (screenshots go beside the HTML)

    def problems(self) -> list[str]:
        """Warning and error lines of the log (ANSI colours stripped)."""
        return problem_lines(self.log)


def problem_lines(log: str) -> list[str]:
    """The lines of a Sphinx log that report a warning or an error."""
    return [line.strip() for line in ANSI.sub("", log).splitlines() if PROBLEM.search(line)]


def jupyter_book_command() -> list[str]:
    """The jupyter-book CLI of the running interpreter's environment."""
    exe = Path(sys.executable).with_name("jupyter-book")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("jupyter-book")
    if found is None:
        raise RuntimeError("jupyter-book is not installed in this environment (make install)")
    return [found]


def config_with(config: Path, target: Path, *, execute: str) -> Path:
    """Copy a `_config.yml` to `target` with `execute.execute_notebooks` set to `execute`."""
    data = yaml.safe_load(config.read_text())
    data.setdefault("execute", {})["execute_notebooks"] = execute
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def build_book(book: Path, config: Path, out: Path, timeout: float = 4 * 3600) -> Build:
    """Build `book` from scratch into `out` with warnings as errors, nitpicky, keep going.

    `timeout` only turns a hung build into a failure: the test build (execution off) takes a
    minute or two, and even `make book` (every notebook executed) well under an hour."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = jupyter_book_command() + ["build", str(book), "--all", "--config", str(config),
                                    "--path-output", str(out), "-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, cwd=book, capture_output=True, text=True, timeout=timeout, check=False)
    return Build(proc.returncode, ANSI.sub("", proc.stdout + "\n" + proc.stderr),
                 out / "_build" / "html", out)


# ------------------------------------------------------------------------ the sources
def toc_files(toc: Path) -> list[str]:
    """Every document of a jb-book `_toc.yml`, root first, in reading order."""
    data = yaml.safe_load(toc.read_text())
    files = [data["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))
            walk(entry.get("chapters", []))

    walk(data.get("parts", []))
    walk(data.get("chapters", []))
    return [str(Path(f).with_suffix("")) for f in files]


def notebook_errors(notebook: Path) -> list[str]:
    """Error outputs (and tracebacks printed to stderr) committed in a notebook."""
    nb = json.loads(notebook.read_text())
    found = []
    for index, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"{notebook.name} cell {index}: {output.get('ename')}: "
                             f"{output.get('evalue')}")
            elif (output.get("output_type") == "stream" and output.get("name") == "stderr"
                  and "Traceback (most recent call last)" in "".join(output.get("text", ""))):
                found.append(f"{notebook.name} cell {index}: traceback printed to stderr")
    return found


# ---------------------------------------------------------------------------- the HTML
class _Anchors(HTMLParser):
    """Collects the id and name attributes of a page (the targets of #fragments)."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value and (key == "id" or (key == "name" and tag == "a")):
                self.anchors.add(value)


def anchors_of(html: str) -> set[str]:
    """The fragment targets (ids, named anchors) of an HTML page."""
    parser = _Anchors()
    parser.feed(html)
    return parser.anchors


def published_tracebacks(html_dir: Path) -> list[str]:
    """Pages of the built book that show a notebook error output (a traceback)."""
    marker = re.compile(r'class="[^"]*\boutput traceback\b|class="[^"]*\boutput error\b')
    return [str(page.relative_to(html_dir)) for page in sorted(html_dir.rglob("*.html"))
            if "_static" not in page.parts and marker.search(page.read_text(errors="replace"))]


def pages_of(docnames: list[str]) -> list[str]:
    """Site paths of the pages to open: every document of the toc plus Sphinx's own
    (the root redirect, the index, the search page)."""
    return [f"{doc}.html" for doc in docnames] + ["index.html", "genindex.html", "search.html"]


# ------------------------------------------------------------------------- serving
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    """The local server; a browser that drops a connection mid-answer (it navigated away, as from
    the index page's redirect) is not an error and prints nothing. Other errors print as usual."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):     # BrokenPipeError, ConnectionResetError
            return
        super().handle_error(request, client_address)


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


LOCAL_PATIENCE_S = 300
"""Bound on one request to the local server (it answers in milliseconds; this only turns a hang
into a failure)."""


class LinkChecker:
    """Checks same-site links against the local server: the page answers 200 and the
    #fragment, if any, names an element of that page. Results are cached per page."""

    def __init__(self, base_url: str) -> None:
        self.base = urlsplit(base_url)
        self._pages: dict[str, tuple[int, set[str] | None]] = {}

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and parts.netloc == self.base.netloc

    def _fetch(self, url: str) -> tuple[int, set[str] | None]:
        if url not in self._pages:
            try:
                with urllib.request.urlopen(url, timeout=LOCAL_PATIENCE_S) as response:
                    body = response.read()
                    kind = response.headers.get_content_type()
                    anchors = anchors_of(body.decode("utf-8", "replace")) if kind == "text/html" else None
                    self._pages[url] = (response.status, anchors)
            except urllib.error.HTTPError as error:
                self._pages[url] = (error.code, None)
        return self._pages[url]

    def problem(self, href: str) -> str | None:
        """Why a same-site link is broken, or None if it resolves."""
        url, fragment = urldefrag(href)
        status, anchors = self._fetch(url)
        if status != 200:
            return f"{href} -> HTTP {status}"
        fragment = unquote(fragment)
        if fragment and anchors is not None and fragment not in anchors:
            return f"{href} -> no element with id {fragment!r} on that page"
        return None


# ------------------------------------------------------------------------- raw TeX
RAW_TEX = re.compile(
    r"\$\$"                          # display math delimiters left as text
    r"|\\[()\[\]]"                   # \( \) \[ \]
    r"|\\[A-Za-z]{2,}"               # any TeX command: \frac, \sum, \begin ...
    r"|[_^]\{"                       # sub/superscript groups: w^{[0]}, x_{n}
    r"|(?<![\w$])\$[^$\s](?:[^$\n]*[^$\s])?\$(?![\w$])"   # $...$ inline math
)
RAW_MARKDOWN = re.compile(r"\|\s*:?-{3,}:?\s*\||^#{1,6} \S|\*\*\S[^*]*\*\*")   # table rule, heading, bold


def raw_tex(text: str) -> list[str]:
    """Lines of `text` (a page's visible prose, one text node a line) that contain
    something that looks like untypeset TeX, each cut to ~100 characters around it."""
    snippets = []
    for line in text.splitlines():
        match = RAW_TEX.search(line)
        if match:
            start = max(0, match.start() - 40)
            snippets.append(line[start:start + 100])
    return snippets


def raw_markdown(text: str) -> list[str]:
    """Lines of `text` (visible prose) that are Markdown left unrendered: a pipe-table
    rule (``|---|``), a ``# heading`` or ``**bold**``."""
    return [line[:100] for line in text.splitlines() if RAW_MARKDOWN.search(line)]

"""Opening the built book in headless Chromium, for tests/test_book.py.

Debian's `chromium` driven by Playwright for Python through `executable_path` (no browser
download). Every request that leaves localhost is aborted and recorded; every page is
checked for JavaScript errors, failed loads, images, typeset equations, raw TeX and
internal links, and photographed.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from book_site import LinkChecker, raw_markdown, raw_tex

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE_TIMEOUT_MS = 60_000

# MathJax: wait for its startup typesetting, then report math left untypeset and TeX errors.
MATH_JS = """async () => {
  const maths = [...document.querySelectorAll('.math')];
  if (!maths.length) return {n: 0, loaded: true, missing: [], errors: []};
  const t0 = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > 30000) return {n: maths.length, loaded: false, missing: [], errors: []};
    await new Promise(r => setTimeout(r, 50));
  }
  await MathJax.startup.promise;
  return {
    n: maths.length, loaded: true,
    missing: maths.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
    errors: [...document.querySelectorAll('mjx-merror')].map(
      e => e.getAttribute('data-mjx-error') || e.textContent),
  };
}"""
# Images: load even lazy ones, wait for all, report those that did not decode.
IMAGES_JS = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener('load', r, {once: true}); i.addEventListener('error', r, {once: true});
    setTimeout(r, 20000);
  })));
  return imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'));
}"""
# Visible prose: rendered text nodes outside code, scripts and MathJax output.
TEXT_JS = """() => {
  const skip = 'pre, code, kbd, samp, script, style, noscript, textarea, mjx-container, .highlight';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !el.getClientRects().length) continue;
    const t = n.textContent.trim();
    if (t) out.push(t);
  }
  return out.join('\\n');
}"""
LINKS_JS = "() => [...document.querySelectorAll('a[href]')].map(a => a.href)"


def chromium_path() -> str | None:
    """Debian's Chromium ($SPNLIB_CHROMIUM overrides), or None if it is not installed."""
    for candidate in (os.environ.get("SPNLIB_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@dataclass
class PageReport:
    """What went wrong on one page (empty lists: nothing)."""
    path: str
    outside_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    math: list[str] = field(default_factory=list)
    raw_tex: list[str] = field(default_factory=list)
    raw_markdown: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    n_math: int = 0
    n_links: int = 0

    def problems(self) -> list[str]:
        labelled = [("request to an outside host (blocked)", self.outside_requests),
                    ("JavaScript console error", self.console_errors),
                    ("failed load", self.failed_loads), ("broken image", self.broken_images),
                    ("equation", self.math), ("raw TeX in the text", self.raw_tex),
                    ("unrendered Markdown in the text", self.raw_markdown),
                    ("broken internal link", self.broken_links)]
        return [f"{self.path}: {label}: {item}" for label, items in labelled for item in items]


@contextmanager
def launch(executable: str, profile: Path) -> Iterator[object]:
    """A headless Chromium context with a fresh profile (Playwright's sync API)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, service_workers="block")
        try:
            yield context
        finally:
            context.close()


class BookBrowser:
    """Opens pages of the book served at `base_url` in `context` and checks them."""

    def __init__(self, context: object, base_url: str, screenshots: Path) -> None:
        self.context = context
        self.base_url = base_url
        self.links = LinkChecker(base_url)
        self.screenshots = screenshots

    def _open(self, path: str) -> tuple[object, PageReport]:
        report = PageReport(path)
        page = self.context.new_page()

        def route(route: object) -> None:
            """Localhost (this server) goes through; anything else is recorded and aborted."""
            if self.links.is_local(route.request.url):
                route.continue_()
            else:
                report.outside_requests.append(route.request.url)
                route.abort("blockedbyclient")

        page.route("**/*", route)
        page.on("console", lambda msg: report.console_errors.append(
            f"{msg.text} [{msg.location.get('url', '')}:{msg.location.get('lineNumber', '')}]")
            if msg.type == "error" else None)
        page.on("pageerror", lambda error: report.console_errors.append(f"uncaught {error}"))
        page.on("response", lambda response: report.failed_loads.append(
            f"HTTP {response.status} {response.url}") if response.status >= 400 else None)
        page.on("requestfailed", lambda request: report.failed_loads.append(
            f"{request.failure} {request.url}") if self.links.is_local(request.url) else None)
        page.goto(self.base_url + path, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        # also lets a redirect page (index.html) land before anything is evaluated
        page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
        return page, report

    def check_page(self, path: str) -> PageReport:
        """Load `path`, wait for MathJax and images, run every check, take a screenshot."""
        page, report = self._open(path)
        try:
            math = page.evaluate(MATH_JS)
            report.n_math = math["n"]
            if not math["loaded"]:
                report.math.append(f"{math['n']} math elements but MathJax never started")
            report.math += [f"not typeset: {tex!r}" for tex in math["missing"]]
            report.math += [f"MathJax error: {message}" for message in math["errors"]]
            report.broken_images += page.evaluate(IMAGES_JS)
            text = page.evaluate(TEXT_JS)
            report.raw_tex += raw_tex(text)
            report.raw_markdown += raw_markdown(text)
            hrefs = sorted(set(page.evaluate(LINKS_JS)))
            local = [href for href in hrefs if self.links.is_local(href)]
            report.n_links = len(local)
            report.broken_links += [p for p in map(self.links.problem, local) if p]
            self.screenshots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(self.screenshots / (path.replace("/", "__") + ".png")),
                            full_page=True)
        finally:
            page.close()
        return report

    def static_explorer_problems(self, path: str) -> list[str]:
        """Move each eta/depth slider of every static explorer on `path` with the keyboard,
        as a reader would, and check that the explorer's figure changes each time."""
        page, report = self._open(path)
        problems: list[str] = []
        try:
            explorers = page.locator("div.static-explorer")
            if explorers.count() == 0:
                return [f"{path}: no <div class=\"static-explorer\"> on the page"]
            for i in range(explorers.count()):
                explorer = explorers.nth(i)
                figure = explorer.locator(".static-explorer-figure")
                if figure.count() == 0:
                    problems.append(f"{path}: explorer {i} has no .static-explorer-figure")
                    continue
                for name in ("eta", "depth"):
                    problems += self._move(page, explorer, figure.first, name, f"{path}: explorer {i}")
            problems += [p for p in report.problems()]
        finally:
            page.close()
        return problems

    @staticmethod
    def _move(page: object, explorer: object, figure: object, name: str, where: str) -> list[str]:
        slider = explorer.locator(f'input[type="range"][name="{name}"]')
        if slider.count() == 0:
            return [f'{where} has no <input type="range" name="{name}">']
        slider = slider.first
        before, value = figure.inner_html(), slider.input_value()
        slider.focus()
        for key in ("End", "Home"):
            page.keyboard.press(key)
            if slider.input_value() != value:
                break
        else:
            return [f"{where}: the {name} slider does not move (a single position?)"]
        from playwright.sync_api import TimeoutError as PlaywrightTimeout
        try:
            page.wait_for_function("([el, before]) => el.innerHTML !== before",
                                   arg=[figure.element_handle(), before], timeout=5000)
        except PlaywrightTimeout:
            return [f"{where}: moving {name} from {value} to {slider.input_value()} left the figure unchanged"]
        broken = figure.evaluate(IMAGES_JS.replace("document.images", "el.querySelectorAll('img')")
                                 .replace("async () =>", "async el =>", 1))
        return [f"{where}: after moving {name}, image(s) {broken} in the figure did not load"] if broken else []

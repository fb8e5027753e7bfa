"""Opening the built book in headless Chromium, for tests/test_book.py.

Debian's `chromium` driven by Playwright for Python through `executable_path` (no browser
download), in a window of 1280 x 900 CSS pixels at 2 device pixels per CSS pixel (a
high-resolution screen: the screenshots show whether figures are sharp), with the scrollbars a
desktop browser shows (Playwright's headless default hides them). Every request that leaves
localhost is aborted and recorded; every page is checked for JavaScript errors, failed loads,
images, typeset equations, raw TeX, internal links, content cut off or hidden past its
container, its figures (sharp, shown at their size, numbered captions referred to from the
text), its table cells and printed output (words, not Python reprs), and photographed.

No check depends on how fast the machine is: every wait is for a condition (the page's load
event, MathJax's startup typesetting, every image settled, the fonts loaded, the search
finished), bounded only by :data:`PATIENCE_MS`, which no correct page comes near.
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from book_site import LinkChecker, raw_markdown, raw_tex

from spnlib.views.tables import python_internals, python_reprs

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PATIENCE_MS = 300_000
"""The bound on every wait (5 minutes). A page of the book loads, typesets and decodes its
images in a few seconds even on a busy 2-core machine; this bound is only there so that a
page that never gets there (a hung script) fails the test instead of hanging it."""
VIEWPORT = {"width": 1280, "height": 900}
PIXEL_RATIO = 2

# After the load event every deferred script has run, so MathJax has started if it ever will.
MATH_START_JS = """() => {
  const maths = document.querySelectorAll('.math').length;
  const started = !!(window.MathJax && MathJax.startup && MathJax.startup.promise);
  if (started) MathJax.startup.promise.then(() => { window.__mathDone = 'ok'; },
                                            e => { window.__mathDone = String(e); });
  return {n: maths, started};
}"""
MATH_DONE_JS = "() => window.__mathDone !== undefined"
MATH_REPORT_JS = """() => {
  const maths = [...document.querySelectorAll('.math')];
  return {
    failed: window.__mathDone === 'ok' ? null : window.__mathDone,
    missing: maths.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
    errors: [...document.querySelectorAll('mjx-merror')].map(
      e => e.getAttribute('data-mjx-error') || e.textContent),
  };
}"""
# Images: load lazy ones now; settled = loaded or failed (an image that fails fires 'error').
IMAGES_EAGER_JS = "() => { for (const i of document.images) i.loading = 'eager'; }"
IMAGES_SETTLED_JS = "() => [...document.images].every(i => i.complete)"
IMAGES_BROKEN_JS = """() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
                            .map(i => i.getAttribute('src'))"""
FONTS_READY_JS = "() => document.fonts.status === 'loaded'"
# A page that is only a redirect (the root index.html): where it sends the reader.
REDIRECT_JS = """() => {
  const m = document.querySelector('meta[http-equiv="refresh" i]');
  const target = m && (m.getAttribute('content') || '').split(/url=/i)[1];
  return target ? new URL(target.trim().replace(/^['"]|['"]$/g, ''), location.href).href : null;
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
# Open every collapsed <details> (hidden code), as a reader who opens them all would; close them again.
OPEN_TOGGLES_JS = """() => { window.__opened = [...document.querySelectorAll('details:not([open])')];
                             for (const d of window.__opened) d.open = true; }"""
CLOSE_TOGGLES_JS = "() => { for (const d of window.__opened || []) d.open = false; }"
# Content cut off or hidden: everything wide in the text column must wrap (printed output) or
# lie inside a box that scrolls with a visible scrollbar; nothing may be clipped by a box with
# overflow hidden/clip or run past the column.
OVERFLOW_JS = """() => {
  const column = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const scrolls = v => v === 'auto' || v === 'scroll', clips = v => v === 'hidden' || v === 'clip';
  const name = el => {
    const text = (el.textContent || el.getAttribute('alt') || el.getAttribute('src') || '')
      .replace(/\\s+/g, ' ').trim();
    return `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}> "${text.slice(0, 50)}"`;
  };
  const scrollbarShown = el => {
    const cs = getComputedStyle(el);
    return el.offsetHeight - el.clientHeight - parseFloat(cs.borderTopWidth) - parseFloat(cs.borderBottomWidth) > 0;
  };
  // how wide the content is; for an equation, the typeset formula (MathJax's hidden copy for
  // screen readers would inflate scrollWidth)
  const contentWidth = el => {
    const formula = el.tagName === 'MJX-CONTAINER' && el.querySelector(':scope > mjx-math');
    return formula ? formula.getBoundingClientRect().width : el.scrollWidth;
  };
  const problems = [];
  const wide = 'pre, mjx-container, table, img, svg, div.math, .cell_output > .output, .pst-scrollable-table-container';
  for (const el of column.querySelectorAll(wide)) {
    if (!el.getClientRects().length) continue;
    if (el.tagName !== 'MJX-CONTAINER' && el.parentElement.closest('mjx-container')) continue;
    const cs = getComputedStyle(el), box = el.getBoundingClientRect();
    let left = box.left, right = box.right;
    const content = Math.round(contentWidth(el));
    if (cs.display !== 'inline' && content > el.clientWidth + 1) {
      if (el.tagName === 'PRE' && el.closest('.cell_output')) {
        problems.push(`printed line wider than the column (${content} px in ${el.clientWidth} px; ` +
                      `it must wrap): ${name(el)}`);
        continue;
      }
      if (clips(cs.overflowX)) {
        problems.push(`cut off: ${content} px of content in a ${el.clientWidth} px box ` +
                      `with overflow ${cs.overflowX}: ${name(el)}`);
        continue;
      }
      if (scrolls(cs.overflowX)) {
        if (!scrollbarShown(el)) problems.push(`scrolls sideways with no scrollbar shown: ${name(el)}`);
      } else {
        right = box.left + content;
      }
    }
    for (let a = el.parentElement; a; a = a.parentElement) {
      const acs = getComputedStyle(a), abox = a.getBoundingClientRect();
      const outside = right > abox.right + 1 || left < abox.left - 1;
      if (outside && scrolls(acs.overflowX)) {
        if (!scrollbarShown(a)) problems.push(`in a box that scrolls sideways with no scrollbar shown: ${name(el)}`);
        break;
      }
      if (outside && clips(acs.overflowX)) {
        problems.push(`cut off by <${a.tagName.toLowerCase()} class="${a.className}"> ` +
                      `(overflow ${acs.overflowX}): ${name(el)}`);
        break;
      }
      if (a === column) {
        if (outside) problems.push(`runs ${Math.round(right - abox.right)} px past the text column: ${name(el)}`);
        break;
      }
    }
  }
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1)
    problems.push(`the page scrolls sideways (${root.scrollWidth} px in ${root.clientWidth} px)`);
  return problems;
}"""
# Figures of the notebooks (images in cell outputs): sharp, shown at their own size, each in a
# <figure> with a numbered caption that the text refers to; every numbered reference reads "Fig. N".
FIGURES_JS = """(pixelRatio) => {
  const out = {n: 0, blurry: [], shrunk: [], captions: [], references: []};
  const column = document.querySelector('article.bd-article') || document.body;
  const hrefs = [...column.querySelectorAll('a[href*="#"]')].map(a => a.getAttribute('href'));
  for (const img of column.querySelectorAll('.cell_output img')) {
    const box = img.getBoundingClientRect();
    if (!box.width) continue;
    out.n += 1;
    const src = (img.getAttribute('src') || '').split('/').pop().slice(0, 16);
    const per = img.naturalWidth / box.width;
    if (per < 0.95 * pixelRatio)
      out.blurry.push(`${src}: ${img.naturalWidth} image pixels over ${Math.round(box.width)} CSS pixels ` +
                      `(${per.toFixed(2)} per CSS pixel; a sharp figure has ${pixelRatio})`);
    const own = img.getAttribute('width') ? parseFloat(img.getAttribute('width')) : img.naturalWidth / pixelRatio;
    if (box.width < 0.9 * own)
      out.shrunk.push(`${src}: drawn ${Math.round(own)} px wide, shown at ${Math.round(box.width)} px ` +
                      `(${Math.round(100 * box.width / own)} %: its text is shrunk as much; ` +
                      `draw it at most the column's width)`);
    const figure = img.closest('figure');
    const caption = figure && figure.querySelector('figcaption');
    const number = caption && caption.querySelector('.caption-number');
    const label = number ? number.textContent.trim() : '';
    if (!caption) out.captions.push(`${src}: no caption (not in a <figure> with a <figcaption>)`);
    else if (!/^Fig\\. \\d+(\\.\\d+)*$/.test(label))
      out.captions.push(`${src}: caption not numbered "Fig. N" (${JSON.stringify(label)})`);
    else if (!figure.id || !hrefs.some(h => h.endsWith('#' + figure.id)))
      out.captions.push(`${src}: ${label} is not referred to from the text (no link to #${figure.id || '?'})`);
  }
  for (const ref of column.querySelectorAll('a.reference .std-numref')) {
    const text = ref.textContent.trim();
    if (!/^Fig\\. \\d+(\\.\\d+)*$/.test(text) && !/^(Table|Listing|Section|Eq)/.test(text))
      out.references.push(`a numbered reference reads ${JSON.stringify(text)}, not "Fig. N"`);
  }
  return out;
}"""
TABLE_CELLS_JS = """() => [...(document.querySelector('article.bd-article') || document.body)
                             .querySelectorAll('td, th')].map(c => c.innerText.trim()).filter(t => t)"""
WIDE_EQUATIONS_JS = """() => [...(document.querySelector('article.bd-article') || document.body)
                                .querySelectorAll('mjx-container[display="true"]')]
  .filter(m => { const f = m.querySelector(':scope > mjx-math');
                 return f && f.getBoundingClientRect().width > m.clientWidth + 1; })
  .map(m => `${Math.round(m.querySelector(':scope > mjx-math').getBoundingClientRect().width)} px in ` +
            `${m.clientWidth} px: "${m.textContent.replace(/\\s+/g, ' ').slice(0, 60)}"`)"""
PRINTED_JS = """() => [...(document.querySelector('article.bd-article') || document.body)
                         .querySelectorAll('.cell_output pre')].map(p => p.innerText)"""
SEARCH_DONE_JS = """() => {
  const s = document.querySelector('#search-results .search-summary, #search-results > p');
  return !!s && /found|did not match/i.test(s.textContent);
}"""
SEARCH_HITS_JS = "() => [...document.querySelectorAll('#search-results ul.search li a')].map(a => a.href)"


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
    cut_off: list[str] = field(default_factory=list)
    blurry_figures: list[str] = field(default_factory=list)
    shrunk_figures: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    table_words: list[str] = field(default_factory=list)
    printed_reprs: list[str] = field(default_factory=list)
    wide_equations: list[str] = field(default_factory=list)
    n_math: int = 0
    n_links: int = 0
    n_figures: int = 0

    def problems(self) -> list[str]:
        """What is wrong with the page itself (the build, the theme, the CSS, the links)."""
        labelled = [("request to an outside host (blocked)", self.outside_requests),
                    ("JavaScript console error", self.console_errors),
                    ("failed load", self.failed_loads), ("broken image", self.broken_images),
                    ("equation", self.math), ("raw TeX in the text", self.raw_tex),
                    ("unrendered Markdown in the text", self.raw_markdown),
                    ("broken internal link", self.broken_links),
                    ("content cut off or hidden", self.cut_off)]
        return [f"{self.path}: {label}: {item}" for label, items in labelled for item in items]

    def chapter_problems(self) -> list[str]:
        """What is wrong with the chapter's figures and tables (the notebook's outputs and cell
        metadata, the conventions of README "Writing a chapter")."""
        labelled = [("figure not sharp", self.blurry_figures), ("figure shrunk", self.shrunk_figures),
                    ("figure caption", self.captions),
                    ("Python, not words, in a table cell", self.table_words),
                    ("a Python repr printed", self.printed_reprs),
                    ("display equation wider than the column (break it over lines)", self.wide_equations)]
        return [f"{self.path}: {label}: {item}" for label, items in labelled for item in items]


@contextmanager
def launch(executable: str, profile: Path) -> Iterator[object]:
    """A headless Chromium context with a fresh profile (Playwright's sync API): 1280 x 900 CSS
    pixels at 2 device pixels each, scrollbars shown as on a desktop, every wait bounded by
    :data:`PATIENCE_MS` only."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            ignore_default_args=["--hide-scrollbars"], viewport=VIEWPORT,
            device_scale_factor=PIXEL_RATIO, service_workers="block")
        context.set_default_timeout(PATIENCE_MS)
        context.set_default_navigation_timeout(PATIENCE_MS)
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
        self._reports: dict[str, PageReport] = {}

    def _open(self, path: str) -> tuple[object, PageReport]:
        """A new page at `path`, loaded (a redirect followed), with listeners recording what fails."""
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
        page.goto(self.base_url + path, wait_until="load")
        self._follow_redirect(page)
        return page, report

    @staticmethod
    def _follow_redirect(page: object) -> None:
        """If the page is a redirect (<meta http-equiv="refresh">), wait until its target has loaded."""
        from playwright.sync_api import Error as PlaywrightError

        start = page.url
        for _ in range(3):
            try:
                target = page.evaluate(REDIRECT_JS)
            except PlaywrightError:          # the redirect navigated away while we looked:
                # wait for the new document's load (the old one's load state is already "load")
                page.wait_for_url(lambda url: url != start, wait_until="load")
                continue
            if not target:
                return
            page.wait_for_url(target, wait_until="load")

    def _wait_until_drawn(self, page: object, report: PageReport) -> None:
        """MathJax's startup typesetting done, every image settled, the fonts loaded."""
        math = page.evaluate(MATH_START_JS)
        report.n_math = math["n"]
        if math["n"] and not math["started"]:
            report.math.append(f"{math['n']} math elements but MathJax never started")
        elif math["started"]:
            page.wait_for_function(MATH_DONE_JS)
        page.evaluate(IMAGES_EAGER_JS)
        page.wait_for_function(IMAGES_SETTLED_JS)
        page.wait_for_function(FONTS_READY_JS)

    def check_page(self, path: str) -> PageReport:
        """Load `path`, wait until it is drawn, run every check, take a screenshot (cached per path)."""
        if path in self._reports:
            return self._reports[path]
        page, report = self._open(path)
        try:
            self._wait_until_drawn(page, report)
            if report.n_math and page.evaluate("() => window.__mathDone !== undefined"):
                math = page.evaluate(MATH_REPORT_JS)
                if math["failed"]:
                    report.math.append(f"MathJax failed: {math['failed']}")
                report.math += [f"not typeset: {tex!r}" for tex in math["missing"]]
                report.math += [f"MathJax error: {message}" for message in math["errors"]]
            report.broken_images += page.evaluate(IMAGES_BROKEN_JS)
            text = page.evaluate(TEXT_JS)
            report.raw_tex += raw_tex(text)
            report.raw_markdown += raw_markdown(text)
            hrefs = sorted(set(page.evaluate(LINKS_JS)))
            local = [href for href in hrefs if self.links.is_local(href)]
            report.n_links = len(local)
            report.broken_links += [p for p in map(self.links.problem, local) if p]
            figures = page.evaluate(FIGURES_JS, PIXEL_RATIO)
            report.n_figures = figures["n"]
            report.blurry_figures += figures["blurry"]
            report.shrunk_figures += figures["shrunk"]
            report.captions += figures["captions"] + figures["references"]
            report.table_words += [f"{found} in {cell[:80]!r}" for cell in page.evaluate(TABLE_CELLS_JS)
                                   for found in python_internals(cell)]
            report.wide_equations += page.evaluate(WIDE_EQUATIONS_JS)
            report.printed_reprs += [f"{found} in {text.strip()[:80]!r}" for text in page.evaluate(PRINTED_JS)
                                     for found in python_reprs(text)]
            # before the screenshot, which changes the page's metrics (scrollbars) while it is taken
            page.evaluate(OPEN_TOGGLES_JS)
            report.cut_off += page.evaluate(OVERFLOW_JS)
            page.evaluate(CLOSE_TOGGLES_JS)
            self.screenshots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(self.screenshots / (path.replace("/", "__") + ".png")),
                            full_page=True)
        finally:
            page.close()
        self._reports[path] = report
        return report

    def search(self, start: str, word: str) -> list[str]:
        """Type `word` into the search box of page `start`, as a reader would, press Enter, and
        return the site paths of the pages the search finds (in the order shown)."""
        page, report = self._open(start)
        try:
            page.locator("button.search-button__button:visible").first.click()
            box = page.locator("input[name='q']:visible").first
            box.fill(word)
            box.press("Enter")
            page.wait_for_url(re.compile(r"search\.html\?q="), wait_until="load")
            page.wait_for_function(SEARCH_DONE_JS)
            hits = page.evaluate(SEARCH_HITS_JS)
        finally:
            page.close()
        problems = report.problems()
        if problems:
            raise AssertionError("the search page has problems:\n" + "\n".join(problems))
        return [hit.removeprefix(self.base_url).split("#")[0].split("?")[0] for hit in hits]

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
        """Press End (or Home) on a slider; the explorer redraws in its 'input' handler, so the
        figure has changed once the tasks queued by the key press have run (no waiting for time)."""
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
        # let every task the key press queued run: a frame, then a task after it
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")
        if figure.inner_html() == before:
            return [f"{where}: moving {name} from {value} to {slider.input_value()} left the figure unchanged"]
        page.wait_for_function(IMAGES_SETTLED_JS)
        broken = figure.evaluate("el => [...el.querySelectorAll('img')]"
                                 ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))")
        return [f"{where}: after moving {name}, image(s) {broken} in the figure did not load"] if broken else []

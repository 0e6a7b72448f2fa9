"""The rendered site as readers see it: every page of ``_site/`` in headless Chromium.

A session fixture serves ``_site/`` over HTTP on a free localhost port and drives
Debian's Chromium through Playwright (never `playwright install`: the browser is the
system one at /usr/bin/chromium). Every request that leaves localhost is blocked and
recorded, so a page that still loads a script, font or stylesheet from a CDN fails
here the way it would fail for a reader offline, in a classroom behind a firewall, or
years from now when the CDN has moved on.

Each listed page (home page and sidebar) is loaded once; the tests below then check
what that visit saw: no JavaScript error, no failed request, no request to another
host, every image loaded, no raw TeX and no unresolved cross-reference in the text,
every formula typeset, a working dark-mode toggle, a search index that lists the page
and, for chapters, a notebook download that holds the chapter's code. The interactive
chapter's Observable JS explorer is driven with the mouse and its numbers compared with
the formula on the page.

The tests need a current ``_site/`` (``make site``; ``make test`` renders first): a
missing or stale site fails them with the list of out-of-date pages.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest

from support import qmd
from support import rendered

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Debian's Chromium; POOLING_CHROMIUM names another Chromium build (macOS, say).
CHROMIUM = os.environ.get("POOLING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
PAGES = rendered.pages()
CHAPTERS = rendered.chapters()
INTERACTIVE = rendered.Page("chapters/06-shrinkage-interactive.qmd")
TIMEOUT_MS = 20_000


def _ids(pages):
    return [p.stem for p in pages]


# --------------------------------------------------------------------------------------
# Server and browser
# --------------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


def test_site_is_rendered_and_current():
    """The site the other tests read exists and is newer than every source."""
    rendered.require_current_site()


@pytest.fixture(scope="session")
def site_url():
    """Base URL of ``_site/`` served on a free localhost port."""
    rendered.require_current_site(brief=True)
    handler = functools.partial(_QuietHandler, directory=str(rendered.SITE))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium package "
                    "(apt-get install chromium; .ci/run does) or set POOLING_CHROMIUM to a "
                    "Chromium executable", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# --------------------------------------------------------------------------------------
# One visit per page
# --------------------------------------------------------------------------------------


@dataclass
class Visit:
    """What loading one page in the browser showed."""

    page: rendered.Page
    js_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    offsite_requests: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    text_outside_code: list[str] = field(default_factory=list)
    math_spans: int = 0
    untypeset_math: list[str] = field(default_factory=list)
    unresolved_citations: list[str] = field(default_factory=list)
    dark_mode: dict = field(default_factory=dict)
    copied: list[dict] = field(default_factory=list)
    notebook: Path | None = None
    notebook_error: str | None = None


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname in LOCAL_HOSTS


def new_page(browser, visit: Visit, *, downloads: bool = False):
    """A fresh browser tab that records errors and blocks every request outside localhost."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  accept_downloads=downloads)

    def route(route):
        url = route.request.url
        if _is_local(url):
            route.continue_()
        else:
            visit.offsite_requests.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", route)
    tab = context.new_page()
    tab.on("pageerror", lambda error: visit.js_errors.append(str(error)))
    tab.on("console", lambda message: visit.console_errors.append(
        f"{message.text} ({message.location.get('url', '?')})") if message.type == "error" else None)
    tab.on("requestfailed", lambda request: visit.failed_requests.append(
        f"{request.url}: {request.failure}") if _is_local(request.url) else None)
    tab.on("response", lambda response: visit.failed_requests.append(
        f"{response.url}: HTTP {response.status}") if response.status >= 400 else None)
    return context, tab


def settle(tab) -> None:
    """Wait until the page has loaded, the network is quiet and MathJax has typeset."""
    tab.wait_for_load_state("load")
    try:
        tab.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    except Exception:  # a page that never goes quiet still gets checked
        pass
    tab.evaluate("""async () => {
        if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
            await window.MathJax.startup.promise;
        }
    }""")


# Text nodes outside code, scripts and typeset math, hidden ones included (a collapsed
# solution is one click away from visible).
_COLLECT_TEXT = """() => {
    const skip = 'pre, code, script, style, noscript, template, textarea, mjx-container, .katex';
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const out = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        if (!parent || parent.closest(skip)) continue;
        const text = node.textContent;
        if (text.trim()) out.push(text);
    }
    return out;
}"""

_COLLECT_IMAGES = """async () => {
    const images = [...document.images];
    for (const img of images) if (img.loading === 'lazy') img.loading = 'eager';
    await Promise.all(images.map((img) => img.complete ? null : new Promise((done) => {
        img.addEventListener('load', done); img.addEventListener('error', done);
        setTimeout(done, 15000);
    })));
    return images.map((img) => ({src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0,
                                 width: img.naturalWidth}));
}"""

_COLLECT_MATH = """() => {
    const spans = [...document.querySelectorAll('span.math')];
    const untypeset = spans.filter((s) => !s.querySelector('mjx-container, .katex'))
                           .map((s) => s.textContent.slice(0, 80));
    const citations = [...document.querySelectorAll('.citation')]
        .filter((c) => /\\?/.test(c.textContent) && c.querySelector('strong'))
        .map((c) => c.textContent.slice(0, 80));
    return {count: spans.length, untypeset, citations};
}"""

_THEME_STATE = """() => {
    const rgb = getComputedStyle(document.body).backgroundColor.match(/[\\d.]+/g).map(Number);
    const lum = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;
    const alternates = [...document.querySelectorAll('link.quarto-color-scheme.quarto-color-alternate')];
    return {dark: document.body.classList.contains('quarto-dark'),
            light: document.body.classList.contains('quarto-light'),
            luminance: lum, background: getComputedStyle(document.body).backgroundColor,
            alternate_enabled: alternates.length > 0 && alternates.every((l) => l.rel === 'stylesheet')};
}"""


def _toggle_theme(tab) -> dict:
    """Click the dark-mode toggle twice; the theme before, after one and after two clicks."""
    states = {"before": tab.evaluate(_THEME_STATE)}
    tab.evaluate("() => window.scrollTo(0, 0)")  # the navbar hides while the page scrolls down
    toggle = tab.locator(".quarto-color-scheme-toggle:visible").first
    if toggle.count() == 0:
        return {**states, "error": "no visible .quarto-color-scheme-toggle"}
    for name in ("after_one_click", "after_two_clicks"):
        was_dark = tab.evaluate(_THEME_STATE)["dark"]
        try:
            toggle.click(timeout=5000)
        except Exception as exc:
            return {**states, "error": f"cannot click the dark-mode toggle: {exc}".split("\n")[0]}
        try:  # the body class flips at once; the dark stylesheet may take a moment to load
            tab.wait_for_function(
                "(wasDark) => document.body.classList.contains('quarto-dark') !== wasDark",
                arg=was_dark, timeout=5000)
            tab.wait_for_function(
                """([wasDark, before]) => {
                    const rgb = getComputedStyle(document.body).backgroundColor.match(/[\\d.]+/g).map(Number);
                    const lum = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;
                    return wasDark ? lum > 0.5 : lum < 0.5;
                }""", arg=[was_dark, None], timeout=5000)
        except Exception:
            pass
        states[name] = tab.evaluate(_THEME_STATE)
    return states


def _copy_buttons(tab, base_url: str) -> list[dict]:
    """Click each Python cell's copy button; what landed on the clipboard, per block id."""
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url.rstrip("/"))
    # Open the collapsed callouts (exercise solutions) the way a reader does, with a click.
    headers = tab.locator('.callout-header[data-bs-toggle="collapse"][aria-expanded="false"]')
    for _ in range(headers.count()):
        headers.first.click(timeout=5000)
        tab.wait_for_timeout(50)
    tab.wait_for_function("() => !document.querySelector('.callout-collapse.collapsing')", timeout=5000)
    # Press each button in the page itself (one round trip instead of one per block).
    return tab.evaluate("""async () => {
        const copied = [];
        for (const block of document.querySelectorAll('div.sourceCode.cell-code')) {
            if (!block.querySelector('pre.python')) continue;
            const button = block.querySelector('button.code-copy-button');
            if (!button || !block.checkVisibility()) { copied.push({id: block.id, text: null}); continue; }
            await navigator.clipboard.writeText('');
            button.click();
            copied.push({id: block.id, text: await navigator.clipboard.readText()});
        }
        return copied;
    }""")


def _download_notebook(tab, visit: Visit, folder: Path) -> None:
    link = tab.locator(".quarto-alternate-formats a", has_text="Jupyter")
    if link.count() == 0:
        visit.notebook_error = 'no "Jupyter" link under "Other Formats"'
        return
    href = link.first.get_attribute("href") or ""
    if not href.endswith(".ipynb"):
        visit.notebook_error = f'the "Jupyter" link points to {href!r}, not to an .ipynb file'
        return
    with tab.expect_download(timeout=TIMEOUT_MS) as download_info:
        link.first.click()
    download = download_info.value
    if download.failure():
        visit.notebook_error = f"the download of {href} failed: {download.failure()}"
        return
    visit.notebook = folder / download.suggested_filename
    download.save_as(visit.notebook)


@pytest.fixture(scope="session")
def visits(browser, site_url, tmp_path_factory):
    """Visit each page once (lazily) and keep what the visit saw."""
    cache: dict[str, Visit] = {}
    folder = tmp_path_factory.mktemp("downloads")

    def get(page: rendered.Page) -> Visit:
        if page.source not in cache:
            visit = Visit(page)
            context, tab = new_page(browser, visit, downloads=True)
            try:
                tab.goto(site_url + page.html, wait_until="load", timeout=TIMEOUT_MS)
                settle(tab)
                visit.images = tab.evaluate(_COLLECT_IMAGES)
                visit.text_outside_code = tab.evaluate(_COLLECT_TEXT)
                math_facts = tab.evaluate(_COLLECT_MATH)
                visit.math_spans = math_facts["count"]
                visit.untypeset_math = math_facts["untypeset"]
                visit.unresolved_citations = math_facts["citations"]
                visit.dark_mode = _toggle_theme(tab)
                if page.is_chapter:
                    visit.copied = _copy_buttons(tab, site_url)
                    _download_notebook(tab, visit, folder)
                tab.wait_for_timeout(200)  # let requests started by the clicks finish
            finally:
                context.close()
            cache[page.source] = visit
        return cache[page.source]

    return get


def _short(item: str, width: int = 300) -> str:
    """First and last line of a long message (an OJS error repeats the whole cell)."""
    lines = [line for line in item.strip().split("\n") if line.strip()]
    text = lines[0] if len(lines) < 3 else f"{lines[0]} [...] {lines[-1]}"
    return text if len(text) <= width else text[: width - 3] + "..."


def _listing(items: list[str], limit: int = 12) -> str:
    shown = "\n  ".join(_short(item) for item in items[:limit])
    more = f"\n  ... and {len(items) - limit} more" if len(items) > limit else ""
    return "\n  " + shown + more


# --------------------------------------------------------------------------------------
# Every page
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_page_loads_without_javascript_errors(page, visits):
    visit = visits(page)
    # "Failed to load resource" messages are the failed and blocked requests, checked below.
    errors = [f"uncaught: {e}" for e in visit.js_errors] + [
        f"console: {e}" for e in visit.console_errors if not e.startswith("Failed to load resource")]
    assert not errors, f"{page.html}: {len(errors)} JavaScript error(s):{_listing(errors)}"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_page_requests_nothing_from_other_hosts(page, visits):
    visit = visits(page)
    offsite = sorted(set(visit.offsite_requests))
    assert not offsite, (
        f"{page.html} requests {len(offsite)} resource(s) from other hosts (blocked here; a "
        f"reader offline or behind a firewall would not get them either):{_listing(offsite)}"
    )


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_page_has_no_failed_requests(page, visits):
    visit = visits(page)
    assert not visit.failed_requests, (
        f"{page.html}: {len(visit.failed_requests)} request(s) to the site failed:"
        f"{_listing(visit.failed_requests)}"
    )


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_image_loads(page, visits):
    visit = visits(page)
    broken = [f"{img['src']}" for img in visit.images if not img["loaded"]]
    assert not broken, f"{page.html}: {len(broken)} of {len(visit.images)} image(s) did not load:{_listing(broken)}"
    if qmd.parse_qmd(rendered.ROOT / page.source).text.count("#| fig-cap"):
        assert visit.images, f"{page.html}: the page has figures in its source but shows no <img>"


RAW_TEX = [
    (re.compile(r"\\[A-Za-z]+"), "a TeX command"),
    (re.compile(r"\\[()\[\]]"), "a TeX math delimiter"),
    (re.compile(r"\$\$"), "a $$ delimiter"),
    (re.compile(r"(?<![\w$])\$[^\s$][^$\n]{0,60}?(?<=[^\s\\$])\$(?![\w$])"), "inline $...$ math"),
]


def raw_tex_in(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        for pattern, what in RAW_TEX:
            for m in pattern.finditer(text):
                context = text[max(m.start() - 30, 0): m.end() + 30].replace("\n", " ")
                found.append(f"{what} {m.group(0)!r} in ...{context}...")
    return found


def test_raw_tex_detection():
    """The raw-TeX patterns catch untypeset math and leave ordinary prose alone."""
    assert raw_tex_in([r"the weight \(w_j = \frac{n_j}{n_j + 1}\) is"])
    assert raw_tex_in(["$$ a = b $$"])
    assert raw_tex_in(["with $n_j$ respondents"])
    assert not raw_tex_in(["it costs 5 dollars, n* = σ_y²/σ_α², a path C:/x and 3 $ signs"])


def _source_has_math(page: rendered.Page) -> bool:
    """Whether the page's Markdown has $...$ or $$...$$ math (raw HTML scripts aside)."""
    prose = qmd.parse_qmd(rendered.ROOT / page.source).prose
    prose = re.sub(r"<(script|style)\b.*?</\1>", "", prose, flags=re.S | re.I)
    inline = r"(?<![\\\w$])\$(?=\S)[^$\n]+?(?<=\S)\$(?![\w$])"
    return re.search(rf"\$\$|{inline}", prose) is not None


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_math_is_typeset_and_no_raw_tex_shows(page, visits):
    visit = visits(page)
    problems = raw_tex_in(visit.text_outside_code)
    problems += [f"formula not typeset: {tex!r}" for tex in visit.untypeset_math]
    if _source_has_math(page) and visit.math_spans == 0:
        problems.append("the source has $...$ math but the page has no math elements")
    assert not problems, f"{page.html}: {len(problems)} place(s) show raw TeX:{_listing(problems)}"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_no_unresolved_references(page, visits):
    visit = visits(page)
    problems = []
    for text in visit.text_outside_code:
        for m in re.finditer(r"\?@[\w:.-]+", text):
            problems.append(f"unresolved cross-reference {m.group(0)}")
    problems += [f"unresolved citation {c!r}" for c in visit.unresolved_citations]
    assert not problems, f"{page.html}:{_listing(problems)}"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_dark_mode_toggle_switches_theme(page, visits):
    states = visits(page).dark_mode
    assert "error" not in states, f"{page.html}: {states.get('error')}"
    before, dark, back = states["before"], states["after_one_click"], states["after_two_clicks"]
    assert before["light"] and not before["dark"] and before["luminance"] > 0.5, (
        f"{page.html} does not start in the light theme: {before}")
    assert dark["dark"] and dark["alternate_enabled"] and dark["luminance"] < 0.5, (
        f"{page.html}: one click on the dark-mode toggle did not switch to the dark theme "
        f"(body class, dark stylesheet, background {dark['background']}): {dark}")
    assert back["light"] and not back["alternate_enabled"] and back["luminance"] > 0.5, (
        f"{page.html}: a second click did not switch back to the light theme: {back}")


def test_search_index_lists_every_page(site_url, browser):
    """``search.json`` (what the navbar search reads) has an entry for every listed page."""
    visit = Visit(INTERACTIVE)
    context, tab = new_page(browser, visit)
    try:
        response = tab.goto(site_url + "search.json", timeout=TIMEOUT_MS)
        assert response is not None and response.ok, f"search.json: {response and response.status}"
        entries = json.loads(response.text())
    finally:
        context.close()
    by_page: dict[str, list[dict]] = {}
    for entry in entries:
        by_page.setdefault(entry["href"].split("#")[0], []).append(entry)
    missing, wrong_title = [], []
    for page in PAGES:
        found = by_page.get(page.html)
        if not found:
            missing.append(page.html)
        elif page.title and not any(e.get("title") == page.title for e in found):
            wrong_title.append(f"{page.html}: no entry titled {page.title!r}")
    assert not missing, f"search.json has no entry for {len(missing)} page(s):{_listing(missing)}"
    assert not wrong_title, _listing(wrong_title)


# --------------------------------------------------------------------------------------
# Chapters: copy buttons and notebook downloads
# --------------------------------------------------------------------------------------


def _normalise(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip("\n").split("\n"))


@pytest.mark.parametrize("page", CHAPTERS, ids=_ids(CHAPTERS))
def test_copy_button_copies_the_code_as_shown(page, visits):
    """Each Python cell's copy button puts exactly the displayed code on the clipboard.

    The rendered student view (test_rendered_student_view.py) reads the same text from
    the HTML; this ties that reading to what a student actually gets.
    """
    visit = visits(page)
    shown = rendered.shown_python_cells(page)
    assert len(visit.copied) == len(shown), (
        f"{page.html}: the browser found {len(visit.copied)} Python cells, the HTML {len(shown)}")
    assert shown, f"{page.html} shows no Python cells"
    for copied, block in zip(visit.copied, shown):
        assert copied["id"] == block.block_id
        assert copied["text"] is not None, f"{page.html}: code block {block.block_id} is hidden"
        assert _normalise(copied["text"]) == _normalise(block.text), (
            f"{page.html}: the copy button of {block.block_id} copies\n{copied['text']!r}\n"
            f"but the page shows\n{block.text!r}")


@pytest.mark.parametrize("page", CHAPTERS, ids=_ids(CHAPTERS))
def test_notebook_download_holds_the_chapters_code(page, visits):
    visit = visits(page)
    assert visit.notebook_error is None, f"{page.html}: {visit.notebook_error}"
    try:
        nb = nbformat.read(str(visit.notebook), as_version=4)
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        pytest.fail(f"{page.notebook}: not a valid notebook: {exc.message}", pytrace=False)
    except Exception as exc:  # not JSON, or JSON that is no notebook at all
        pytest.fail(f"{page.notebook}: nbformat cannot read it: {type(exc).__name__}: {exc}", pytrace=False)
    assert nb.metadata.get("kernelspec", {}).get("language", "python") == "python"
    doc = qmd.parse_qmd(rendered.ROOT / page.source)
    # Cells in a `.content-visible when-format="html"` div (say) are left out by design.
    expected = [_normalise(cell.source) for cell in rendered.cells_for_format(doc, "ipynb")
                if cell.evaluated]
    actual = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            _, source = qmd.parse_cell_options(cell.source)
            actual.append(_normalise(source))
    # Every cell of the chapter, in order; the notebook may add cells of its own (the
    # exercises' code, an install line), but must not drop or change one.
    missing = [code.split("\n")[0] for code in expected if code not in actual]
    assert not missing, (
        f"{page.notebook}: {len(missing)} of the chapter's {len(expected)} {{python}} cells are "
        f"not in the notebook (or differ), first lines:{_listing(missing)}")
    remaining = iter(actual)
    in_order = all(any(code == cell for cell in remaining) for code in expected)
    assert in_order, f"{page.notebook}: the code cells are in another order than in {page.source}"


# --------------------------------------------------------------------------------------
# The interactive chapter
# --------------------------------------------------------------------------------------


def partial_pooling_weight(n: float, sigma_y: float, sigma_alpha: float) -> float:
    """w_j of @eq-partial-pooling in chapter 6: (n/σ_y²) / (n/σ_y² + 1/σ_α²)."""
    return (n / sigma_y**2) / (n / sigma_y**2 + 1 / sigma_alpha**2)


def ojs_data(html: str) -> dict:
    """The values the page's Python cells handed to Observable JS (``ojs_define``)."""
    values = {}
    for m in re.finditer(r'<script type="ojs-define">(.*?)</script>', html, flags=re.S):
        for item in json.loads(m.group(1))["contents"]:
            values[item["name"]] = item["value"]
    return values


_SLIDERS = """() => Object.fromEntries([...document.querySelectorAll('form')]
    .filter((f) => f.querySelector('input[type=range]') && f.querySelector('label'))
    .map((f) => [f.querySelector('label').textContent.trim(),
                 Number(f.querySelector('input[type=number]').value)]))"""

_READOUT = r"""() => {
    const text = [...document.querySelectorAll('p')].map((p) => p.textContent)
        .find((t) => t.includes('the weight of the group') && t.includes('lands at'));
    return text || null;
}"""


def _read_readout(text: str) -> dict:
    pattern = re.compile(
        r"With n = (?P<n>[\d,]+), the weight of the group.s own mean is\s+w = (?P<w>[\d.]+)\."
        r".*?moves (?P<pct>\d+)% of the way from\s+ȳ_j = (?P<ybar>[\d.-]+) toward μ_α = (?P<mu>[\d.-]+)"
        r" and lands at\s+(?P<estimate>[\d.-]+)\.", re.S)
    m = pattern.search(text)
    assert m, f"cannot read the explorer's sentence: {text!r}"
    return {"n": int(m["n"].replace(",", "")), "w": float(m["w"]), "ybar": float(m["ybar"]),
            "mu": float(m["mu"]), "estimate": float(m["estimate"]), "pct": int(m["pct"])}


_NUMBER_LINE = r"""() => {
    // x positions (pixels) of the number line's three markers: the no-pooling circle,
    // the pooled-mean diamond and the partial-pooling square.
    const svg = document.querySelector('#fig-widget svg');
    const x = (el) => el.tagName === 'circle' ? Number(el.getAttribute('cx'))
        : Number((el.getAttribute('transform') || '').match(/translate\(([-\d.e]+)/)[1]);
    const dots = [...svg.querySelectorAll('g[aria-label="dot"] > *')];
    const circle = dots.find((el) => el.tagName === 'circle');
    const paths = dots.filter((el) => el.tagName === 'path');
    const square = paths.find((el) => /h[\d.]+v/.test(el.getAttribute('d')));
    const diamond = paths.find((el) => el !== square);
    return {ybar: circle ? x(circle) : null, mu: diamond ? x(diamond) : null,
            estimate: square ? x(square) : null, text: svg.textContent};
}"""


def test_shrinkage_explorer_follows_the_formula(browser, site_url):
    """Chapter 6's sliders and plot draw, and moving the group-size slider moves the
    partial-pooling estimate toward the group's own mean by the amount @eq-partial-pooling gives."""
    html = (rendered.SITE / INTERACTIVE.html).read_text(encoding="utf-8")
    data = ojs_data(html)
    assert {"countries", "estimates"} <= data.keys(), f"ojs_define data on the page: {sorted(data)}"
    estimates = data["estimates"]
    zudan = next(c for c in data["countries"] if c["country"] == "Zudan")

    visit = Visit(INTERACTIVE)
    context, tab = new_page(browser, visit)
    try:
        tab.goto(site_url + INTERACTIVE.html, wait_until="load", timeout=TIMEOUT_MS)
        settle(tab)
        try:
            tab.wait_for_selector("#fig-widget svg", timeout=TIMEOUT_MS)
            tab.wait_for_function(f"() => ({_READOUT})() !== null", timeout=TIMEOUT_MS)
        except Exception:
            problems = visit.js_errors + visit.console_errors + sorted(set(visit.offsite_requests))
            pytest.fail(f"{INTERACTIVE.html}: the explorer did not draw its plot and sentence "
                        f"within {TIMEOUT_MS / 1000:.0f} s. Errors and blocked requests:{_listing(problems)}",
                        pytrace=False)
        sliders = tab.evaluate(_SLIDERS)
        expected_labels = {"Group size n", "Within-group SD σ_y", "Between-group SD σ_α",
                           "Group sample mean ȳ_j", "Overall mean μ_α"}
        assert expected_labels <= sliders.keys(), f"sliders on the page: {sorted(sliders)}"
        assert tab.locator("#fig-widget svg").count() >= 2, "the explorer should draw two panels"

        # The sliders start from Zudan and from the Python estimates handed over by ojs_define.
        assert sliders["Group size n"] == zudan["n"]
        for label, value in [("Within-group SD σ_y", estimates["sigma_y"]),
                             ("Between-group SD σ_α", estimates["sigma_alpha"]),
                             ("Group sample mean ȳ_j", zudan["no_pooling"]),
                             ("Overall mean μ_α", estimates["mu_alpha"])]:
            assert sliders[label] == pytest.approx(value, abs=0.005 + 1e-9), label
        before = _read_readout(tab.evaluate(_READOUT))
        sigma_y, sigma_alpha = sliders["Within-group SD σ_y"], sliders["Between-group SD σ_α"]
        ybar, mu = sliders["Group sample mean ȳ_j"], sliders["Overall mean μ_α"]

        # Drag the group-size slider to three quarters of its (logarithmic) track.
        track = tab.locator("form", has_text="Group size n").locator("input[type=range]")
        track.scroll_into_view_if_needed()
        box = track.bounding_box()
        tab.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + box["height"] / 2)
        tab.wait_for_function(
            f"() => {{ const t = ({_READOUT})(); return t && !t.includes('n = {before['n']},'); }}",
            timeout=TIMEOUT_MS)
        after = _read_readout(tab.evaluate(_READOUT))
        shown_n = max(1, round(tab.evaluate(_SLIDERS)["Group size n"]))
        number_line = tab.evaluate(_NUMBER_LINE)
    finally:
        context.close()

    # The sentence matches the formula for the slider values, before and after the move.
    for state in (before, after):
        w = partial_pooling_weight(state["n"], sigma_y, sigma_alpha)
        estimate = w * ybar + (1 - w) * mu
        inputs = (f"n = {state['n']}, sigma_y = {sigma_y}, sigma_alpha = {sigma_alpha}, "
                  f"ybar = {ybar}, mu = {mu}")
        assert state["w"] == pytest.approx(w, abs=0.0005 + 1e-9), (
            f"the explorer shows w = {state['w']}; @eq-partial-pooling gives {w:.4f} for {inputs}")
        assert state["estimate"] == pytest.approx(estimate, abs=0.005 + 1e-9), (
            f"the explorer shows the estimate {state['estimate']}; the formula gives {estimate:.4f} "
            f"for {inputs}")
        assert state["pct"] == round(100 * (1 - w)), (
            f"the explorer says the estimate moves {state['pct']}% of the way; 1 - w = {1 - w:.4f}")
        assert (state["ybar"], state["mu"]) == (round(ybar, 2), round(mu, 2)), state
    assert before["n"] == zudan["n"]
    assert after["n"] == shown_n and after["n"] > 100, (
        f"the group-size slider did not move: n {before['n']} -> {after['n']}")
    # Moving n from 4 to several hundred pulls the estimate toward the group's own mean by
    # (w_after - w_before) * (ybar - mu).
    w_before = partial_pooling_weight(before["n"], sigma_y, sigma_alpha)
    w_after = partial_pooling_weight(after["n"], sigma_y, sigma_alpha)
    expected_move = (w_after - w_before) * (ybar - mu)
    assert abs(after["estimate"] - ybar) < abs(before["estimate"] - ybar)
    assert after["estimate"] - before["estimate"] == pytest.approx(expected_move, abs=0.01 + 1e-9)
    # The plot agrees: its label shows w, and the square sits (1 - w) of the way from the
    # no-pooling circle to the pooled-mean diamond.
    assert f"partial pooling (w = {w_after:.2f})" in number_line["text"], number_line["text"]
    assert None not in (number_line["ybar"], number_line["mu"], number_line["estimate"]), number_line
    fraction = (number_line["estimate"] - number_line["ybar"]) / (number_line["mu"] - number_line["ybar"])
    assert fraction == pytest.approx(1 - w_after, abs=0.01), number_line
    assert not visit.js_errors, _listing(visit.js_errors)

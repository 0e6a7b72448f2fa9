"""The rendered site loads nothing from other hosts, and every file it loads is there.

Reads the HTML pages and stylesheets in ``_site/`` (``make site`` renders it; without
it these tests fail, naming the command, rather than skip) and finds every place where a
page would make the browser fetch something:

* ``src`` of scripts, images, frames, media; ``href`` of ``<link>`` elements that load
  something (stylesheets, icons, preloads, modules), ``data`` of objects;
* ``url(...)`` and ``@import`` in ``<style>`` elements, ``style`` attributes and the
  site's ``.css`` files (the Bootswatch themes would ``@import`` their web fonts);
* inline scripts that set a ``src``/``href``, ``import`` or ``fetch`` an absolute URL
  (Quarto's template adds MathJax that way, its notebook outputs add require.js and jQuery).

Any of these with an ``http(s)://`` or protocol-relative (``//``) address is a request
to another host: the page would break offline. Links that a reader follows
(``<a href>``) may point anywhere. The same references with a relative address must
name a file that exists in ``_site/``, so that a vendored file left out of
``project: resources`` is caught too.

The browser tests (tests/test_browser.py) load the pages with other hosts blocked; this
test names the element and file at fault without a browser.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from support import qmd
from support.site import listed_pages

ROOT = qmd.ROOT
SITE = ROOT / "_site"
RENDER_COMMAND = "make site"

# <link rel=...> values that do not make the browser fetch the target.
_NAVIGATION_RELS = {"alternate", "author", "canonical", "help", "license", "me", "next",
                    "prev", "search", "bookmark", "external", "nofollow", "noopener",
                    "noreferrer", "tag"}
_SRC_TAGS = {"script", "img", "iframe", "source", "video", "audio", "embed", "track", "input"}

_CSS_URL = re.compile(r"""url\(\s*(['"]?)(?P<url>[^'")]+)\1\s*\)""")
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?['"]?(?P<url>[^'")\s;]+)""")
_INLINE_SCRIPT_LOADS = [
    re.compile(r"""\.(?:src|href)\s*=\s*['"`](?P<url>(?:https?:)?//[^'"`]+)"""),
    re.compile(r"""setAttribute\(\s*['"](?:src|href)['"]\s*,\s*['"`](?P<url>(?:https?:)?//[^'"`]+)"""),
    re.compile(r"""\b(?:import|fetch|require|importScripts)\s*\(\s*['"`](?P<url>(?:https?:)?//[^'"`]+)"""),
    re.compile(r"""\bfrom\s*['"`](?P<url>(?:https?:)?//[^'"`]+)"""),
]


@dataclass(frozen=True)
class Reference:
    """One address a page or stylesheet makes the browser load."""

    file: Path  # the HTML or CSS file that holds the reference
    what: str  # e.g. '<script src>', 'url() in style', '@import'
    url: str

    @property
    def offsite(self) -> bool:
        return bool(re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", self.url, re.I)) and not self.url.startswith("file:")

    @property
    def local(self) -> bool:
        return not self.offsite and not re.match(r"^(?:data|blob|about|javascript|mailto):", self.url, re.I) \
            and not self.url.startswith("#") and self.url.strip() != ""

    def __str__(self) -> str:
        return f"{self.file.relative_to(SITE)}: {self.what} {self.url}"


def css_references(css: str, file: Path, where: str) -> list[Reference]:
    """``url()`` and ``@import`` addresses in CSS text.

    In an ``@font-face`` rule only the first source counts: browsers take the first
    format they read (all current ones read WOFF2) and never request the fallbacks.
    """
    refs = []
    imports = []
    for m in _CSS_IMPORT.finditer(css):
        refs.append(Reference(file, f"@import in {where}", m["url"]))
        imports.append(range(m.start(), m.end()))
    fallbacks = set()
    for face in re.finditer(r"@font-face\s*{[^}]*}", css):
        for extra in list(_CSS_URL.finditer(face.group(0)))[1:]:
            fallbacks.add(face.start() + extra.start())
    for m in _CSS_URL.finditer(css):
        if m.start() in fallbacks or m["url"].startswith("data:") or any(m.start() in r for r in imports):
            continue
        refs.append(Reference(file, f"url() in {where}", m["url"]))
    return refs


class _PageParser(HTMLParser):
    def __init__(self, file: Path):
        super().__init__(convert_charrefs=True)
        self.file = file
        self.refs: list[Reference] = []
        self._in: str | None = None  # "style" or "script" (inline) while inside one
        self._text: list[str] = []

    def _add(self, what: str, url: str | None) -> None:
        if url:
            self.refs.append(Reference(self.file, what, url.strip()))

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag in _SRC_TAGS and "src" in a:
            if tag != "input" or a.get("type", "").lower() == "image":
                self._add(f"<{tag} src>", a["src"])
        if "srcset" in a:
            for part in a["srcset"].split(","):
                self._add(f"<{tag} srcset>", part.strip().split(" ")[0])
        if tag == "link" and "href" in a:
            rels = set(a.get("rel", "").lower().split())
            if not rels or rels - _NAVIGATION_RELS:
                self._add(f"<link rel={a.get('rel', '')!r} href>", a["href"])
        if tag == "object" and "data" in a:
            self._add("<object data>", a["data"])
        if tag in ("video",) and "poster" in a:
            self._add("<video poster>", a["poster"])
        if "style" in a:
            self.refs += css_references(a["style"], self.file, f"style attribute of <{tag}>")
        if tag == "style" or (tag == "script" and "src" not in a):
            self._in, self._text = tag, []

    def handle_data(self, data):
        if self._in:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._in and tag == self._in:
            text = "".join(self._text)
            if tag == "style":
                self.refs += css_references(text, self.file, "<style>")
            else:
                for pattern in _INLINE_SCRIPT_LOADS:
                    for m in pattern.finditer(text):
                        self._add("inline <script> loads", m["url"])
            self._in = None


def page_references(file: Path) -> list[Reference]:
    parser = _PageParser(file)
    parser.feed(file.read_text(encoding="utf-8"))
    parser.close()
    return parser.refs


def resolve(ref: Reference) -> Path:
    """The file in ``_site/`` that a relative (or site-absolute) address names."""
    path = unquote(urlsplit(ref.url).path)
    if path.startswith("/"):
        return SITE / path.lstrip("/")
    return (ref.file.parent / path).resolve()


def page_html(source: str) -> str:
    """Where Quarto puts a page's HTML in _site/, e.g. chapters/01-data.html."""
    return source.removesuffix(".qmd") + ".html"


def _require_site() -> None:
    if not SITE.is_dir() or not any(SITE.rglob("*.html")):
        pytest.fail(f"{SITE.relative_to(ROOT)}/ holds no rendered pages: run "
                    f"`{RENDER_COMMAND}` (quarto render) before these tests", pytrace=False)


@pytest.fixture(scope="module")
def references() -> list[Reference]:
    _require_site()
    refs = []
    for page in sorted(SITE.rglob("*.html")):
        refs += page_references(page)
    for sheet in sorted(SITE.rglob("*.css")):
        refs += css_references(sheet.read_text(encoding="utf-8", errors="replace"), sheet, "stylesheet")
    return refs


@pytest.mark.site
def test_every_listed_page_is_rendered():
    _require_site()
    missing = [page_html(p) for p in listed_pages() if not (SITE / page_html(p)).exists()]
    assert not missing, f"pages listed in _quarto.yml but not in _site/: {missing}; run `{RENDER_COMMAND}`"


@pytest.mark.site
def test_nothing_is_loaded_from_another_host(references):
    offsite = sorted({str(r) for r in references if r.offsite})
    assert not offsite, "the site loads these from other hosts (it must work offline):\n  " + "\n  ".join(offsite)


@pytest.mark.site
def test_every_local_reference_exists(references):
    missing = sorted({f"{r} (no file {resolve(r).relative_to(SITE) if resolve(r).is_relative_to(SITE) else resolve(r)})"
                      for r in references if r.local and not resolve(r).is_file()})
    assert not missing, "pages and stylesheets refer to files that are not in _site/:\n  " + "\n  ".join(missing)


@pytest.mark.site
def test_math_fonts_and_libraries_are_served_by_the_site(references):
    """What used to come from CDNs now comes from assets/vendor/: KaTeX on every page with
    math, the theme fonts' stylesheet on every page, chapter 6's Observable libraries."""
    pages = sorted(SITE.rglob("*.html"))
    by_page = {p: [r for r in references if r.file == p] for p in pages}
    for page in (SITE / page_html(p) for p in listed_pages()):
        urls = [resolve(r) for r in by_page.get(page, []) if r.local]
        assert SITE / "assets/vendor/fonts/fonts.css" in urls, f"{page.relative_to(SITE)} does not link the fonts"
        text = page.read_text(encoding="utf-8")
        if 'class="math' in text:
            assert SITE / "assets/vendor/katex/katex.min.js" in urls, f"{page.relative_to(SITE)}: math without KaTeX"
            assert SITE / "assets/vendor/katex/katex.min.css" in urls
    for lib in ["d3/d3.min.js", "htl/htl.min.js", "observablehq-inputs/inputs.min.js",
                "observablehq-plot/plot.umd.min.js"]:
        assert (SITE / "assets/vendor" / lib).is_file(), f"assets/vendor/{lib} was not copied into _site/"
    theme_css = [r for r in references if r.file.name.startswith("bootstrap") and r.what.startswith("@import")]
    assert not theme_css, f"the themes still import web fonts: {[str(r) for r in theme_css]}"


# --------------------------------------------------------------------------------------
# The scanner itself (no rendered site needed)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("snippet, expected", [
    ('<script src="https://cdnjs.cloudflare.com/ajax/libs/jquery/3.5.1/jquery.min.js"></script>',
     "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.5.1/jquery.min.js"),
    ('<link rel="stylesheet" href="//fonts.example.org/a.css">', "//fonts.example.org/a.css"),
    ('<style>@import url("https://fonts.googleapis.com/css2?family=Lato");</style>',
     "https://fonts.googleapis.com/css2?family=Lato"),
    ('<div style="background: url(https://example.org/x.png)"></div>', "https://example.org/x.png"),
    ('<script>var s = document.createElement("script"); s.src = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml-full.js";</script>',
     "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml-full.js"),
    ('<script type="module">import {x} from "https://cdn.jsdelivr.net/npm/d3@7/+esm";</script>',
     "https://cdn.jsdelivr.net/npm/d3@7/+esm"),
    ('<img srcset="a.png 1x, https://example.org/b.png 2x">', "https://example.org/b.png"),
])
def test_scanner_finds_offsite_loads(tmp_path, monkeypatch, snippet, expected):
    monkeypatch.setitem(globals(), "SITE", tmp_path)
    page = tmp_path / "page.html"
    page.write_text(f"<html><head></head><body>{snippet}</body></html>", encoding="utf-8")
    offsite = [r.url for r in page_references(page) if r.offsite]
    assert offsite == [expected]


def test_scanner_ignores_links_and_font_fallbacks(tmp_path, monkeypatch):
    monkeypatch.setitem(globals(), "SITE", tmp_path)
    page = tmp_path / "page.html"
    page.write_text(
        '<a href="https://doi.org/10.1017/CBO9780511790942">Gelman and Hill</a>'
        '<link rel="next" href="https://example.org/next.html">'
        "<script>if (event.origin !== 'https://giscus.app') return;</script>"
        '<link rel="stylesheet" href="assets/site.css">', encoding="utf-8")
    refs = page_references(page)
    assert [r.url for r in refs] == ["assets/site.css"]
    assert not resolve(refs[0]).is_file()
    css = ("@font-face{font-family:K;src:url(fonts/K.woff2) format('woff2'),"
           "url(fonts/K.woff) format('woff'),url(https://example.org/K.ttf) format('truetype')}"
           ".x{background:url(img/bg.png)}")
    assert [r.url for r in css_references(css, page, "test")] == ["fonts/K.woff2", "img/bg.png"]


# --------------------------------------------------------------------------------------
# The vendored files themselves (assets/vendor/, no rendered site needed)
# --------------------------------------------------------------------------------------

def _vendor_manifest():
    import importlib.util

    spec = importlib.util.spec_from_file_location("vendor_assets", ROOT / "tools" / "vendor_assets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_vendored_packages_are_complete_licensed_and_documented():
    manifest = _vendor_manifest()
    vendor = manifest.VENDOR
    readme = (vendor / "README.md").read_text(encoding="utf-8")
    for pkg in manifest.PACKAGES:
        folder = vendor / pkg.folder
        assert (folder / "LICENSE").is_file(), f"assets/vendor/{pkg.folder} has no LICENSE"
        assert f"`{pkg.npm}` | {pkg.version} |" in readme, f"assets/vendor/README.md does not list {pkg.npm} {pkg.version}"
        for pattern, dest in pkg.files.items():
            if dest.endswith("/"):
                assert any((folder / dest).glob("*")), f"assets/vendor/{pkg.folder}/{dest} is empty"
            else:
                assert (folder / dest).is_file(), f"assets/vendor/{pkg.folder}/{dest} is missing"
    fonts_css = vendor / manifest.FONTS_CSS
    refs = css_references(fonts_css.read_text(encoding="utf-8"), fonts_css, "fonts.css")
    assert refs and all(not r.offsite and (fonts_css.parent / r.url).is_file() for r in refs), refs
    families = set(re.findall(r"font-family:\s*'([^']+)'", fonts_css.read_text(encoding="utf-8")))
    assert families == {"Source Sans Pro", "Lato"}, families


def test_chapter_6_maps_every_library_dependency_to_a_vendored_file():
    """Plot's and Inputs' UMD bundles ask for d3 and htl by versioned names; chapter 6's
    require.alias must map exactly those names to files that exist."""
    vendor = _vendor_manifest().VENDOR
    wanted = set()
    for bundle in ["observablehq-plot/plot.umd.min.js", "observablehq-inputs/inputs.min.js"]:
        head = (vendor / bundle).read_text(encoding="utf-8")[:2000]
        m = re.search(r"define\(\[([^\]]*)\]", head)
        assert m, f"{bundle} is not a UMD bundle"
        wanted |= {d.strip("'\" ") for d in m.group(1).split(",")} - {"exports"}
    chapter = (ROOT / "chapters" / "06-shrinkage-interactive.qmd").read_text(encoding="utf-8")
    aliases = dict(re.findall(r'"([^"]+)":\s*"(\.\./assets/vendor/[^"]+)"', chapter))
    assert set(aliases) == wanted, f"require.alias maps {sorted(aliases)}, the bundles need {sorted(wanted)}"
    loaded = set(re.findall(r'"\.\./(assets/vendor/[^"]+\.js)"', chapter))
    for path in loaded:
        assert (ROOT / path).is_file(), f"chapter 6 loads {path}, which does not exist"
    assert {"assets/vendor/observablehq-plot/plot.umd.min.js",
            "assets/vendor/observablehq-inputs/inputs.min.js"} <= loaded

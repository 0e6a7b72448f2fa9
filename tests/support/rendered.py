"""The rendered site in ``_site/``: which pages it must hold and whether it is current.

The browser tests (tests/test_browser.py) and the rendered student view
(tests/test_rendered_student_view.py) read ``_site/``, which ``make site`` (and so
``make test``) produces with ``quarto render``. A test that reads an old or missing
site would test something readers never see, so those tests fail, naming the pages,
when :func:`site_problems` finds one:

* a page listed in ``_quarto.yml`` (navbar, sidebar) has no ``.html`` in ``_site/``,
  a chapter has no ``.ipynb`` beside it, or ``_site/search.json`` is missing;
* an output is older than one of its sources: the page's ``.qmd``, its frozen
  results in ``_freeze/`` (for that format), the files every page depends on
  (``_quarto.yml``, ``references.bib``, ``chapters/_metadata.yml`` for chapters,
  and any ``.scss``/``.css`` file of the project).

Run as a script (``python tests/support/rendered.py``) it prints the problems and exits with
status 1 when there are any; ``make site`` uses that to decide whether to render.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python tests/support/rendered.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support import qmd  # noqa: E402
from support.site import listed_pages  # noqa: E402

ROOT = qmd.ROOT
SITE = ROOT / "_site"
SEARCH_INDEX = SITE / "search.json"
RENDER_COMMAND = "make site"

_IGNORED_DIRS = {"_site", "_freeze", ".venv", ".git", ".quarto", "site_libs", "node_modules",
                 ".jupyter_cache", ".pytest_cache", "tests"}


@dataclass(frozen=True)
class Page:
    """One listed page: its source and where ``quarto render`` puts its outputs."""

    source: str  # relative to the project root, e.g. "chapters/05-partial-pooling.qmd"

    @property
    def stem(self) -> str:
        return self.source.removesuffix(".qmd")

    @property
    def html(self) -> str:
        """Path of the HTML page relative to ``_site/`` (also its URL path)."""
        return self.stem + ".html"

    @property
    def notebook(self) -> str | None:
        """Path of the downloadable notebook relative to ``_site/`` (chapters only)."""
        return self.stem + ".ipynb" if self.is_chapter else None

    @property
    def is_chapter(self) -> bool:
        return self.source.startswith("chapters/")

    @property
    def title(self) -> str | None:
        return qmd.parse_qmd(ROOT / self.source).title

    def __str__(self) -> str:
        return self.source


def pages() -> list[Page]:
    """Every page listed in ``_quarto.yml`` (the home page and the sidebar), in order."""
    return [Page(p) for p in listed_pages()]


def chapters() -> list[Page]:
    return [p for p in pages() if p.is_chapter]


@functools.cache
def _stylesheets() -> tuple[Path, ...]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in _IGNORED_DIRS and not d.startswith(".")]
        found += [Path(folder) / f for f in files if f.endswith((".scss", ".css"))]
    return tuple(sorted(found))


def _shared_sources(page: Page) -> list[Path]:
    shared = [ROOT / "_quarto.yml", ROOT / "references.bib", *sorted(ROOT.glob("_quarto-*.yml"))]
    if page.is_chapter:
        shared.append(ROOT / "chapters" / "_metadata.yml")
    shared += _stylesheets()
    return [p for p in shared if p.exists()]


def sources(page: Page, fmt: str) -> list[Path]:
    """Files whose change makes the page's ``fmt`` output ("html" or "ipynb") out of date."""
    found = [ROOT / page.source, *_shared_sources(page)]
    frozen = ROOT / "_freeze" / page.stem / "execute-results" / f"{fmt}.json"
    if frozen.exists():
        found.append(frozen)
    return found


def site_problems() -> list[str]:
    """Why ``_site/`` does not show the current sources (empty when it does)."""
    if not SITE.is_dir():
        return [f"{SITE.relative_to(ROOT)}/ does not exist"]
    problems = []
    for page in pages():
        outputs = [("html", SITE / page.html)]
        if page.notebook:
            outputs.append(("ipynb", SITE / page.notebook))
        for fmt, output in outputs:
            if not output.exists():
                problems.append(f"{output.relative_to(ROOT)} is missing")
                continue
            rendered = output.stat().st_mtime
            newer = [s for s in sources(page, fmt) if s.stat().st_mtime > rendered]
            if newer:
                names = ", ".join(str(s.relative_to(ROOT)) for s in newer)
                problems.append(f"{output.relative_to(ROOT)} is older than {names}")
    if not SEARCH_INDEX.exists():
        problems.append(f"{SEARCH_INDEX.relative_to(ROOT)} is missing")
    return problems


def stale_site_message(problems: list[str]) -> str:
    return (
        "the rendered site in _site/ does not match the sources, so the tests would check "
        f"pages readers never see; run `{RENDER_COMMAND}` (quarto render) first.\n  "
        + "\n  ".join(problems)
    )


def require_current_site(*, brief: bool = False) -> None:
    """Fail the calling test (or fixture) when ``_site/`` is missing or out of date.

    The message names every problem, or with ``brief`` the first three and how many more
    (for the many tests that share one cause).
    """
    import pytest

    problems = site_problems()
    if problems:
        if brief and len(problems) > 3:
            problems = problems[:3] + [f"... and {len(problems) - 3} more "
                                       "(python tests/support/rendered.py lists them all)"]
        pytest.fail(stale_site_message(problems), pytrace=False)


def main(argv: list[str]) -> int:
    problems = site_problems()
    if problems and "--quiet" not in argv:
        print("\n".join(problems), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# --------------------------------------------------------------------------------------
# Code blocks as a page shows them
# --------------------------------------------------------------------------------------


@dataclass
class ShownCode:
    """One code block of a rendered page, with the text its copy button copies."""

    language: str | None  # "python", "ojs", ... (the <pre>'s sourceCode class), or None
    text: str  # the text content of the block's <code>, as displayed and copied
    is_cell: bool  # inside an executed cell (div.cell-code), not a display-only block
    block_id: str | None  # the id Quarto gives the block's div, e.g. "cb12"


class _CodeBlockParser(HTMLParser):
    """Collects ``div.sourceCode > pre.sourceCode > code`` blocks in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[ShownCode] = []
        self._stack: list[tuple[str, set[str], str | None]] = []  # (tag, classes, id)
        self._current: ShownCode | None = None
        self._code_depth: int | None = None

    _VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
             "source", "track", "wbr"}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        if tag in self._VOID:
            return
        self._stack.append((tag, classes, attributes.get("id")))
        if tag == "code" and self._current is None and len(self._stack) >= 3:
            (pre_tag, pre_classes, _), (div_tag, div_classes, div_id) = self._stack[-2], self._stack[-3]
            if pre_tag == "pre" and "sourceCode" in pre_classes and div_tag == "div" \
                    and "sourceCode" in div_classes:
                languages = sorted(pre_classes - {"sourceCode", "code-with-copy", "numberSource",
                                                  "number-lines", "code-annotation-code"})
                self._current = ShownCode(
                    language=languages[0] if languages else None, text="",
                    is_cell="cell-code" in div_classes, block_id=div_id,
                )
                self._code_depth = len(self._stack)

    def handle_endtag(self, tag):
        if tag in self._VOID:
            return
        # Tolerate unclosed tags: pop to the matching open tag.
        for depth in range(len(self._stack) - 1, -1, -1):
            if self._stack[depth][0] == tag:
                if self._current is not None and self._code_depth is not None \
                        and depth + 1 <= self._code_depth:
                    self.blocks.append(self._current)
                    self._current, self._code_depth = None, None
                del self._stack[depth:]
                return

    def handle_data(self, data):
        if self._current is not None:
            self._current.text += data


def shown_code(html: str) -> list[ShownCode]:
    """Every ``div.sourceCode`` code block of a rendered page, in document order."""
    parser = _CodeBlockParser()
    parser.feed(html)
    parser.close()
    return parser.blocks


def shown_python_cells(page: Page) -> list[ShownCode]:
    """The Python cells' code blocks of a rendered page, as shown (and copied), in order."""
    html = (SITE / page.html).read_text(encoding="utf-8")
    return [b for b in shown_code(html) if b.is_cell and b.language == "python"]


# --------------------------------------------------------------------------------------
# Which cells each output format shows
# --------------------------------------------------------------------------------------

_DIV_OPEN = re.compile(r"^ {0,3}(:{3,})\s*(\{[^}]*\}|[\w-]+)?\s*$")


def _condition_applies(attributes: str, fmt: str) -> bool:
    """Whether a fenced div's ``.content-visible``/``.content-hidden`` lets ``fmt`` see it."""
    classes = set(re.findall(r"\.([\w-]+)", attributes))
    when = re.search(r'when-format\s*=\s*"([^"]*)"', attributes)
    unless = re.search(r'unless-format\s*=\s*"([^"]*)"', attributes)
    if not classes & {"content-visible", "content-hidden"} or not (when or unless):
        return True
    matches = (fmt in when.group(1).split()) if when else (fmt not in unless.group(1).split())
    return matches if "content-visible" in classes else not matches


def cells_for_format(doc: qmd.QmdDocument, fmt: str) -> list[qmd.CodeBlock]:
    """The document's code blocks that the ``fmt`` output ("html", "ipynb") contains.

    Blocks inside ``::: {.content-visible when-format="..."}`` (or ``unless-format``,
    or ``.content-hidden``) divs are kept only for the formats the div lets through.
    """
    lines = doc.text.split("\n")
    inside_code = {n for b in doc.blocks for n in range(b.line, b.end_line + 1)}
    visible_at: dict[int, bool] = {}
    stack: list[bool] = []
    for number, line in enumerate(lines, start=1):
        if number < doc.body_start_line or number in inside_code:
            visible_at[number] = all(stack)
            continue
        m = _DIV_OPEN.match(line)
        if m and m.group(2):
            stack.append(_condition_applies(m.group(2), fmt))
        elif m:
            if stack:
                stack.pop()
        visible_at[number] = all(stack)
    return [b for b in doc.blocks if visible_at.get(b.line, True)]

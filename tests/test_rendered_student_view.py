"""The chapter's code as the rendered page shows it to a student.

A student never sees the ``.qmd``: they copy the code blocks of the web page
(``_site/chapters/*.html``: the Python cells' ``<pre><code>`` blocks,
``div.sourceCode.cell-code``, in page order, with the text the page displays and its copy
button copies; test_browser.py checks that the two agree).

This test proves that those blocks are exactly the chapter's executed cells, one for one and
in order: no executed cell may be hidden from the page (``echo: false``, ``include: false``,
a format condition), since a student's copy would then miss code the rest needs; every cell
the page shows must be one the chapter executes; and each shown block's text must equal the
cell's code (trailing spaces and the indentation of a cell inside a list aside).
Display-only ```` ```python ```` blocks (the exercise solutions) are compared too.

Because the page's code *is* the chapter's script, running it is done once, in the strictest
setting: ``tests/test_wheel.py::test_chapter_runs_from_the_installed_wheel`` runs that
script in an empty folder with ``pooling`` installed from the published wheel.

The test reads the rendered site, which must be current (``make site``).
"""

from __future__ import annotations

import textwrap

import pytest

from support import qmd
from support import rendered

ROOT = qmd.ROOT


def _normalise(code: str) -> str:
    """Trailing spaces and blank edge lines dropped; a block indented in a list dedented."""
    return "\n".join(line.rstrip() for line in textwrap.dedent(code).strip("\n").split("\n"))


def chapters_with_code() -> list[rendered.Page]:
    return [p for p in rendered.chapters()
            if (ROOT / p.source).exists() and qmd.parse_qmd(ROOT / p.source).evaluated_cells]


PAGES = chapters_with_code()


def _shown_by_default(block: qmd.CodeBlock) -> bool:
    return block.options.get("echo", True) is not False and block.options.get("include", True) is not False


def disagreements(page: rendered.Page) -> list[str]:
    """Where the rendered page and the .qmd disagree about the chapter's Python code."""
    doc = qmd.parse_qmd(ROOT / page.source)
    html = (rendered.SITE / page.html).read_text(encoding="utf-8")
    shown = [b for b in rendered.shown_code(html) if b.language == "python"]
    shown_cells = [_normalise(b.text) for b in shown if b.is_cell]
    shown_other = [_normalise(b.text) for b in shown if not b.is_cell]

    on_page = {b.line for b in rendered.cells_for_format(doc, "html")}
    problems = []
    for block in doc.python_cells:
        if block.line not in on_page:
            if block.evaluated:
                problems.append(f"{page.source} line {block.line}: an executed cell sits in a div the "
                                "HTML page leaves out (content-visible/hidden); a student copying the "
                                "page would miss it")
            continue
        if block.evaluated and not _shown_by_default(block):
            problems.append(f"{page.source} line {block.line}: an executed cell is hidden from the "
                            f"page ({block.options}); a student copying the page would miss it")
        if not block.evaluated:
            problems.append(f"{page.source} line {block.line}: the page shows a cell the chapter "
                            "never runs (eval: false); a student copying it would run it")
    expected_cells = [_normalise(b.source) for b in doc.python_cells
                      if b.line in on_page and _shown_by_default(b)]
    if shown_cells != expected_cells:
        for number, (html_code, qmd_code) in enumerate(zip(shown_cells, expected_cells), start=1):
            if html_code != qmd_code:
                problems.append(f"{page.html}: Python cell {number} shows\n{html_code}\n"
                                f"but {page.source} has\n{qmd_code}")
                break
        if len(shown_cells) != len(expected_cells):
            problems.append(f"{page.html} shows {len(shown_cells)} Python cells, "
                            f"{page.source} has {len(expected_cells)} shown cells")
    expected_other = [_normalise(b.source) for b in doc.blocks
                      if b.line in on_page and b.engine is None and b.info.strip().lower() in ("python", "{.python}", "py")]
    if len(shown_other) != len(expected_other):
        problems.append(f"{page.html} shows {len(shown_other)} display-only Python blocks, "
                        f"{page.source} has {len(expected_other)}")
    else:
        for number, (html_code, qmd_code) in enumerate(zip(shown_other, expected_other), start=1):
            if html_code != qmd_code:
                problems.append(f"{page.html}: display-only Python block {number} shows\n"
                                f"{html_code}\nbut {page.source} has\n{qmd_code}")
    return problems


@pytest.mark.site
@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_page_shows_exactly_the_chapters_code(page):
    rendered.require_current_site(brief=True)
    problems = disagreements(page)
    assert not problems, "\n".join(problems)


SAMPLE_QMD = '''---
title: Sample
---

```{python}
x = 1
```

::: {.content-visible when-format="html"}
```{python}
#| label: html-only
y = 2
```
:::

::: {.callout-tip collapse="true"}
## Solution
```python
print(x)
```
:::

::: {.content-hidden when-format="html"}
```{python}
z = 3
```
:::
'''

SAMPLE_HTML = """<div class="cell"><div class="sourceCode cell-code" id="cb1"><pre class="sourceCode python code-with-copy"><code class="sourceCode python"><span id="cb1-1"><a href="#cb1-1" aria-hidden="true" tabindex="-1"></a>x <span class="op">=</span> <span class="dv">1</span></span>
<span id="cb1-2"><a href="#cb1-2"></a>s <span class="op">=</span> <span class="st">"&lt;b&gt; &amp; é"</span></span></code><button title="Copy to Clipboard" class="code-copy-button"><i class="bi"></i></button></pre></div>
<div class="cell-output cell-output-stdout"><pre><code>not code</code></pre></div></div>
<div class="sourceCode" id="cb2"><pre class="sourceCode python code-with-copy"><code class="sourceCode python">print(x)</code></pre></div>
<div class="sourceCode cell-code" id="cb3"><pre class="sourceCode js code-with-copy"><code class="sourceCode javascript">viewof n = 1</code></pre></div>"""


def test_cells_for_format_on_a_sample(tmp_path):
    path = tmp_path / "sample.qmd"
    path.write_text(SAMPLE_QMD, encoding="utf-8")
    doc = qmd.parse_qmd(path)
    html = [b.source for b in rendered.cells_for_format(doc, "html") if b.evaluated]
    ipynb = [b.source for b in rendered.cells_for_format(doc, "ipynb") if b.evaluated]
    assert html == ["x = 1", "y = 2"]
    assert ipynb == ["x = 1", "z = 3"]
    assert [b.source for b in rendered.cells_for_format(doc, "html") if b.engine is None] == ["print(x)"]


def test_shown_code_on_a_sample():
    blocks = rendered.shown_code(SAMPLE_HTML)
    assert [(b.language, b.is_cell, b.block_id) for b in blocks] == [
        ("python", True, "cb1"), ("python", False, "cb2"), ("js", True, "cb3")]
    assert blocks[0].text == 'x = 1\ns = "<b> & é"'
    assert blocks[1].text == "print(x)"


WARNING_NAMES = ("RuntimeWarning", "UserWarning", "FutureWarning", "DeprecationWarning", "NumbaWarning")


@pytest.mark.site
@pytest.mark.parametrize("page", rendered.chapters(), ids=str)
def test_no_python_warning_is_printed_on_a_page(page):
    """A warning in a cell's output is noise to a reader, and usually a sign of a problem."""
    html = (rendered.SITE / page.html).read_text(encoding="utf-8")
    printed = [name for name in WARNING_NAMES if name in html]
    assert not printed, f"{page.html} shows {printed}"

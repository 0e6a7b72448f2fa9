"""Run each chapter's code the way the rendered page shows it to a student.

tests/test_student_view.py builds a chapter's script from the ``{python}`` cells of the
``.qmd``. A student never sees the ``.qmd``: they copy the code blocks of the web page.
Here the script is made from ``_site/chapters/*.html`` instead: the Python cells'
``<pre><code>`` blocks (``div.sourceCode.cell-code``), in page order, with the text the
page displays and its copy button copies (test_browser.py checks that the two agree).
The script runs in a fresh interpreter with the project's Python, in an empty temporary
directory, with matplotlib's Agg backend.

A second, fast test checks that the page and the ``.qmd`` agree on which blocks exist:
no executed cell may be hidden from the page (``echo: false``, ``include: false``),
since a student's copy would then miss code the rest needs, and every cell the page
shows must be one the chapter executes. Display-only ```` ```python ```` blocks (the
exercise solutions) are compared too, but not run here.

Both tests read the rendered site, which must be current (``make site``).
"""

from __future__ import annotations

import hashlib
import textwrap

import pytest

from support import qmd
from support import rendered

ROOT = qmd.ROOT
CACHE = qmd.CACHE_DIR / "rendered-student-view"


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


def student_script(page: rendered.Page) -> str:
    """The Python cells as the page shows them, in order, as one script."""
    parts = []
    for number, block in enumerate(rendered.shown_python_cells(page), start=1):
        parts.append(f"# --- code block {number} ({block.block_id}) of {page.html}\n{block.text}\n")
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.site
@pytest.mark.parametrize("page", [pytest.param(p, marks=pytest.mark.xdist_group(p.source), id=p.stem)
                                  for p in PAGES])
def test_student_can_run_the_code_as_the_page_shows_it(page, tmp_path):
    rendered.require_current_site(brief=True)
    script = student_script(page)
    assert script.strip(), f"{page.html} shows no Python code"
    key = hashlib.sha256((script + qmd.inputs_fingerprint()).encode()).hexdigest()
    qmd.run_script_once(
        script, name=rendered.Path(page.stem).name, folder=tmp_path, marker=CACHE / f"{key}.ok",
        what=f"{page.html}: the page's code blocks, copied in order into one script,",
    )


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

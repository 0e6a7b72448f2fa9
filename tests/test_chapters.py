"""Execute every page of the site in a fresh Jupyter kernel, as `quarto render` would.

Each page listed in _quarto.yml that has executable ```{python} cells is one test.
Execution and caching are described in tests/support/qmd.py; executed notebooks are cached
in tests/.cache/jupyter-cache, so an unchanged page (with unchanged src/pooling and
data/) is not executed again. POOLING_TEST_NO_CACHE=1 forces execution.
"""

from __future__ import annotations

import pytest

from support import qmd
from support.site import listed_pages

ROOT = qmd.ROOT


def pages_to_execute() -> list[str]:
    pages = []
    for page in listed_pages():
        path = ROOT / page
        if not path.exists() or qmd.parse_qmd(path).evaluated_cells:
            pages.append(page)  # a missing page fails below, with a clear message
    return pages


# A page's kernel run, its script run from the installed wheel (tests/test_wheel.py) and the
# tests of its exercise solutions share an xdist group, so they run one after the other on the
# same worker (this file sorts first, so the kernel run comes first) and the later ones read the
# kernel run's fits from the fit cache.
@pytest.mark.slow
@pytest.mark.parametrize("page", [pytest.param(p, marks=pytest.mark.xdist_group(p)) for p in pages_to_execute()])
def test_page_executes(page):
    path = ROOT / page
    if not path.exists():
        pytest.fail(f"{page} is listed in _quarto.yml but has not been written yet")
    result = qmd.execute_qmd(path)  # raises ChapterExecutionError naming cell, label, line

    cells = result.code_cells()
    no_image = [
        f"{c.metadata['qmd']['label']} (line {c.metadata['qmd']['line']})"
        for c in cells
        if (c.metadata["qmd"].get("label") or "").startswith("fig-") and not qmd.has_image_output(c)
    ]
    assert not no_image, f"{page}: figure cells without an image output: {no_image}"

    # Any output with an HTML representation (a DataFrame, for one) makes Quarto load
    # require.js and jQuery from a CDN into the page; tables go through
    # pooling.tables.show_table, which displays as Markdown only. ojs_define's output is
    # HTML by Quarto's design (it is how Python values reach the OJS cells) and is not a table.
    html_outputs = [
        f"{c.metadata['qmd'].get('label') or 'cell'} (line {c.metadata['qmd']['line']})"
        for c in cells
        for output in c.outputs
        if "text/html" in output.get("data", {}) and not output.get("metadata", {}).get("ojs_define")
    ]
    assert not html_outputs, f"{page}: outputs shown as HTML (use show_table for tables): {html_outputs}"

    doc = result.document
    if any("ojs_define(" in b.source or "ojs_data(" in b.source for b in doc.evaluated_cells):
        defined = qmd.ojs_definitions(result.notebook)
        assert defined, f"{page}: ojs_define() or ojs_data() was called but sent nothing to the page"
        ojs_code = "\n".join(b.source for b in doc.ojs_cells)
        unused = [name for name in defined if name not in ojs_code]
        assert not unused, f"{page}: values sent with ojs_define() but never used in OJS: {unused}"


# --------------------------------------------------------------------------------------
# The executor itself (one small kernel start each)
# --------------------------------------------------------------------------------------

FAILING = '''---
title: Failing
---

```{python}
x = 1
```

```{python}
#| eval: false
raise RuntimeError("never executed")
```

```{python}
#| label: the-bad-cell
1 / 0
```
'''

OJS = '''---
title: OJS export
---

```{python}
import os
import pandas as pd
frame = pd.DataFrame({"a": [1, 2]})
ojs_define(frame=frame, cwd=os.getcwd())
```

```{python}
#| label: fig-tiny
#| fig-cap: "A tiny figure"
#| fig-alt: "A line"
import matplotlib.pyplot as plt
plt.plot([0, 1])
plt.show()
```
'''


@pytest.mark.slow
def test_executor_reports_cell_label_and_line(tmp_path):
    path = tmp_path / "failing.qmd"
    path.write_text(FAILING, encoding="utf-8")
    with pytest.raises(qmd.ChapterExecutionError) as info:
        qmd.execute_qmd(path, use_cache=False)
    message = str(info.value)
    assert "cell 2 of 2 (label: the-bad-cell), line 14" in message
    assert "ZeroDivisionError" in message
    assert "never executed" not in message


@pytest.mark.slow
def test_executor_mirrors_quarto_and_caches(tmp_path, monkeypatch):
    # src/pooling may change while this runs; a fixed fingerprint keeps the check about the cache.
    monkeypatch.setattr(qmd, "inputs_fingerprint", lambda: "fixed")
    path = tmp_path / "ojs.qmd"
    path.write_text(OJS, encoding="utf-8")
    cache_dir = tmp_path / "cache"
    first = qmd.execute_qmd(path, use_cache=True, cache_dir=cache_dir)
    assert not first.from_cache
    defined = qmd.ojs_definitions(first.notebook)
    assert defined["frame"] == {"a": [1, 2]}  # data frames arrive column-wise, as in Quarto
    assert defined["cwd"] == str(tmp_path)  # runs in the document's directory
    figure = first.code_cells()[1]
    assert qmd.has_image_output(figure)  # inline figures, whatever MPLBACKEND says
    second = qmd.execute_qmd(path, use_cache=True, cache_dir=cache_dir)
    assert second.from_cache
    assert qmd.ojs_definitions(second.notebook) == defined


def _text_outputs(result) -> list[str]:
    """Printed text and text representations, without object addresses ("at 0x7f...")."""
    import re

    texts = []
    for cell in result.code_cells():
        for output in cell.outputs:
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                texts.append(output["text"])
            for mime in ("text/plain", "text/markdown", "text/html"):
                if mime in output.get("data", {}):
                    texts.append(output["data"][mime])
    return [re.sub(r" at 0x[0-9a-f]+", "", text) for text in texts]


@pytest.mark.slow
def test_rerunning_a_chapter_reproduces_its_numbers(monkeypatch):
    """Same seed, same numbers: two fresh executions print identical tables and values."""
    monkeypatch.setenv("POOLING_TEST_NO_CACHE", "1")  # no notebook cache, no fit cache
    page = ROOT / "chapters" / "02-complete-pooling.qmd"
    first = qmd.execute_qmd(page, use_cache=False)
    second = qmd.execute_qmd(page, use_cache=False)
    first_texts, second_texts = _text_outputs(first), _text_outputs(second)
    assert first_texts, "the chapter printed nothing to compare"
    assert any("alpha" in text for text in first_texts), "the posterior summary is missing"
    assert first_texts == second_texts

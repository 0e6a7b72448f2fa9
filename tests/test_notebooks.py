"""The chapters' Jupyter notebooks in ``_site/`` (the "Jupyter" link under "Other Formats").

A student downloads ``_site/chapters/NN-*.ipynb`` and runs it. Each notebook must

* be a valid nbformat 4 notebook for the ``python3`` kernel;
* hold the chapter's Python code: exactly the ``{python}`` cells of the ``.qmd``, in
  order, except those the chapter shows on the web page only (inside
  ``::: {.content-visible when-format="html"}``);
* contain no Observable JS (those cells run in the browser; as Python cells they stop
  "Run All" with a SyntaxError), and nothing but valid Python in its code cells;
* show the chapter's outputs: every figure cell (``label: fig-...``) an image, every table
  cell (``label: tbl-...``) a table, and no output left empty;
* run top to bottom in a fresh kernel, from a folder holding nothing but the notebook.

Where the notebook's code is the chapter's script (its cells are the executed ``{python}``
cells, plus only the commented-out install cell at the top), that code already runs twice
elsewhere: in a Jupyter kernel (``tests/test_chapters.py``) and as a student's script against
the installed wheel in an empty folder (``tests/test_wheel.py``). Those notebooks are not run a
third time; a fast test proves that their extra cells do nothing. A notebook whose code differs
from the chapter's (a cell the web page runs and the notebook leaves out, as in chapter 6) is
run top to bottom itself (``slow``).

The structural tests are marked ``site``: they need a current ``make site`` and fail,
naming the command, when a notebook is missing or older than its sources.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from support import qmd
from support.site import listed_pages

ROOT = qmd.ROOT
SITE = ROOT / "_site"
RENDER_COMMAND = "make site"
NOTEBOOK_FILTER = ROOT / "filters" / "notebook-figures.lua"

CHAPTERS = [p for p in listed_pages() if p.startswith("chapters/")]  # e.g. chapters/01-data.qmd
_IPYTHON_LINE = re.compile(r"^\s*(%|!|\S+\?\s*$)")


def _ids(pages):
    return [p.removeprefix("chapters/").removesuffix(".qmd") for p in pages]


def notebook_path(page: str) -> Path:
    """Where Quarto puts a chapter's notebook: _site/chapters/NN-name.ipynb."""
    return SITE / (page.removesuffix(".qmd") + ".ipynb")


def notebook_sources(page: str) -> list[Path]:
    """Files whose change makes the rendered notebook out of date."""
    stem = page.removesuffix(".qmd")
    found = [ROOT / page, ROOT / "_quarto.yml", ROOT / "chapters" / "_metadata.yml",
             ROOT / "references.bib", NOTEBOOK_FILTER,
             ROOT / "_freeze" / stem / "execute-results" / "ipynb.json"]
    return [p for p in found if p.exists()]


def current_notebook(page: str) -> nbformat.NotebookNode:
    """The rendered notebook of ``page``, failing the test if it is missing or stale."""
    path = notebook_path(page)
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: run `{RENDER_COMMAND}` "
                    "(quarto render) first", pytrace=False)
    newer = [s for s in notebook_sources(page) if s.stat().st_mtime > path.stat().st_mtime]
    if newer:
        pytest.fail(f"{path.relative_to(ROOT)} is older than "
                    + ", ".join(str(s.relative_to(ROOT)) for s in newer)
                    + f": run `{RENDER_COMMAND}` first", pytrace=False)
    return nbformat.read(path, as_version=4)


def _normalise(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip("\n").split("\n"))


def web_only_lines(doc: qmd.QmdDocument) -> set[int]:
    """1-based lines of the ``.qmd`` inside a div that the notebook leaves out.

    That is ``.content-visible`` for another format (``when-format="html"``) or
    ``.content-hidden`` for ``ipynb``; fenced divs nest, code blocks are skipped.
    """
    lines = doc.text.split("\n")
    in_code = set()
    for block in doc.blocks:
        in_code.update(range(block.line, block.end_line + 1))
    hidden, stack = set(), []
    for number, line in enumerate(lines, start=1):
        if number in in_code:
            if any(stack):
                hidden.add(number)
            continue
        m = re.match(r"^(:{3,})\s*(.*?)\s*$", line)
        if m and m.group(2):
            attrs = m.group(2)
            fmt = re.search(r"""when-format\s*=\s*["']?([\w-]+)""", attrs)
            leaves_out = bool(fmt) and (
                ("content-visible" in attrs and fmt.group(1) != "ipynb")
                or ("content-hidden" in attrs and fmt.group(1) == "ipynb"))
            stack.append(leaves_out)
        elif m:
            if stack:
                stack.pop()
        elif any(stack):
            hidden.add(number)
    return hidden


def expected_cells(page: str) -> list[qmd.CodeBlock]:
    """The ``{python}`` cells of the chapter that its notebook must hold, in order."""
    doc = qmd.parse_qmd(ROOT / page)
    hidden = web_only_lines(doc)
    return [b for b in doc.python_cells if b.line not in hidden]


_HARMLESS_LINE = re.compile(r"^\s*(#.*)?$|^import pooling\s*$")


def harmless(code: str) -> bool:
    """Only comments, blank lines and ``import pooling`` (the notebook's install cell)."""
    return all(_HARMLESS_LINE.match(line) for line in code.split("\n"))


def notebook_differs_from_script(page: str) -> bool:
    """Whether the notebook runs code that the chapter's script does not (or leaves some out).

    The notebook's cells that the chapter executes must be exactly the executed cells, in
    order; its other cells must be :func:`harmless`. Otherwise the notebook needs its own run.
    """
    doc = qmd.parse_qmd(ROOT / page)
    cells = expected_cells(page)
    executed = [b.line for b in cells if b.evaluated]
    others = [b for b in cells if not b.evaluated]
    return executed != [b.line for b in doc.evaluated_cells] or not all(harmless(b.source) for b in others)


def is_python(code: str) -> bool:
    script = "\n".join("#" + line if _IPYTHON_LINE.match(line) else line for line in code.split("\n"))
    try:
        ast.parse(script)
    except SyntaxError:
        return False
    return True


def shows_figure(cell: nbformat.NotebookNode) -> bool:
    """An image output, or an HTML output holding an inline SVG (how the rendered notebooks
    carry the Graphviz model graphs, since Jupyter cannot show a base64-encoded SVG)."""
    if qmd.has_image_output(cell):
        return True
    for out in cell.get("outputs", []):
        html = out.get("data", {}).get("text/html", "")
        if "<svg" in ("".join(html) if isinstance(html, list) else html):
            return True
    return False


def _label(block: qmd.CodeBlock) -> str:
    return f"{block.label or 'cell'} (line {block.line})"


# --------------------------------------------------------------------------------------
# The rendered notebooks (need `make site`)
# --------------------------------------------------------------------------------------

@pytest.mark.site
@pytest.mark.parametrize("page", CHAPTERS, ids=_ids(CHAPTERS))
def test_notebook_is_valid(page):
    nb = current_notebook(page)
    nbformat.validate(nb)  # raises ValidationError naming the offending part
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", nb.metadata.get("kernelspec")
    assert nb.metadata.get("language_info", {}).get("name") == "python"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), (
        "the notebook should open with the chapter's title")


@pytest.mark.site
@pytest.mark.parametrize("page", CHAPTERS, ids=_ids(CHAPTERS))
def test_notebook_holds_the_chapters_code_and_no_ojs(page):
    nb = current_notebook(page)
    code = [_normalise(c.source) for c in nb.cells if c.cell_type == "code"]
    expected = [_normalise(b.source) for b in expected_cells(page)]
    assert code == expected, (
        f"{notebook_path(page).name}: its code cells differ from the chapter's Python cells "
        f"(missing: {[e[:60] for e in expected if e not in code]}, "
        f"extra: {[c[:60] for c in code if c not in expected]})")
    not_python = [c[:80] for c in code if not is_python(c)]
    assert not not_python, f"{notebook_path(page).name}: code cells that are not Python: {not_python}"
    doc = qmd.parse_qmd(ROOT / page)
    for block in doc.ojs_cells:
        first = _normalise(block.source).split("\n")[0]
        carried = [c[:80] for c in code if first and first in c]
        assert not carried, f"{notebook_path(page).name}: Observable JS ({_label(block)}) in a code cell: {carried}"


@pytest.mark.site
@pytest.mark.parametrize("page", CHAPTERS, ids=_ids(CHAPTERS))
def test_notebook_shows_figures_and_tables(page):
    nb = current_notebook(page)
    cells = {_normalise(c.source): c for c in nb.cells if c.cell_type == "code"}
    empty = [f"cell {i}" for i, c in enumerate(nb.cells) if c.cell_type == "code"
             for out in c.outputs
             if out.output_type in ("display_data", "execute_result") and not out.get("data")]
    assert not empty, f"{notebook_path(page).name}: outputs left empty (a figure or table that was dropped): {empty}"
    for block in expected_cells(page):
        cell = cells.get(_normalise(block.source))
        if cell is None or not block.evaluated:
            continue  # reported by the test above
        label = block.label or ""
        if label.startswith("fig-"):
            assert shows_figure(cell), f"{notebook_path(page).name}: figure {_label(block)} has no image"
        if label.startswith("tbl-"):
            shown = [out for out in cell.outputs if out.output_type in ("display_data", "execute_result")
                     and ({"text/html", "text/markdown"} & set(out.get("data", {})))]
            assert shown, f"{notebook_path(page).name}: table {_label(block)} has no table output"


# --------------------------------------------------------------------------------------
# Running a notebook as a student would (slow)
# --------------------------------------------------------------------------------------

RUN_ON_THEIR_OWN = [p for p in CHAPTERS if notebook_differs_from_script(p)]
SAME_AS_SCRIPT = [p for p in CHAPTERS if p not in RUN_ON_THEIR_OWN]


@pytest.mark.parametrize("page", SAME_AS_SCRIPT, ids=_ids(SAME_AS_SCRIPT))
def test_notebook_code_is_the_chapters_script(page):
    """Its executed cells are the script's cells; what else it holds only comments or imports."""
    doc = qmd.parse_qmd(ROOT / page)
    cells = expected_cells(page)
    assert [_normalise(b.source) for b in cells if b.evaluated] == [
        _normalise(b.source) for b in doc.evaluated_cells]
    extra = [b for b in cells if not b.evaluated]
    assert all(harmless(b.source) for b in extra), [b.source for b in extra]


def test_harmless_and_differing_notebooks_are_told_apart():
    assert harmless("# %pip install SITE/dist/pooling.whl\nimport pooling")
    assert not harmless("import pooling\nx = 1")
    assert not harmless("# comment\nfrom pooling import data")
    assert "chapters/06-shrinkage-interactive.qmd" in RUN_ON_THEIR_OWN  # a web-only cell
    assert len(SAME_AS_SCRIPT) >= 10


@pytest.mark.slow
@pytest.mark.site
@pytest.mark.parametrize(
    "page", [pytest.param(p, marks=pytest.mark.xdist_group(p)) for p in RUN_ON_THEIR_OWN],
    ids=_ids(RUN_ON_THEIR_OWN))
def test_notebook_runs_top_to_bottom(page, tmp_path):
    """Run All in a fresh ``python3`` kernel, in an empty folder holding only the notebook.

    Shares the xdist group of the chapter's own execution test, so the fits it samples
    are read back from the fit cache (``tests/support/fitcache.py``) instead of sampled again.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    current_notebook(page)  # fails clearly when missing or stale
    notebook = tmp_path / notebook_path(page).name
    shutil.copy2(notebook_path(page), notebook)
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # A last cell reports which Python the kernel runs: it must be the project's.
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)"))

    env = qmd.fit_cache_env()
    env.pop("MPLBACKEND", None)  # let the kernel show figures inline, as Jupyter does
    client = NotebookClient(nb, kernel_name="python3", timeout=900, record_timing=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    try:
        with client.setup_kernel(env=env):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
    except CellExecutionError as exc:
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # no terminal colours in the report
        pytest.fail(f"{notebook_path(page).name} stops with an error:\n{message}", pytrace=False)

    prefix = "".join(nb.cells[-1].outputs[0].get("text", "")).strip()
    assert prefix == sys.prefix, f"the python3 kernel runs {prefix}, not the project's {sys.prefix}"
    ran = {_normalise(c.source): c for c in nb.cells if c.cell_type == "code"}
    for block in expected_cells(page):
        if (block.label or "").startswith("fig-") and block.evaluated:
            assert qmd.has_image_output(ran[_normalise(block.source)]), (
                f"{notebook_path(page).name}: figure {_label(block)} drew nothing when run")


# --------------------------------------------------------------------------------------
# The helpers themselves (no rendered site needed)
# --------------------------------------------------------------------------------------

def test_web_only_lines_follow_nested_divs(tmp_path):
    path = tmp_path / "page.qmd"
    path.write_text(
        "---\ntitle: T\n---\n\n"
        "```{python}\nx = 1\n```\n\n"
        '::: {.content-visible when-format="html"}\n'
        "::: {.callout-note}\nWeb only.\n:::\n\n"
        "```{python}\ny = 2\n```\n\n"
        "```{ojs}\nviewof n = Inputs.range([1, 10])\n```\n"
        ":::\n\n"
        '::: {.content-hidden when-format="html"}\n'
        "```{python}\nz = 3\n```\n"
        ":::\n", encoding="utf-8")
    doc = qmd.parse_qmd(path)
    hidden = web_only_lines(doc)
    shown = [b.source.strip() for b in doc.python_cells if b.line not in hidden]
    assert shown == ["x = 1", "z = 3"]
    assert all(b.line in hidden for b in doc.ojs_cells)


def test_is_python_rejects_observable_js():
    assert is_python("import numpy as np\n%matplotlib inline\nnp.zeros(3)")
    assert not is_python('viewof n = Inputs.range([1, 3000], {label: "n"})')
    assert not is_python('//| echo: false\nhtml`<div>${plot}</div>`')

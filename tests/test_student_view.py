"""The chapter's code as a student copying its code blocks gets it: one plain Python script.

All evaluated ```{python} cells of a page, in order, become one script
(:func:`support.qmd.student_script`). Anything that only works inside Jupyter or Quarto
(magics, shell escapes, ``?`` help) would stop that script; this fast test finds such lines
without running anything, and checks that the script parses.

The script is *run* once, in the strictest setting a student meets, by
``tests/test_wheel.py::test_chapter_runs_from_the_installed_wheel``: a fresh interpreter in an
empty folder, with ``pooling`` installed from the published wheel and not from this checkout,
and matplotlib's Agg backend. Running the same text a second time against the checkout would
add nothing that run does not already show. What the rendered page shows is proved to be this
same code, cell by cell, by ``tests/test_rendered_student_view.py``, and the downloadable
notebook's code by ``tests/test_notebooks.py``.
"""

from __future__ import annotations

import pytest

from support import qmd
from support.site import listed_pages

ROOT = qmd.ROOT


def pages_with_code() -> list[str]:
    return [
        page for page in listed_pages()
        if (ROOT / page).exists() and qmd.parse_qmd(ROOT / page).evaluated_cells
    ]


@pytest.mark.parametrize("page", pages_with_code())
def test_student_script_is_plain_python(page):
    doc = qmd.parse_qmd(ROOT / page)
    problems = qmd.ipython_only_syntax(doc)
    assert not problems, "\n".join(problems)
    assert qmd.student_script(doc).count("# --- cell ") == len(doc.evaluated_cells)


# What a code block of the page holds on one line (styles/figures.scss sets its font so that
# 89 characters fit the text column); longer lines wrap on the page, where a reader cannot
# tell a wrapped line from two.
MAX_LINE = 88


def _lines_inside_strings(source: str) -> set[int]:
    """1-based lines that a multi-line string literal continues onto (a docstring's body)."""
    import io
    import tokenize

    inside: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING and token.end[0] > token.start[0]:
            inside.update(range(token.start[0] + 1, token.end[0] + 1))
    return inside


@pytest.mark.parametrize("page", pages_with_code())
def test_shown_code_lines_fit_the_page(page):
    doc = qmd.parse_qmd(ROOT / page)
    too_long = []
    for block in doc.blocks:
        options = block.options
        if "python" not in block.info or options.get("echo") is False or options.get("include") is False:
            continue
        exempt = _lines_inside_strings(block.source)
        for number, line in enumerate(block.source.splitlines(), start=1):
            if len(line) > MAX_LINE and number not in exempt:
                too_long.append(f"{page}, cell at line {block.line}: {len(line)} characters: {line.strip()[:60]}")
    assert not too_long, "\n".join(too_long)

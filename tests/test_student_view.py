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

"""Run each chapter's code the way a student copying the code blocks would.

All evaluated ```{python} cells of a page, in order, become one script that runs
with the project's Python in a clean interpreter (`python script.py`), in an empty
temporary directory, with matplotlib's non-interactive Agg backend. Anything that
only works inside Jupyter or Quarto (magics, shell escapes, a bare `display`,
`ojs_define` without a guard) fails here. A passing run is remembered in
tests/.cache/student-view (keyed by the script and the inputs fingerprint).
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


@pytest.mark.slow
@pytest.mark.parametrize("page", [pytest.param(p, marks=pytest.mark.xdist_group(p)) for p in pages_with_code()])
def test_student_can_run_the_code_as_a_script(page, tmp_path):
    doc = qmd.parse_qmd(ROOT / page)
    problems = qmd.ipython_only_syntax(doc)
    assert not problems, "\n".join(problems)

    script = qmd.student_script(doc)
    qmd.run_script_once(
        script, name=doc.path.stem, folder=tmp_path,
        marker=qmd.STUDENT_CACHE_DIR / f"{qmd.student_cache_key(script)}.ok",
        what=f"{page}: the code blocks, run in order as one script,",
    )

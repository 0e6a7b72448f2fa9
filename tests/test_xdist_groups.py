"""The suite's scheduling works: tests that share an ``xdist_group`` run on one worker.

``make test`` runs ``pytest -n 2 --dist loadgroup``. Each chapter's tests (its kernel run, its
run from the installed wheel, the tests of its exercise solutions) share the chapter's group,
so they run one after the other on one worker and the later ones read the chapter's fits from
the fit cache. If the grouping silently stopped working (pytest 9.2 with pytest-xdist 3.8 does
that), a chapter's models would be sampled twice, at the same time, on both workers.
"""

from __future__ import annotations

import re
import subprocess
import sys

SAMPLE = '''
import pytest

pytestmark = pytest.mark.xdist_group("one group")


@pytest.mark.parametrize("i", range(6))
def test_member(i):
    pass


@pytest.mark.xdist_group("other group")
@pytest.mark.parametrize("i", range(6))
def test_other(i):
    pass
'''


def test_loadgroup_keeps_a_group_on_one_worker(tmp_path):
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider",
         "test_sample.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    workers: dict[str, set[str]] = {}
    for worker, name in re.findall(r"\[(gw\d+)\].*?PASSED test_sample\.py::(test_\w+)", done.stdout):
        workers.setdefault(name, set()).add(worker)
    assert set(workers) == {"test_member", "test_other"}, done.stdout
    assert all(len(w) == 1 for w in workers.values()), f"a group ran on several workers: {workers}"
    assert "@one group" in done.stdout

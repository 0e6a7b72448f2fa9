"""tools/execute_pages.py: stale pages executed side by side, longest first, stopping at a failure."""

from __future__ import annotations

import importlib.util
import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
_spec = importlib.util.spec_from_file_location("execute_pages", ROOT / "tools" / "execute_pages.py")
execute_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_pages)

# A stand-in for `quarto render <page>`: logs start and end, sleeps, fails for pages named "bad"
FAKE_QUARTO = """#!/bin/sh
echo "start $2" >> "{log}"
sleep {seconds}
case "$2" in *bad*) echo "error in $2"; exit 3;; esac
echo "end $2" >> "{log}"
"""


@pytest.fixture
def fake_quarto(tmp_path):
    def make(seconds: float = 0.5) -> tuple[str, Path]:
        log = tmp_path / "calls.log"
        script = tmp_path / "quarto"
        script.write_text(FAKE_QUARTO.format(log=log, seconds=seconds))
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        return str(script), log

    return make


@pytest.fixture
def pages(tmp_path, monkeypatch):
    """Pages inside a throw-away project root, with 0 to 3 fits each."""
    monkeypatch.setattr(execute_pages, "ROOT", tmp_path)

    def make(**fits: int) -> list[Path]:
        made = []
        for name, count in fits.items():
            page = tmp_path / f"{name}.qmd"
            page.write_text("```{python}\n" + "idata = fit(model)\n" * count + "```\n")
            made.append(page)
        return made

    return make


def test_longest_pages_start_first(pages):
    made = pages(short=0, long=3, middle=1, other_middle=1)
    order = execute_pages.execution_order(made, profiled={})  # by fit( calls
    assert [p.stem for p in order] == ["long", "middle", "other_middle", "short"]
    # a profiled time wins over the count; unprofiled pages are estimated per fit
    order = execute_pages.execution_order(made, profiled={"short": 100.0, "long": 5.0})
    assert [p.stem for p in order] == ["short", "middle", "other_middle", "long"]


def test_the_profile_gives_seconds_per_page(tmp_path):
    profile = tmp_path / "profile.json"
    profile.write_text('[{"page": "07-varying-slopes", "total": 252.4}, {"page": "01-data", "total": 5.8}]')
    assert execute_pages.profiled_seconds(profile) == {"07-varying-slopes": 252.4, "01-data": 5.8}
    assert execute_pages.profiled_seconds(tmp_path / "missing.json") == {}
    # the committed profile lists every chapter with code
    listed = execute_pages.profiled_seconds(ROOT / "benchmarks" / "render_profile.json")
    chapters = {p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]-*.qmd")}
    assert chapters <= set(listed)


def test_two_pages_run_at_the_same_time(pages, fake_quarto, capsys, monkeypatch):
    quarto, log = fake_quarto(seconds=1.0)
    monkeypatch.setattr(execute_pages, "PROFILE", Path("/nonexistent/profile.json"))
    assert execute_pages.execute(pages(a=2, b=1, c=0), jobs=2, quarto=quarto) == 0
    calls = log.read_text().split("\n")
    # the two longest started together, before either ended (their first lines may come in
    # either order), and c only after one of them had ended
    assert sorted(calls[:2]) == ["start a.qmd", "start b.qmd"]
    assert calls.index("start c.qmd") > min(calls.index("end a.qmd"), calls.index("end b.qmd"))
    assert sorted(c for c in calls if c.startswith("end")) == ["end a.qmd", "end b.qmd", "end c.qmd"]
    assert "c.qmd: done" in capsys.readouterr().out


def test_a_failing_page_stops_the_run_and_shows_quarto_output(pages, fake_quarto, capsys, monkeypatch):
    monkeypatch.setattr(execute_pages, "PROFILE", Path("/nonexistent/profile.json"))
    quarto, log = fake_quarto(seconds=0.3)
    code = execute_pages.execute(pages(bad=3, good=2, later=1, last=0), jobs=1, quarto=quarto)
    assert code == 1
    assert log.read_text().split("\n")[:1] == ["start bad.qmd"]
    assert "start good.qmd" not in log.read_text()  # nothing started after the failure
    err = capsys.readouterr().err
    assert "bad.qmd: quarto render failed (exit 3)" in err and "error in bad.qmd" in err


def test_main_rejects_missing_pages_and_bad_job_counts(tmp_path):
    with pytest.raises(SystemExit):
        execute_pages.main([str(tmp_path / "nowhere.qmd")])
    with pytest.raises(SystemExit):
        execute_pages.main(["--jobs", "0"])

"""The package as a student gets it: a wheel, installed outside the repository.

A student who copies a chapter's code into a notebook on their own machine has no
checkout: they install the wheel that the site publishes next to its pages
(``setup.qmd``, "Run the code yourself"). These tests build that wheel with
``uv build`` (source distribution first, then the wheel from it, as ``make wheel``
does), install it into a fresh virtual environment in a temporary folder with the
versions locked in ``uv.lock`` (read from uv's cache, so no download is needed
after ``uv sync``; bytecode compiled at install time, as pip does; one environment
per test run, shared by the pytest-xdist workers), and then, from that folder and
that environment only:

* read the bundled data sets and their codebook from inside the installed package;
* check that the loaders report a file with the wrong columns exactly as they do in
  the repository;
* run every chapter's code blocks in order as one script, as a student copying them
  would. ``POOLING_FIT_CACHE`` points at the test suite's fit cache, so the posteriors
  that the chapter tests already sampled are read back instead of sampled again (each
  chapter shares the xdist group of its other tests, so it runs after them).

The fast tests check the pieces that tell a student how to install the package: the
setup page, the notebook setup cell at the top of each chapter, and where the site
publishes the wheel.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from support import qmd
from support.site import listed_pages

ROOT = qmd.ROOT
DATA = ROOT / "data"
SETUP_PAGE = ROOT / "setup.qmd"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
VERSION = PROJECT["version"]
WHEEL_NAME = f"pooling-{VERSION}-py3-none-any.whl"
WHEEL_URL_PATH = f"dist/{WHEEL_NAME}"  # relative to the site's home page
WHEEL_CACHE_DIR = qmd.CACHE_DIR / "wheel-view"
PACKAGED_DATA = "pooling/_data"


def bundled_data_files() -> list[str]:
    """The files the wheel must carry: every data set and the codebook."""
    return sorted(p.name for p in DATA.iterdir() if p.suffix == ".csv" or p.name == "README.md")


def chapters_with_code() -> list[str]:
    return [p for p in listed_pages()
            if p.startswith("chapters/") and qmd.parse_qmd(ROOT / p).evaluated_cells]


# --------------------------------------------------------------------------------------
# Building and installing (session fixtures, built once per pytest worker)
# --------------------------------------------------------------------------------------


def uv() -> list[str]:
    """The uv executable: the one running the tests (`uv run` sets ``UV``) or beside Python."""
    candidates = [os.environ.get("UV"), str(Path(sys._base_executable).with_name("uv")), shutil.which("uv")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return [candidate]
    pytest.fail("uv is not available: run the tests with `make test` (it runs pytest through uv)",
                pytrace=False)


def run(command: list, *, cwd: Path, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    completed = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                               text=True, timeout=timeout)
    if completed.returncode != 0:
        pytest.fail(f"`{' '.join(map(str, command))}` failed (exit code {completed.returncode}):\n"
                    f"{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}", pytrace=False)
    return completed


def _shared_folder(tmp_path_factory) -> Path:
    """A temporary folder shared by the pytest-xdist workers of this run (their common parent)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[str, Path]:
    """``uv build`` of the repository: the source distribution and the wheel built from it.

    Built once per test run: the first worker builds, the others wait for it and reuse it.
    """
    out = _shared_folder(tmp_path_factory) / "dist"
    with _locked(out.with_suffix(".lock")):
        if not (out / "built").exists():
            shutil.rmtree(out, ignore_errors=True)
            run([*uv(), "build", "--out-dir", out, ROOT], cwd=ROOT)
            (out / "built").write_text("")
    wheels = sorted(out.glob("*.whl"))
    sdists = sorted(out.glob("*.tar.gz"))
    assert [w.name for w in wheels] == [WHEEL_NAME], f"uv build made {wheels}"
    assert len(sdists) == 1, f"uv build made {sdists}"
    return {"wheel": wheels[0], "sdist": sdists[0]}


@dataclass
class StudentEnvironment:
    """A virtual environment with only the wheel and its locked dependencies installed."""

    home: Path  # the student's folder: outside the repository, holds the environment
    python: Path
    env: dict[str, str]  # environment variables of a shell with the environment activated

    def run(self, code: str, *, cwd: Path | None = None, extra_env: dict | None = None,
            timeout: int = 600) -> subprocess.CompletedProcess:
        """Run ``code`` as a script file with the environment's Python (no check of the exit code)."""
        folder = cwd or self.home
        script = folder / f"snippet_{hashlib.sha256(code.encode()).hexdigest()[:12]}.py"
        script.write_text(code, encoding="utf-8")
        return subprocess.run([str(self.python), str(script)], cwd=folder,
                              env={**self.env, **(extra_env or {})}, capture_output=True,
                              text=True, timeout=timeout)


def _student_env_vars(venv: Path) -> dict[str, str]:
    """The test's environment minus anything that could reach the repository, plus the venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV",
                        "POOLING_DATA_DIR", "POOLING_FIT_CACHE")}
    path = [p for p in env.get("PATH", "").split(os.pathsep)
            if p and not Path(p).resolve().is_relative_to(ROOT)]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *path])
    env["VIRTUAL_ENV"] = str(venv)
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.fixture(scope="session")
def student(built, tmp_path_factory) -> StudentEnvironment:
    """The student's folder and environment, made once per test run (shared by the workers)."""
    home = _shared_folder(tmp_path_factory) / "student"
    assert not home.resolve().is_relative_to(ROOT), f"{home} lies inside the repository"
    venv = home / "venv"
    python = venv / "bin" / "python"
    with _locked(home.with_suffix(".lock")):
        if not (home / "installed").exists():
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir()
            _install(built["wheel"], home, venv)
            (home / "installed").write_text("")
    return StudentEnvironment(home=home, python=python, env=_student_env_vars(venv))


def _install(wheel: Path, home: Path, venv: Path) -> None:
    """A fresh virtual environment in ``home`` with the wheel and the locked versions of its dependencies.

    The locked versions come as a lock file that names every wheel's address, so uv installs them
    from its cache (filled by ``uv sync``) without asking the package index; only a package missing
    from the cache is fetched. Bytecode is compiled at install time, as pip does.
    """
    lock = home / "pylock.toml"
    run([*uv(), "export", "--frozen", "--no-dev", "--no-emit-project", "--format", "pylock.toml",
         "--output-file", lock, "--quiet"], cwd=ROOT)
    run([*uv(), "venv", "--quiet", "--python", sys._base_executable, venv], cwd=home)
    install = [*uv(), "pip", "install", "--quiet", "--compile-bytecode", "--python", venv / "bin" / "python"]
    offline = subprocess.run([*map(str, install), "--offline", "-r", str(lock)], cwd=home,
                             capture_output=True, text=True)
    if offline.returncode != 0:
        run([*install, "-r", lock], cwd=home)
    run([*install, "--offline", wheel], cwd=home)
    run([*uv(), "pip", "check", "--python", venv / "bin" / "python"], cwd=home)


# --------------------------------------------------------------------------------------
# Fast: the repository reads data/, the site tells students how to install the package
# --------------------------------------------------------------------------------------


def test_the_repository_reads_its_data_folder(monkeypatch):
    from pooling import data

    monkeypatch.delenv("POOLING_DATA_DIR", raising=False)
    assert data.data_dir() == DATA
    stray = ROOT / "src" / PACKAGED_DATA
    assert not stray.exists(), (
        f"{stray.relative_to(ROOT)} exists: a copy of the data inside the source tree would be read "
        "instead of data/ (the wheel build puts data/ there; delete the copy)")


def test_pyproject_packages_the_data_folder_once():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = config["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["sources"]["data"] == PACKAGED_DATA
    assert "data" in wheel["only-include"] and "src/pooling" in wheel["only-include"]
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    originals = {(DATA / name).read_bytes() for name in bundled_data_files()}
    sizes = {len(b) for b in originals}
    copies = sorted(
        name for name in tracked.decode().split("\0")
        if name and not name.startswith("data/") and (ROOT / name).is_file()
        and (ROOT / name).stat().st_size in sizes and (ROOT / name).read_bytes() in originals
    )
    assert not copies, f"copies of the bundled data committed outside data/: {copies}"


def test_setup_page_names_the_published_wheel_and_python_version():
    doc = qmd.parse_qmd(SETUP_PAGE)
    assert doc.title
    assert not doc.python_cells and not doc.ojs_cells, "the setup page executes nothing"
    assert WHEEL_URL_PATH in doc.text, f"setup.qmd does not name {WHEEL_URL_PATH}"
    stale = sorted(set(re.findall(r"pooling-[\w.]+-py3-none-any\.whl", doc.text)) - {WHEEL_NAME})
    assert not stale, f"setup.qmd names wheels of another version: {stale}"
    python = re.search(r">=\s*(3\.\d+)", PROJECT["requires-python"]).group(1)
    assert f"Python {python}" in doc.text
    for command in ("pip install", "uv ", "%pip install"):
        assert command in doc.text, f"setup.qmd shows no `{command}` command"


def test_site_config_publishes_the_wheel_and_links_the_setup_page():
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    resources = config["project"].get("resources", [])
    assert any(Path(WHEEL_URL_PATH).match(r) for r in resources), (
        f"_quarto.yml project: resources does not copy {WHEEL_URL_PATH} into the site")
    assert "setup.qmd" in listed_pages(), "the setup page is not in the navbar"
    index = qmd.parse_qmd(ROOT / "index.qmd")
    assert "setup.qmd" in {target for target, _, _ in qmd.internal_links(index)}, (
        "index.qmd does not link to setup.qmd")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^wheel:", makefile, flags=re.M), "the Makefile has no `wheel` target"
    assert re.search(r"^render:.*\bwheel\b", makefile, flags=re.M), "`make render` does not build the wheel first"


SETUP_CELL_START = re.compile(r'^::: \{\.content-visible when-format="ipynb"\}\s*$', flags=re.M)


@pytest.mark.parametrize("page", chapters_with_code())
def test_chapter_notebook_starts_with_the_setup_cell(page):
    """Before the first code cell, an ipynb-only block with a commented-out install command."""
    doc = qmd.parse_qmd(ROOT / page)
    body = doc.text.split("\n")[doc.body_start_line - 1:]
    start = next((i for i, line in enumerate(body) if SETUP_CELL_START.match(line)), None)
    assert start is not None, f"{page}: no notebook setup block (content-visible when-format=\"ipynb\")"
    first_cell = doc.python_cells[0]
    assert first_cell.line > doc.body_start_line + start, f"{page}: the setup cell is not the first code cell"
    assert first_cell.options.get("eval") is False, f"{page}: the setup cell must not run at render time"
    code = first_cell.source
    assert f"# %pip install" in code and WHEEL_URL_PATH in code, (
        f"{page}: the setup cell does not show the commented-out `%pip install` of {WHEEL_URL_PATH}")
    compile(code, page, "exec")  # plain Python as it stands, so Run All passes over it
    assert "import pooling" in code


def _differences_from_sources(wheel_path: Path) -> list[str]:
    """Files of a wheel that differ from (or lack) the repository's data/ and src/pooling/."""
    expected = {f"{PACKAGED_DATA}/{name}": DATA / name for name in bundled_data_files()}
    expected |= {f"pooling/{p.name}": p for p in (ROOT / "src" / "pooling").glob("*.py")}
    with zipfile.ZipFile(wheel_path) as wheel:
        names = set(wheel.namelist())
        return sorted(member for member, source in expected.items()
                      if member not in names or wheel.read(member) != source.read_bytes())


@pytest.mark.site
def test_the_rendered_site_serves_the_wheel_it_links():
    from support import rendered

    rendered.require_current_site()
    html = (rendered.SITE / "setup.html").read_text(encoding="utf-8")
    for link in (WHEEL_URL_PATH, "dist/requirements.txt"):
        assert f'href="{link}"' in html, f"_site/setup.html does not link {link}"
        assert (rendered.SITE / link).is_file(), (
            f"_site/{link} is missing: run `make site` (its `make wheel` step copies it there)")
    stale = _differences_from_sources(rendered.SITE / WHEEL_URL_PATH)
    assert not stale, f"_site/{WHEEL_URL_PATH} is older than the sources ({stale}): run `make wheel`"
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    locked = {(p["name"], p["version"]) for p in lock["package"] if "version" in p}
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", (rendered.SITE / "dist/requirements.txt").read_text(),
                      flags=re.M)
    assert "pymc" in dict(pins), "_site/dist/requirements.txt does not pin PyMC"
    unlocked = sorted(set(pins) - locked)
    assert not unlocked, f"_site/dist/requirements.txt pins versions that uv.lock does not: {unlocked}"


# --------------------------------------------------------------------------------------
# Slow: build, install outside the repository, use it
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_wheel_holds_the_package_and_the_data(built):
    differing = _differences_from_sources(built["wheel"])
    assert not differing, f"{WHEEL_NAME} lacks these files of data/ and src/pooling/, or differs: {differing}"
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = set(wheel.namelist())
    outside = sorted(n for n in names if not n.startswith(("pooling/", f"pooling-{VERSION}.dist-info/")))
    assert not outside, f"{WHEEL_NAME} holds files outside the package: {outside}"
    with tarfile.open(built["sdist"]) as sdist:
        members = {Path(*Path(m).parts[1:]).as_posix() for m in sdist.getnames()}
    assert {f"data/{name}" for name in bundled_data_files()} <= members, "the sdist lacks data/"


@pytest.mark.slow
def test_installed_wheel_reads_its_bundled_data(student, tmp_path):
    probe = student.run(
        "import json, sys\n"
        "from importlib import resources\n"
        "import pooling\n"
        "from pooling import data\n"
        "survey = data.load_survey(with_new_countries=True)\n"
        "print(json.dumps({'module': pooling.__file__, 'sys_path': sys.path,\n"
        "    'data_dir': str(data.data_dir()),\n"
        "    'codebook': (resources.files('pooling') / '_data' / 'README.md').read_text(encoding='utf-8'),\n"
        "    'survey': list(survey.shape), 'countries': survey['country_name'].nunique(),\n"
        "    'radon': list(data.load_radon().shape)}))\n")
    assert probe.returncode == 0, probe.stderr[-4000:]
    seen = json.loads(probe.stdout)
    site_packages = student.home / "venv" / "lib"
    assert Path(seen["module"]).is_relative_to(site_packages), f"pooling imported from {seen['module']}"
    inside = [p for p in seen["sys_path"] if p and Path(p).resolve().is_relative_to(ROOT)]
    assert not inside, f"the student's Python can see the repository: {inside}"
    assert Path(seen["data_dir"]) == Path(seen["module"]).parent / "_data"
    assert seen["codebook"] == (DATA / "README.md").read_text(encoding="utf-8")

    from pooling import data  # the repository's copy, for comparison

    repo_survey = data.load_survey(with_new_countries=True)
    assert seen["survey"] == list(repo_survey.shape)
    assert seen["countries"] == repo_survey["country_name"].nunique() == 35
    assert seen["radon"] == [919, 4]

    # POOLING_DATA_DIR and explicit paths still win over the packaged data.
    header = "country_name,antiauth,china,trade_china\n"
    own = tmp_path / "own"
    own.mkdir()
    (own / "survey.csv").write_text(header + "Nigeria,2.5,3,15000\nTunisia,1.25,4,1600\n", encoding="utf-8")
    explicit = tmp_path / "class_survey.csv"
    explicit.write_text(header + "Nigeria,2.5,3,15000\nNigeria,1,2,15000\nTunisia,1.25,4,1600\n", encoding="utf-8")
    script = tmp_path / "where.py"
    script.write_text("import sys\nfrom pooling import data\n"
                      "print(data.data_dir(), len(data.load_survey()), len(data.load_survey(sys.argv[1])))\n",
                      encoding="utf-8")
    runs = (({"POOLING_DATA_DIR": str(own)}, [str(own), "2", "3"]),
            ({}, [seen["data_dir"], str(len(data.load_survey())), "3"]))
    for extra, expected in runs:
        done = subprocess.run([str(student.python), str(script), str(explicit)], cwd=tmp_path,
                              env={**student.env, **extra}, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-4000:]
        assert done.stdout.split() == expected, f"with {extra or 'no POOLING_DATA_DIR'}: {done.stdout}"


WRONG_COLUMNS = "respondent_id,Country Name,antiauth,china\n1,Nigeria,2.5,3\n2,Tunisia,1.0,4\n"
REPORT_ERROR = (
    "import sys\n"
    "from pooling.data import DataValidationError, load_survey\n"
    "try:\n"
    "    load_survey(sys.argv[1])\n"
    "except DataValidationError as error:\n"
    "    print(error)\n"
    "else:\n"
    "    raise SystemExit('no error for a file with the wrong columns')\n"
)


@pytest.mark.slow
def test_wrong_columns_get_the_same_error_as_in_the_repository(student, tmp_path):
    bad = tmp_path / "my_survey.csv"
    bad.write_text(WRONG_COLUMNS, encoding="utf-8")
    script = tmp_path / "report.py"
    script.write_text(REPORT_ERROR, encoding="utf-8")
    messages = {}
    for where, python, env in (("wheel", student.python, student.env),
                               ("repository", sys.executable, dict(os.environ))):
        done = subprocess.run([str(python), str(script), str(bad)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{where}: {done.stdout}{done.stderr[-4000:]}"
        messages[where] = done.stdout.strip()
    assert messages["wheel"] == messages["repository"]
    message = messages["wheel"]
    assert str(bad) in message
    assert "missing the required columns 'country_name'" in message and "'trade_china'" in message
    assert "'Country Name' a misspelling of 'country_name'" in message


def _wheel_view_marker(script: str) -> Path:
    key = hashlib.sha256(
        (script + qmd.inputs_fingerprint() + (ROOT / "pyproject.toml").read_text(encoding="utf-8")).encode()
    ).hexdigest()
    return WHEEL_CACHE_DIR / f"{key}.ok"


@pytest.mark.slow
@pytest.mark.parametrize("page", [pytest.param(p, marks=pytest.mark.xdist_group(p)) for p in chapters_with_code()])
def test_chapter_runs_from_the_installed_wheel(page, request):
    """The chapter's code blocks, in order, in the student's folder and environment."""
    doc = qmd.parse_qmd(ROOT / page)
    script = qmd.student_script(doc)
    marker = _wheel_view_marker(script)
    if qmd.cache_enabled() and marker.exists():
        return  # this exact script already ran against a wheel of these exact sources

    student: StudentEnvironment = request.getfixturevalue("student")
    folder = student.home / doc.path.stem
    folder.mkdir(exist_ok=True)
    # Only the fit cache's wrapper (tests/support/fitcache_site) is added to the student's
    # path; pooling itself still comes from the installed wheel.
    cache_env = qmd.fit_cache_env()
    extra = {k: cache_env[k] for k in ("POOLING_FIT_CACHE", "PYTHONPATH") if cache_env.get("POOLING_FIT_CACHE")}
    done = student.run(script, cwd=folder, extra_env=extra or None, timeout=1800)
    assert done.returncode == 0, (
        f"{page}: the code blocks, run in order with pooling installed from {WHEEL_NAME} in "
        f"{student.home}, failed (exit code {done.returncode}).\n"
        f"--- stderr (last 4000 characters) ---\n{done.stderr[-4000:]}")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(page + "\n")

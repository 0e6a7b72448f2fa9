"""Read Quarto ``.qmd`` files and execute their Python cells the way Quarto does.

Quarto cannot run in the test environment, so the tests rebuild the parts of
Quarto's pipeline that decide whether a page renders:

Parsing (:func:`parse_qmd`)
    YAML front matter; fenced code blocks. A block whose fence is
    ```` ```{python} ```` is an *executable cell*; its leading ``#| key: value``
    lines are the cell options (YAML). ```` ```python ```` and ```` ```{{python}} ````
    blocks are displayed code only. ```` ```{ojs} ```` cells are Observable JS,
    run in the reader's browser, never by Python.

Notebook (:func:`to_notebook`)
    The executable cells, in order, as an nbformat v4 notebook with the
    ``python3`` kernelspec, the same thing Quarto hands to Jupyter. Cells with
    ``eval: false`` stay visible on the page but are not part of the executed
    notebook. ``error: true`` cells get the ``raises-exception`` tag.

Execution (:func:`execute_qmd`)
    A fresh ``python3`` kernel (from the same environment as the tests; checked)
    started with the document's directory as working directory, as Quarto does.
    Before the first cell the kernel receives :data:`KERNEL_PREAMBLE`, which
    defines ``ojs_define`` exactly as Quarto does at render time (Quarto injects
    that function into every Jupyter kernel it starts; it does not exist in a
    plain Python session). The stand-in serialises its arguments with
    :func:`json.dumps` just like Quarto, so a value that would break the render
    (for example a NumPy scalar) breaks the test too. The preamble runs with
    ``store_history=False``: cell execution counts still start at 1.

    Any error fails with the document, the cell number (1-based, counted over
    the executed cells), its label, its line in the ``.qmd`` and the traceback.

Cache
    Executed notebooks are kept in a jupyter-cache store under
    ``tests/.cache/jupyter-cache`` (git-ignored). jupyter-cache hashes the code
    cells and their metadata; the first cell's metadata also carries
    :func:`inputs_fingerprint`, a hash of ``src/pooling``, ``data/``,
    ``uv.lock`` and this module, so editing the library or the data re-executes
    every chapter, while an unchanged chapter is read back from the cache.
    Set ``POOLING_TEST_NO_CACHE=1`` to execute everything regardless.

Student view (:func:`student_script`, :func:`ipython_only_syntax`)
    All evaluated cells concatenated into one plain Python script, as a student
    copying the code blocks in order would get it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = ROOT / "tests" / ".cache"
JUPYTER_CACHE_DIR = CACHE_DIR / "jupyter-cache"
FIT_CACHE_DIR = CACHE_DIR / "fits"
FIT_CACHE_SITE = Path(__file__).resolve().parent / "fitcache_site"
TIMINGS_FILE = CACHE_DIR / "timings.json"

# Cross-reference prefixes that Quarto understands; `@fig-x` is a reference, not a citation.
CROSSREF_PREFIXES = ("fig", "tbl", "sec", "eq", "lst", "thm", "lem", "cor", "prp", "cnj",
                     "def", "exm", "exr", "sol", "rem")

# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------

_FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*?)\s*$")


@dataclass
class CodeBlock:
    """One fenced code block of a .qmd file."""

    info: str  # text after the fence, e.g. "{python}", "python", "{ojs}", "{.python}"
    source: str  # the code without the `#|` option lines
    raw: str  # the code as written, option lines included
    options: dict[str, Any]
    line: int  # 1-based line of the opening fence in the .qmd
    end_line: int  # 1-based line of the closing fence

    @property
    def engine(self) -> str | None:
        """``"python"``/``"ojs"``/... for executable ``{lang}`` cells, else None."""
        m = re.fullmatch(r"\{([A-Za-z0-9_]+)(?:[\s,][^}]*)?\}", self.info)
        return m.group(1).lower() if m else None

    @property
    def is_python_cell(self) -> bool:
        return self.engine == "python"

    @property
    def is_ojs_cell(self) -> bool:
        return self.engine == "ojs"

    @property
    def evaluated(self) -> bool:
        return self.is_python_cell and self.options.get("eval", True) is not False

    @property
    def label(self) -> str | None:
        label = self.options.get("label")
        return str(label) if label is not None else None


@dataclass
class QmdDocument:
    path: Path
    text: str
    front_matter: dict[str, Any]
    blocks: list[CodeBlock]
    body_start_line: int  # 1-based line where the body (after front matter) begins
    _prose: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        try:
            return str(self.path.relative_to(ROOT))
        except ValueError:
            return str(self.path)

    @property
    def title(self) -> str | None:
        title = self.front_matter.get("title")
        return str(title) if title else None

    @property
    def python_cells(self) -> list[CodeBlock]:
        return [b for b in self.blocks if b.is_python_cell]

    @property
    def evaluated_cells(self) -> list[CodeBlock]:
        return [b for b in self.blocks if b.evaluated]

    @property
    def ojs_cells(self) -> list[CodeBlock]:
        return [b for b in self.blocks if b.is_ojs_cell]

    @property
    def prose(self) -> str:
        """The body with code blocks, inline code and HTML comments blanked out.

        Blanking keeps line numbers: every removed character that is a newline stays.
        """
        if self._prose is None:
            lines = self.text.split("\n")
            for i in range(self.body_start_line - 1):
                lines[i] = ""
            for block in self.blocks:
                for i in range(block.line - 1, min(block.end_line, len(lines))):
                    lines[i] = ""
            prose = "\n".join(lines)
            prose = re.sub(r"<!--.*?-->", lambda m: re.sub(r"[^\n]", " ", m.group(0)), prose, flags=re.S)
            prose = _blank_inline_code(prose)
            self._prose = prose
        return self._prose


def _blank_inline_code(text: str) -> str:
    """Replace inline code spans (`x`, ``x``) by spaces, keeping newlines."""
    out = []
    i = 0
    while i < len(text):
        if text[i] == "`":
            j = i
            while j < len(text) and text[j] == "`":
                j += 1
            ticks = text[i:j]
            end = text.find(ticks, j)
            # a run of backticks closes only on the same-length run
            while end != -1 and (end + len(ticks) < len(text) and text[end + len(ticks)] == "`"):
                end = text.find(ticks, end + len(ticks) + 1)
            if end == -1:
                out.append(ticks)
                i = j
                continue
            span = text[i : end + len(ticks)]
            out.append(re.sub(r"[^\n]", " ", span))
            i = end + len(ticks)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def split_front_matter(text: str) -> tuple[dict[str, Any], int]:
    """Return (front matter, 1-based line where the body starts)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, 1
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            meta = yaml.safe_load("\n".join(lines[1:i])) or {}
            if not isinstance(meta, dict):
                raise ValueError("front matter is not a YAML mapping")
            return meta, i + 2
    raise ValueError("front matter opened with '---' is never closed")


def parse_cell_options(code: str, prefix: str = "#|") -> tuple[dict[str, Any], str]:
    """Split the leading option lines of a cell (``#|``, or ``//|`` in OJS) into (options, code)."""
    lines = code.split("\n")
    option_lines = []
    n = 0
    for line in lines:
        if line.startswith(prefix):
            rest = line[len(prefix):]
            option_lines.append(rest[1:] if rest.startswith(" ") else rest)
            n += 1
        else:
            break
    options = yaml.safe_load("\n".join(option_lines)) if option_lines else {}
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise ValueError(f"cell options are not a YAML mapping: {option_lines!r}")
    return options, "\n".join(lines[n:])


def parse_qmd(path: str | Path) -> QmdDocument:
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    front_matter, body_start = split_front_matter(text)
    lines = text.split("\n")
    blocks: list[CodeBlock] = []
    i = body_start - 1
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info")
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        raw = "\n".join(lines[i + 1 : j])
        block = CodeBlock(info=info, source=raw, raw=raw, options={}, line=i + 1, end_line=j + 1)
        if block.engine is not None:
            try:
                prefix = "//|" if block.engine in ("ojs", "js") else "#|"
                block.options, block.source = parse_cell_options(raw, prefix)
            except (ValueError, yaml.YAMLError) as exc:
                raise ValueError(f"{path}:{i + 1}: cannot read the #| cell options: {exc}") from exc
        blocks.append(block)
        i = j + 1
    return QmdDocument(path=path, text=text, front_matter=front_matter, blocks=blocks,
                       body_start_line=body_start)


# --------------------------------------------------------------------------------------
# Markdown details used by the site tests
# --------------------------------------------------------------------------------------

_CITE = re.compile(
    r"(?<![\w\\@.])"  # not inside a word (so not an e-mail address) and not escaped
    r"-?@(?:\{(?P<braced>[^}]+)\}|(?P<key>[A-Za-z0-9_](?:[\w]|[:.#$%&+?<>~/-](?=[\w]))*))"
)


def citation_keys(doc: QmdDocument) -> list[tuple[str, int]]:
    """Citation keys in the prose, as (key, line); cross-references excluded."""
    found = []
    prose = _strip_urls(doc.prose)
    for m in _CITE.finditer(prose):
        key = m.group("braced") or m.group("key")
        if key.split("-", 1)[0] in CROSSREF_PREFIXES and "-" in key:
            continue
        found.append((key, prose.count("\n", 0, m.start()) + 1))
    return found


def crossrefs(doc: QmdDocument) -> list[tuple[str, int]]:
    """Cross-references such as ``@fig-shrinkage`` or ``[-@sec-intro]``, as (label, line)."""
    prose = _strip_urls(doc.prose)
    pattern = re.compile(
        rf"(?<![\w\\@.])-?@((?:{'|'.join(CROSSREF_PREFIXES)})-[\w](?:[\w]|[:.-](?=[\w]))*)"
    )
    return [(m.group(1), prose.count("\n", 0, m.start()) + 1) for m in pattern.finditer(prose)]


def _strip_urls(text: str) -> str:
    return re.sub(r"<?https?://[^\s)>\]]+>?", lambda m: " " * len(m.group(0)), text)


def labels(doc: QmdDocument) -> set[str]:
    """Every cross-reference label defined in the document."""
    found = set()
    for block in doc.blocks:
        if block.engine is not None and block.label:
            found.add(block.label)
    for m in re.finditer(r"\{[^{}\n]*?#([A-Za-z][\w:.-]*)[^{}\n]*\}", doc.prose):
        found.add(m.group(1))
    return found


@dataclass
class Heading:
    level: int
    text: str
    identifier: str
    line: int
    in_div: bool  # inside a fenced div (a callout's title heading, for example)


def pandoc_identifier(text: str) -> str:
    """Pandoc's ``auto_identifiers`` rule for a heading text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images -> their text
    text = re.sub(r"\[\^[^\]]*\]", "", text)  # footnotes
    text = re.sub(r"[*`]", "", text)  # emphasis and code markers
    text = re.sub(r"(?<!\w)_+|_+(?!\w)", "", text)  # _emphasis_ markers
    text = re.sub(r"[^\w\s.-]", "", text, flags=re.UNICODE)
    text = re.sub(r"\s+", "-", text.strip()).lower()
    text = re.sub(r"^[^a-z]+", "", text)
    return text or "section"


def headings(doc: QmdDocument) -> list[Heading]:
    result = []
    seen: dict[str, int] = {}
    depth = 0
    for number, line in enumerate(doc.prose.split("\n"), start=1):
        if re.match(r"^:{3,}\s*$", line):
            depth = max(depth - 1, 0)
            continue
        if re.match(r"^:{3,}\s*\S", line):
            depth += 1
            continue
        m = re.match(r"^(#{1,6})\s+(.*?)\s*$", line)
        if not m:
            continue
        text = m.group(2)
        attrs = re.search(r"\s*\{([^{}]*)\}\s*$", text)
        identifier = None
        if attrs:
            text = text[: attrs.start()].rstrip()
            explicit = re.search(r"#([A-Za-z][\w:.-]*)", attrs.group(1))
            identifier = explicit.group(1) if explicit else None
        text = re.sub(r"\s+#+\s*$", "", text)
        if identifier is None:
            base = pandoc_identifier(text)
            identifier = base if base not in seen else f"{base}-{seen[base]}"
            seen[base] = seen.get(base, 0) + 1
        result.append(Heading(level=len(m.group(1)), text=text, identifier=identifier, line=number,
                              in_div=depth > 0))
    return result


def internal_links(doc: QmdDocument) -> list[tuple[str, str | None, int]]:
    """Relative links to .qmd files, as (path, anchor or None, line)."""
    found = []
    prose = doc.prose
    for m in re.finditer(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", prose):
        target = m.group(1)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.I):
            continue  # http:, mailto:, ...
        path, _, anchor = target.partition("#")
        if path.endswith(".qmd"):
            found.append((path, anchor or None, prose.count("\n", 0, m.start()) + 1))
    return found


# --------------------------------------------------------------------------------------
# Notebook
# --------------------------------------------------------------------------------------

FINGERPRINT_KEY = "pooling_test_inputs"


def inputs_fingerprint() -> str:
    """Hash of everything outside a chapter that can change its results."""
    digest = hashlib.sha256()
    files = sorted((ROOT / "src" / "pooling").rglob("*.py")) + sorted(
        p for p in (ROOT / "data").rglob("*") if p.is_file() and p.suffix != ".md"
    )
    # this file and the fit cache that chapter kernels load (they shape how a chapter runs)
    files += [ROOT / "uv.lock", Path(__file__).resolve(), Path(__file__).resolve().parent / "fitcache.py",
              FIT_CACHE_SITE / "sitecustomize.py"]
    for path in files:
        if path.exists():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


_INLINE_EXPRESSION = re.compile(r"`\{python\}\s+([^`]+?)\s*`")


def inline_expressions(doc: QmdDocument, start: int, end: int) -> list[tuple[int, str]]:
    """(line, expression) of every inline ```{python} expr``` between lines ``start`` and ``end``
    (0-based, end exclusive) of the .qmd text, outside code blocks."""
    found = []
    for offset, line in enumerate(doc.text.split("\n")[start:end]):
        found += [(start + offset + 1, m.group(1)) for m in _INLINE_EXPRESSION.finditer(line)]
    return found


def _inline_check_cell(doc: QmdDocument, expressions: list[tuple[int, str]]) -> nbformat.NotebookNode:
    """A code cell that evaluates the inline expressions of the text before the next cell,
    at the point of the page where Quarto evaluates them, and names any that fails."""
    source = (
        "# inline expressions of the text (Quarto evaluates them at this point of the page)\n"
        f"for _line, _expression in {expressions!r}:\n"
        "    try:\n"
        "        str(eval(_expression))\n"
        "    except Exception as _error:\n"
        f"        raise AssertionError(f'{doc.name} line {{_line}}: inline expression "
        "{_expression!r} fails: {_error!r}') from None\n"
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["qmd"] = {"line": expressions[0][0], "label": None, "number": None, "inline": True}
    return cell


def to_notebook(doc: QmdDocument, *, markdown: bool = True, fingerprint: str | None = None
                ) -> nbformat.NotebookNode:
    """The evaluated Python cells of ``doc`` as a notebook (with markdown between them).

    Where the text between two cells holds inline expressions (```{python} expr```), a cell
    that evaluates them is inserted before that text, so executing the notebook checks them
    as Quarto will; such cells carry ``metadata["qmd"]["inline"] = True``.
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    previous_end = doc.body_start_line - 1
    lines = doc.text.split("\n")
    for number, block in enumerate(doc.evaluated_cells, start=1):
        expressions = inline_expressions(doc, previous_end, block.line - 1) if number > 1 else []
        if expressions:
            nb.cells.append(_inline_check_cell(doc, expressions))
        if markdown:
            md = "\n".join(lines[previous_end : block.line - 1]).strip("\n")
            if md.strip():
                nb.cells.append(nbformat.v4.new_markdown_cell(md))
        cell = nbformat.v4.new_code_cell(block.raw)
        cell.metadata["qmd"] = {"line": block.line, "label": block.label, "number": number}
        if block.options.get("error") is True:
            cell.metadata["tags"] = ["raises-exception"]
        nb.cells.append(cell)
        previous_end = block.end_line
    expressions = inline_expressions(doc, previous_end, len(lines)) if doc.evaluated_cells else []
    if expressions:
        nb.cells.append(_inline_check_cell(doc, expressions))
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if fingerprint is not None and code_cells:
        code_cells[0].metadata[FINGERPRINT_KEY] = fingerprint
    return nb


# --------------------------------------------------------------------------------------
# Execution
# --------------------------------------------------------------------------------------

KERNEL_PREAMBLE = r'''
def ojs_define(**values):
    """Send Python values to the page's Observable JS cells.

    Quarto defines this function in the kernel when it renders a page; this
    definition mirrors it so a chapter executes here exactly as it would there.
    """
    import json
    from IPython.display import HTML, display

    def to_json_ready(value):
        try:
            import pandas as pd
        except ModuleNotFoundError:
            return value
        if isinstance(value, pd.Series):
            value = value.to_frame()
        if isinstance(value, pd.DataFrame):
            table = json.loads(value.T.to_json(orient="split"))
            return dict(zip(table["index"], table["data"]))
        return value

    payload = {"contents": [{"name": k, "value": to_json_ready(v)} for k, v in values.items()]}
    display(HTML('<script type="ojs-define">' + json.dumps(payload) + "</script>"),
            metadata={"ojs_define": True})


def _check_environment(expected_prefix):
    import sys
    if sys.prefix != expected_prefix:
        raise RuntimeError(
            f"the python3 kernel runs from {sys.prefix}, not from the test environment "
            f"{expected_prefix}; install ipykernel in the project environment"
        )
'''


class ChapterExecutionError(AssertionError):
    """A cell of a .qmd raised an exception."""


@dataclass
class ExecutionResult:
    document: QmdDocument
    notebook: nbformat.NotebookNode
    from_cache: bool
    seconds: float

    def code_cells(self) -> list[nbformat.NotebookNode]:
        """The page's own code cells (not the inserted checks of inline expressions)."""
        return [c for c in self.notebook.cells
                if c.cell_type == "code" and not c.metadata.get("qmd", {}).get("inline")]


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


@contextmanager
def _locked(name: str) -> Iterator[None]:
    """Serialise access to the cache between pytest-xdist workers."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock, the cache still works for one worker
        yield
        return
    with open(CACHE_DIR / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cache_enabled() -> bool:
    """Whether the suite's caches are on (``POOLING_TEST_NO_CACHE`` unset or ``0``)."""
    return os.environ.get("POOLING_TEST_NO_CACHE", "") in ("", "0")


def fit_cache_env() -> dict[str, str]:
    """Environment for running a page: the fit cache shared by the kernel and script runs.

    Both runs of a page sample the same models with the same seeds; the second reads the
    draws back from ``tests/.cache/fits`` instead of sampling again: ``PYTHONPATH`` starts
    with ``fitcache_site/``, whose ``sitecustomize`` wraps ``pooling.fitting.fit`` in the
    cache (see :mod:`support.fitcache`).
    """
    env = dict(os.environ)
    if cache_enabled():
        env.setdefault("POOLING_FIT_CACHE", str(FIT_CACHE_DIR))
    if env.get("POOLING_FIT_CACHE", "").strip():
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(FIT_CACHE_SITE), env.get("PYTHONPATH")) if p)
    return env


def _kernel_env() -> dict[str, str]:
    env = fit_cache_env()
    # A backend chosen for the test process (e.g. Agg) would stop the kernel from
    # showing figures inline; let ipykernel pick its inline backend, as under Quarto.
    env.pop("MPLBACKEND", None)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


def _run(doc: QmdDocument, nb: nbformat.NotebookNode, timeout: int) -> nbformat.NotebookNode:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    executed = copy.deepcopy(nb)
    client = NotebookClient(
        executed,
        kernel_name="python3",
        timeout=timeout,
        record_timing=False,
        resources={"metadata": {"path": str(doc.path.parent)}},
    )
    setup = nbformat.v4.new_code_cell(KERNEL_PREAMBLE + f"\n_check_environment({sys.prefix!r})\n")
    with client.setup_kernel(env=_kernel_env()):
        # nbclient writes an executed cell back into the notebook at its index, so the
        # preamble runs as a temporary last cell, removed again before the real cells.
        executed.cells.append(setup)
        try:
            client.execute_cell(setup, len(executed.cells) - 1, store_history=False)
        finally:
            executed.cells.pop()
        if any(o.get("output_type") == "error" for o in setup.outputs):
            raise ChapterExecutionError(f"{doc.name}: kernel set-up failed:\n" + _format_errors(setup))
        code_cells = [c for c in executed.cells if c.cell_type == "code"]
        for index, cell in enumerate(executed.cells):
            if cell.cell_type != "code":
                continue
            where = _describe(doc, cell, len(code_cells))
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError as exc:
                raise ChapterExecutionError(f"{where} did not finish within {timeout} s") from exc
            except CellExecutionError as exc:
                raise ChapterExecutionError(
                    f"{where} raised an exception:\n{_strip_ansi(str(exc))}"
                ) from None
    return executed


def _describe(doc: QmdDocument, cell: nbformat.NotebookNode, total: int) -> str:
    info = cell.metadata.get("qmd", {})
    label = f" (label: {info['label']})" if info.get("label") else ""
    return f"{doc.name}: cell {info.get('number', '?')} of {total}{label}, line {info.get('line', '?')}"


def _format_errors(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.outputs:
        if out.get("output_type") == "error":
            parts.append(_strip_ansi("\n".join(out.get("traceback", []))))
    return "\n".join(parts)


def _transplant_outputs(source: nbformat.NotebookNode, executed: nbformat.NotebookNode
                        ) -> nbformat.NotebookNode:
    """The unexecuted notebook with the executed outputs: hashes like the input."""
    merged = copy.deepcopy(source)
    for cell, done in zip(merged.cells, executed.cells):
        if cell.cell_type == "code":
            cell.outputs = done.outputs
            cell.execution_count = done.execution_count
    return merged


def execute_qmd(path: str | Path, *, timeout: int = 900, use_cache: bool | None = None,
                cache_dir: Path = JUPYTER_CACHE_DIR) -> ExecutionResult:
    """Execute the evaluated cells of a .qmd in a fresh kernel (or read them from the cache)."""
    doc = parse_qmd(path)
    use_cache = cache_enabled() if use_cache is None else use_cache
    nb = to_notebook(doc, fingerprint=inputs_fingerprint())
    cache = None
    if use_cache:
        from jupyter_cache import get_cache

        with _locked("jupyter-cache"):
            cache = get_cache(cache_dir)
            try:
                _, merged = cache.merge_match_into_notebook(nb)
            except KeyError:
                merged = None
        if merged is not None:
            return ExecutionResult(doc, merged, from_cache=True, seconds=0.0)

    start = time.perf_counter()
    executed = _run(doc, nb, timeout)
    seconds = time.perf_counter() - start
    result_nb = _transplant_outputs(nb, executed)
    if doc.path.resolve().is_relative_to(ROOT):
        _record_timing(doc.name, seconds)

    if cache is not None:
        from jupyter_cache.base import CacheBundleIn

        with _locked("jupyter-cache"):
            cache.cache_notebook_bundle(
                CacheBundleIn(result_nb, uri=str(doc.path), data={"seconds": seconds}),
                check_validity=True,
                overwrite=True,
            )
    return ExecutionResult(doc, result_nb, from_cache=False, seconds=seconds)


def _record_timing(name: str, seconds: float) -> None:
    with _locked("timings"):
        try:
            timings = json.loads(TIMINGS_FILE.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            timings = {}
        timings[name] = round(seconds, 1)
        TIMINGS_FILE.write_text(json.dumps(timings, indent=2, sort_keys=True) + "\n")


# --------------------------------------------------------------------------------------
# Output inspection
# --------------------------------------------------------------------------------------

IMAGE_MIME_TYPES = ("image/png", "image/svg+xml", "image/jpeg")


def has_image_output(cell: nbformat.NotebookNode) -> bool:
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if any(mime in data for mime in IMAGE_MIME_TYPES):
            return True
    return False


def ojs_definitions(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """Values sent to Observable JS during execution: with Quarto's ``ojs_define`` (an HTML
    output) or with ``pooling.ojs.ojs_data`` (the same script element in a Markdown output)."""
    defined: dict[str, Any] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            html = "".join("".join(v) if isinstance(v, list) else v
                           for mime, v in data.items() if mime in ("text/html", "text/markdown"))
            for m in re.finditer(r'<script type="ojs-define">(.*?)</script>', html, flags=re.S):
                for item in json.loads(m.group(1))["contents"]:
                    defined[item["name"]] = item["value"]
    return defined


# --------------------------------------------------------------------------------------
# Student view
# --------------------------------------------------------------------------------------


def student_script(doc: QmdDocument) -> str:
    """All evaluated cells in order, as one script (what a student copying them would run)."""
    parts = []
    for number, block in enumerate(doc.evaluated_cells, start=1):
        label = f" ({block.label})" if block.label else ""
        parts.append(f"# --- cell {number}{label}, {doc.name} line {block.line}\n{block.raw}\n")
    return "\n".join(parts)


_IPYTHON_LINE = re.compile(r"^\s*(%{1,2}[A-Za-z]|![A-Za-z./~]|\?\w|\w[\w.]*\?{1,2}\s*$)")


def ipython_only_syntax(doc: QmdDocument) -> list[str]:
    """Places where an evaluated cell relies on IPython and would fail in plain Python."""
    import ast

    problems = []
    for number, block in enumerate(doc.evaluated_cells, start=1):
        for offset, line in enumerate(block.raw.split("\n"), start=1):
            if _IPYTHON_LINE.match(line):
                problems.append(
                    f"{doc.name} line {block.line + offset}: cell {number} uses IPython-only "
                    f"syntax (magic, shell escape or help): {line.strip()!r}"
                )
    # Comment out the lines already reported, so the rest can still be checked.
    script = "\n".join(
        "#" + line if _IPYTHON_LINE.match(line) else line
        for line in student_script(doc).split("\n")
    )
    try:
        tree = ast.parse(script)
    except SyntaxError as exc:
        problems.append(f"{doc.name}: the concatenated cells are not valid Python: {exc}")
        return problems
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                and node.id in {"display", "get_ipython"} and node.id not in bound):
            problems.append(
                f"{doc.name}: `{node.id}` is used without being imported; it exists only inside "
                f"IPython/Jupyter (import it from IPython.display, or print instead)"
            )
    return problems



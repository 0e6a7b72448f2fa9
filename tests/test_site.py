"""Fast checks of the website sources: configuration, pages, citations, links, figures.

Quarto is not available in the test environment; these tests check what Quarto
would otherwise report at render time (missing pages, unresolved citations and
cross-references, broken links) plus the site's own rules for chapters.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from support import qmd
from support.site import QUARTO_YML, hrefs, listed_pages, load_config

ROOT = qmd.ROOT
BIB = ROOT / "references.bib"

EXPECTED_CHAPTERS = [
    "chapters/01-data.qmd",
    "chapters/02-complete-pooling.qmd",
    "chapters/03-country-predictor.qmd",
    "chapters/04-no-pooling.qmd",
    "chapters/05-partial-pooling.qmd",
    "chapters/06-shrinkage-interactive.qmd",
    "chapters/07-varying-slopes.qmd",
    "chapters/08-group-predictor.qmd",
    "chapters/09-three-levels.qmd",
    "chapters/10-radon.qmd",
    "chapters/11-model-comparison.qmd",
    "chapters/12-simulation-study.qmd",
    "chapters/13-priors.qmd",
]
EXPECTED_SECTIONS = {
    "Pooling basics": EXPECTED_CHAPTERS[0:5],
    "Shrinkage": EXPECTED_CHAPTERS[5:6],
    "Extending the model": EXPECTED_CHAPTERS[6:9],
    "Real data and checking": EXPECTED_CHAPTERS[9:11],
    "Why pooling works": EXPECTED_CHAPTERS[11:12],
    "Checking the priors": EXPECTED_CHAPTERS[12:13],
}


PRESENT_PAGES = sorted(
    str(p.relative_to(ROOT)) for p in [ROOT / "index.qmd", ROOT / "setup.qmd", *(ROOT / "chapters").glob("*.qmd")]
    if p.exists()
)
PRESENT_CHAPTERS = [p for p in PRESENT_PAGES if p.startswith("chapters/")]


@pytest.fixture(scope="module")
def bib() -> dict[str, dict]:
    return parse_bibtex(BIB.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------
# _quarto.yml
# --------------------------------------------------------------------------------------


def test_quarto_yml_is_a_website_project():
    config = load_config()
    assert config["project"]["type"] == "website"
    assert config["project"]["output-dir"] == "_site"
    website = config["website"]
    assert website["title"]
    assert website.get("page-navigation") is True
    assert website.get("search") not in (None, False), "site search must be on"
    assert config["bibliography"] == "references.bib"
    assert config["jupyter"] == "python3"


def test_execution_is_frozen_and_cached():
    execute = load_config()["execute"]
    assert execute["freeze"] == "auto"
    assert execute["cache"] is True
    assert execute["echo"] is True
    text = QUARTO_YML.read_text(encoding="utf-8")
    assert "_freeze" in text and "--cache-refresh" in text, (
        "_quarto.yml must tell instructors how to refresh frozen results"
    )


def test_html_format_options():
    html = load_config()["format"]["html"]
    assert set(html["theme"]) == {"light", "dark"}
    assert html["code-copy"] is True
    assert html["code-fold"] is False
    assert html["toc"] is True


FIGURE_OPTIONS = ("fig-dpi", "fig-format", "fig-width", "fig-height", "fig-responsive")


def test_every_format_shares_one_execution():
    """Quarto executes a page once per output format unless jupyter-cache finds the same
    notebook; the notebook differs only in the setup cell Quarto writes from the figure
    options. So figure options live at the top level, never under one format: then the HTML
    page and the chapter's notebook come from one execution, which halves a first render."""
    config = load_config()
    meta = yaml.safe_load((ROOT / "chapters" / "_metadata.yml").read_text(encoding="utf-8"))
    per_format = [
        f"{source}: format.{fmt}.{option}"
        for source, formats in (("_quarto.yml", config["format"]), ("chapters/_metadata.yml", meta["format"]))
        for fmt, options in formats.items() if isinstance(options, dict)
        for option in FIGURE_OPTIONS if option in options
    ]
    assert not per_format, f"figure options set for one format only (each page would run twice): {per_format}"
    assert config["fig-format"] == "png" and config["fig-dpi"] == 110


def test_page_footer_has_licences_and_citation():
    footer = load_config()["website"]["page-footer"]
    text = " ".join(str(v) for v in (footer.values() if isinstance(footer, dict) else [footer]))
    assert "MIT" in text
    assert "CC BY 4.0" in text
    assert "cite" in text.lower()


def test_chapters_offer_a_notebook_download():
    meta = yaml.safe_load((ROOT / "chapters" / "_metadata.yml").read_text(encoding="utf-8"))
    assert "ipynb" in meta["format"]
    assert meta["format-links"] == ["ipynb"]


def test_sidebar_sections_and_order():
    contents = load_config()["website"]["sidebar"]["contents"]
    sections = {item["section"]: hrefs(item["contents"])
                for item in contents if isinstance(item, dict) and "section" in item}
    assert sections == EXPECTED_SECTIONS


def test_navbar_lists_every_chapter_in_order():
    navbar = load_config()["website"]["navbar"]["left"]
    assert [p for p in hrefs(navbar) if p.startswith("chapters/")] == EXPECTED_CHAPTERS


def test_every_listed_page_exists():
    """Fails until every chapter named in _quarto.yml has been written (expected for now)."""
    missing = [page for page in listed_pages() if not (ROOT / page).exists()]
    assert not missing, (
        "pages listed in _quarto.yml that do not exist yet (quarto render would fail): "
        + ", ".join(missing)
    )


def test_every_chapter_file_is_listed():
    unlisted = sorted(set(PRESENT_CHAPTERS) - set(listed_pages()))
    assert not unlisted, f"chapters missing from _quarto.yml: {unlisted}"


# --------------------------------------------------------------------------------------
# references.bib
# --------------------------------------------------------------------------------------

REQUIRED_FIELDS = {
    "article": [("author",), ("title",), ("journal",), ("year",), ("volume",), ("pages",)],
    "book": [("author", "editor"), ("title",), ("publisher",), ("year",)],
    "incollection": [("author",), ("title",), ("booktitle",), ("publisher",), ("year",), ("pages",)],
    "inproceedings": [("author",), ("title",), ("booktitle",), ("year",), ("pages",)],
    "misc": [("author",), ("title",), ("year",), ("url", "doi", "howpublished")],
    "software": [("author",), ("title",), ("year",), ("url", "doi")],
}


def parse_bibtex(text: str) -> dict[str, dict]:
    """Minimal BibTeX reader: entry type, key and ``field = {value}`` pairs (braces balanced)."""
    entries: dict[str, dict] = {}
    text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("%"))
    i = 0
    while True:
        at = text.find("@", i)
        if at == -1:
            return entries
        m = re.compile(r"@(\w+)\s*\{\s*([^,\s]+)\s*,").match(text, at)
        if not m:
            raise ValueError(f"malformed entry start near: {text[at:at + 60]!r}")
        etype, key = m.group(1).lower(), m.group(2)
        if key in entries:
            raise ValueError(f"duplicate key {key}")
        depth, j = 1, m.end()
        while depth:
            if j >= len(text):
                raise ValueError(f"entry {key}: unbalanced braces")
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        body = text[m.end() : j - 1]
        fields = {}
        k = 0
        field_re = re.compile(r"\s*(\w[\w-]*)\s*=\s*")
        while k < len(body):
            fm = field_re.match(body, k)
            if not fm:
                if body[k:].strip(" \n\t,"):
                    raise ValueError(f"entry {key}: cannot read field near {body[k:k + 40]!r}")
                break
            name = fm.group(1).lower()
            k = fm.end()
            if body[k] == "{":
                depth, start = 1, k + 1
                k += 1
                while depth:
                    depth += {"{": 1, "}": -1}.get(body[k], 0)
                    k += 1
                value = body[start : k - 1]
            elif body[k] == '"':
                end = body.index('"', k + 1)
                value, k = body[k + 1 : end], end + 1
            else:
                vm = re.compile(r"[^,\s]+").match(body, k)
                value, k = vm.group(0), vm.end()
            if name in fields:
                raise ValueError(f"entry {key}: field {name} given twice")
            fields[name] = " ".join(value.split())
            k = body.find(",", k) + 1 if "," in body[k:] else len(body)
        entries[key] = {"type": etype, **fields}
        i = j


def test_bibliography_parses(bib):
    assert len(bib) >= 10


def test_bib_entries_are_complete(bib):
    problems = []
    for key, entry in bib.items():
        required = REQUIRED_FIELDS.get(entry["type"])
        if required is None:
            problems.append(f"{key}: unexpected entry type @{entry['type']}")
            continue
        for alternatives in required:
            if not any(entry.get(f) for f in alternatives):
                problems.append(f"{key}: missing {' or '.join(alternatives)}")
        if not re.fullmatch(r"\d{4}", entry.get("year", "")):
            problems.append(f"{key}: year {entry.get('year')!r} is not a four-digit year")
        doi = entry.get("doi")
        if doi is not None and not re.fullmatch(r"10\.\d{4,9}/\S+", doi):
            problems.append(f"{key}: malformed DOI {doi!r}")
        pages = entry.get("pages")
        if pages is not None and "-" in pages and "--" not in pages:
            problems.append(f"{key}: page ranges use '--' ({pages!r})")
    assert not problems, "\n".join(problems)


def test_required_references_are_present(bib):
    dois = {entry.get("doi") for entry in bib.values()}
    for doi in [
        "10.1017/CBO9780511790942",  # Gelman & Hill
        "10.7717/peerj-cs.1516",  # PyMC
        "10.21105/joss.01143",  # ArviZ
        "10.1214/20-BA1221",  # R-hat
        "10.1007/s11222-016-9696-4",  # LOO
        "10.1016/j.jmva.2009.04.008",  # LKJ
        "10.1080/01621459.1975.10479864",  # Efron & Morris
        "10.25080/Majora-92bf1922-011",  # statsmodels
        "10.5281/zenodo.5960048",  # Quarto
    ]:
        assert doi in dois, f"references.bib lacks the entry with DOI {doi}"


@pytest.mark.parametrize("page", PRESENT_PAGES)
def test_citations_resolve(page, bib):
    doc = qmd.parse_qmd(ROOT / page)
    unknown = [f"@{key} (line {line})" for key, line in qmd.citation_keys(doc) if key not in bib]
    assert not unknown, f"{page}: citations missing from references.bib: {unknown}"


# --------------------------------------------------------------------------------------
# Pages: cross-references, links, figures
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PRESENT_PAGES)
def test_front_matter_has_a_title(page):
    doc = qmd.parse_qmd(ROOT / page)
    assert doc.title, f"{page}: no title in the front matter"


@pytest.mark.parametrize("page", PRESENT_PAGES)
def test_crossrefs_resolve(page):
    doc = qmd.parse_qmd(ROOT / page)
    defined = qmd.labels(doc)
    missing = [f"@{label} (line {line})" for label, line in qmd.crossrefs(doc) if label not in defined]
    assert not missing, f"{page}: cross-references without a matching label: {missing}"


@pytest.mark.parametrize("page", PRESENT_PAGES)
def test_labels_are_unique(page):
    doc = qmd.parse_qmd(ROOT / page)
    cell_labels = [b.label for b in doc.blocks if b.engine is not None and b.label]
    duplicated = sorted({label for label in cell_labels if cell_labels.count(label) > 1})
    assert not duplicated, f"{page}: labels used more than once: {duplicated}"


@pytest.mark.parametrize("page", PRESENT_PAGES)
def test_internal_links_resolve(page):
    """Links to other pages point at an existing page or one listed in _quarto.yml.

    A listed page that is not written yet is reported by test_every_listed_page_exists;
    anchors are checked whenever the target exists.
    """
    doc = qmd.parse_qmd(ROOT / page)
    listed = {(ROOT / p).resolve() for p in listed_pages()}
    problems = []
    for target, anchor, line in qmd.internal_links(doc):
        path = (doc.path.parent / target).resolve()
        if not path.exists():
            if path not in listed:
                problems.append(f"line {line}: {target} does not exist and is not a site page")
            continue
        if anchor:
            target_doc = qmd.parse_qmd(path)
            ids = {h.identifier for h in qmd.headings(target_doc)} | qmd.labels(target_doc)
            if anchor not in ids:
                problems.append(f"line {line}: {target} has no section #{anchor}")
    assert not problems, f"{page}: " + "; ".join(problems)


@pytest.mark.parametrize("page", PRESENT_PAGES)
def test_same_page_anchors_resolve(page):
    """``[Fitting](#sec-cp-fit)`` points at a heading or label of the same page."""
    doc = qmd.parse_qmd(ROOT / page)
    ids = {h.identifier for h in qmd.headings(doc)} | qmd.labels(doc)
    missing = []
    for m in re.finditer(r"\]\(\s*#([^)\s]+)\s*\)", doc.prose):
        if m.group(1) not in ids:
            missing.append(f"#{m.group(1)} (line {doc.prose.count(chr(10), 0, m.start()) + 1})")
    assert not missing, f"{page}: links to anchors the page does not have: {missing}"


# --------------------------------------------------------------------------------------
# Numbering: every "chapter 5" and every section reference names something a reader sees
# --------------------------------------------------------------------------------------


def _chapter_number(page: str) -> int:
    return int(Path(page).name[:2])


@pytest.mark.parametrize("page", PRESENT_CHAPTERS)
def test_chapter_title_starts_with_its_number(page):
    """The prose says "chapter 5"; the title (page heading, sidebar, navbar menu) shows the 5."""
    title = qmd.parse_qmd(ROOT / page).title
    assert title.startswith(f"{_chapter_number(page)}. "), (
        f"{page}: title {title!r} does not start with its chapter number"
    )


@pytest.mark.parametrize("page", PRESENT_PAGES)
def test_chapter_numbers_in_the_prose_match_their_targets(page):
    """``[chapter 5](05-...)``, ``Chapters [4](04-...)``, ``[5. Partial pooling](chapters/05-...)``."""
    doc = qmd.parse_qmd(ROOT / page)
    numbers = {_chapter_number(p) for p in PRESENT_CHAPTERS}
    problems = []
    for m in re.finditer(r"\[([^\]]*)\]\(\s*<?([^)\s>#]+\.qmd)", doc.prose):
        text, target = m.group(1), Path(m.group(2)).name
        if not re.match(r"\d\d-", target):
            continue
        said = re.search(r"\bchapters?\s+(\d+)\b", text, flags=re.I) or re.match(r"\s*(\d+)\.?(\s|$)", text)
        if said and int(said.group(1)) != int(target[:2]):
            line = doc.prose.count("\n", 0, m.start()) + 1
            problems.append(f"line {line}: [{text}] links to {target}")
    for m in re.finditer(r"\bchapters?\s+(\d+)\b", doc.prose, flags=re.I):
        if int(m.group(1)) not in numbers:
            line = doc.prose.count("\n", 0, m.start()) + 1
            problems.append(f"line {line}: {m.group(0)!r} names no chapter")
    assert not problems, f"{page}: " + "; ".join(problems)


@pytest.mark.parametrize("page", PRESENT_PAGES)
def test_sections_are_linked_by_name_while_headings_are_unnumbered(page):
    """With ``number-sections: false``, ``@sec-x`` would print "Section N" for a heading without N."""
    if load_config()["format"]["html"].get("number-sections"):
        pytest.skip("headings are numbered, so @sec- references print numbers a reader sees")
    doc = qmd.parse_qmd(ROOT / page)
    refs = [f"@{label} (line {line})" for label, line in qmd.crossrefs(doc) if label.startswith("sec-")]
    assert not refs, f"{page}: link these sections by name, [Heading](#sec-...): {refs}"


def test_navbar_pages_are_not_repeated_in_the_sidebar():
    """Quarto marks a navbar link as current on every page whose sidebar links to its page."""
    website = load_config()["website"]
    navbar_links = [
        item["href"] for item in website["navbar"].get("left", []) + website["navbar"].get("right", [])
        if isinstance(item, dict) and "href" in item
    ]
    sidebar = website["sidebar"]
    in_sidebar = set()
    for bar in sidebar if isinstance(sidebar, list) else [sidebar]:
        in_sidebar |= set(hrefs(bar.get("contents")))
    both = [href for href in navbar_links if href in in_sidebar]
    assert not both, f"navbar links also in the sidebar (marked current on every page): {both}"


@pytest.mark.parametrize("page", PRESENT_PAGES)
def test_figures_have_caption_and_alt_text(page):
    doc = qmd.parse_qmd(ROOT / page)
    problems = []
    for block in doc.blocks:
        if block.engine is not None and block.label and block.label.startswith("fig-"):
            for option in ("fig-cap", "fig-alt"):
                if not str(block.options.get(option, "")).strip():
                    problems.append(f"{block.label} (line {block.line}) has no {option}")
    for m in re.finditer(r"!\[([^\]]*)\]\([^)]*\)(\{[^}]*\})?", doc.prose):
        attrs = m.group(2) or ""
        if "#fig-" in attrs and "fig-alt" not in attrs:
            problems.append(f"image {attrs} has no fig-alt")
        if "#fig-" in attrs and not m.group(1).strip():
            problems.append(f"image {attrs} has no caption")
    assert not problems, f"{page}: " + "; ".join(problems)


@pytest.mark.parametrize("page", PRESENT_PAGES)
def test_python_cells_have_readable_options(page):
    """Every ```{python} cell parses (YAML options); labels have no spaces."""
    doc = qmd.parse_qmd(ROOT / page)
    for block in doc.python_cells:
        if block.label:
            assert re.fullmatch(r"[A-Za-z][\w-]*", block.label), (
                f"{page}: bad label {block.label!r} (line {block.line})"
            )


# --------------------------------------------------------------------------------------
# Chapter rules
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PRESENT_CHAPTERS)
def test_chapter_ends_with_exercises_and_solutions(page):
    doc = qmd.parse_qmd(ROOT / page)
    sections = [h for h in qmd.headings(doc) if h.level == 2 and not h.in_div]
    assert sections, f"{page}: no level-2 sections"
    last = sections[-1]
    assert re.match(r"exercises\b", last.text, flags=re.I), (
        f"{page}: the last section is {last.text!r}, not 'Exercises'"
    )
    after = "\n".join(doc.prose.split("\n")[last.line:])
    collapsed = re.findall(
        r"^:{3,}\s*\{[^}]*\.callout-[a-z]+[^}]*collapse\s*=\s*\"?true\"?[^}]*\}", after, flags=re.M
    )
    assert collapsed, f"{page}: the Exercises section has no collapsed solution callout"


SURVEY_USE = re.compile(r"load_survey|load_new_countries|survey(_new_countries)?\.csv")


@pytest.mark.parametrize("page", PRESENT_PAGES)
def test_pages_using_the_survey_say_it_is_simulated(page):
    doc = qmd.parse_qmd(ROOT / page)
    code = "\n".join(b.raw for b in doc.blocks)
    if SURVEY_USE.search(code):
        assert re.search(r"\bsimulated\b", doc.prose, flags=re.I), (
            f"{page} uses the survey data but never says they are simulated"
        )


@pytest.mark.parametrize("page", PRESENT_PAGES)
def test_no_relative_paths_to_data(page):
    """Chapters run from chapters/; data must come through the pooling loaders."""
    doc = qmd.parse_qmd(ROOT / page)
    for block in doc.evaluated_cells:
        assert not re.search(r"""["'](\.\./)*data/""", block.source), (
            f"{page} line {block.line}: reads data/ by a relative path; use pooling.data"
        )


def test_index_links_every_chapter():
    doc = qmd.parse_qmd(ROOT / "index.qmd")
    linked = {target for target, _, _ in qmd.internal_links(doc)}
    missing = [c for c in EXPECTED_CHAPTERS if c not in linked]
    assert not missing, f"index.qmd does not link to {missing}"


def test_index_says_survey_is_simulated_and_radon_is_real():
    prose = qmd.parse_qmd(ROOT / "index.qmd").prose
    assert re.search(r"\bsimulated\b", prose, flags=re.I)
    assert re.search(r"radon", prose, flags=re.I) and re.search(r"\breal\b", prose, flags=re.I)


# --------------------------------------------------------------------------------------
# The helper module itself
# --------------------------------------------------------------------------------------

SAMPLE = '''---
title: "Sample"
---

See @fig-a and [-@sec-b], cite @gelman2007data and [@efron1975data, p. 3];
mail someone@example.org; `@notacitation` in code.

## B {#sec-b}

```{python}
#| label: fig-a
#| fig-cap: "A caption"
#| fig-alt: "Alt text"
@decorator
def f(): pass
```

```{python}
#| eval: false
raise RuntimeError("not executed")
```

```python
print("display only")
```

```{ojs}
//| echo: false
x = 1
```
'''


def test_qmd_parser_on_a_sample(tmp_path):
    path = tmp_path / "sample.qmd"
    path.write_text(SAMPLE, encoding="utf-8")
    doc = qmd.parse_qmd(path)
    assert doc.title == "Sample"
    assert [k for k, _ in qmd.citation_keys(doc)] == ["gelman2007data", "efron1975data"]
    assert [k for k, _ in qmd.crossrefs(doc)] == ["fig-a", "sec-b"]
    assert {"fig-a", "sec-b"} <= qmd.labels(doc)
    assert [b.engine for b in doc.blocks] == ["python", "python", None, "ojs"]
    assert doc.blocks[0].options == {"label": "fig-a", "fig-cap": "A caption", "fig-alt": "Alt text"}
    assert doc.blocks[3].options == {"echo": False}
    assert len(doc.evaluated_cells) == 1
    nb = qmd.to_notebook(doc)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 1 and "@decorator" in code[0].source
    assert "not executed" not in qmd.student_script(doc)


def test_ipython_syntax_is_flagged(tmp_path):
    path = tmp_path / "magic.qmd"
    path.write_text('---\ntitle: t\n---\n\n```{python}\n%matplotlib inline\ndisplay(1)\n```\n')
    problems = qmd.ipython_only_syntax(qmd.parse_qmd(path))
    assert any("%matplotlib" in p for p in problems)
    assert any("display" in p for p in problems)


def test_pandoc_identifiers():
    assert qmd.pandoc_identifier("The *real* countries (2)") == "the-real-countries-2"
    assert qmd.pandoc_identifier("2. Results") == "results"


def test_inline_expressions_are_checked_where_quarto_evaluates_them(tmp_path):
    path = tmp_path / "inline.qmd"
    path.write_text(
        "---\ntitle: t\n---\n\n```{python}\nx = 2\n```\n\nTwice x is `{python} 2 * x`.\n\n"
        "```{python}\ny = 3\n```\n\nAt the end, `{python} f'{y:.1f}'` and `{python} z`.\n",
        encoding="utf-8",
    )
    doc = qmd.parse_qmd(path)
    nb = qmd.to_notebook(doc)
    checks = [c for c in nb.cells if c.cell_type == "code" and c.metadata["qmd"].get("inline")]
    assert [c.metadata["qmd"]["line"] for c in checks] == [9, 15]
    namespace = {"x": 2}
    exec(checks[0].source, namespace)  # 2 * x evaluates
    namespace["y"] = 3
    with pytest.raises(AssertionError, match=r"line 15: inline expression 'z' fails: NameError"):
        exec(checks[1].source, namespace)

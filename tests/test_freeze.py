"""The committed frozen results (``_freeze/``) are current and clean.

Readers and instructors get the pages' computed outputs from ``_freeze/``: a fresh clone
renders without executing any cell. These checks fail when a page's source changed after
its results were frozen (Quarto would re-execute it, and the published outputs would no
longer be the ones its code gives), and when a frozen output shows something a reader
should never see (a traceback, a warning, sampler chatter).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re

import pytest

from support import qmd

ROOT = qmd.ROOT
_spec = importlib.util.spec_from_file_location("freeze_status", ROOT / "tools" / "freeze_status.py")
freeze_status = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(freeze_status)

PAGES_WITH_CODE = [p for p in freeze_status.listed_pages() if freeze_status.executes_code(p)]
IDS = [str(p.relative_to(ROOT)) for p in PAGES_WITH_CODE]

# What must never appear in a published output.
FORBIDDEN = {
    "a traceback": re.compile(r"Traceback \(most recent call last\)|^\w*Error: ", re.M),
    "a warning": re.compile(r"\b\w*Warning\b:"),
    "sampler chatter": re.compile(r"Sampling: \[|Sampling \d+ chains?|Auto-assigning NUTS"),
    "a progress bar": re.compile(r"\d+%\|[█▏▎▍▌▋▊▉ ]*\|"),
}


def test_hash_is_quartos(tmp_path):
    """Our hash equals Quarto's: MD5 of the text with LF line endings (CRLF hashes the same)."""
    lf = tmp_path / "lf.qmd"
    crlf = tmp_path / "crlf.qmd"
    lf.write_bytes(b"a\nb\n")
    crlf.write_bytes(b"a\r\nb\r\n")
    assert freeze_status.source_hash(lf) == freeze_status.source_hash(crlf) == hashlib.md5(b"a\nb\n").hexdigest()


def test_every_page_with_code_is_listed():
    assert len(PAGES_WITH_CODE) >= 11, IDS


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=IDS)
def test_frozen_results_match_the_source(page):
    frozen = freeze_status.freeze_file(page)
    assert frozen.exists(), (
        f"{page.relative_to(ROOT)} has no frozen results; run `make refreeze` and commit _freeze/"
    )
    recorded = json.loads(frozen.read_text(encoding="utf-8"))["hash"]
    assert recorded == freeze_status.source_hash(page), (
        f"{page.relative_to(ROOT)} changed after its results were frozen; "
        "run `make refreeze` (re-executes exactly the stale pages) and commit _freeze/"
    )


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=IDS)
def test_frozen_outputs_are_clean(page):
    frozen = freeze_status.freeze_file(page)
    if not frozen.exists():
        pytest.fail(f"{page.relative_to(ROOT)} has no frozen results")
    markdown = json.loads(frozen.read_text(encoding="utf-8"))["result"]["markdown"]
    outputs = "\n".join(re.findall(r"::: \{\.cell-output[^}]*\}\n(.*?)\n:::", markdown, flags=re.S))
    found = {what: pattern.search(outputs) for what, pattern in FORBIDDEN.items()}
    found = {what: match.group(0) for what, match in found.items() if match}
    assert not found, f"{page.relative_to(ROOT)}: frozen output shows {found}"

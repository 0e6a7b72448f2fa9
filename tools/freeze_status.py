"""Which pages' frozen results (``_freeze/``) no longer match their source?

Quarto's ``freeze: auto`` stores each executed page's outputs in
``_freeze/<page>/execute-results/html.json`` together with the MD5 hash of the page's
source (with LF line endings). A later render reuses the frozen outputs only while the
source hashes the same; a page whose hash differs, or that has never been frozen, is
*stale* and is executed again by the next full render.

Usage::

    python tools/freeze_status.py            # list stale pages, exit 1 if any
    python tools/freeze_status.py --names    # only the paths (for `make refreeze`)

Quarto does not track ``src/`` or ``data/``: after changing them, refreeze every page
(``make refreeze-all``), not just the stale ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def listed_pages() -> list[Path]:
    """Every page named in ``_quarto.yml``'s sidebar and navbar, in order, without duplicates."""
    website = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))["website"]
    found: list[str] = []

    def walk(items):
        for item in items or []:
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict):
                if str(item.get("href", "")).endswith(".qmd"):
                    found.append(item["href"])
                walk(item.get("contents"))
                walk(item.get("menu"))

    walk(website.get("navbar", {}).get("left"))
    sidebar = website.get("sidebar", {})
    for bar in sidebar if isinstance(sidebar, list) else [sidebar]:
        walk(bar.get("contents"))
    return [ROOT / p for p in dict.fromkeys(found)]


def executes_code(page: Path) -> bool:
    return "```{python}" in page.read_text(encoding="utf-8")


def source_hash(page: Path) -> str:
    """Quarto's freeze hash: MD5 of the file's text with every line ending made LF."""
    text = page.read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def freeze_file(page: Path) -> Path:
    relative = page.relative_to(ROOT).with_suffix("")
    return ROOT / "_freeze" / relative / "execute-results" / "html.json"


def stale_pages() -> list[tuple[Path, str]]:
    """(page, reason) for every page with code whose frozen results are missing or out of date."""
    stale = []
    for page in listed_pages():
        if not executes_code(page):
            continue
        frozen = freeze_file(page)
        if not frozen.exists():
            stale.append((page, "never frozen"))
            continue
        recorded = json.loads(frozen.read_text(encoding="utf-8")).get("hash")
        if recorded != source_hash(page):
            stale.append((page, "source changed after it was frozen"))
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", action="store_true", help="print only the stale pages' paths")
    args = parser.parse_args(argv)
    stale = stale_pages()
    for page, reason in stale:
        print(page.relative_to(ROOT) if args.names else f"{page.relative_to(ROOT)}: {reason}")
    if not args.names and not stale:
        print("every page's frozen results match its source")
    return 1 if stale and not args.names else 0


if __name__ == "__main__":
    sys.exit(main())

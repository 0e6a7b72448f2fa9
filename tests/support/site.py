"""The pages of the site as ``_quarto.yml`` lists them."""

from __future__ import annotations

import yaml

from support.qmd import ROOT

QUARTO_YML = ROOT / "_quarto.yml"

__all__ = ["QUARTO_YML", "hrefs", "listed_pages", "load_config"]


def load_config() -> dict:
    """``_quarto.yml`` as a dict."""
    return yaml.safe_load(QUARTO_YML.read_text(encoding="utf-8"))


def hrefs(items) -> list[str]:
    """Page paths in a navbar/sidebar contents list, in order."""
    found = []
    for item in items or []:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            if "href" in item and str(item["href"]).endswith(".qmd"):
                found.append(item["href"])
            found.extend(hrefs(item.get("contents")))
            found.extend(hrefs(item.get("menu")))
    return found


def listed_pages() -> list[str]:
    """Every .qmd named in _quarto.yml (navbar and sidebar), without duplicates, in order."""
    website = load_config()["website"]
    pages = hrefs(website["navbar"].get("left")) + hrefs(website["navbar"].get("right"))
    sidebar = website["sidebar"]
    for bar in sidebar if isinstance(sidebar, list) else [sidebar]:
        pages += hrefs(bar.get("contents"))
    return list(dict.fromkeys(pages))

"""Hand Python values to the Observable JS cells of a Quarto page.

Quarto's own ``ojs_define()`` (defined in the kernel while Quarto renders a page)
displays its values as an HTML output. Any ``text/html`` output makes Quarto add
require.js and jQuery from a CDN to the page, which then no longer works offline.
:func:`ojs_data` hands over the same values through a Markdown output instead: a raw
HTML block holding the ``<script type="ojs-define">`` element that Quarto's Observable
runtime reads, so the page loads nothing from other hosts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

__all__ = ["OjsData", "ojs_data"]


class OjsData:
    """Values for a page's Observable JS cells, displayed as a ``text/markdown`` output.

    Made by :func:`ojs_data`. ``values`` maps each Observable variable name to its
    value (JSON-compatible: numbers, strings, booleans, None, lists and dicts of them).
    """

    def __init__(self, values: Mapping[str, object]):
        self.values = dict(values)

    def script(self) -> str:
        """The ``<script type="ojs-define">`` element, in the format of ``ojs_define()``."""
        contents = [{"name": name, "value": value} for name, value in self.values.items()]
        text = json.dumps({"contents": contents}, allow_nan=False)
        # "</" would end the <script> element early; "<\/" means the same in JSON.
        return '<script type="ojs-define">' + text.replace("</", "<\\/") + "</script>"

    def _repr_markdown_(self) -> str:
        return "```{=html}\n" + self.script() + "\n```\n"

    def __repr__(self) -> str:
        return f"OjsData({', '.join(self.values)})"


def _check(name: str, value: object, path: str) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"ojs_data: {path} is {value}; JSON has no NaN or infinity "
                             "(use None for a missing value)")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"ojs_data: {path} has a key {key!r} that is not a string")
            _check(name, item, f"{path}[{key!r}]")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(name, item, f"{path}[{i}]")
        return
    raise TypeError(
        f"ojs_data: {path} is a {type(value).__name__}, which JSON cannot hold; pass plain "
        "numbers, strings, lists and dicts (e.g. DataFrame.to_dict(orient='records') and "
        "float(x) for NumPy numbers)"
    )


def ojs_data(**values: object) -> OjsData:
    """Values for the page's Observable JS cells, under the given names.

    ``ojs_data(countries=records, estimates={"mu_alpha": 3.2})`` makes ``countries``
    and ``estimates`` variables of the page's Observable JS cells when it is the last
    line of a cell that Quarto renders. In Jupyter it shows a short block of HTML
    source and has no other effect.

    Raises ``ValueError`` for NaN or infinite numbers and ``TypeError`` for values JSON
    cannot hold (NumPy numbers and arrays included), naming the offending entry.
    """
    if not values:
        raise ValueError("ojs_data: give at least one value, e.g. ojs_data(countries=records)")
    for name, value in values.items():
        _check(name, value, name)
    return OjsData(values)

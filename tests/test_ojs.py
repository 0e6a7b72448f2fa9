"""pooling.ojs.ojs_data: values for a page's Observable JS cells, as a Markdown output."""

from __future__ import annotations

import json
import re

import nbformat
import numpy as np
import pytest

from support import qmd
from pooling.ojs import ojs_data


def _script_json(markdown: str) -> dict:
    m = re.fullmatch(r'```\{=html\}\n<script type="ojs-define">(.*)</script>\n```\n', markdown, flags=re.S)
    assert m, markdown
    return json.loads(m.group(1))


def test_markdown_output_holds_the_values_in_quartos_format():
    records = [{"country": "Zudan", "n": 4, "weight": 0.599}]
    data = ojs_data(countries=records, estimates={"mu_alpha": 3.2, "sigma_y": np.float64(0.9)})
    bundle = data._repr_markdown_()
    assert _script_json(bundle) == {"contents": [
        {"name": "countries", "value": records},
        {"name": "estimates", "value": {"mu_alpha": 3.2, "sigma_y": 0.9}},
    ]}
    assert not hasattr(data, "_repr_html_"), "an HTML output would make Quarto load require.js"


def test_the_test_helper_reads_it_like_ojs_define():
    data = ojs_data(estimates={"mu_alpha": 3.2})
    output = nbformat.v4.new_output("display_data", data={"text/markdown": data._repr_markdown_()})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[output])])
    assert qmd.ojs_definitions(nb) == {"estimates": {"mu_alpha": 3.2}}


def test_text_cannot_end_the_script_element_early():
    data = ojs_data(note=["a </script> b"])
    script = data.script()
    assert script.count("</script>") == 1 and script.endswith("</script>")
    assert _script_json(data._repr_markdown_())["contents"][0]["value"] == ["a </script> b"]


@pytest.mark.parametrize("values, error, message", [
    ({}, ValueError, "at least one value"),
    ({"estimates": {"sigma": float("nan")}}, ValueError, r"estimates\['sigma'\] is nan"),
    ({"rows": [{"n": np.int64(4)}]}, TypeError, r"rows\[0\]\['n'\] is a int64"),
    ({"grid": np.zeros(3)}, TypeError, "grid is a ndarray"),
    ({"lookup": {1: "a"}}, TypeError, "key 1 that is not a string"),
])
def test_values_json_cannot_hold_are_refused_by_name(values, error, message):
    with pytest.raises(error, match=message):
        ojs_data(**values)

"""The convergence sweep's bookkeeping (benchmarks/convergence_sweep.py), without sampling."""

from __future__ import annotations

import importlib.util

import pandas as pd

from support import qmd

_spec = importlib.util.spec_from_file_location("convergence_sweep", qmd.ROOT / "benchmarks" / "convergence_sweep.py")
sweep = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sweep)


def _row(seed, *, call="idata = fit(model)", line=10, gated=True, r_hat=1.002, bulk=5000.0, tail=4000.0,
         divergences=0):
    passed = r_hat <= 1.01 and min(bulk, tail) >= 400 and divergences == 0
    return dict(chapter="05-partial-pooling", seed=seed, line=line, call=call, gated=gated, worst_r_hat=r_hat,
                min_ess_bulk=bulk, min_ess_tail=tail, divergences=divergences, passed=passed)


def test_summary_keeps_the_worst_value_over_seeds_and_counts_passes():
    rows = pd.DataFrame([_row(1), _row(2, r_hat=1.012, bulk=380.0), _row(3, divergences=2)])
    table = sweep.summarize(rows)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["seeds"], row["passed"]) == (3, 1)
    assert row["worst_r_hat"] == 1.012
    assert row["min_ess_bulk"] == 380.0
    assert row["max_divergences"] == 2


def test_summary_leaves_out_ungated_fits_and_replaces_reruns():
    rows = pd.DataFrame([
        _row(1, r_hat=1.05),  # an earlier run of the same call and seed, since fixed
        _row(1, line=12),
        _row(1, call="idata_bad = fit(bad, check=False)", gated=False, r_hat=1.2),
    ])
    table = sweep.summarize(rows)
    assert list(table["call"]) == ["idata = fit(model)"]
    assert table.iloc[0]["worst_r_hat"] == 1.002
    assert table.iloc[0]["line"] == 12


def test_the_same_call_in_two_test_functions_stays_two_rows():
    rows = pd.DataFrame([
        dict(_row(1, line=20, bulk=900.0), chapter="tests/test_fitting.py", function="test_a"),
        dict(_row(1, line=40), chapter="tests/test_fitting.py", function="test_b"),
        dict(_row(2, line=40, bulk=700.0), chapter="tests/test_fitting.py", function="test_b"),
    ])
    table = sweep.summarize(rows)
    assert list(table["call"]) == ["test_a: idata = fit(model)", "test_b: idata = fit(model)"]
    assert list(table["seeds"]) == [1, 2]
    assert list(table["min_ess_bulk"]) == [900.0, 700.0]


def test_rows_logged_before_functions_were_recorded_still_summarise():
    rows = pd.DataFrame([_row(1), dict(_row(2), function="<module>")])
    table = sweep.summarize(rows)
    assert list(table["call"]) == ["idata = fit(model)"]
    assert table.iloc[0]["seeds"] == 2


def test_rows_of_calls_no_longer_in_the_source_are_dropped():
    rows = pd.DataFrame([
        _row(1, call="idata = fit(model, target_accept=0.95)"),  # the call before an edit
        _row(1, call="idata = fit(model, target_accept=0.99)"),
        dict(_row(1), chapter="99-removed-chapter"),
    ])
    sources = {"05-partial-pooling": "x = 1\nidata = fit(model, target_accept=0.99)\n"}
    kept = sweep.drop_stale(rows, sources)
    assert list(kept["call"]) == ["idata = fit(model, target_accept=0.99)"]
    assert list(kept["chapter"]) == ["05-partial-pooling"]


def test_source_of_a_row_is_its_chapter_or_test_file():
    assert sweep.source_path("05-partial-pooling") == qmd.ROOT / "chapters" / "05-partial-pooling.qmd"
    assert sweep.source_path("tests/test_recovery.py") == qmd.ROOT / "tests" / "test_recovery.py"


def test_markdown_formats_r_hat_and_counts():
    text = sweep.markdown(sweep.summarize(pd.DataFrame([_row(1, bulk=12345.6)])))
    assert "| 1.0020 |" in text
    assert "12,346" in text


def test_preamble_is_valid_python_and_wraps_fit():
    code = sweep.PREAMBLE.format(seeds=[1, 2], chapter="05-partial-pooling", log="/tmp/log.jsonl")
    compile(code, "preamble", "exec")
    assert "_fitting.fit = _sweep_fit" in code
    assert "_fitting.DEFAULT_SEED = _SEEDS[0]" in code

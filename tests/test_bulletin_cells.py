"""The pipeline reproduces every number bulletin No. 459 prints, from the shipped downloads."""

from __future__ import annotations

import pytest

from .pipeline import compare_cells, printed_cells

# Every test here reads what full pipeline runs made (make test runs them; make test-fast does not).
pytestmark = pytest.mark.slow


def test_all_printed_cells_are_reproduced(shipped_run):
    expected = printed_cells()
    assert len(expected) == 370
    bad = compare_cells(shipped_run.cells(), expected)
    assert not bad, f"{len(bad)} of {len(expected)} printed cells differ:\n" + "\n".join(bad[:40])


def test_figure1_has_every_year_from_2017_and_the_year_to_date_span(shipped_run):
    rows = shipped_run.query(
        "select measure, period, decimals from marts.fct_bulletin_figure1_production order by period_order"
    )
    values = [(p, d) for m, p, d in rows if m == "value"]
    growth = [p for m, p, _ in rows if m == "yoy_pct"]
    assert [p for p, _ in values] == [str(y) for y in range(2017, 2024)] + ["2024-01..07"]
    assert {d for _, d in values} == {0}
    assert growth == [str(y) for y in range(2017, 2024)] + ["2024-01..07"]


def test_cells_carry_the_codes_of_the_published_table(shipped_run):
    columns = [r[0] for r in shipped_run.query("describe marts.fct_bulletin_cells")]
    assert columns[:8] == ["table", "measure", "series", "series_zh", "period", "value", "decimals", "value_exact"]
    labels = dict(
        ((t, s), zh)
        for t, s, zh in shipped_run.query('select distinct "table", series, series_zh from marts.fct_bulletin_cells')
    )
    assert labels[("table1_tw_server_exports_by_destination", "CN+HK")] == "中國大陸與香港"
    assert labels[("table2_us_server_imports_by_source", "TW")] == "中華民國"
    assert labels[("table3_major_exporters", "world")] == "全球"


def test_preliminary_months_are_flagged_through_to_the_marts(shipped_run):
    flagged = shipped_run.query(
        "select distinct period from marts.fct_bulletin_table1_exports_by_destination where is_preliminary"
    )
    assert flagged == [("2024-01..09",)]
    unflagged = shipped_run.query(
        "select count(*) from marts.fct_bulletin_table2_us_imports_by_source where is_preliminary"
    )
    assert unflagged == [(0,)]

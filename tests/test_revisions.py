"""The revision report: a later download that revises one month lists exactly the printed
cells it moved, with old and new value and the downloads behind them; nothing otherwise."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from orchestration.publish import files, layout, revisions

from .scenario import LATER_GTA, REVISED_COLUMN, REVISED_FACTOR, SHIPPED_GTA, Scenario, scenario

# Every test here reads what full pipeline runs made (make test runs them; make test-fast does not).
pytestmark = pytest.mark.slow

TABLE2 = "table2_us_server_imports_by_source"
YEAR_TO_DATE = "2024-01..08"  # GTA's latest month in the downloads is August 2024
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def cells(folder: Path) -> dict[tuple[str, str, str, str], dict[str, str]]:
    rows = read_csv(folder / layout.CELLS_CSV)
    return {(r["table"], r["measure"], r["series"], r["period"]): r for r in rows}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Scenario:
    return scenario(tmp_path_factory)


def test_the_first_publication_has_an_empty_report(runs):
    first = runs.first_published.folder
    text = (first / layout.REVISIONS).read_text(encoding="utf-8")
    assert text == ",".join(layout.REVISIONS_COLUMNS) + "\n"
    manifest = files.read_manifest(first)
    assert manifest["revisions"] == {"file": layout.REVISIONS, "rows": 0, "compared_with": None}
    assert layout.REVISIONS in {f["path"] for f in manifest["files"]}
    draft = (first / layout.DRAFT).read_text(encoding="utf-8")
    assert draft.split("## 修正說明", 1)[1].strip() == "本期為首次發布，無前期數值可資比較。"


def test_a_revised_month_lists_exactly_the_cells_it_moved(runs):
    old, new = cells(runs.first_published.folder), cells(runs.second_published.folder)
    # Independently: the GTA total is the download's own World row, which the revision leaves
    # as it was; Taiwan's March 2024 goes into one printed column, the year to date, whose
    # value, growth (the year before is unrevised) and share of the total move for Taiwan.
    expected = {(TABLE2, measure, "TW", YEAR_TO_DATE) for measure in ("value", "yoy_pct", "share_pct")}
    moved = {k for k in old.keys() & new.keys() if old[k]["value"] != new[k]["value"]}
    assert moved == expected

    report = read_csv(runs.second_published.folder / layout.REVISIONS)
    assert list(report[0]) == list(layout.REVISIONS_COLUMNS)
    assert {(r["table"], r["measure"], r["series"], r["period"]) for r in report} == expected
    assert len(report) == len(expected)
    for row in report:
        key = (row["table"], row["measure"], row["series"], row["period"])
        assert row["old_value"] == old[key]["value"] and row["new_value"] == new[key]["value"]
        assert row["old_value"] != row["new_value"]
        assert row["series_zh"] == "中華民國" and row["decimals"] == new[key]["decimals"]
        assert (row["source"], row["revised_months"]) == ("gta", "2024-03")
        assert (row["old_download_date"], row["new_download_date"]) == (SHIPPED_GTA, LATER_GTA)


def test_the_revised_value_is_the_new_download_s(runs):
    """Taiwan's year-to-date value after the revision, summed from the GTA row by hand."""
    taiwan = dict(runs.gta_before)
    taiwan[REVISED_COLUMN] = str(round(int(taiwan[REVISED_COLUMN]) * REVISED_FACTOR))
    total = sum(int(taiwan[f"{month} 2024"]) for month in MONTHS)
    (value,) = [
        r
        for r in read_csv(runs.second_published.folder / layout.REVISIONS)
        if r["measure"] == "value"
    ]
    assert float(value["new_value"]) == round(total / 1e8, 1)


def test_the_draft_and_manifest_state_the_revisions(runs):
    second = runs.second_published.folder
    report = read_csv(second / layout.REVISIONS)
    draft = (second / layout.DRAFT).read_text(encoding="utf-8")
    section = draft.split("## 修正說明", 1)[1]
    items = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(items) == len(report) == 3
    for row, item in zip(report, items, strict=True):
        assert f"由 {row['old_value']} 修正為 {row['new_value']}" in item
        assert "Global Trade Atlas" in item and LATER_GTA in item and "2024年3月" in item
    manifest = files.read_manifest(second)
    assert manifest["revisions"]["rows"] == 3
    first = files.read_manifest(runs.first_published.folder)
    assert manifest["revisions"]["compared_with"] == {
        "content_digest": files.content_digest(first),
        "download_dates": {s: v["download_date"] for s, v in first["sources"].items()},
    }
    # the later MOEA download was already in the first publication: not a revision now
    assert first["sources"]["moea"]["download_date"] == "2024-10-31"
    assert manifest["sources"]["gta"]["download_date"] == LATER_GTA


@pytest.mark.parametrize(
    ("measure", "period", "ranges"),
    [
        (
            "value",
            layout.Period("2023", "year", date(2023, 1, 1), date(2023, 12, 31)),
            [(date(2023, 1, 1), date(2023, 12, 31))],
        ),
        (
            "share_pct",
            layout.Period("2024-01..08", "ytd", date(2024, 1, 1), date(2024, 8, 31)),
            [(date(2024, 1, 1), date(2024, 8, 31))],
        ),
        (
            "yoy_pct",
            layout.Period("2024-01..02", "ytd", date(2024, 1, 1), date(2024, 2, 29)),
            [(date(2024, 1, 1), date(2024, 2, 29)), (date(2023, 1, 1), date(2023, 2, 28))],
        ),
        (
            "avg_growth_pct",
            layout.Period("2018..2023", "span", date(2018, 1, 1), date(2023, 12, 31)),
            [(date(2017, 1, 1), date(2023, 12, 31))],
        ),
    ],
)
def test_a_cell_depends_on_its_period_and_for_growth_the_year_before(measure, period, ranges):
    assert revisions.depends_on(measure, period) == ranges

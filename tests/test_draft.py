"""The drafted highlights: every number comes from the marts, the bulletin's numbers are all
there, and the wording follows the data."""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration.publish.draft import draft_markdown
from orchestration.publish.marts import exhibit_cells

from .scenario import scenario

EXHIBITS = (
    "figure1_tw_server_production",
    "table1_tw_server_exports_by_destination",
    "table2_us_server_imports_by_source",
    "table3_major_exporters",
)

# Every test here reads what full pipeline runs made (make test runs them; make test-fast does not).
pytestmark = pytest.mark.slow
BULLETIN_TEXT = Path(__file__).parent / "data" / "bulletin-459.txt"
# 4,267 / 153.9 / 8.1 — a statistic; years (2017年), spans (1-7月, 2018-2023年), counts (近6年)
# and ranks (第2) are labels, checked separately.
NUMBER = re.compile(r"(?<![\d,.])\d{1,3}(?:,\d{3})*(?:\.\d+)?(?![\d,.])")


def cells_of(warehouse: Path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [c for t in EXHIBITS for c in exhibit_cells(con, t)]


def statistics_in(text: str) -> list[str]:
    """The numbers of a text that are statistics, not years, month spans, counts or ranks."""
    labels = re.sub(
        r"\d{4}(?:-\d{4})?年|\d{1,2}-\d{1,2}月|近\d+年|第\d+|前\d+大|\(\d{4}-\d{4}年\)", " ", text
    )
    labels = re.sub(r"^\d+\. ", " ", labels, flags=re.M)
    return NUMBER.findall(labels)


@pytest.fixture(scope="module")
def cells(shipped_run):
    return cells_of(shipped_run.warehouse)


def test_every_number_in_the_draft_is_a_printed_cell(cells):
    draft = draft_markdown(cells)
    printed = {f"{abs(c.value):,.{c.decimals}f}" for c in cells}
    numbers = statistics_in(draft)
    assert len(numbers) >= 25
    assert not [n for n in numbers if n not in printed]


def test_the_draft_states_the_numbers_of_the_bulletin_text(cells):
    text = BULLETIN_TEXT.read_text(encoding="utf-8")
    highlights = text[text.index("1. **"): text.index("圖1")]
    # decimals and 4,267 are the bulletin's statistics; 4,000 and 9成 are prose round figures
    stated = [n for n in statistics_in(highlights) if "." in n or n == "4,267"]
    assert len(stated) >= 20
    draft_numbers = set(statistics_in(draft_markdown(cells)))
    assert not [n for n in stated if n not in draft_numbers]


def test_wording_follows_the_data(cells):
    def with_value(cell, value):
        return dataclasses.replace(cell, value=value, value_exact=value)

    flipped = [
        with_value(c, -c.value)
        if (c.table, c.measure, c.series) == ("figure1_tw_server_production", "yoy_pct", "total")
        and ".." in c.period
        else c
        for c in cells
    ]
    original, changed = draft_markdown(cells), draft_markdown(flipped)
    assert "續增153.9%" in original
    assert "年減153.9%" in changed and "續增153.9%" not in changed


def test_an_exhibit_without_data_is_said_to_be_missing(cells):
    draft = draft_markdown([c for c in cells if not c.table.startswith("table2")])
    assert "Global Trade Atlas" in draft
    assert draft.count("\n1. ") == 1 and "\n3. " in draft and "\n4. " not in draft


# ---------------------------------------------------------------- the published draft


def test_the_published_draft_is_the_drafted_text_and_the_revisions(shipped_run, cells):
    draft = (shipped_run.publish_dir / "bulletin_draft.md").read_text(encoding="utf-8")
    highlights = draft_markdown(cells)
    assert draft.startswith(highlights + "\n## 修正說明\n")
    section = draft[len(highlights) :].split("\n## 修正說明\n")[1]
    assert section.strip() == "本期為首次發布，無前期數值可資比較。"

    # the same text, a paragraph a row, on the workbook's 草稿 sheet (its markdown marks aside)
    book = openpyxl.load_workbook(shipped_run.publish_dir / "bulletin.xlsx")
    rows = [r[0] for r in book["草稿"].iter_rows(values_only=True)]
    paragraphs = [re.sub(r"^#+ ", "", line).replace("**", "") for line in draft.splitlines() if line.strip()]
    assert rows == paragraphs


def test_a_growth_that_turns_negative_reads_as_a_fall(tmp_path_factory):
    """A later MOEA download with a tenth of 2024's server production: the draft published from
    it says the year to date fell (年減), with the numbers of the cells published beside it."""
    folder = scenario(tmp_path_factory).first_published.folder
    draft = (folder / "bulletin_draft.md").read_text(encoding="utf-8")
    with (folder / "bulletin_cells.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    key = (EXHIBITS[0], "yoy_pct", "total")
    (growth,) = [r for r in rows if (r["table"], r["measure"], r["series"]) == key and ".." in r["period"]]
    assert float(growth["value"]) < 0
    figure = next(line for line in draft.splitlines() if line.startswith("1. "))
    assert f"年減{growth['value'].lstrip('-')}%" in figure
    assert "續增" not in figure and "續創新高" not in figure and "已超越" not in figure

    highlights = draft.split("## 修正說明")[0]
    printed = {f"{abs(float(r['value'])):,.{int(r['decimals'])}f}" for r in rows}
    numbers = statistics_in(highlights)
    assert len(numbers) >= 25
    assert not [n for n in numbers if n not in printed]

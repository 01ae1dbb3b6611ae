"""Next month's download rolls the tables forward with no code change, and revisions are kept.

A later GTA download (2024-11-10) adds September 2024, revises Taiwan's August 2024 value and
leaves out Thailand's August 2024 cell (revised to zero). The pipeline must move Table 2's
year-to-date column to 2024-01..09, take the later values, list the revisions, keep the
earlier download's rows, and still reproduce bulletin 459 from the data as it stood then.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import lxml.html
import pytest

from .pipeline import compare_cells, copy_shipped_raw, printed_cells, run_pipeline
from .test_bulletin_document import (
    html_table_cells,
    html_text,
    issue_date,
    missing_printed_numbers,
    pdf_pages,
    read_cells,
    stray_numbers,
    table_cells,
)

# Every test here reads what full pipeline runs made (make test runs them; make test-fast does not).
pytestmark = pytest.mark.slow

GTA_FILE = "GTA_USA_Imports_847150_Monthly.csv"
LATER = "2024-11-10"
TAIWAN_AUGUST_REVISED = 1_234_567_890.0


def _values(header: list[str], rows: list[list[str]]) -> dict[str, dict[str, float]]:
    return {r[0]: {h: float(v) for h, v in zip(header[2:], r[2:], strict=True) if v.strip()} for r in rows}


def _later_gta_download(raw: Path) -> tuple[dict, dict]:
    """Write the later download; return the earlier and the later values by partner and month."""
    src = next((raw / "gta").glob(f"*/{GTA_FILE}"))
    lines = src.read_text(encoding="utf-8").splitlines()
    title, rows = lines[:6], list(csv.reader(lines[7:]))
    header = next(csv.reader([lines[6]]))
    earlier = _values(header, rows)
    title[3] = "Monthly Series: January 2016 - September 2024"
    header.append("September 2024")
    aug = header.index("August 2024")
    for i, row in enumerate(rows):
        row.append(str(10_000_000 + 1_000 * i))
        if row[0] == "Taiwan":
            row[aug] = f"{TAIWAN_AUGUST_REVISED:.0f}"
        if row[0] == "Thailand":
            row[aug] = ""
    world = next(r for r in rows if r[0] == "World")
    world[-1] = str(sum(int(r[-1]) for r in rows if r[0] != "World") + 5_000_000)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\r\n".join(title) + "\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    target = raw / "gta" / LATER / GTA_FILE
    target.parent.mkdir()
    target.write_text(out.getvalue(), encoding="utf-8")
    return earlier, _values(header, rows)


@pytest.fixture(scope="module")
def rolled(tmp_path_factory):
    work = tmp_path_factory.mktemp("roll_forward")
    raw = copy_shipped_raw(work / "raw")
    earlier, later = _later_gta_download(raw)
    run = run_pipeline(work, raw)
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run, earlier, later


def test_year_to_date_column_moves_to_the_new_month(rolled):
    run, _, values = rolled
    periods = {
        p for (p,) in run.query("select distinct period from marts.fct_bulletin_table2_us_imports_by_source")
    }
    assert "2024-01..09" in periods and "2024-01..08" not in periods
    months = [f"{m} 2024" for m in ("January", "February", "March", "April", "May", "June",
                                     "July", "August", "September")]
    expected_total = sum(values["World"][m] for m in months) / 1e8
    prior = sum(values["World"][m.replace("2024", "2023")] for m in months) / 1e8
    got = dict(
        ((m, s), (v, x))
        for m, s, v, x in run.query(
            "select measure, series, value, value_exact from marts.fct_bulletin_table2_us_imports_by_source "
            "where period = '2024-01..09'"
        )
    )
    assert got[("value", "total")][1] == pytest.approx(expected_total, rel=1e-12)
    assert got[("yoy_pct", "total")][1] == pytest.approx((expected_total / prior - 1) * 100, rel=1e-12)
    # the other sources keep their own latest month
    assert run.query(
        "select distinct period from marts.fct_bulletin_table1_exports_by_destination where period like '2024%'"
    ) == [("2024-01..09",)]


def test_the_later_download_wins_and_the_earlier_rows_are_kept(rolled):
    run, _, _ = rolled
    current = run.query(
        "select download_date::varchar, value from intermediate.int_observations__vintaged "
        "where edition = 'current' and source = 'gta' and partner_code = 'TW' and period_start = '2024-08-01'"
    )
    assert current == [(LATER, TAIWAN_AUGUST_REVISED)]
    in_raw = run.query(
        "select download_date::varchar from raw.gta_us_imports "
        "where partner_name = 'Taiwan' and period_month = '2024-08-01' order by 1"
    )
    assert in_raw == [("2024-10-10",), (LATER,)]
    thailand = run.query(
        "select count(*) from intermediate.int_observations__vintaged "
        "where edition = 'current' and source = 'gta' and partner_code = 'TH' and period_start = '2024-08-01'"
    )
    assert thailand == [(0,)]


def test_revisions_are_listed(rolled):
    run, earlier, _ = rolled
    revisions = run.query(
        "select partner_code, old_value, new_value, old_download_date::varchar, new_download_date::varchar, "
        "revision_kind from intermediate.int_observations__revisions where source = 'gta' order by partner_code"
    )
    assert revisions == [
        ("TH", earlier["Thailand"]["August 2024"], None, "2024-10-10", LATER, "revised to zero"),
        ("TW", earlier["Taiwan"]["August 2024"], TAIWAN_AUGUST_REVISED, "2024-10-10", LATER, "changed"),
    ]


def test_bulletin_459_is_still_reproduced_from_its_cut_off(rolled):
    run, _, _ = rolled
    rows = run.query(
        'select "table", measure, series, period, value, decimals from intermediate.int_bulletin__cells '
        "where edition = '459'"
    )
    got = {tuple(r[:4]): (r[4], r[5]) for r in rows}
    assert not compare_cells(got, printed_cells())


def test_the_bulletin_page_and_pdf_move_to_the_new_month(rolled):
    """bulletin.html and bulletin.pdf print Table 2's year to date to September, with the
    later download's numbers, and no number that is not a cell's."""
    run, _, _ = rolled
    published = run.publish_dir
    cells = read_cells(published / "bulletin_cells.csv")
    table2 = "table2_us_server_imports_by_source"
    new_column = {k: v for k, v in table_cells(cells).items() if k[0] == table2 and k[3] == "2024-01..09"}
    assert len(new_column) == 18  # value, growth and share of the total and five partners

    # the page: the header, the keyed cells (the new column's numbers among them), the highlight
    page = published / "bulletin.html"
    assert html_table_cells(page) == table_cells(cells)
    header = [th.text_content() for th in _tables(page)[table2].iter("th") if th.get("data-period")]
    assert header[-1] == "2024年\n1-9月" and not any("1-8月" in h for h in header)
    text = html_text(page)
    assert "2024年1-9月自我國進口年增" in text and "1-8月" not in text
    ((data_date,),) = run.query("select data_date from marts.dim_bulletin_product where edition = 'current'")
    allowed = [issue_date(data_date), "HS 847150"]
    assert not missing_printed_numbers(text, cells)
    assert not stray_numbers(text, cells, allowed)

    # the PDF: Table 2's page heads the column 2024年 1-9月 and prints its numbers
    pages = pdf_pages(published / "bulletin.pdf")
    (page2,) = [p for p in pages if "表2 各國在美國伺服器進口市場市占率" in p]
    table_text = page2[page2.index("表2 各國在美國伺服器進口市場市占率") :]
    table_text = table_text[: table_text.index("資料來源：Global Trade Atlas")]
    assert "2024年\r\n1-9月" in table_text and "1-8月" not in "".join(pages)
    # each row's last number is its cell of the new column, in the table's order
    rows = [line.split() for line in table_text.splitlines() if len(line.split()) == 9]
    assert [row[-1] for row in rows] == list(new_column.values())
    assert not missing_printed_numbers("\n".join(pages), cells)
    assert not stray_numbers("\n".join(pages), cells, allowed)


def _tables(page: Path) -> dict:
    return {t.get("data-exhibit"): t for t in lxml.html.fromstring(page.read_bytes()).iter("table")}

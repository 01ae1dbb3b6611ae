"""Real customs-portal downloads (../shared/real-downloads/customs/), GTA's no-value cells, and
download folders that hold no download.

The real files are about other products, so they feed no bulletin cell: they show what the
portal really hands out. What each test expects is read from the files with ``csv``, never
taken from the loader's own output.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration.ingest.files import IngestError
from orchestration.ingest.loader import load_source

from .ingest_helpers import copy_source, customs_file, data_files, edit_lines, rel

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-downloads"
REAL_MONTHLY = REAL / "customs" / "綜合查詢_20260412214015.csv"
REAL_TOTAL = REAL / "customs" / "taiwan_exports_8542_2013_2025.csv"
ROC = re.compile(r"^(\d{2,3})年(\d{1,2})月(\(初步值\))?$")

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} is not here (it comes with shared/)")


def _raw_with(tmp_path: Path, source: str, date: str, src: Path, name: str) -> tuple[Path, Path]:
    raw = tmp_path / "raw"
    folder = raw / source / date
    folder.mkdir(parents=True)
    shutil.copyfile(src, folder / name)
    return raw, folder / name


def _read_independently(path: Path) -> list[list[str]]:
    """The rows of a Big5 customs download, read with csv (header excluded)."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("cp950"), newline="")))
    return rows[1:]


def test_real_monthly_query_by_country(tmp_path):
    """Big5, LF, months not zero-padded, the last two months preliminary, English names led by a space."""
    raw, path = _raw_with(tmp_path, "customs", "2026-04-12", REAL_MONTHLY, REAL_MONTHLY.name)
    con = duckdb.connect()
    result = load_source(con, "customs", raw)
    expected = _read_independently(REAL_MONTHLY)
    assert result.rows == len(expected) > 100
    got = con.execute(
        """SELECT source_row, flow, period_label, period_month, is_preliminary, hs_code,
                  product_name_en, partner_name, value_usd_thousand, source_file
           FROM raw.customs_trade ORDER BY source_row"""
    ).fetchall()
    for line, (row, want) in enumerate(zip(got, expected, strict=True), start=2):
        flow, label, hs, _zh, en, partner, value = want
        m = ROC.match(label)
        assert row == (
            line, flow, label, dt.date(int(m[1]) + 1911, int(m[2]), 1), m[3] is not None, hs, en, partner,
            float(value), rel(path, raw),
        )
    preliminary = con.execute(
        "SELECT DISTINCT period_label FROM raw.customs_trade WHERE is_preliminary ORDER BY 1"
    ).fetchall()
    assert preliminary == [("115年2月(初步值)",), ("115年3月(初步值)",)]


def test_real_total_query_is_refused_with_what_to_download(tmp_path):
    """The 合計 query has no 國家 column: query by country, not "missing column"."""
    raw, path = _raw_with(tmp_path, "customs", "2025-08-01", REAL_TOTAL, "綜合查詢_20250801000000.csv")
    with pytest.raises(IngestError) as failure:
        load_source(duckdb.connect(), "customs", raw)
    message = str(failure.value)
    assert message.startswith(f"{rel(path, raw)} line 1: "), message
    assert "no 國家 column" in message and "query again by country" in message


def test_values_with_decimals(tmp_path):
    """Older years carry decimals (1194720.78244): read as they are, not refused."""
    name = customs_file("utf-8-bom").name
    raw, folder = copy_source(tmp_path, "customs", only=name)
    path = folder / name

    def with_decimals(lines):
        lines[1] = lines[1].rsplit(",", 1)[0] + ",1194720.78244"

    edit_lines(path, with_decimals)
    con = duckdb.connect()
    load_source(con, "customs", raw)
    assert con.execute(
        "SELECT value_usd_thousand FROM raw.customs_trade WHERE source_file = ? AND source_row = 2",
        [rel(path, raw)],
    ).fetchone() == (1194720.78244,)


@pytest.mark.parametrize("cell", ["-", " - ", ""])
def test_gta_no_value_is_no_trade_not_negative(tmp_path, cell):
    raw, _folder = copy_source(tmp_path, "gta")
    (path,) = data_files("gta", raw)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Taiwan,"))
    header = next(csv.reader([lines[6]]))
    column = header.index("March 2016")

    def no_value(body):
        row = next(csv.reader([body[at]]))
        row[column] = cell
        body[at] = ",".join(row)

    edit_lines(path, no_value)
    con = duckdb.connect()
    load_source(con, "gta", raw)
    row = con.execute(
        "SELECT count(*) FROM raw.gta_us_imports WHERE partner_name = 'Taiwan' AND period_label = 'March 2016'"
    ).fetchone()
    assert row == (0,), "a cell with no value is no trade: no row"
    assert con.execute("SELECT count(*) FROM raw.gta_us_imports WHERE partner_name = 'Taiwan'").fetchone()[0] > 0


def test_gta_thousands_separators(tmp_path):
    raw, _folder = copy_source(tmp_path, "gta")
    (path,) = data_files("gta", raw)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Taiwan,"))
    header = next(csv.reader([lines[6]]))
    column = header.index("March 2016")

    def separated(body):
        row = next(csv.reader([body[at]]))
        row[column] = "1,234,567"
        body[at] = ",".join(f'"{c}"' if "," in c else c for c in row)

    edit_lines(path, separated)
    con = duckdb.connect()
    load_source(con, "gta", raw)
    assert con.execute(
        "SELECT value_usd FROM raw.gta_us_imports WHERE partner_name = 'Taiwan' AND period_label = 'March 2016'"
    ).fetchone() == (1234567.0,)


@pytest.mark.parametrize(
    ("files", "phrases"),
    [
        ({"exporters.xls": b"<html><body><table></table></body></html>"}, ["exporters.xls (an HTML page)"]),
        ({"notes.md": b"downloaded by hand\n"}, ["notes.md (a text file)"]),
        ({}, ["it is empty"]),
    ],
    ids=["renamed-download", "only-a-note", "empty-folder"],
)
def test_a_download_folder_without_a_download_fails(tmp_path, files, phrases):
    """A newer folder with nothing the parser takes is never passed over for the older download."""
    raw, _folder = copy_source(tmp_path, "itc")
    newer = raw / "itc" / "2024-10-12"
    newer.mkdir()
    for name, content in files.items():
        (newer / name).write_bytes(content)
    with pytest.raises(IngestError) as failure:
        load_source(duckdb.connect(), "itc", raw)
    message = str(failure.value)
    assert message.startswith("itc/2024-10-12: this download folder holds no itc download"), message
    for phrase in phrases:
        assert phrase in message, message


def _xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active.append(["進出口別", "日期"])
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("source", "name", "content", "phrase"),
    [
        ("customs", "綜合查詢_1.csv", b"<!DOCTYPE html><html><body>Session expired</body></html>", "an HTML page"),
        ("customs", "綜合查詢_1.csv", "xlsx", "an .xlsx workbook (the MOEA survey export)"),
        ("gta", "GTA_USA.csv", b"<html><table><tr><td>x</td></tr></table></html>", "an HTML page"),
        ("gta", "GTA_USA.csv", b"PK\x03\x04" + b"\x00" * 40, "a zip archive whose end is missing"),
    ],
    ids=["customs-html", "customs-xlsx", "gta-html", "gta-cut-zip"],
)
def test_a_page_or_workbook_named_as_a_text_export_says_what_it_is(tmp_path, source, name, content, phrase):
    raw = tmp_path / "raw"
    folder = raw / source / "2024-10-14"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(_xlsx_bytes() if content == "xlsx" else content)
    with pytest.raises(IngestError) as failure:
        load_source(duckdb.connect(), source, raw)
    message = str(failure.value)
    assert message.startswith(f"{source}/2024-10-14/{name}"), message
    assert f"this is {phrase}" in message


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        ("1012100009", '貨品號列 "1012100009" has 10 digits: an HS code of 11 digits that lost its leading zero'),
        ("10121", '貨品號列 "10121" has 5 digits: an HS code of 6 digits that lost its leading zero'),
        ("8.4715E+10", '貨品號列 "8.4715E+10" is a number Excel rewrote in scientific notation'),
        ("84715X", '貨品號列 "84715X" is not an HS code of digits'),
    ],
)
def test_a_code_excel_rewrote_is_named_so(tmp_path, code, phrase):
    name = customs_file("utf-8-bom").name
    raw, folder = copy_source(tmp_path, "customs", only=name)
    path = folder / name

    def rewrite(lines):
        fields = next(csv.reader([lines[4]]))
        fields[2] = code
        lines[4] = ",".join(f'"{f}"' if "," in f else f for f in fields)

    edit_lines(path, rewrite)
    with pytest.raises(IngestError) as failure:
        load_source(duckdb.connect(), "customs", raw)
    assert str(failure.value).startswith(f"{rel(path, raw)} line 5: {phrase}"), str(failure.value)

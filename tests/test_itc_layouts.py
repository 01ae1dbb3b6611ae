"""Every layout ITC Trade Map really exports, read by what the file is, not by its extension.

The real downloads in ``../shared/real-downloads/itc/`` (a text export, the monthly list and the
single-year indicators view as Trade Map's "Excel" button gives them: XHTML named .xls), pages
and workbooks made from the shipped text export (``trade_map_files``), and a pipeline run whose
only ITC download of the edition is such a page. What each test expects is read from the files
with ``csv`` (or is the input the test wrote), never taken from the code under test.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest import html_table
from orchestration.ingest.files import IngestError
from orchestration.ingest.loader import load_source

from . import trade_map_files as tm
from .combined_runs import NO_PRODUCT_XLS, SHIPPED_DATE, crosstab_and_page_run, shipped, yearly_2025, yearly_page
from .ingest_helpers import RAW, data_files
from .pipeline import compare_cells, printed_cells

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-downloads" / "itc"
REAL_TEXT = REAL / "Trade_Map_-_List_of_exporters_for_the_selected_product_(All_products).txt"
REAL_MONTHLY = REAL / "Trade_Map_-_List_of_exporters_for_the_selected_product_.xls"
REAL_INDICATORS = REAL / (
    "Trade_Map_-_List_of_exporters_for_the_selected_product_in_2025_"
    "(Sodium_hydrogencarbonate__sodium_bicarbonate_).xls"
)
YEARLY_SERIES = "download the yearly time series (Trade Map: Yearly time series)"

needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} is not here (it comes with shared/)")


# ---------------------------------------------------------------- helpers


def raw_with(tmp_path: Path, files: dict[str, bytes | Path], date: str = SHIPPED_DATE) -> tuple[Path, Path]:
    """A raw folder with one ITC download folder holding ``files`` (name -> bytes or a file to copy)."""
    raw = tmp_path / "raw"
    folder = raw / "itc" / date
    folder.mkdir(parents=True)
    for name, content in files.items():
        if isinstance(content, Path):
            shutil.copyfile(content, folder / name)
        else:
            (folder / name).write_bytes(content)
    return raw, folder


def load(raw: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    load_source(con, "itc", raw)
    return con


def refused(raw: Path) -> str:
    with pytest.raises(IngestError) as caught:
        load(raw)
    return str(caught.value)


def values(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], float]:
    rows = con.execute("SELECT exporter_name, period_year, value_usd_thousand FROM raw.itc_exporters").fetchall()
    got = {(n, y): v for n, y, v in rows}
    assert len(got) == len(rows), "one value per exporter and year"
    return got


def expected_values(periods: list[str], rows: list[tm.Row]) -> dict[tuple[str, int], float]:
    """Every cell that holds a number ('' and '-' hold none)."""
    years = [int(p.removeprefix("Exported value in ")) for p in periods]
    return {
        (name, year): float(cell.replace(",", ""))
        for name, cells in rows
        for year, cell in zip(years, cells, strict=True)
        if cell not in ("", "-")
    }


def line_of(data: bytes, needle: str) -> int:
    for number, line in enumerate(data.decode("utf-8-sig").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


# ---------------------------------------------------------------- the real downloads


@needs_real
def test_real_text_export_every_value(tmp_path):
    """UTF-8 with BOM, LF, trailing tabs, 237 names, World first; product only in the file name."""
    raw, folder = raw_with(tmp_path, {REAL_TEXT.name: REAL_TEXT}, date="2021-06-30")
    con = load(raw)
    rows = list(
        csv.reader(io.StringIO(REAL_TEXT.read_bytes().decode("utf-8-sig"), newline=""), delimiter="\t")
    )
    header, body = rows[0], rows[1:]
    years = [int(h.removeprefix("Exported value in ")) for h in header[1:-1]]
    expected = {
        (number, row[0], year): float(cell)
        for number, row in enumerate(body, start=2)
        for year, cell in zip(years, row[1:-1], strict=True)
        if cell.strip()
    }
    got = con.execute(
        "SELECT source_row, exporter_name, period_year, value_usd_thousand FROM raw.itc_exporters"
    ).fetchall()
    assert {(n, e, y): v for n, e, y, v in got} == expected
    assert len(got) == len(expected)
    names = [r[0] for r in body]
    # 237 names (the README's count), World first among them
    assert len(names) == len(set(names)) == 237 and names[0] == "World"
    assert {"Taipei, Chinese", "Côte d'Ivoire", "Sudan (before 2012)"} <= set(names)
    assert con.execute("SELECT DISTINCT product_description, product_code FROM raw.itc_exporters").fetchall() == [
        ("All_products", None)
    ]


@needs_real
def test_real_monthly_page_is_refused_with_what_to_download(tmp_path):
    raw, folder = raw_with(tmp_path, {REAL_MONTHLY.name: REAL_MONTHLY}, date="2025-10-20")
    message = refused(raw)
    where = line_of(REAL_MONTHLY.read_bytes(), ">Exporters</th>")
    assert message.startswith(f"itc/2025-10-20/{REAL_MONTHLY.name} line {where}: "), message
    assert "this is a Trade Map monthly list" in message
    assert YEARLY_SERIES in message
    assert '"Exported value in 2024-M02"' in message
    assert "cut off" not in message and "negative" not in message


@needs_real
def test_real_indicators_page_is_refused_with_what_to_download(tmp_path):
    raw, folder = raw_with(tmp_path, {REAL_INDICATORS.name: REAL_INDICATORS}, date="2026-02-01")
    message = refused(raw)
    assert message.startswith(f"itc/2026-02-01/{REAL_INDICATORS.name} line "), message
    assert "Trade Map's single-year indicators view" in message
    assert YEARLY_SERIES in message
    assert '"Value exported in 2025 (USD thousand)"' in message


@needs_real
def test_real_monthly_page_renamed_txt_is_still_the_page(tmp_path):
    """Content decides: the monthly page named .txt is the monthly page, not a text export cut off."""
    name = "Trade_Map_-_List_of_exporters_for_the_selected_product_(Machines).txt"
    raw, folder = raw_with(tmp_path, {name: REAL_MONTHLY}, date="2025-10-20")
    message = refused(raw)
    assert "this is a Trade Map monthly list" in message and "cut off" not in message, message


# ---------------------------------------------------------------- the yearly page and workbook


def test_yearly_page_reads_as_the_text_export(tmp_path):
    data = yearly_page()
    raw, folder = raw_with(tmp_path, {NO_PRODUCT_XLS: data})
    con = load(raw)
    periods, rows = yearly_2025()
    assert values(con) == expected_values(periods, rows)
    # the same numbers as the shipped text export, names in their 2025 spellings
    shipped_periods, shipped_rows = shipped()
    expected_from_text = expected_values(shipped_periods, tm.in_2025_spellings(shipped_rows))
    assert {k: v for k, v in values(con).items() if k[0] != "Türkiye"} == expected_from_text
    assert ("Türkiye", 2016) not in values(con) and ("Türkiye", 2017) not in values(con)
    assert con.execute("SELECT DISTINCT product_description, product_code FROM raw.itc_exporters").fetchall() == [
        (tm.LABEL_847150, "847150")
    ]
    # lineage: each row is the line its first cell (the padded name) starts on
    lines = dict(
        con.execute("SELECT DISTINCT exporter_name, source_row FROM raw.itc_exporters").fetchall()
    )
    text = data.decode("utf-8").split("\r\n")
    for name in ("World", "Chinese Taipei", "Türkiye"):
        number = line_of(data, " " * 28 + name) - 1
        assert lines[name] == number and '<td align="left"' in text[number - 1], name


def test_yearly_workbook_reads_as_the_text_export(tmp_path):
    periods, rows = yearly_2025()
    folder = tmp_path / "made"
    folder.mkdir()
    path = folder / "Trade_Map_-_List_of_exporters_for_the_selected_product_.xlsx"
    tm.workbook(path, periods, rows)
    raw, copied = raw_with(tmp_path, {path.name: path})
    con = load(raw)
    assert values(con) == expected_values(periods, rows)
    assert con.execute("SELECT DISTINCT product_description, product_code FROM raw.itc_exporters").fetchall() == [
        (tm.LABEL_847150, "847150")
    ]
    # lineage: the sheet row
    world_row = 12  # title, product, blank, source, 3 legend rows, blank, unit, blank, header
    assert con.execute(
        "SELECT DISTINCT source_row FROM raw.itc_exporters WHERE exporter_name = 'World'"
    ).fetchall() == [(world_row,)]


def test_yearly_workbook_by_the_parser_itself(tmp_path):
    """The workbook read by the ITC parser directly (whatever the loader does before it)."""
    import datetime as dt

    from orchestration.ingest import itc
    from orchestration.ingest.files import DownloadFile

    periods, rows = yearly_2025()
    path = tmp_path / "Trade_Map_-_List_of_exporters_for_the_selected_product_ (1).xlsx"
    tm.workbook(path, periods, rows)
    con = duckdb.connect()
    file = DownloadFile("itc", path, f"itc/{SHIPPED_DATE}/{path.name}", dt.date.fromisoformat(SHIPPED_DATE))
    itc.parse(con, file, tmp_path, "t")
    got = con.execute("SELECT exporter_name, period_year, value_usd_thousand FROM t").fetchall()
    assert {(n, y): v for n, y, v in got} == expected_values(periods, rows)
    assert con.execute("SELECT DISTINCT product_description, product_code FROM t").fetchall() == [
        (tm.LABEL_847150, "847150")
    ]


def test_page_named_txt_is_read_as_the_page(tmp_path):
    (shipped_txt,) = data_files("itc")
    name = shipped_txt.name  # names the product by its description
    raw, folder = raw_with(tmp_path, {name: yearly_page()})
    con = load(raw)
    assert values(con) == expected_values(*yearly_2025())
    # both name the product: the file name's description is kept, the page gives the code
    assert con.execute("SELECT DISTINCT product_description, product_code FROM raw.itc_exporters").fetchall() == [
        ("Processing_units_other_than_those_of_subheading_8471.41_or_8471.49", "847150")
    ]


@pytest.mark.parametrize(
    ("name", "description"),
    [
        ("Trade_Map_-_List_of_exporters_for_the_selected_product_ (1).xls", tm.LABEL_847150),
        ("Trade_Map_-_List_of_exporters_for_the_selected_product_(1).xls", tm.LABEL_847150),
        (
            "Trade_Map_-_List_of_exporters_for_the_selected_product_(Processing_units_other_than_those_of_"
            "subheading_8471.41_or_8471.49) (1).xls",
            "Processing_units_other_than_those_of_subheading_8471.41_or_8471.49",
        ),
    ],
)
def test_a_browsers_duplicate_suffix_is_no_product(tmp_path, name, description):
    raw, folder = raw_with(tmp_path, {name: yearly_page()})
    con = load(raw)
    assert con.execute("SELECT DISTINCT product_description, product_code FROM raw.itc_exporters").fetchall() == [
        (description, "847150")
    ]


def test_product_in_the_name_and_on_the_page_must_agree(tmp_path):
    name = "Trade_Map_-_List_of_exporters_for_the_selected_product_(Portable_automatic_data_processing_machines).xls"
    raw, folder = raw_with(tmp_path, {name: yearly_page()})
    message = refused(raw)
    assert message.startswith(f"itc/{SHIPPED_DATE}/{name}: "), message
    assert '"Portable_automatic_data_processing_machines"' in message
    assert "Product: 847150 Processing units other than" in message
    assert "not the same product" in message


def test_no_product_anywhere(tmp_path):
    raw, folder = raw_with(tmp_path, {NO_PRODUCT_XLS: yearly_page(product_line=None)})
    message = refused(raw)
    assert message.startswith(f"itc/{SHIPPED_DATE}/{NO_PRODUCT_XLS}: ")
    assert "names the product" in message and "Product: <code> <label>" in message


def test_text_export_without_product_in_its_name(tmp_path):
    periods, rows = shipped()
    name = "Trade_Map_-_List_of_exporters_for_the_selected_product_.txt"
    raw, folder = raw_with(tmp_path, {name: tm.text_export(periods, rows)})
    message = refused(raw)
    assert message.startswith(f"itc/{SHIPPED_DATE}/{name}: "), message
    assert "the file name does not name the product" in message


# ---------------------------------------------------------------- values: '-', negatives, separators


def test_dash_is_no_value_and_a_negative_is_refused(tmp_path):
    periods, rows = shipped()
    rows = [(n, list(c)) for n, c in rows]
    rows[3][1][7] = "-"  # Taipei, Chinese 2023
    text = tm.text_export(periods, rows)
    name = data_files("itc")[0].name
    raw, folder = raw_with(tmp_path, {name: text})
    got = values(load(raw))
    assert ("Taipei, Chinese", 2023) not in got and ("Taipei, Chinese", 2022) in got

    rows[3][1][7] = "-12"
    raw2, folder2 = raw_with(tmp_path / "neg", {name: tm.text_export(periods, rows)})
    message = refused(raw2)
    assert message.startswith(f"itc/{SHIPPED_DATE}/{name} line 5: "), message
    assert 'value "-12" for Exported value in 2023 is negative' in message

    page_rows = [(n, list(c)) for n, c in rows]
    page_rows[3][1][7] = "-"
    raw3, folder3 = raw_with(tmp_path / "page", {NO_PRODUCT_XLS: tm.page(periods, page_rows)})
    assert ("Taipei, Chinese", 2023) not in values(load(raw3))


def test_thousands_separators_in_a_page(tmp_path):
    periods, rows = shipped()
    separated = [(n, [f"{int(c):,}" if c else c for c in cells]) for n, cells in rows]
    assert any("," in c for _, cells in separated for c in cells)
    raw, folder = raw_with(tmp_path, {NO_PRODUCT_XLS: tm.page(periods, separated)})
    assert values(load(raw)) == expected_values(periods, rows)


# ---------------------------------------------------------------- the other views and other pages


@pytest.mark.parametrize(
    ("first", "periods", "view"),
    [
        ("Exporters", ["Exported value in 2024-Q1", "Exported value in 2024-Q2"], "a Trade Map quarterly list"),
        ("Exporters", ["Exported value in 2024-M01", "Exported value in 2024-M02"], "a Trade Map monthly list"),
        ("Importers", ["Imported value in 2022", "Imported value in 2023"], "a Trade Map list of importers"),
        (
            "Exporters",
            ["Value exported in 2023 (USD thousand)", "Trade balance in 2023 (USD thousand)"],
            "Trade Map's single-year indicators view",
        ),
    ],
)
@pytest.mark.parametrize("layout", ["page", "text"])
def test_other_views_say_what_to_download(tmp_path, first, periods, view, layout):
    rows = [("China", ["10", "20"]), ("Japan", ["5", ""])]
    if layout == "page":
        data = tm.page(periods, rows, first_column=first)
        name = NO_PRODUCT_XLS
    else:
        data = tm.text_export(periods, rows).replace(b"Exporters", first.encode(), 1)
        name = "Trade_Map_-_List_of_exporters_for_the_selected_product_(Foo).txt"
    raw, folder = raw_with(tmp_path, {name: data})
    message = refused(raw)
    where = line_of(data, f">{first}</th>") if layout == "page" else 1
    assert message.startswith(f"itc/{SHIPPED_DATE}/{name} line {where}: this is {view}"), message
    assert "download the " in message and "yearly time series" in message.lower()


def test_html_page_without_the_exporters_table(tmp_path):
    data = (
        b"<!DOCTYPE html><html><head><title>Trade Map - Login</title></head><body><form>"
        b"<table><tr><td>User</td><td><input/></td></tr></table></form></body></html>"
    )
    raw, folder = raw_with(tmp_path, {NO_PRODUCT_XLS: data})
    message = refused(raw)
    assert message.startswith(f"itc/{SHIPPED_DATE}/{NO_PRODUCT_XLS}: ")
    assert "an HTML page without Trade Map's exporters table" in message


def test_page_cut_off(tmp_path):
    data = yearly_page()
    cut = data[: len(data) * 2 // 3]
    raw, folder = raw_with(tmp_path, {NO_PRODUCT_XLS: cut})
    message = refused(raw)
    assert "cut off" in message, message


def test_utf16_text_export(tmp_path):
    """Excel's 'Unicode text': UTF-16 with a byte-order mark."""
    (path,) = data_files("itc")
    text = path.read_bytes().decode("utf-8-sig")
    raw, folder = raw_with(tmp_path, {path.name: text.encode("utf-16")})
    con = load(raw)
    assert values(con) == expected_values(*shipped())
    assert con.execute("SELECT min(source_row), max(source_row) FROM raw.itc_exporters").fetchall() == [
        (2, text.count("\n"))
    ]


def test_binary_file_says_what_it_is(tmp_path):
    raw, folder = raw_with(tmp_path, {NO_PRODUCT_XLS: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600})
    message = refused(raw)
    assert "Excel 97-2003 binary workbook" in message and "not a layout Trade Map exports" in message


def test_every_extension_is_considered(tmp_path):
    """A Trade Map download is a data file whatever its extension; other files stay ignored."""
    raw, folder = raw_with(tmp_path, {"Trade_Map_-_exports.html": yearly_page(), "notes.txt": b"x\n"})
    con = duckdb.connect()
    result = load_source(con, "itc", raw)
    assert result.files == [f"itc/{SHIPPED_DATE}/Trade_Map_-_exports.html"]
    assert result.ignored == [f"itc/{SHIPPED_DATE}/notes.txt"]


# ---------------------------------------------------------------- html_table on its own


def test_html_table_spans_whitespace_and_nesting():
    page = html_table.parse_page(
        b"<html><body><table id='t'><tr><th rowspan='2'>A</th><td colspan='2'> B\r\n  b </td></tr>"
        b"<tr><td>c<br/>d</td><td>e&nbsp;f</td></tr><tr><td>x<table><tr><td>in</td></tr></table>y</td></tr>"
        b"</table></body></html>"
    )
    outer = page.find(id="t")
    assert [r.cells for r in outer.rows] == [("A", "B b", "B b"), ("A", "c d", "e f"), ("x y",)]
    assert outer.rows[0].header == (True, False, False)
    assert page.find(first_cell="in").rows[0].cells == ("in",)
    assert page.find(first_cell="nothing") is None
    assert page.complete


def test_html_table_is_bounded(tmp_path):
    path = tmp_path / "big.html"
    path.write_bytes(b"<html><body><table>" + b"<tr><td>1</td></tr>" * 1000 + b"</table></body></html>")
    with pytest.raises(html_table.HtmlTableError, match="more than the 1,000 an HTML table page is read up to"):
        html_table.read_page(path, max_bytes=1000)
    assert len(html_table.read_page(path).tables[0].rows) == 1000


def test_html_table_declared_encoding():
    data = '<html><head><meta charset="big5"></head><body><table><tr><td>伺服器</td></tr></table></body></html>'
    assert html_table.parse_page(data.encode("cp950")).tables[0].rows[0].cells == ("伺服器",)
    with pytest.raises(html_table.HtmlTableError, match="line 2: byte"):
        html_table.parse_page(b"<html><body>\n<table><tr><td>\xff\xfe</td></tr></table></body></html>")


# ---------------------------------------------------------------- the whole pipeline


@pytest.fixture(scope="module")
def pipeline_with_the_page(tmp_path_factory):
    """The ITC downloads as the older text export and the newer yearly page (the run shared
    with the MOEA cross-tab's: tests/combined_runs.py)."""
    run, _raw = crosstab_and_page_run(tmp_path_factory)
    return run


@pytest.mark.slow
def test_pipeline_from_the_yearly_page_reproduces_the_bulletin(pipeline_with_the_page):
    run = pipeline_with_the_page
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert compare_cells(run.cells(), printed_cells()) == []


@pytest.mark.slow
def test_pipeline_uses_the_newer_page_not_the_older_text_export(pipeline_with_the_page):
    run = pipeline_with_the_page
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    page = f"itc/{SHIPPED_DATE}/{NO_PRODUCT_XLS}"
    assert run.query(
        "SELECT DISTINCT source_file FROM marts.fct_bulletin_exhibit_downloads WHERE source = 'itc'"
    ) == [(page,)]
    # the page's rows are staged with the HS code of its Product line
    assert run.query(
        "SELECT DISTINCT hs_code FROM staging.stg_itc__exporters WHERE source_file = ?", [page]
    ) == [("847150",)]
    assert run.query(
        "SELECT value_usd_thousand FROM staging.stg_itc__exporters "
        "WHERE source_file = ? AND exporter_name = 'Chinese Taipei' AND period_year = 2023",
        [page],
    ) == [(10053551.0,)]
    assert RAW.is_dir()  # the shipped downloads were copied, not moved

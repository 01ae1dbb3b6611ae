"""The MOEA survey's downloads in the layouts its query system exports, read by content, not by extension.

The files are written by ``tests/moea_layouts.py`` from the shipped flat workbook; what each test
expects is that workbook read with openpyxl (and the writers' own record of where each value
went), never the loader's output.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import time
import unicodedata
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration.ingest import moea
from orchestration.ingest.files import IngestError
from orchestration.ingest.loader import load_source

from .combined_runs import crosstab_and_page_run, flat_and_small_exporter_run
from .ingest_helpers import API_SOURCES, SOURCES, data_files, rel
from .moea_layouts import (
    MEASURES,
    PRODUCT_CODES,
    CrossTab,
    crosstab_grid,
    shipped,
    write_crosstab,
    write_crosstab_html,
    write_flat,
)
from .pipeline import PROJECT_ROOT, compare_cells, copy_shipped_raw, dbt_client, printed_cells

DOWNLOAD = "2024-09-30"
SERVER_VALUE = ("伺服器", "生產值(千元)")


def moea_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "raw" / "moea" / DOWNLOAD
    folder.mkdir(parents=True)
    return folder


def load(raw: Path) -> dict[tuple[str, str, str], tuple]:
    """Load raw/moea into a fresh warehouse: (period label, product, measure) -> the row's other columns."""
    con = duckdb.connect()
    try:
        load_source(con, "moea", raw)
        rows = con.execute(
            """SELECT period_label, product_name, measure, value, value_status, source_cell, source_row,
                      period_month, product_code, unit, source_file
               FROM raw.moea_production"""
        ).fetchall()
    finally:
        con.close()
    out = {}
    for period, product, measure, *rest in rows:
        assert (period, product, measure) not in out, (period, product, measure)
        out[(period, product, measure)] = tuple(rest)
    return out


def refused(raw: Path) -> str:
    con = duckdb.connect()
    try:
        with pytest.raises(IngestError) as caught:
            load_source(con, "moea", raw)
    finally:
        con.close()
    return str(caught.value)


def roc_month(label: str):
    import datetime as dt

    year, month = label.removesuffix("月").split("年")
    return dt.date(int(year) + 1911, int(month), 1)


def row_of(cell: str) -> int:
    """The row of a cell: E12 (a sheet) or R12C5 (an HTML table)."""
    r1c1 = re.match(r"^R(\d+)C\d+$", cell)
    return int(r1c1[1]) if r1c1 else openpyxl.utils.cell.coordinate_to_tuple(cell)[0]


def assert_read_as_shipped(got: dict, where: dict, statuses: dict | None = None, codes: bool = True) -> None:
    """Every value written is read with the shipped workbook's number, in its cell; ``statuses``: the
    cells written as '-' or '*' (key -> value_status), read with no value."""
    expected = shipped().values()
    units = shipped().units()
    statuses = statuses or {}
    assert set(got) == set(where), (sorted(set(where) - set(got))[:5], sorted(set(got) - set(where))[:5])
    for key, cell in where.items():
        value, status, source_cell, source_row, month, code, unit, _file = got[key]
        period, product, _measure = key
        assert source_cell == cell, key
        assert source_row == row_of(cell), key
        assert month == roc_month(period), key
        assert code == (PRODUCT_CODES[product] if codes else None), key
        if key in statuses:
            assert (value, status) == (None, statuses[key]), key
        else:
            assert (value, status) == (expected[key], None), key
        assert unit in (units[product], None), key


# ---------------------------------------------------------------- the flat sheet


def test_flat_with_spaced_labels_separators_and_dashes(tmp_path):
    edits = {
        ("113年7月", "主機板", "銷售量"): "-",
        ("105年1月", "工業電腦", "生產量"): " - ",
        ("110年2月", *SERVER_VALUE): "-",  # a month without production: no value, not an error
    }
    where = write_flat(moea_folder(tmp_path) / "InquireAdvance.xlsx", edits=edits)
    # the file really is what the test says: spaced labels, a compatibility ideograph, text numbers
    sheet = openpyxl.load_workbook(tmp_path / "raw" / "moea" / DOWNLOAD / "InquireAdvance.xlsx").active
    header = [c.value for c in sheet[1]]
    assert "生產值 (千元)" in header and "生產\uf97e" in header and "生產量" not in header
    assert sheet["E2"].value == f"{int(shipped().values()[('105年1月', *SERVER_VALUE)]):,}"
    assert "," in sheet["E2"].value
    got = load(tmp_path / "raw")
    assert_read_as_shipped(got, where, dict.fromkeys(edits, "no value"), codes=False)
    assert {unit for *_, unit, _f in got.values()} == set(shipped().units().values())
    # the product written with a compatibility ideograph (伺服\ufa38) is 伺服器 after NFKC
    assert unicodedata.normalize("NFKC", "伺服\ufa38") == "伺服器"
    assert ("113年7月", *SERVER_VALUE) in got


def test_flat_as_shipped_numbers_still_read(tmp_path):
    """Numeric cells (openpyxl ints and floats) read as before; a wrong declared dimension cuts nothing off."""
    folder = moea_folder(tmp_path)
    path = folder / "InquireAdvance.xlsx"
    where = write_flat(path, spaced=False, separators=False, compat_names=False)
    _set_dimension(path, "A1")
    got = load(tmp_path / "raw")
    assert_read_as_shipped(got, where, codes=False)


# ---------------------------------------------------------------- the cross-tab


LAYOUTS = {
    "products-over-measures": CrossTab(),
    "measures-over-products": CrossTab(measures_on_top=True, month_style="int", year_style="int"),
    "merged-years-no-merged-header": CrossTab(merge_years=True, merge_header=False, title_rows=0, notes=False),
    "unit-in-measure-label-and-subsets": CrossTab(
        unit_in="measure",
        separators=False,
        subset={"主機板": ["生產值(千元)"], "桌上型電腦": ["銷售值(千元)", "生產量"]},
    ),
    "no-units": CrossTab(unit_in="none"),
}


@pytest.mark.parametrize("name", LAYOUTS)
def test_crosstab_reads_as_the_shipped_workbook(tmp_path, name):
    layout = LAYOUTS[name]
    where = write_crosstab(moea_folder(tmp_path) / "InquireAdvance.xlsx", layout)
    got = load(tmp_path / "raw")
    assert_read_as_shipped(got, where)
    units = {product: unit for (_p, product, _m), (*_, unit, _f) in got.items()}
    shipped_units = shipped().units()
    if layout.unit_in == "product":
        assert units == shipped_units
    elif layout.unit_in == "none":
        assert set(units.values()) == {None}
    else:  # from the quantity measures' labels: a product without one has no unit
        assert units == {p: (None if p == "主機板" else u) for p, u in shipped_units.items()}
    # period labels as the flat sheet writes them
    assert {p for p, _n, _m in got} == set(shipped().periods())


def test_crosstab_is_what_the_test_says(tmp_path):
    """The generated cross-tab, read with openpyxl: title, merged product labels with codes over spaced
    measure labels, the year only on a year's first month, the month in column B, notes under it."""
    path = tmp_path / "x.xlsx"
    write_crosstab(path)
    sheet = openpyxl.load_workbook(path).active
    assert sheet["A1"].value.startswith("工業產銷存動態調查")
    assert sheet["C3"].value == "(2720010)伺服\ufa38 (台)" and "C3:F3" in {str(r) for r in sheet.merged_cells.ranges}
    assert [sheet.cell(4, c).value for c in range(3, 7)] == ["生產\uf97e", "生產值 (千元)", "銷售量", "銷售值 （千元）"]
    assert (sheet["A5"].value, sheet["B5"].value, sheet["A6"].value, sheet["B6"].value) == ("105年", "1月", None, "2月")
    assert sheet["A17"].value == "106年" and sheet["B17"].value == "1月"
    assert sheet["D5"].value == f"{int(shipped().values()[('105年1月', *SERVER_VALUE)]):,}"
    assert sheet.cell(sheet.max_row, 1).value.startswith("資料來源")


def test_crosstab_as_an_html_page_with_any_extension(tmp_path):
    """The same cross-tab as an HTML page's table (an "Excel" button may give one), named .xls."""
    path = moea_folder(tmp_path) / "InquireAdvance (1).xls"
    where = write_crosstab_html(path, CrossTab(merge_years=True))
    assert path.read_bytes().startswith(b"<!DOCTYPE html>")
    got = load(tmp_path / "raw")
    assert_read_as_shipped(got, where)
    assert {f for *_, f in got.values()} == {f"moea/{DOWNLOAD}/InquireAdvance (1).xls"}


def test_suppressed_and_no_value_cells_are_kept_with_their_cell(tmp_path):
    edits = {
        ("113年3月", *SERVER_VALUE): "*",
        ("113年4月", *SERVER_VALUE): "-",
        ("112年12月", "主機板", "銷售量"): "*",
    }
    where = write_crosstab(moea_folder(tmp_path) / "InquireAdvance.xlsx", CrossTab(), edits)
    got = load(tmp_path / "raw")
    statuses = {k: ("suppressed" if v == "*" else "no value") for k, v in edits.items()}
    assert_read_as_shipped(got, where, statuses)
    assert got[("113年3月", *SERVER_VALUE)][:3] == (None, "suppressed", where[("113年3月", *SERVER_VALUE)])


# ---------------------------------------------------------------- '-' is no value; negative numbers fail


@pytest.mark.parametrize("layout", ["flat", "crosstab"])
def test_a_dash_is_no_value_and_a_negative_number_is_refused(tmp_path, layout):
    key = ("113年7月", *SERVER_VALUE)
    write = write_flat if layout == "flat" else write_crosstab
    where = write(moea_folder(tmp_path) / "InquireAdvance.xlsx", edits={key: "-"})
    got = load(tmp_path / "raw")
    assert got[key][:3] == (None, "no value", where[key])

    for negative in ("-1,040", -5):
        write(tmp_path / "raw" / "moea" / DOWNLOAD / "InquireAdvance.xlsx", edits={key: negative})
        message = refused(tmp_path / "raw")
        cell = where[key]
        row = row_of(cell)
        shown = negative if isinstance(negative, str) else str(negative)
        assert message.startswith(f"moea/{DOWNLOAD}/InquireAdvance.xlsx row {row}: "), message
        assert f'value "{shown}" in 生產值(千元) is negative (cell {cell}: 伺服器, 113年7月)' in message, message


# ---------------------------------------------------------------- what is not the survey's table


def _crosstab_file(tmp_path: Path, edit) -> tuple[Path, dict]:
    """A cross-tab workbook after ``edit(rows, where)`` changed its cells (rows[n - 1] is sheet row n)."""
    rows, merged, where = crosstab_grid(CrossTab())
    edit(rows, where)
    path = moea_folder(tmp_path) / "InquireAdvance.xlsx"
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path, where


def _row_of(rows: list, year: str, month: str) -> int:
    current = None
    for n, row in enumerate(rows, start=1):
        if row and row[0] is not None and str(row[0]).endswith("年") and len(row) > 1 and row[1]:
            current = row[0]
        if current == year and len(row) > 1 and row[1] == month:
            return n
    raise AssertionError((year, month))


def _set(rows, n, column, value):
    rows[n - 1] += [None] * (column - len(rows[n - 1]))
    rows[n - 1][column - 1] = value


CROSSTAB_FAULTS = {
    # name: (edit, the row and the phrases of the message)
    "first-month-without-its-year": (
        lambda rows, where: _set(rows, 5, 1, None),
        lambda rows, where: (5, ['month "1月" (B5) has no year', "A5 is empty"]),
    ),
    "a-year-label-missing": (
        lambda rows, where: _set(rows, _row_of(rows, "106年", "1月"), 1, None),
        lambda rows, where: (17, ['month "1月" (B17) does not follow month 12 of 105年', "A17 holds no new year"]),
    ),
    "a-month-that-is-no-month": (
        lambda rows, where: _set(rows, 6, 2, "13月"),
        lambda rows, where: (6, ['the month "13月" (B6) is not a month such as 1月 or 1']),
    ),
    "a-measure-not-read": (
        lambda rows, where: _set(rows, 4, 5, "存貨量"),
        lambda rows, where: (4, ['"存貨量" (E4) is not a measure this pipeline reads']),
    ),
    "a-product-without-its-code": (
        lambda rows, where: _set(rows, 3, 7, "筆記型電腦 (台)"),
        lambda rows, where: (3, ['product "筆記型電腦 (台)" (G3) has no 7-digit product code']),
    ),
    "a-value-under-no-header": (
        lambda rows, where: _set(rows, 8, 25, "12"),
        lambda rows, where: (8, ['value "12" (Y8) is under no product and measure of the header']),
    ),
    "text-that-is-no-number": (
        lambda rows, where: _set(rows, 9, 4, "1,2x"),
        lambda rows, where: (9, ['value "1,2x" in 生產值(千元) is not a number (cell D9: 伺服器, 105年5月']),
    ),
    "data-after-the-notes": (
        lambda rows, where: rows.append(list(rows[6])),
        lambda rows, where: (len(rows), [f"a data row after the note in row {len(rows) - 2}"]),
    ),
    "a-product-measure-twice": (
        lambda rows, where: (_set(rows, 3, 7, rows[2][2]), _set(rows, 4, 7, "生產量")),
        lambda rows, where: (4, ["伺服器's 生產量 has two columns (C4 and G4)"]),
    ),
    "a-period-after-the-download": (
        lambda rows, where: (_set(rows, 108, 1, "113年"), _set(rows, 108, 2, "9月")),
        lambda rows, where: (108, ['統計期 "113年9月" ends after the download date 2024-09-30']),
    ),
}


@pytest.mark.parametrize("name", CROSSTAB_FAULTS)
def test_crosstab_faults_name_the_row_and_cell(tmp_path, name):
    edit, expect = CROSSTAB_FAULTS[name]
    path, where = _crosstab_file(tmp_path, edit)
    rows = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    row, phrases = expect([list(r) for r in rows], where)
    message = refused(tmp_path / "raw")
    assert message.startswith(f"{rel(path, tmp_path / 'raw')} row {row}: "), message
    for phrase in phrases:
        assert phrase in message, message


def _zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


NOT_A_WORKBOOK = {
    "a-zip-of-a-csv": (
        _zip_of({"InquireAdvance.csv": b"a,b\n"}),
        "it is a zip archive that is no workbook (it holds InquireAdvance.csv)",
    ),
    "a-cut-off-workbook": (None, "it is a zip archive whose end is missing (the download was cut off)"),
    "an-html-page-without-the-table": (
        b"<!DOCTYPE html><html><body><table><tr><td>\xe7\x99\xbb\xe5\x85\xa5</td></tr></table></body></html>",
        "the file is an HTML page, not an .xlsx workbook, and none of its 1 table(s)",
    ),
    "utf16-text": ("統計期\t產品名稱\r\n".encode("utf-16"), "it is a UTF-16 text file"),
    "an-old-binary-xls": (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
        "it is an Excel 97-2003 binary workbook (.xls)",
    ),
    "csv-text": ("統計期,產品名稱\r\n113年7月,伺服器\r\n".encode(), "it is a text file"),
}


@pytest.mark.parametrize("name", NOT_A_WORKBOOK)
def test_what_is_not_the_survey_export_is_named(tmp_path, name):
    content, phrase = NOT_A_WORKBOOK[name]
    if content is None:
        content = data_files("moea")[0].read_bytes()[:10_000]
    path = moea_folder(tmp_path) / "InquireAdvance.xls"
    path.write_bytes(content)
    message = refused(tmp_path / "raw")
    assert message.startswith(f"moea/{DOWNLOAD}/InquireAdvance.xls: "), message
    assert phrase in message, message
    assert "download the query's result again" in message, message


# ---------------------------------------------------------------- bounded


def _set_dimension(path: Path, ref: str) -> None:
    """Rewrite the sheet's declared dimension (<dimension ref=...>) of a workbook, nothing else."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = members[sheet].decode("utf-8")
    start = xml.index("<dimension ref=")
    end = xml.index("/>", start) + 2
    members[sheet] = (xml[:start] + f'<dimension ref="{ref}"/>' + xml[end:]).encode("utf-8")
    path.write_bytes(_zip_of(members))


def test_an_absurd_declared_size_is_refused_in_seconds(tmp_path):
    path = moea_folder(tmp_path) / "InquireAdvance.xlsx"
    write_flat(path)
    _set_dimension(path, "A1:XFD1048576")
    started = time.monotonic()
    message = refused(tmp_path / "raw")
    assert time.monotonic() - started < 5
    assert message.startswith(f"moea/{DOWNLOAD}/InquireAdvance.xlsx: "), message
    assert "declares 1,048,576 rows by 16,384 columns" in message, message


def test_the_cell_budget_holds_whatever_the_sheet_declares(tmp_path, monkeypatch):
    path = moea_folder(tmp_path) / "InquireAdvance.xlsx"
    write_flat(path)
    _set_dimension(path, "A1")  # declares one cell; holds 516 rows of 7
    monkeypatch.setattr(moea, "MAX_CELLS", 1_000)
    message = refused(tmp_path / "raw")
    assert message.startswith(f"moea/{DOWNLOAD}/InquireAdvance.xlsx row 143: "), message
    assert "holds more than 1,000 cells by this row" in message, message


# ---------------------------------------------------------------- a suppressed value in a printed series: dbt


def _dbt_build_suppressed_check(work: Path, raw: Path) -> tuple[subprocess.CompletedProcess, list[tuple]]:
    """Load ``raw`` with the loader into a warehouse of its own, `dbt build` the suppressed-value test and
    what it reads; the test's failing rows (from its compiled SQL, run on that warehouse)."""
    warehouse = work / "bulletin.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        for source in (*SOURCES, *API_SOURCES):  # the API sources' tables too, empty: dbt reads them
            load_source(con, source, raw)
    target = work / "dbt-target"
    env = {
        **os.environ,
        "BULLETIN_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }
    name = "assert_no_suppressed_value_in_a_printed_series"
    proc = subprocess.run(
        [
            dbt_client(),
            "build",
            "--select",
            f"+{name}",
            "--indirect-selection",
            "cautious",
            "--target-path",
            str(target),
            "--log-path",
            str(work / "dbt-logs"),
            "--profiles-dir",
            ".",
        ],
        cwd=PROJECT_ROOT / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    (compiled,) = target.glob(f"compiled/**/{name}.sql")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(compiled.read_text()).fetchall()
    return proc, rows


@pytest.mark.slow
def test_a_suppressed_value_in_the_figure1_series_fails_naming_the_cell(tmp_path):
    raw = copy_shipped_raw(tmp_path / "raw")
    shipped_file = raw / "moea" / DOWNLOAD / "InquireAdvance.xlsx"
    # The 2024-09-30 download: '*' in the servers' production value of 113年3月 (which a later
    # download publishes: not used), and in 主機板 (a product the bulletin does not use).
    write_crosstab(shipped_file, edits={("113年3月", *SERVER_VALUE): "*", ("113年3月", "主機板", "生產值(千元)"): "*"})
    # A later download (before No. 459's cut-off, so every edition uses it): '*' in 113年5月.
    later = raw / "moea" / "2024-10-10" / "InquireAdvance.xlsx"
    where = write_crosstab(later, edits={("113年5月", *SERVER_VALUE): "*"})

    proc, failing = _dbt_build_suppressed_check(tmp_path, raw)

    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "assert_no_suppressed_value_in_a_printed_series" in proc.stdout, proc.stdout[-3000:]
    cell = where[("113年5月", *SERVER_VALUE)]
    assert [r[:4] for r in failing] == [("moea/2024-10-10/InquireAdvance.xlsx", cell, "伺服器", "113年5月")]
    # every other test of what it reads passes (the staging model's tests among them)
    assert proc.stdout.count("Failure in test") == 1, proc.stdout[-3000:]
    assert "ERROR=1 " in proc.stdout and "not_null_stg_moea__production_value_in_measure_unit" in proc.stdout


# ---------------------------------------------------------------- the whole pipeline, per layout


@pytest.fixture(scope="module")
def crosstab_run(tmp_path_factory):
    """The shipped raw tree with the MOEA download as the cross-tab (tests/combined_runs.py: the
    run it shares with the ITC yearly page's)."""
    return crosstab_and_page_run(tmp_path_factory)


@pytest.fixture(scope="module")
def flat_run(tmp_path_factory):
    """The shipped raw tree with the MOEA download as the flat sheet with spaced labels and
    separators (tests/combined_runs.py: the run it shares with the small new exporter's)."""
    return flat_and_small_exporter_run(tmp_path_factory)


@pytest.mark.slow
def test_crosstab_download_reproduces_every_printed_cell(crosstab_run):
    run, _raw = crosstab_run
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert compare_cells(run.cells(), printed_cells()) == []
    assert len(printed_cells()) == 370
    codes = dict(run.query("select distinct product_name, product_code from raw.moea_production"))
    assert codes == PRODUCT_CODES
    assert run.query("select source_cell, value from raw.moea_production where value_status = 'suppressed'") == [
        (write_crosstab_cell("113年7月", "主機板", "生產值(千元)"), None)
    ]


@pytest.mark.slow
def test_flat_download_with_spaced_labels_reproduces_every_printed_cell(flat_run):
    run, _raw = flat_run
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert compare_cells(run.cells(), printed_cells()) == []
    assert run.query("select count(*), count(value) from raw.moea_production") == [(2060, 2059)]


def write_crosstab_cell(period: str, product: str, measure: str) -> str:
    """Where the default cross-tab puts one value."""
    return crosstab_grid(CrossTab())[2][(period, product, measure)]


def test_shipped_workbook_is_the_flat_sheet():
    """What the writers start from (read with openpyxl): the documented flat sheet, numbers as numbers."""
    data = shipped()
    assert len(data.rows) == 515 and len(data.products()) == 5 and len(data.periods()) == 103
    assert all(isinstance(v, float) for _p, _n, _u, vals in data.rows for v in vals.values())
    assert tuple(MEASURES) == moea.MEASURES

"""The four parsers on the shipped downloads in raw/, through ``loader.load_source``.

What each test expects is read from the files here with ``csv`` and ``openpyxl``,
never taken from the loader's own output; a few values were read from the files by eye.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re

import duckdb
import openpyxl
import pytest

from orchestration import settings
from orchestration.ingest.loader import load_source
from orchestration.ingest.sources import PARSERS, SPECS

from .ingest_helpers import (
    API_SOURCES,
    BOM,
    RAW,
    SOURCES,
    TABLES,
    copy_source,
    customs_file,
    data_files,
    decode_customs,
    download_folder,
    edit_lines,
    rel,
)

ROC = re.compile(r"^(\d{2,3})年(\d{1,2})月(\(初步值\))?$")


def roc_month(label: str) -> dt.date:
    m = ROC.match(label)
    assert m, label
    return dt.date(int(m[1]) + 1911, int(m[2]), 1)


def download_date(source: str) -> dt.date:
    return dt.date.fromisoformat(download_folder(source).name)


# ---------------------------------------------------------------- independent readings of the files


@functools.cache
def customs_expected(path, raw=RAW) -> dict[tuple, tuple]:
    """(source_file, line) -> (flow, period_label, period_month, is_preliminary, hs_code, partner, value)."""
    reader = csv.reader(io.StringIO(decode_customs(path), newline=""))
    header = next(reader)
    assert header[-1] == "美元(千元)"
    out = {}
    for row in reader:
        flow, label, hs, _zh, _en, partner, value = row
        out[(rel(path, raw), reader.line_num)] = (
            flow,
            label,
            roc_month(label),
            label.endswith("(初步值)"),
            hs,
            partner,
            float(value),
        )
    return out


@functools.cache
def gta_lines(raw=RAW) -> list[list[str]]:
    (path,) = data_files("gta", raw)
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


@functools.cache
def gta_expected(raw=RAW) -> dict[tuple, float]:
    """(line, partner, month) -> value, for every non-empty cell."""
    lines = gta_lines(raw)
    header = lines[6]
    assert header[:2] == ["Partner Country", "Unit"]
    months = [dt.datetime.strptime(h, "%B %Y").date() for h in header[2:]]
    out = {}
    for number, row in enumerate(lines[7:], start=8):
        for month, cell in zip(months, row[2:], strict=True):
            if cell.strip():
                out[(number, row[0], month)] = float(cell)
    return out


@functools.cache
def itc_expected(raw=RAW) -> dict[tuple, float]:
    """(line, exporter, year) -> value, for every non-empty cell (the World row included)."""
    (path,) = data_files("itc", raw)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""), delimiter="\t"))
    header = rows[0]
    assert header[-1] == "", "a trailing tab makes an empty last column"
    years = [int(h.removeprefix("Exported value in ")) for h in header[1:-1]]
    out = {}
    for number, row in enumerate(rows[1:], start=2):
        assert row[-1] == ""
        for year, cell in zip(years, row[1:-1], strict=True):
            if cell.strip():
                out[(number, row[0], year)] = float(cell)
    return out


@functools.cache
def moea_expected(raw=RAW) -> dict[tuple, float]:
    """(sheet row, period label, product, measure) -> value, for every non-empty measure cell."""
    (path,) = data_files("moea", raw)
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    out = {}
    for number, row in enumerate(rows[1:], start=2):
        for measure, cell in zip(header[3:], row[3:7], strict=True):
            if cell is not None:
                out[(number, row[0], row[1], measure)] = float(cell)
    return out


@functools.cache
def expected_rows(source: str) -> dict:
    if source == "customs":
        return {k: v for p in data_files("customs") for k, v in customs_expected(p).items()}
    return {"gta": gta_expected, "itc": itc_expected, "moea": moea_expected}[source]()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def con():
    """One in-memory warehouse with every shipped download loaded (the tests only read it)."""
    connection = duckdb.connect()
    for source in SOURCES:
        load_source(connection, source, RAW)
    yield connection
    connection.close()


def one(con, sql: str, params=()) -> tuple:
    rows = con.execute(sql, list(params)).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


# ---------------------------------------------------------------- counts and sums


@pytest.mark.parametrize("source", SOURCES)
def test_row_count_matches_the_files(con, source):
    count = one(con, f"SELECT count(*) FROM {TABLES[source]}")[0]
    assert count == len(expected_rows(source)) > 0


def test_customs_row_count_per_file(con):
    for path in data_files("customs"):
        n = one(con, "SELECT count(*) FROM raw.customs_trade WHERE source_file = ?", [rel(path, RAW)])[0]
        # every line after the header is one row; the file ends with a line break
        assert n == decode_customs(path).count("\r\n") - 1 == len(customs_expected(path))


@pytest.mark.parametrize(
    ("source", "value_column"),
    [("customs", "value_usd_thousand"), ("gta", "value_usd"), ("itc", "value_usd_thousand")],
)
def test_value_sum_matches_the_files(con, source, value_column):
    total = one(con, f"SELECT sum({value_column}) FROM {TABLES[source]}")[0]
    expected = expected_rows(source)
    values = [v[-1] for v in expected.values()] if source == "customs" else list(expected.values())
    assert total == pytest.approx(sum(values), rel=1e-12)


def test_moea_sum_per_measure_matches_the_workbook(con):
    expected: dict[str, float] = {}
    for (_row, _period, _product, measure), value in moea_expected().items():
        expected[measure] = expected.get(measure, 0.0) + value
    got = dict(con.execute("SELECT measure, sum(value) FROM raw.moea_production GROUP BY measure").fetchall())
    assert set(got) == {"生產量", "生產值(千元)", "銷售量", "銷售值(千元)"} == set(expected)
    for measure, total in expected.items():
        assert got[measure] == pytest.approx(total, rel=1e-12), measure


# ---------------------------------------------------------------- every row and its lineage


def test_customs_every_row_and_its_lineage(con):
    got = {
        (f, n): (flow, label, month, prelim, hs, partner, value)
        for f, n, flow, label, month, prelim, hs, partner, value, date in con.execute(
            """SELECT source_file, source_row, flow, period_label, period_month::DATE, is_preliminary,
                      hs_code, partner_name, value_usd_thousand, download_date FROM raw.customs_trade"""
        ).fetchall()
        if date == download_date("customs")
    }
    assert got == expected_rows("customs")


def test_gta_every_row_and_its_lineage(con):
    (path,) = data_files("gta")
    got = con.execute(
        """SELECT source_row, partner_name, period_month::DATE, value_usd FROM raw.gta_us_imports
           WHERE source_file = ? AND download_date = ?""",
        [rel(path, RAW), download_date("gta")],
    ).fetchall()
    assert {(n, p, m): v for n, p, m, v in got} == gta_expected()
    assert len(got) == len(gta_expected())


def test_itc_every_row_and_its_lineage(con):
    (path,) = data_files("itc")
    got = con.execute(
        """SELECT source_row, exporter_name, period_year, value_usd_thousand FROM raw.itc_exporters
           WHERE source_file = ? AND download_date = ?""",
        [rel(path, RAW), download_date("itc")],
    ).fetchall()
    assert {(n, e, y): v for n, e, y, v in got} == itc_expected()
    assert len(got) == len(itc_expected())


def test_moea_every_row_and_its_lineage(con):
    (path,) = data_files("moea")
    got = con.execute(
        """SELECT source_row, period_label, product_name, measure, value FROM raw.moea_production
           WHERE source_file = ? AND download_date = ?""",
        [rel(path, RAW), download_date("moea")],
    ).fetchall()
    assert {(n, p, q, m): v for n, p, q, m, v in got} == moea_expected()
    assert len(got) == len(moea_expected())


# ---------------------------------------------------------------- values read by eye


def test_customs_big5_value(con):
    # Big5 file, line 2: 出口總值(含復出口),105年1月,847150,…,美國,2565
    path = customs_file("big5")
    assert one(
        con,
        """SELECT value_usd_thousand, source_file, download_date::VARCHAR, source_row, period_month::DATE,
                  is_preliminary, product_name_en
           FROM raw.customs_trade WHERE period_label = '105年1月' AND hs_code = '847150'
           AND flow = '出口總值(含復出口)' AND partner_name = '美國'""",
    ) == (
        2565.0,
        rel(path, RAW),
        "2024-10-14",
        2,
        dt.date(2016, 1, 1),
        False,
        "  Processing units other than those of subheading 8471.41 or 8471.49, whether or not "
        "containing in the same housing one or two of the following types of unit: storage units, "
        "input units, output units",
    )


def test_customs_utf8_bom_values(con):
    path = customs_file("utf-8-bom")
    # line 2: 出口總值(含復出口),109年1月,847150,…,美國,202253
    assert one(
        con,
        """SELECT value_usd_thousand, source_file, download_date::VARCHAR, source_row, period_month::DATE
           FROM raw.customs_trade WHERE period_label = '109年1月' AND hs_code = '847150'
           AND flow = '出口總值(含復出口)' AND partner_name = '美國'""",
    ) == (202253.0, rel(path, RAW), "2024-10-14", 2, dt.date(2020, 1, 1))
    # the last line: 進口總值(含復進口),113年9月(初步值),847330,…,越南,13591
    last_line = decode_customs(path).count("\r\n")
    assert one(
        con,
        """SELECT value_usd_thousand, source_row, period_month::DATE, is_preliminary
           FROM raw.customs_trade WHERE period_label = '113年9月(初步值)' AND hs_code = '847330'
           AND flow = '進口總值(含復進口)' AND partner_name = '越南'""",
    ) == (13591.0, last_line, dt.date(2024, 9, 1), True)


def test_gta_world_january_2016(con):
    (path,) = data_files("gta")
    assert one(
        con,
        """SELECT value_usd, source_file, download_date::VARCHAR, source_row, period_label, unit
           FROM raw.gta_us_imports WHERE partner_name = 'World' AND period_month = DATE '2016-01-01'""",
    ) == (1353954598.0, rel(path, RAW), "2024-10-10", 8, "January 2016", "USD")


def test_itc_taipei_chinese_2023(con):
    (path,) = data_files("itc")
    assert one(
        con,
        """SELECT value_usd_thousand, source_file, download_date::VARCHAR, source_row, period_label
           FROM raw.itc_exporters WHERE exporter_name = 'Taipei, Chinese' AND period_year = 2023""",
    ) == (10053551.0, rel(path, RAW), "2024-10-01", 5, "Exported value in 2023")


def test_moea_servers_january_2016(con):
    (path,) = data_files("moea")
    assert one(
        con,
        """SELECT value, source_file, download_date::VARCHAR, source_row, period_month::DATE, unit
           FROM raw.moea_production WHERE period_label = '105年1月' AND product_name = '伺服器'
           AND measure = '生產值(千元)'""",
    ) == (1019301.0, rel(path, RAW), "2024-09-30", 2, dt.date(2016, 1, 1), "台")


# ---------------------------------------------------------------- customs details


def test_both_customs_encodings_load(con):
    big5, utf8 = customs_file("big5"), customs_file("utf-8-bom")
    with pytest.raises(UnicodeDecodeError):
        big5.read_bytes().decode("utf-8")
    got = dict(
        con.execute("SELECT source_file, count(*) FROM raw.customs_trade GROUP BY source_file").fetchall()
    )
    assert got == {rel(big5, RAW): len(customs_expected(big5)), rel(utf8, RAW): len(customs_expected(utf8))}
    # Big5 decoded right: the Chinese product name of the Big5 file is the UTF-8 file's.
    names = con.execute(
        "SELECT DISTINCT source_file, product_name_zh FROM raw.customs_trade WHERE hs_code = '847150'"
    ).fetchall()
    assert len({name for _, name in names}) == 1 and len(names) == 2


def test_only_the_newest_customs_month_is_preliminary(con):
    expected = sum(decode_customs(p).count(",113年9月(初步值),") for p in data_files("customs"))
    rows = con.execute(
        "SELECT period_label, period_month::DATE, count(*) FROM raw.customs_trade "
        "WHERE is_preliminary GROUP BY ALL"
    ).fetchall()
    assert rows == [("113年9月(初步值)", dt.date(2024, 9, 1), expected)]
    assert (
        one(
            con,
            "SELECT count(*) FROM raw.customs_trade WHERE period_month = DATE '2024-09-01' "
            "AND NOT is_preliminary",
        )[0]
        == 0
    )


def test_roc_periods_convert(con):
    assert one(con, "SELECT min(period_month)::DATE, max(period_month)::DATE FROM raw.customs_trade") == (
        dt.date(2016, 1, 1),
        dt.date(2024, 9, 1),
    )
    for label, month in [("105年1月", dt.date(2016, 1, 1)), ("108年12月", dt.date(2019, 12, 1))]:
        assert con.execute(
            "SELECT DISTINCT period_month::DATE FROM raw.customs_trade WHERE period_label = ?", [label]
        ).fetchall() == [(month,)]


def _customs_copy(tmp_path):
    """A raw folder with only the UTF-8 customs file, and that file."""
    raw, folder = copy_source(tmp_path, "customs")
    utf8 = folder / customs_file("utf-8-bom").name
    (folder / customs_file("big5").name).unlink()
    return raw, utf8


def test_zero_padded_roc_month(tmp_path):
    raw, path = _customs_copy(tmp_path)

    def pad(lines):
        for i, line in enumerate(lines):
            lines[i] = line.replace(",113年9月(初步值),", ",113年09月(初步值),").replace(
                ",113年8月,", ",113年08月,"
            )

    edit_lines(path, pad)
    text = decode_customs(path)
    assert ",113年09月(初步值)," in text and ",113年08月," in text
    c = duckdb.connect()
    load_source(c, "customs", raw)
    rows = c.execute(
        "SELECT period_label, period_month::DATE, bool_and(is_preliminary), count(*) FROM raw.customs_trade "
        "WHERE period_month >= DATE '2024-08-01' GROUP BY ALL ORDER BY 2"
    ).fetchall()
    assert rows == [
        ("113年08月", dt.date(2024, 8, 1), False, text.count(",113年08月,")),
        ("113年09月(初步值)", dt.date(2024, 9, 1), True, text.count(",113年09月(初步值),")),
    ]


def test_utf8_without_bom_and_big5_transcoded_to_utf8_load_the_same(con, tmp_path):
    raw, path = _customs_copy(tmp_path)
    rows = "SELECT * EXCLUDE (source_file) FROM raw.customs_trade WHERE source_file LIKE ? ORDER BY ALL"

    # The UTF-8 file without its byte-order mark: the same rows as the shipped file with it.
    path.write_bytes(path.read_bytes().removeprefix(BOM))
    c = duckdb.connect()
    load_source(c, "customs", raw)
    assert c.execute(rows, ["%"]).fetchall() == con.execute(rows, [f"%/{path.name}"]).fetchall()

    # The Big5 file re-encoded as UTF-8 (no BOM): the same rows as the Big5 original.
    big5 = customs_file("big5")
    path.write_text(big5.read_bytes().decode("cp950"), encoding="utf-8", newline="")
    load_source(c, "customs", raw)
    from_utf8 = c.execute(rows, ["%"]).fetchall()
    assert from_utf8 == con.execute(rows, [f"%/{big5.name}"]).fetchall()
    assert len(from_utf8) == len(customs_expected(big5))


# ---------------------------------------------------------------- names from titles and file names


def test_gta_reporter_flow_and_hs_code_come_from_the_title(con, tmp_path):
    lines = gta_lines()
    assert lines[1] == ["United States Imports from World"]
    assert lines[2][0].startswith("Commodity: 847150, ")
    assert con.execute("SELECT DISTINCT reporter, flow, hs_code FROM raw.gta_us_imports").fetchall() == [
        ("United States", "Imports", "847150")
    ]
    raw, folder = copy_source(tmp_path, "gta")
    (path,) = data_files("gta", raw)

    def retitle(body):
        body[1] = "Japan Exports from World"
        body[2] = '"Commodity: 847130, Portable Machines"'

    edit_lines(path, retitle)
    c = duckdb.connect()
    load_source(c, "gta", raw)
    assert c.execute(
        "SELECT DISTINCT reporter, flow, hs_code, commodity FROM raw.gta_us_imports"
    ).fetchall() == [("Japan", "Exports", "847130", "Portable Machines")]


def test_itc_product_description_comes_from_the_file_name(con, tmp_path):
    (path,) = data_files("itc")
    described = path.name.split("_product_(", 1)[1].removesuffix(").txt")
    assert described.startswith("Processing_units_other_than")
    assert con.execute("SELECT DISTINCT product_description FROM raw.itc_exporters").fetchall() == [
        (described,)
    ]
    raw, folder = copy_source(tmp_path, "itc")
    (copied,) = data_files("itc", raw)
    renamed = copied.rename(
        folder / "Trade_Map_-_List_of_exporters_for_the_selected_product_(Portable_machines).txt"
    )
    c = duckdb.connect()
    load_source(c, "itc", raw)
    assert c.execute(
        "SELECT DISTINCT product_description, source_file FROM raw.itc_exporters"
    ).fetchall() == [("Portable_machines", rel(renamed, raw))]


def test_itc_keeps_every_row_including_world(con):
    exporters = {e for (_line, e, _year) in itc_expected()}
    got = {e for (e,) in con.execute("SELECT DISTINCT exporter_name FROM raw.itc_exporters").fetchall()}
    assert got == exporters and "World" in got and "Taipei, Chinese" in got


def test_load_result_describes_the_load():
    result = load_source(duckdb.connect(), "itc", RAW)
    assert result.table == "raw.itc_exporters"
    assert result.rows == len(expected_rows("itc"))
    assert result.files == [rel(p, RAW) for p in data_files("itc")]
    assert result.download_dates == [download_folder("itc").name]
    assert result.latest_period == "2023"
    assert result.ignored == []


def test_one_spec_a_source_is_what_the_loader_and_settings_read():
    """The registry lists the sources in load order (the API sources last), each spec beside its parser."""
    assert tuple(SPECS) == (*SOURCES, *API_SOURCES) == settings.SOURCES
    assert [s for s, spec in SPECS.items() if spec.optional] == list(API_SOURCES)
    for source, spec in SPECS.items():
        assert spec.source == source and PARSERS[source].SPEC is spec
        assert spec.raw_table == TABLES[source]
    con = duckdb.connect()
    for source, spec in SPECS.items():
        load_source(con, source, RAW)
        columns = {r[0] for r in con.execute(f"DESCRIBE {spec.raw_table}").fetchall()}
        assert {*spec.key, spec.value_column, spec.period_column} <= columns, source

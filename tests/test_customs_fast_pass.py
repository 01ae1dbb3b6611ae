"""The customs reader's shortcuts come out as the exact way of reading a download would.

The fast pass reads a download in parallel and numbers its rows by their order, parses its
period labels by a cheap rule, and reads a Big5 file as Latin-1, its text looked up from
values sampled across the file (the rest decoded afterwards); each is checked (the lines
sampled from the file, each distinct label against the exact parse) or exact by construction
(every text decoded by Python's codec). These cases give each shortcut a file where it would
go wrong: the rows, or the message, must be those of the exact way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import duckdb
import pytest

from benchmarks.generate_customs import write_customs
from orchestration.ingest import large_files
from orchestration.ingest.files import IngestError
from orchestration.ingest.loader import load_source

from .ingest_helpers import BOM, copy_source, customs_file, edit_lines, rel

ROWS = 120_000
DOWNLOAD = "2024-10-14"
NAME = "綜合查詢_20241014093012.csv"
BIG5_NAME = customs_file("big5").name
UTF8_NAME = customs_file("utf-8-bom").name
ROC = re.compile(r"^(\d{2,3})年(\d{1,2})月(\(初步值\))?$")
# A code that Python's cp950 reads as ヾ (U+30FE) and glibc's CP950 (iconv) as U+F6B1.
KANA = "ヾ"


def rows_of(path) -> list[list[str]]:
    """Every data line's fields, read with Python's codecs and csv."""
    data = path.read_bytes()
    text = data[len(BOM) :].decode("utf-8") if data.startswith(BOM) else data.decode("cp950")
    return list(csv.reader(io.StringIO(text, newline="")))[1:]


def lines_of(path) -> list[tuple]:
    """(flow, period, HS code, country, value) of every data line."""
    return [(r[0], r[1], r[2], r[5], float(r[6])) for r in rows_of(path)]


def set_field(lines: list[str], line: int, column: int, value: str) -> None:
    """Field ``column`` of line ``line`` set to ``value``: 0 (進出口別) to 3 (中文貨名), or -2 (國家) and -1
    (美元(千元)), counted from the end (英文貨名 may hold commas)."""
    fields = lines[line - 1].split(",")
    fields[column] = value
    lines[line - 1] = ",".join(fields)


def loaded(con) -> list[tuple]:
    return con.execute(
        "SELECT flow, period_label, hs_code, partner_name, value_usd_thousand FROM raw.customs_trade "
        "ORDER BY source_row"
    ).fetchall()


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    """A generated download large enough to be read in parallel, in UTF-8 and in Big5."""
    out = {}
    for encoding in ("utf-8-sig", "big5"):
        raw = tmp_path_factory.mktemp(encoding) / "raw"
        path = raw / "customs" / DOWNLOAD / NAME
        write_customs(path, ROWS, encoding, last_month=dt.date(2024, 9, 1))
        out[encoding] = (raw, path, lines_of(path))
    return out


@pytest.mark.parametrize(
    ("encoding", "sample_every"), [("utf-8-sig", None), ("big5", None), ("big5", 1 << 22), ("big5", 1 << 40)]
)
@pytest.mark.parametrize("preserve_order", [True, False])
def test_each_row_is_loaded_as_written_with_its_own_line(extract, encoding, sample_every, preserve_order, monkeypatch):
    """Read by four threads, each row's source_row is the line it is on, and its text is the
    line's. Big5 is also read with few sampled values (most looked up afterwards) and none."""
    raw, path, lines = extract[encoding]
    if sample_every:
        monkeypatch.setattr(large_files, "SAMPLE_EVERY", sample_every)
    con = duckdb.connect()
    con.execute("SET threads = 4")
    con.execute(f"SET preserve_insertion_order = {str(preserve_order).lower()}")
    result = load_source(con, "customs", raw)
    assert result.rows == len(lines)
    assert con.execute("SELECT min(source_row), max(source_row), count(DISTINCT source_row) FROM "
                       "raw.customs_trade").fetchone() == (2, len(lines) + 1, len(lines))
    assert loaded(con) == lines
    exact = [
        (r[0], r[1], ROC.match(r[1]) and dt.date(int(ROC.match(r[1])[1]) + 1911, int(ROC.match(r[1])[2]), 1),
         r[1].endswith("(初步值)"), r[2], r[3], r[4], r[5], float(r[6]))
        for r in rows_of(path)
    ]
    assert con.execute(
        "SELECT flow, period_label, period_month, is_preliminary, hs_code, product_name_zh, product_name_en, "
        "partner_name, value_usd_thousand FROM raw.customs_trade ORDER BY source_row"
    ).fetchall() == exact


@pytest.mark.parametrize("label", ["0113年8月", "113年008月", "1年8月"])
def test_a_label_the_cheap_parse_reads_is_still_refused(tmp_path, label):
    """strptime reads these as a month; the exact check (two or three digits of year) does not."""
    for name in (UTF8_NAME, BIG5_NAME):
        raw, folder = copy_source(tmp_path / name, "customs", only=name)
        path = folder / name
        line = 2 + len(lines_of(path)) // 2
        edit_lines(path, lambda lines, n=line: set_field(lines, n, 1, label))
        with pytest.raises(IngestError) as refused:
            load_source(duckdb.connect(), "customs", raw)
        assert str(refused.value).startswith(f"{rel(path, raw)} line {line}: ")
        assert f'日期 "{label}" is not a ROC month' in str(refused.value)


def test_a_label_with_spaces_loads_as_the_exact_pass_reads_it(tmp_path):
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME
    line = 2 + len(lines_of(path)) // 2
    label = lines_of(path)[line - 2][1]
    edit_lines(path, lambda lines: set_field(lines, line, 1, f" {label} "))
    con = duckdb.connect()
    load_source(con, "customs", raw)
    exact = ROC.match(label)
    assert con.execute(
        "SELECT period_label, period_month, is_preliminary FROM raw.customs_trade WHERE source_row = ?", [line]
    ).fetchone() == (label, dt.date(int(exact[1]) + 1911, int(exact[2]), 1), bool(exact[3]))


@pytest.mark.parametrize("column", [3, -2])  # 中文貨名, 國家
def test_a_code_other_codecs_read_otherwise_loads_as_pythons_codec_reads_it(tmp_path, column):
    raw, folder = copy_source(tmp_path, "customs", only=BIG5_NAME)
    path = folder / BIG5_NAME

    # Line 3: no line the scan samples (line 2 is one).
    edit_lines(path, lambda lines: set_field(lines, 3, column, lines[2].split(",")[column] + KANA), "cp950")
    con = duckdb.connect()
    load_source(con, "customs", raw)
    name = {3: "product_name_zh", -2: "partner_name"}[column]
    (value,) = con.execute(f"SELECT {name} FROM raw.customs_trade WHERE source_row = 3").fetchone()
    assert value.endswith(KANA)
    assert not con.execute(
        "SELECT count(*) FROM raw.customs_trade WHERE regexp_matches(product_name_zh || partner_name, "
        "'[\\x{E000}-\\x{F8FF}]')"  # the private use area: no value of the file is there
    ).fetchone()[0]


def test_a_fault_in_a_big5_file_is_reported_in_pythons_characters(tmp_path):
    raw, folder = copy_source(tmp_path, "customs", only=BIG5_NAME)
    path = folder / BIG5_NAME
    edit_lines(path, lambda lines: lines.__setitem__(1, lines[1] + KANA), encoding="cp950")
    with pytest.raises(IngestError) as refused:
        load_source(duckdb.connect(), "customs", raw)
    assert str(refused.value).startswith(f"{rel(path, raw)} line 2: ")
    assert f'{KANA}" in 美元(千元) is not a number' in str(refused.value)

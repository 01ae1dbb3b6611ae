"""Damaged or misplaced downloads are refused with a message that names the file, the line and the fault.

Each case copies one shipped download into a temporary raw folder, damages it,
and loads it into a warehouse that already holds the shipped data: the load must
raise ``IngestError`` and leave the raw table as it was.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration.ingest.files import IngestError
from orchestration.ingest.loader import load_source

from .ingest_helpers import (
    BOM,
    RAW,
    SOURCES,
    TABLES,
    copy_source,
    customs_file,
    data_files,
    edit_lines,
    fingerprint,
    rel,
)

UTF8_NAME = customs_file("utf-8-bom").name
BIG5_NAME = customs_file("big5").name


@pytest.fixture(scope="module")
def warehouse():
    """A warehouse holding the shipped data, and a fingerprint of every raw table to compare with."""
    con = duckdb.connect()
    for source in SOURCES:
        load_source(con, source, RAW)
    yield con, {source: fingerprint(con, TABLES[source]) for source in SOURCES}
    con.close()


def refused(warehouse, source: str, raw: Path) -> str:
    """Load a bad raw folder; it must fail and change nothing. Returns the error message."""
    con, before = warehouse
    try:
        load_source(con, source, raw)
    except IngestError as exc:
        message = str(exc)
    else:
        load_source(con, source, RAW)  # put the shipped data back for the other cases
        pytest.fail(f"the damaged {source} download loaded without an error")
    assert fingerprint(con, TABLES[source]) == before[source], "a failed load changed the raw table"
    tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    views = con.execute("SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall()
    for (name,) in tables:  # clean up, so that one failure does not fail the cases after it
        con.execute(f'DROP TABLE temp."{name}"')
    for (name,) in views:
        con.unregister(name)
    assert tables + views == [], "a failed load left its staging tables behind"
    return message


def assert_message(message: str, place: str, *phrases: str) -> None:
    """``place`` is how the message starts (file under the raw folder, and line or row)."""
    assert message.startswith(place), f"expected the message to start with {place!r}: {message}"
    for phrase in phrases:
        assert phrase in message, f"expected {phrase!r} in: {message}"


def line_of(path: Path, needle: str, encoding: str = "utf-8-sig") -> int:
    """The number of the first line of a text file that contains ``needle``."""
    for number, line in enumerate(path.read_bytes().decode(encoding).splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def lines_in(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def set_last_field(line: str, value: str) -> str:
    return line.rsplit(",", 1)[0] + "," + value


@functools.cache
def shipped_sheet() -> tuple[str, tuple[tuple, ...]]:
    """The title and cell values of the shipped MOEA workbook's sheet (read once)."""
    (path,) = data_files("moea")
    workbook = openpyxl.load_workbook(path, read_only=True)
    sheet = workbook.worksheets[0]
    try:
        return sheet.title, tuple(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def edit_sheet(path: Path, edit: Callable[[list[list]], None], keep_rows: int = 40) -> None:
    """Write the first ``keep_rows`` rows of the shipped workbook to ``path`` after ``edit`` changed them.

    ``edit`` gets the rows as lists: sheet row n is ``rows[n - 1]``, column E is index 4.
    (A short sheet written afresh keeps these cases fast; openpyxl is slow on the whole one.)
    """
    title, shipped = shipped_sheet()
    rows = [list(r) for r in shipped[:keep_rows]]
    edit(rows)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


# ---------------------------------------------------------------- empty, cut off, wrong encoding


@pytest.mark.parametrize("source", SOURCES)
def test_empty_file(warehouse, tmp_path, source):
    raw, folder = copy_source(tmp_path, source)
    path = data_files(source, raw)[-1]
    path.write_bytes(b"")
    assert_message(refused(warehouse, source, raw), f"{rel(path, raw)}: ", "the file is empty")


@pytest.mark.parametrize("source", ["customs", "gta", "itc"])
def test_file_cut_off_mid_row(warehouse, tmp_path, source):
    raw, folder = copy_source(tmp_path, source)
    path = data_files(source, raw)[-1]
    data = path.read_bytes()
    last_line_start = data.rstrip(b"\r\n").rfind(b"\n") + 1
    cut = data[: (last_line_start + len(data)) // 2]
    path.write_bytes(cut)
    last_line = cut.count(b"\n") + 1
    assert_message(
        refused(warehouse, source, raw),
        f"{rel(path, raw)} line {last_line}: ",
        "ends in the middle of a row",
        "cut off",
    )


def test_workbook_cut_off(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "moea")
    (path,) = data_files("moea", raw)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert_message(refused(warehouse, "moea", raw), f"{rel(path, raw)}: ", "not an .xlsx workbook", "cut off")


def test_utf16_customs(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME
    path.write_bytes(path.read_bytes().decode("utf-8-sig").encode("utf-16"))
    assert_message(
        refused(warehouse, "customs", raw), f"{rel(path, raw)} line 1: ", "UTF-16", "UTF-8 or Big5 (CP950)"
    )


def test_utf16_without_bom_gta(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "gta")
    (path,) = data_files("gta", raw)
    path.write_bytes(path.read_bytes().decode("utf-8").encode("utf-16-le"))
    assert_message(refused(warehouse, "gta", raw), f"{rel(path, raw)} line 1: ", "UTF-16", "as UTF-8")


@pytest.mark.parametrize(("name", "line"), [(BIG5_NAME, 15), (UTF8_NAME, 812)])
def test_garbage_bytes(warehouse, tmp_path, name, line):
    raw, folder = copy_source(tmp_path, "customs")
    path = folder / name
    data = path.read_bytes()
    start = 0
    for _ in range(line - 1):
        start = data.index(b"\n", start) + 1
    garbage = b"\xff\xfe\x80"
    for encoding in ("utf-8", "cp950"):
        with pytest.raises(UnicodeDecodeError):
            garbage.decode(encoding)
    path.write_bytes(data[:start] + garbage + data[start:])
    assert_message(
        refused(warehouse, "customs", raw),
        f"{rel(path, raw)} line {line}: ",
        "neither UTF-8 nor Big5 (CP950)",
        "download it again",
    )


# ---------------------------------------------------------------- header


def test_renamed_column(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME
    edit_lines(path, lambda lines: lines.__setitem__(0, lines[0].replace("美元(千元)", "金額")))
    assert_message(
        refused(warehouse, "customs", raw),
        f"{rel(path, raw)} line 1: ",
        'missing column(s) "美元(千元)"',
        'unexpected column(s) "金額"',
    )


def test_missing_column_big5(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "customs")
    path = folder / BIG5_NAME
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in csv.reader(io.StringIO(path.read_bytes().decode("cp950"), newline="")):
        writer.writerow(row[:4] + row[5:])  # drop 英文貨名 from the header and every row
    path.write_bytes(out.getvalue().encode("cp950"))
    assert_message(
        refused(warehouse, "customs", raw), f"{rel(path, raw)} line 1: ", 'missing column(s) "英文貨名"'
    )


def test_renamed_column_moea(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "moea")
    (path,) = data_files("moea", raw)
    edit_sheet(path, lambda rows: rows[0].__setitem__(4, "產值"))
    assert_message(
        refused(warehouse, "moea", raw), f"{rel(path, raw)} row 1: ", 'missing column(s) "生產值(千元)"'
    )


def test_valid_utf8_csv_of_another_layout(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME
    path.write_bytes(BOM + "國家,年,金額\r\n美國,2024,1\r\n".encode())
    assert_message(
        refused(warehouse, "customs", raw),
        f"{rel(path, raw)} line 1: ",
        "the header is not this source's layout",
        'missing column(s) "進出口別"',
    )


def test_gta_of_another_layout(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "gta")
    (path,) = data_files("gta", raw)
    path.write_bytes(b"Partner,Year,Value\r\nWorld,2016,1\r\n")
    assert_message(
        refused(warehouse, "gta", raw), f"{rel(path, raw)} line 1: ", "not a Global Trade Atlas export"
    )


def test_itc_of_another_layout(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "itc")
    (path,) = data_files("itc", raw)
    path.write_bytes(BOM + b'Exporters\tImported value in 2016\t\n"World"\t1\t\n')
    assert_message(
        refused(warehouse, "itc", raw),
        f"{rel(path, raw)} line 1: ",
        'column "Imported value in 2016" is not "Exported value in <year>"',
    )


def test_workbook_of_another_layout(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "moea")
    (path,) = data_files("moea", raw)
    workbook = openpyxl.Workbook()
    workbook.active.append(["年月", "產品", "產值"])
    workbook.active.append(["113年7月", "伺服器", 1])
    workbook.save(path)
    assert_message(
        refused(warehouse, "moea", raw), f"{rel(path, raw)} row 1: ", "the header is not this source's layout"
    )


# ---------------------------------------------------------------- values


def test_non_numeric_value(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME
    edit_lines(path, lambda lines: lines.__setitem__(811, set_last_field(lines[811], '"1,2x"')))
    assert refused(warehouse, "customs", raw) == (
        f'{rel(path, raw)} line 812: value "1,2x" in 美元(千元) is not a number'
    )


def test_non_numeric_value_gta(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "gta")
    (path,) = data_files("gta", raw)

    def damage(lines):
        row = next(csv.reader([lines[9]]))
        row[4] = "1,2x"  # March 2016
        lines[9] = ",".join(f'"{c}"' if "," in c else c for c in row)

    edit_lines(path, damage)
    assert_message(
        refused(warehouse, "gta", raw),
        f"{rel(path, raw)} line 10: ",
        'value "1,2x" for March 2016 is not a number',
    )


def test_non_numeric_value_itc(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "itc")
    (path,) = data_files("itc", raw)

    def damage(lines):
        fields = lines[4].split("\t")
        fields[8] = "n/a"  # 2023
        lines[4] = "\t".join(fields)

    edit_lines(path, damage)
    assert_message(
        refused(warehouse, "itc", raw),
        f"{rel(path, raw)} line 5: ",
        'value "n/a" for Exported value in 2023 is not a number',
    )


def test_non_numeric_value_moea(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "moea")
    (path,) = data_files("moea", raw)
    edit_sheet(path, lambda rows: rows[9].__setitem__(4, "1,2x"))
    assert_message(
        refused(warehouse, "moea", raw),
        f"{rel(path, raw)} row 10: ",
        'value "1,2x" in 生產值(千元) is not a number',
    )


def test_negative_value(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME
    edit_lines(path, lambda lines: lines.__setitem__(811, set_last_field(lines[811], "-5")))
    assert_message(
        refused(warehouse, "customs", raw),
        f"{rel(path, raw)} line 812: ",
        'value "-5" in 美元(千元) is negative',
    )


def test_negative_value_moea(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "moea")
    (path,) = data_files("moea", raw)
    edit_sheet(path, lambda rows: rows[9].__setitem__(6, -5))
    assert_message(
        refused(warehouse, "moea", raw),
        f"{rel(path, raw)} row 10: ",
        'value "-5" in 銷售值(千元) is negative',
    )


# ---------------------------------------------------------------- the same key twice


def test_same_key_twice_with_different_values(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME
    value = int(path.read_bytes().decode("utf-8-sig").split("\r\n")[9].rsplit(",", 1)[1])
    edit_lines(path, lambda lines: lines.append(set_last_field(lines[9], str(value + 1))))
    assert_message(
        refused(warehouse, "customs", raw),
        f"{rel(path, raw)} line 10: ",
        "appears more than once in one download",
        f"({value}, {value + 1})",
        f"line 10, line {lines_in(path)}",
    )


def test_same_key_twice_across_files_of_one_download(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "customs")
    utf8, big5 = folder / UTF8_NAME, folder / BIG5_NAME
    line2 = utf8.read_bytes().decode("utf-8-sig").split("\r\n")[1]
    edit_lines(big5, lambda lines: lines.append(set_last_field(line2, "1")), encoding="cp950")
    assert_message(
        refused(warehouse, "customs", raw),
        f"{rel(big5, raw)} line {lines_in(big5)}: ",
        "partner_name=美國, period_month=2020-01-01",
        f"{rel(utf8, raw)} line 2",
    )


def test_same_key_twice_gta(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "gta")
    (path,) = data_files("gta", raw)
    edit_lines(path, lambda lines: lines.append(lines[9].replace(",USD,", ",USD,7", 1)))
    assert_message(
        refused(warehouse, "gta", raw),
        f"{rel(path, raw)} line 10: ",
        "appears more than once in one download",
        f"line 10, line {lines_in(path)}",
    )


def test_same_key_twice_moea(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "moea")
    (path,) = data_files("moea", raw)

    def duplicate(rows):
        rows.append(list(rows[2]))  # sheet row 3 again, at the end, with another 生產值(千元)
        rows[-1][4] += 1

    edit_sheet(path, duplicate)
    last = 41  # the 40 rows edit_sheet keeps, then the copy
    assert_message(
        refused(warehouse, "moea", raw),
        f"{rel(path, raw)} row 3: ",
        "measure=生產值(千元)",
        f"row 3, row {last}",
    )


# ---------------------------------------------------------------- periods


@pytest.mark.parametrize("label", ["113年13月", "Sept 2024"])
def test_period_that_cannot_be_parsed(warehouse, tmp_path, label):
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME
    line = line_of(path, ",113年8月,")
    edit_lines(path, lambda lines: lines.__setitem__(line - 1, lines[line - 1].replace("113年8月", label)))
    assert_message(
        refused(warehouse, "customs", raw),
        f"{rel(path, raw)} line {line}: ",
        f'日期 "{label}" is not a ROC month',
    )


def test_month_column_that_cannot_be_parsed_gta(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "gta")
    (path,) = data_files("gta", raw)
    edit_lines(path, lambda lines: lines.__setitem__(6, lines[6].replace("August 2024", "Sept 2024")))
    assert_message(
        refused(warehouse, "gta", raw), f"{rel(path, raw)} line 7: ", 'column "Sept 2024" is not a month'
    )


def test_period_that_cannot_be_parsed_moea(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "moea")
    (path,) = data_files("moea", raw)
    edit_sheet(path, lambda rows: rows[9].__setitem__(0, "113年13月"))
    assert_message(
        refused(warehouse, "moea", raw), f"{rel(path, raw)} row 10: ", '統計期 "113年13月" is not a ROC month'
    )


@pytest.mark.parametrize(
    ("source", "earlier", "needle", "fault"),
    [
        # the newest month of each download ends after the (earlier) folder date
        (
            "customs",
            "2024-09-15",
            ",113年9月(初步值),",
            '日期 "113年9月(初步值)" ends after the download date',
        ),
        ("gta", "2024-08-15", "World,", 'month "August 2024" ends after the download date'),
        ("itc", "2023-06-30", '"World"', "year 2023 ends after the download date"),
        ("moea", "2024-07-15", None, '統計期 "113年7月" ends after the download date'),
    ],
)
def test_period_after_the_download_date(warehouse, tmp_path, source, earlier, needle, fault):
    raw, folder = copy_source(tmp_path, source)
    moved = folder.rename(folder.with_name(earlier))
    path = sorted(p for p in moved.iterdir())[-1]
    if needle is None:
        where = "row " + str(next(n for n, r in enumerate(shipped_sheet()[1], 1) if r[0] == "113年7月"))
    else:
        where = f"line {line_of(path, needle)}"
    assert_message(
        refused(warehouse, source, raw),
        f"{source}/{earlier}/{path.name} {where}: ",
        fault + f" {earlier}",
        "wrong download folder, or the folder is misnamed",
    )


# ---------------------------------------------------------------- files and folders in the wrong place


@pytest.mark.parametrize(
    ("source", "stranger", "name", "phrase"),
    [
        (
            "customs",
            "gta",
            "綜合查詢_1.csv",
            "this is a Global Trade Atlas export, not a Customs portal query",
        ),
        ("customs", "itc", "綜合查詢_1.csv", "this is an ITC Trade Map list of exporters"),
        ("customs", "moea", "綜合查詢_1.csv", "this is an .xlsx workbook"),
        ("gta", "customs", "GTA_customs.csv", "this is a Customs portal query export"),
        ("itc", "gta", "Trade_Map_-_x_product_(Foo).txt", "this is a Global Trade Atlas export"),
    ],
)
def test_file_of_another_source(warehouse, tmp_path, source, stranger, name, phrase):
    raw, folder = copy_source(tmp_path, source)
    shutil.copy(data_files(stranger)[0], folder / name)
    assert_message(
        refused(warehouse, source, raw),
        f"{source}/{folder.name}/{name} line 1: ",
        phrase,
        f"it belongs in {stranger}/<YYYY-MM-DD>/",
    )


@pytest.mark.parametrize(
    ("folder_name", "phrase"),
    [("latest", "download folder is not named as a date"), ("2024-13-45", "not a valid date")],
)
def test_download_folder_not_named_as_a_date(warehouse, tmp_path, folder_name, phrase):
    raw, folder = copy_source(tmp_path, "customs")
    folder.rename(folder.with_name(folder_name))
    assert_message(refused(warehouse, "customs", raw), f"customs/{folder_name}: ", phrase, "YYYY-MM-DD")


@pytest.mark.parametrize(
    ("content", "phrase"),
    [(b"this is not a workbook\r\n", "it is a text file"), (b"<html><body>Error</body></html>", "HTML page")],
)
def test_xlsx_that_is_not_a_workbook(warehouse, tmp_path, content, phrase):
    raw, folder = copy_source(tmp_path, "moea")
    (path,) = data_files("moea", raw)
    path.write_bytes(content)
    assert_message(refused(warehouse, "moea", raw), f"{rel(path, raw)}: ", "not an .xlsx workbook", phrase)


def test_extra_files_are_ignored_with_a_warning(warehouse, tmp_path, caplog):
    raw, folder = copy_source(tmp_path, "customs")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1\x00")
    (folder / "notes.txt").write_text("downloaded by hand\n")
    con, before = warehouse
    caplog.set_level(logging.WARNING, logger="orchestration.ingest.loader")
    result = load_source(con, "customs", raw)
    assert fingerprint(con, "raw.customs_trade") == before["customs"]
    assert result.ignored == [f"customs/{folder.name}/.DS_Store", f"customs/{folder.name}/notes.txt"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for name in (".DS_Store", "notes.txt"):
        assert any(f"customs/{folder.name}/{name}" in w and "ignored" in w for w in warnings), warnings


# ---------------------------------------------------------------- World rows and year columns


def test_gta_without_world_row(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "gta")
    (path,) = data_files("gta", raw)
    edit_lines(path, lambda lines: lines.pop(line_of(path, "World,USD") - 1))
    assert_message(refused(warehouse, "gta", raw), f"{rel(path, raw)}: ", "has no 'World' row")


def test_itc_without_world_row(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "itc")
    (path,) = data_files("itc", raw)
    edit_lines(path, lambda lines: lines.pop(line_of(path, '"World"') - 1))
    assert_message(refused(warehouse, "itc", raw), f"{rel(path, raw)}: ", "has no 'World' row")


def test_itc_missing_a_year_column(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "itc")
    (path,) = data_files("itc", raw)

    def drop_2019(lines):
        column = lines[0].split("\t").index("Exported value in 2019")
        for i, line in enumerate(lines):
            fields = line.split("\t")
            del fields[column]
            lines[i] = "\t".join(fields)

    edit_lines(path, drop_2019)
    assert_message(
        refused(warehouse, "itc", raw), f"{rel(path, raw)} line 1: ", "year column(s) 2019 are missing"
    )


def test_itc_row_missing_a_field(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "itc")
    (path,) = data_files("itc", raw)

    def drop_field(lines):
        fields = lines[5].split("\t")
        del fields[4]
        lines[5] = "\t".join(fields)

    edit_lines(path, drop_field)
    assert_message(
        refused(warehouse, "itc", raw), f"{rel(path, raw)} line 6: ", "the row has 9 fields, expected 10"
    )


# ---------------------------------------------------------------- rows the CSV reader would lose or shift


def test_row_with_an_unquoted_comma(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME
    edit_lines(path, lambda lines: lines.__setitem__(811, set_last_field(lines[811], "1,234")))
    assert_message(
        refused(warehouse, "customs", raw), f"{rel(path, raw)} line 812: ", "the row has 8 fields, expected 7"
    )


def test_unclosed_quote_in_the_last_row(warehouse, tmp_path):
    # DuckDB's reader drops such a row without an error: the line count check must catch it.
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME
    edit_lines(
        path, lambda lines: lines.__setitem__(-1, set_last_field(lines[-1], '"' + lines[-1].split(",")[-1]))
    )
    assert_message(
        refused(warehouse, "customs", raw), f"{rel(path, raw)} line {lines_in(path)}: ", "double quote"
    )


def test_empty_line_between_rows(warehouse, tmp_path):
    # DuckDB's reader skips an empty line, which would shift every later source_row by one.
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME
    edit_lines(path, lambda lines: lines.insert(10, ""))
    assert_message(refused(warehouse, "customs", raw), f"{rel(path, raw)} line 11: ", "the line is empty")


def test_header_without_rows(warehouse, tmp_path):
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME
    edit_lines(path, lambda lines: lines.__delitem__(slice(1, None)))
    assert_message(refused(warehouse, "customs", raw), f"{rel(path, raw)} line 2: ", "no data rows")


def test_quoted_value_running_over_two_lines(warehouse, tmp_path):
    # The reader would take lines 100 and 101 as one row: the line count check must catch it.
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    path = folder / UTF8_NAME

    def damage(lines):
        lines[99] = set_last_field(lines[99], '"' + lines[99].rsplit(",", 1)[1])
        lines[100] = '456"'

    edit_lines(path, damage)
    assert_message(
        refused(warehouse, "customs", raw),
        f"{rel(path, raw)} line 100: ",
        "double quote",
        "runs on into the next line",
    )

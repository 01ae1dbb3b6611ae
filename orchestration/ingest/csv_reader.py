"""DuckDB's CSV reader for delimited UTF-8 downloads: one builder of the ``read_csv`` call, its faults in words.

Every field is read as text; nothing is guessed (no auto-detection): the columns, the
delimiter and the lines to skip are the source's. :func:`read_csv_sql` builds the call;
:func:`read_csv_relation` reads a small file into a temporary table with each row's line
(``source_row``), and refuses what the reader would pass over silently (an empty line, a
quote that never closes); :func:`reader_error` turns the reader's error into the line of the
download and what is wrong there.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .checks import MAX_LINE_BYTES, long_line_error
from .files import DownloadFile, IngestError
from .scanning import count_lines

CSV_ERROR_LINE = re.compile(r"CSV Error on Line: (\d+)")
CSV_FIELD_COUNT = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
CSV_ERROR_FILE = re.compile(r"^\s*file = (.+)$", re.MULTILINE)


def csv_columns(line: str, delimiter: str) -> list[str]:
    """The fields of one CSV header line, quotes removed."""
    return next(csv.reader([line], delimiter=delimiter))


def read_first_line(path: Path) -> str:
    """The first line of a UTF-8 file (at most :data:`MAX_LINE_BYTES` of it), without a
    byte-order mark or line end."""
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        return f.readline(MAX_LINE_BYTES).rstrip("\r\n")


@dataclass(frozen=True)
class TextParts:
    """A text download as DuckDB reads it: UTF-8 files, in order, each with one line to skip.

    A UTF-8 download is its own one part (its header is the line skipped). A transcoded one
    is cut in parts at line ends: the first starts with the header, every other with a copy of
    it, so that every part skips its first line and ``WITH ORDINALITY`` still counts the rows
    of the whole download. ``first_lines[k]`` is the line of the download that line 2 of part
    ``k`` is.
    """

    paths: tuple[Path, ...]
    first_lines: tuple[int, ...]

    def line_in_download(self, part: str | None, line: int) -> int:
        """The line of the download that ``line`` of ``part`` (a path as DuckDB names it) is."""
        for path, first in zip(self.paths, self.first_lines, strict=True):
            if part is None or str(path) == part:
                return first + line - 2
        return line

    def sql_list(self) -> str:
        return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in self.paths) + "]"


def utf8_parts(path: Path) -> TextParts:
    """A UTF-8 download as the one part DuckDB reads."""
    return TextParts((path,), (2,))


def read_csv_sql(
    columns: Sequence[str],
    delimiter: str,
    skip_lines: int,
    path: str = "?",
    ordinality: bool = True,
    parallel: bool = True,
) -> str:
    """DuckDB's reader for a delimited UTF-8 file (``path``: a parameter, or a list of files).

    Every field is text. With ``ordinality``, ``WITH ORDINALITY`` numbers the rows in file
    order, so a row's line is ``ordinality + skip_lines`` once every line is known to be a row;
    DuckDB then reads the file in one thread. Without it, and with ``parallel``, the file is
    read in parallel; ``parallel = False`` reads it in one thread, in file order.
    """
    spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in columns) + "}"
    shown = delimiter.replace("'", "''")
    return (
        f"read_csv({path}, header = false, skip = {int(skip_lines)}, delim = '{shown}', quote = '\"', "
        f"escape = '\"', columns = {spec}, auto_detect = false, strict_mode = true, "
        f"null_padding = false, all_varchar = true, parallel = {str(parallel).lower()})"
        + (" WITH ORDINALITY" if ordinality else "")
    )


def is_invalid_unicode(exc: duckdb.Error) -> bool:
    """DuckDB's reader met a byte sequence that is not UTF-8."""
    return "Invalid unicode" in str(exc)


def read_csv_relation(
    con: duckdb.DuckDBPyConnection,
    file: DownloadFile,
    text_path: Path,
    columns: Sequence[str],
    delimiter: str,
    into: str,
    skip_lines: int = 1,
) -> None:
    """Read a delimited UTF-8 file with DuckDB's reader, every field as text.

    The first ``skip_lines`` lines (title block, header) are skipped; each row
    gets ``source_row``, its line number in the file. Rows with too few or too
    many fields are refused by the reader and reported with the file's name and
    line; every line after the header must become one row, and there must be one.
    """
    reader = read_csv_sql(columns, delimiter, skip_lines, ordinality=False, parallel=False)
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {into} AS
            SELECT *, (row_number() OVER () + ?)::BIGINT AS source_row
            FROM {reader}
            """,
            [skip_lines, str(text_path)],
        )
    except duckdb.Error as exc:
        raise reader_error(file, exc, len(columns), delimiter) from exc
    check_every_line_read(con, file, text_path, into, columns, skip_lines)
    if con.execute(f"SELECT count(*) FROM {into}").fetchall()[0][0] == 0:
        raise file.error(
            f"line {skip_lines + 1}",
            "the file has no data rows after the header: the export came out empty; download it again",
        )


def reader_error(
    file: DownloadFile, exc: duckdb.Error, columns: int, delimiter: str, text: TextParts | None = None
) -> IngestError:
    """The reader's error in plain words, at the line of the download (``text``: what was read)."""
    long = long_line_error(file)
    if long is not None:
        return long
    message = str(exc)
    line = CSV_ERROR_LINE.search(message)
    counts = CSV_FIELD_COUNT.search(message)
    where = None
    if line:
        read = CSV_ERROR_FILE.search(message)
        number = int(line[1])
        where = f"line {text.line_in_download(read[1].strip() if read else None, number) if text else number}"
    shown = "tab" if delimiter == "\t" else repr(delimiter)
    if "unterminated quote" in message:
        what = (
            "a double quote opens a field that does not close on this line; "
            "the download is damaged, download it again"
        )
    elif counts:
        what = (
            f"the row has {counts[2]} fields, expected {counts[1]} (separated by {shown}): "
            "a value with an unquoted separator, a missing field or an unclosed double quote"
        )
    else:
        first = message.splitlines()[0] if message else type(exc).__name__
        what = f"cannot be read as {columns} fields separated by {shown}: {first}"
    return file.error(where, what)


def check_every_line_read(
    con: duckdb.DuckDBPyConnection,
    file: DownloadFile,
    text_path: Path,
    table: str,
    columns: Sequence[str],
    skip_lines: int,
) -> None:
    """Every line after ``skip_lines`` must have become one row, so ``source_row`` is its line.

    DuckDB's reader silently skips empty lines and silently drops the rest of a
    file after a double quote that is never closed; both would lose rows or shift
    the lineage, so both are refused here. Empty lines at the very end are harmless.
    """
    rows, last_row = con.execute(f"SELECT count(*), max(source_row) FROM {table}").fetchall()[0]
    lines = count_lines(text_path)
    if rows + skip_lines == lines:
        return
    # Only on a mismatch: find the first empty line between rows (rare, so a scan is fine).
    first_empty, trailing_empty = None, 0
    with text_path.open("rb") as f:
        for number, text in enumerate(f, start=1):
            if text.strip(b"\r\n\t ") == b"":
                trailing_empty += 1
                if number > skip_lines and first_empty is None:
                    first_empty = number
            else:
                if trailing_empty and first_empty is not None and number > skip_lines:
                    raise file.error(
                        f"line {first_empty}",
                        "the line is empty: a download has no empty lines between rows "
                        "(the rows after it would get the wrong line numbers); download it again",
                    )
                trailing_empty, first_empty = 0, None
    if rows + skip_lines + trailing_empty == lines:
        return
    quoted = " OR ".join(f"contains(coalesce({c}, ''), chr(10))" for c in columns)
    spanning = con.execute(f"SELECT min(source_row) FROM {table} WHERE {quoted}").fetchall()[0][0]
    counts = f"({lines - skip_lines - trailing_empty} data lines, {rows} rows read)"
    if spanning is not None:
        raise file.error(
            f"line {spanning}",
            "a double quote opens a field that does not close on this line, so the field runs on "
            f"into the next line {counts}; the download is damaged, download it again",
        )
    raise file.error(
        f"line {(last_row or skip_lines) + 1}",
        "a double quote opens a field that never closes, so the rest of the file cannot be read "
        f"as rows {counts}; the download is damaged, download it again",
    )

"""DuckDB's CSV reader for delimited UTF-8 downloads: one builder of the ``read_csv`` call, its faults in words.

Every field is read as text; nothing is guessed (no auto-detection): the columns, the
delimiter and the lines to skip are the source's. :func:`read_csv_sql` builds the call;
:func:`read_csv_relation` reads a small file into a temporary table with each row's line
(``source_row``), and refuses what the reader would pass over silently (an empty line, a
quote that never closes). A line the reader cannot read as a row (too many or too few fields,
a quote inside a field, bytes that are not UTF-8, an overlong line) it records, with its line
and its text, in two temporary tables (DuckDB's ``store_rejects``: :class:`Rejects`);
:func:`rejected_line_error` says the first of them in words, at the line of the download,
and shows the line.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .checks import MAX_LINE_BYTES, long_line_error
from .files import DownloadFile, IngestError
from .scanning import CHUNK, count_lines

# A refused line longer than this is shown by its start and its end (where a stray field is).
SHOWN_LINE_CHARS = 160
SHOWN_LINE_START = 50
# The kinds of refused line DuckDB's reader records (``reject_errors.error_type``) named here.
FIELD_COUNT_ERRORS = ("TOO MANY COLUMNS", "MISSING COLUMNS")
UNCLOSED_QUOTE_ERROR = "UNQUOTED VALUE"
NOT_UTF8_ERROR = "INVALID ENCODING"


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


@dataclass(frozen=True)
class RejectedLine:
    """A line DuckDB's reader refused, as :class:`Rejects` recorded it."""

    line: int  # the line of the download
    error_type: str  # DuckDB's kind: TOO MANY COLUMNS, MISSING COLUMNS, UNQUOTED VALUE, INVALID ENCODING, ...
    text: str  # the line as written
    message: str  # DuckDB's words for it, shown only for a kind named nowhere here


@dataclass(frozen=True)
class Rejects:
    """The two temporary tables in which DuckDB's reader records the lines it refuses.

    With ``store_rejects`` the reader does not stop at a line it cannot read as a row: it
    leaves the line out, records it (``<name>_rejects``: scan, file, line, kind of error, the
    line as written; ``<name>_reject_scans``: each file's path) and reads on, so a read with
    them is followed by :meth:`first`, which says whether a line was refused and drops the
    tables. ``name`` starts with the load's staging prefix, so a load that fails half-way
    drops them with its other temporary tables.
    """

    name: str

    @property
    def errors(self) -> str:
        return f"{self.name}_rejects"

    @property
    def scans(self) -> str:
        return f"{self.name}_reject_scans"

    def options(self) -> str:
        """The reader's options that record refused lines here."""
        return f", store_rejects = true, rejects_table = '{self.errors}', rejects_scan = '{self.scans}'"

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Both tables (DuckDB adds to tables of these names that are already there)."""
        con.execute(f'DROP TABLE IF EXISTS temp."{self.errors}"')
        con.execute(f'DROP TABLE IF EXISTS temp."{self.scans}"')

    def first(self, con: duckdb.DuckDBPyConnection, text: TextParts) -> RejectedLine | None:
        """The first line the reader refused (by part of ``text``, then line), or None; the
        tables are dropped either way."""
        try:
            rows = con.execute(
                f"""
                SELECT s.file_path, min(e.line_byte_position), arg_min(e.line, e.line_byte_position),
                    arg_min(e.error_type, e.line_byte_position), arg_min(e.csv_line, e.line_byte_position),
                    arg_min(e.error_message, e.line_byte_position)
                FROM temp."{self.errors}" e JOIN temp."{self.scans}" s USING (scan_id, file_id)
                GROUP BY s.file_path
                """
            ).fetchall()
        finally:
            self.drop(con)
        if not rows:
            return None
        order = {str(p): i for i, p in enumerate(text.paths)}
        part, position, line, kind, written, message = min(
            rows, key=lambda r: (order.get(r[0], len(order)), r[1])
        )
        written = written or ""
        line = _line_at(Path(part), int(position), written) or int(line)
        return RejectedLine(text.line_in_download(part, line), kind, written, message or "")


def _line_at(path: Path, position: int, written: str) -> int | None:
    """The number of the line of ``path`` that holds byte ``position``, if that line is ``written``.

    DuckDB's reader records where a refused line starts (``line_byte_position``: the line's
    first or second byte) as well as its number; in a parallel read the number can be one off,
    the position is not. Counting the line breaks before it gives the line; it is used only when
    the line there is the one the reader recorded (not for a row that runs over several lines,
    or bytes that are not UTF-8).
    """
    breaks, start, done = 0, 0, 0
    with path.open("rb") as f:
        while done < position:
            chunk = f.read(min(CHUNK, position - done))
            if not chunk:
                return None
            breaks += chunk.count(b"\n")
            last = chunk.rfind(b"\n")
            if last >= 0:
                start = done + last + 1
            done += len(chunk)
        f.seek(start)
        found = f.readline(MAX_LINE_BYTES)
    if found.decode("utf-8", errors="replace").strip("\r\n\ufeff") != written.strip("\r\n\ufeff"):
        return None
    return breaks + 1


def read_csv_sql(
    columns: Sequence[str],
    delimiter: str,
    skip_lines: int,
    path: str = "?",
    ordinality: bool = True,
    parallel: bool = True,
    rejects: Rejects | None = None,
    encoding: str | None = None,
) -> str:
    """DuckDB's reader for a delimited UTF-8 file (``path``: a parameter, or a list of files).

    Every field is text. With ``ordinality``, ``WITH ORDINALITY`` numbers the rows in file
    order, so a row's line is ``ordinality + skip_lines`` once every line is known to be a row;
    DuckDB then reads the file in one thread. Without it, and with ``parallel``, the file is
    read in parallel; ``parallel = False`` reads it in one thread, in file order. With
    ``rejects``, a line that is not a row is left out and recorded there and the read goes on
    (:meth:`Rejects.first` says which); without, the reader stops at it with an error.
    ``encoding``: another of DuckDB's own (``latin-1``) than UTF-8.
    """
    spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in columns) + "}"
    shown = delimiter.replace("'", "''")
    encoded = f", encoding = '{encoding}'" if encoding else ""
    return (
        f"read_csv({path}, header = false, skip = {int(skip_lines)}, delim = '{shown}', quote = '\"', "
        f"escape = '\"', columns = {spec}, auto_detect = false, strict_mode = true, "
        f"null_padding = false, all_varchar = true, parallel = {str(parallel).lower()}"
        f"{rejects.options() if rejects else ''}{encoded})"
        + (" WITH ORDINALITY" if ordinality else "")
    )


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
    rejects = Rejects(into)
    rejects.drop(con)
    reader = read_csv_sql(columns, delimiter, skip_lines, ordinality=False, parallel=False, rejects=rejects)
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
    rejected = rejects.first(con, utf8_parts(text_path))
    if rejected is not None:
        raise rejected_line_error(file, rejected, len(columns), delimiter)
    check_every_line_read(con, file, text_path, into, columns, skip_lines)
    if con.execute(f"SELECT count(*) FROM {into}").fetchall()[0][0] == 0:
        raise file.error(
            f"line {skip_lines + 1}",
            "the file has no data rows after the header: the export came out empty; download it again",
        )


def _separator(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else repr(delimiter)


def shown_line(text: str) -> str:
    """A line as a message shows it: without its line break; a long one, its start … its end."""
    line = text.strip("\r\n")
    if len(line) <= SHOWN_LINE_CHARS:
        return line
    return line[:SHOWN_LINE_START] + " … " + line[-(SHOWN_LINE_CHARS - SHOWN_LINE_START) :]


def rejected_line_error(file: DownloadFile, rejected: RejectedLine, columns: int, delimiter: str) -> IngestError:
    """The first line the reader refused, in plain words, with what the line looks like."""
    long = long_line_error(file)
    if long is not None:
        return long
    shown = _separator(delimiter)
    line = shown_line(rejected.text)
    if rejected.error_type == UNCLOSED_QUOTE_ERROR:
        what = (
            "a double quote opens a field that does not close on this line; "
            "the download is damaged, download it again"
        )
    elif rejected.error_type in FIELD_COUNT_ERRORS:
        try:
            found = f"{len(csv_columns(rejected.text.strip(chr(13) + chr(10)), delimiter))} fields"
        except csv.Error:
            found = "too many fields" if rejected.error_type == FIELD_COUNT_ERRORS[0] else "too few fields"
        what = (
            f"the row has {found}, expected {columns} (separated by {shown}): "
            "a value with an unquoted separator, a missing field or an unclosed double quote"
        )
    elif rejected.error_type == NOT_UTF8_ERROR:
        what = "the line is not UTF-8 text; download it again"
    else:
        what = f"cannot be read as {columns} fields separated by {shown}: {rejected.message}"
    return file.error(f"line {rejected.line}", f"{what}. The line reads: {line}")


def reader_error(file: DownloadFile, exc: duckdb.Error, columns: int, delimiter: str) -> IngestError:
    """An error of the reader itself, not of a line (a line it refuses is recorded: :class:`Rejects`)."""
    long = long_line_error(file)
    if long is not None:
        return long
    message = str(exc).strip()
    first = message.splitlines()[0] if message else type(exc).__name__
    return file.error(None, f"cannot be read as {columns} fields separated by {_separator(delimiter)}: {first}")


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

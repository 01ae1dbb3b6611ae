"""What every source's ingestion shares: finding downloads, decoding text, clear errors.

A source's parser turns one native file into a DuckDB temporary table of that
source's long form plus the lineage columns ``source_file`` (path under the raw
folder), ``download_date`` and ``source_row`` (the line, or the sheet row, in the file).
Nothing here knows a source's layout.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import fnmatch
import hashlib
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

DATE_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CHUNK = 1 << 22


class IngestError(ValueError):
    """A download that cannot be read as its source exports it.

    The message names the file (path under the raw folder), the line or row
    where it can, and what is wrong in plain words.
    """


@dataclass(frozen=True)
class DownloadFile:
    """One file of one download folder: ``<source>/<YYYY-MM-DD>/<name>``."""

    source: str
    path: Path
    rel_path: str
    download_date: dt.date

    def error(self, where: str | None, what: str) -> IngestError:
        place = f"{self.rel_path} {where}" if where else self.rel_path
        return IngestError(f"{place}: {what}")

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as f:
            for block in iter(lambda: f.read(CHUNK), b""):
                digest.update(block)
        return digest.hexdigest()


@dataclass(frozen=True)
class Discovery:
    files: list[DownloadFile]
    ignored: list[str]


def discover(raw_dir: Path, source: str, patterns: Sequence[str]) -> Discovery:
    """Every data file of every download folder of ``source``, oldest download first.

    A file whose name matches none of ``patterns`` is not data and is reported
    in ``ignored``; a download folder not named as a date is an error.
    """
    source_dir = raw_dir / source
    files: list[DownloadFile] = []
    ignored: list[str] = []
    if not source_dir.is_dir():
        return Discovery(files, ignored)
    for folder in sorted(source_dir.iterdir()):
        rel_folder = f"{source}/{folder.name}"
        if not folder.is_dir():
            ignored.append(rel_folder)
            continue
        if not DATE_FOLDER.match(folder.name):
            raise IngestError(
                f"{rel_folder}: download folder is not named as a date; "
                "name it by the day of the download, YYYY-MM-DD"
            )
        try:
            download_date = dt.date.fromisoformat(folder.name)
        except ValueError as exc:
            raise IngestError(
                f"{rel_folder}: download folder is not a valid date ({exc}); "
                "name it by the day of the download, YYYY-MM-DD"
            ) from exc
        for path in sorted(folder.iterdir()):
            rel = f"{rel_folder}/{path.name}"
            if path.is_file() and any(fnmatch.fnmatchcase(path.name, p) for p in patterns):
                files.append(DownloadFile(source, path, rel, download_date))
            else:
                ignored.append(rel)
    return Discovery(files, ignored)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


ENCODING_NAMES = {"utf-8": "UTF-8", "cp950": "Big5 (CP950)"}


def _encoding_names(allowed: Sequence[str]) -> str:
    return " or ".join(ENCODING_NAMES[e] for e in allowed)


def sniff_text_encoding(file: DownloadFile, allowed: Sequence[str]) -> str:
    """The encoding of a text download: ``utf-8`` (BOM or not) or ``cp950`` (Big5).

    ``allowed`` lists which of the two the source exports. The whole file is
    checked with a strict incremental decoder, so a bad byte anywhere is
    reported with its line.
    """
    with file.path.open("rb") as f:
        head = f.read(4096)
    if not head:
        raise file.error(None, "the file is empty (0 bytes); download it again")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head:
        raise file.error(
            "line 1",
            "the file is UTF-16 (or not text at all: it has NUL bytes); "
            f"export it again as {_encoding_names(allowed)} from the source",
        )
    # A download cut off in the middle of a character is cut off, not in another encoding.
    check_complete_last_line(file)
    errors: list[tuple[int, str, str]] = []
    for encoding in allowed:
        bad = _first_decode_error(file.path, encoding)
        if bad is None:
            return encoding
        errors.append((bad[0], encoding, bad[1]))
    # The encoding that reads furthest is the file's own: its first bad byte is the damage.
    line, encoding, what = max(errors)
    if len(errors) > 1:
        others = "; ".join(
            f"as {ENCODING_NAMES[e]} it fails at line {n}" for n, e, _ in errors if e != encoding
        )
        what += (
            f": the file is neither {' nor '.join(ENCODING_NAMES[e] for e in allowed)} "
            f"(it reads as {ENCODING_NAMES[encoding]} up to this line; {others})"
        )
    raise file.error(f"line {line}", f"{what}; the download is damaged, download it again")


def _first_decode_error(path: Path, encoding: str) -> tuple[int, str] | None:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines_before = 0
    with path.open("rb") as f:
        while True:
            block = f.read(CHUNK)
            final = not block
            try:
                decoder.decode(block, final=final)
            except UnicodeDecodeError as exc:
                # exc.object is what the decoder held: bytes left over from the last block
                # (never a line break) followed by this block.
                data = exc.object
                line = lines_before + _line_of(data, max(exc.start, 0))
                return line, f"byte(s) {data[exc.start:exc.end]!r} are not valid {ENCODING_NAMES[encoding]}"
            if final:
                return None
            lines_before += block.count(b"\n")


def utf8_copy(file: DownloadFile, encoding: str, workdir: Path) -> Path:
    """A UTF-8 (no BOM) copy of a text download that DuckDB's reader can read.

    Files already in UTF-8 are read where they are; only Big5 is transcoded,
    block by block, so memory stays flat whatever the file's size.
    """
    if encoding == "utf-8":
        return file.path
    target = Path(tempfile.mkstemp(suffix=".csv", dir=workdir)[1])
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    with file.path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        for block in iter(lambda: src.read(CHUNK), b""):
            dst.write(decoder.decode(block))
        dst.write(decoder.decode(b"", final=True))
    return target


def read_first_line(path: Path) -> str:
    """The first line of a UTF-8 file, without a byte-order mark or line end."""
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        return f.readline().rstrip("\r\n")


def check_header(
    file: DownloadFile,
    found: Sequence[str],
    expected: Sequence[str],
    line: int = 1,
    where_label: str = "line",
) -> None:
    """Fail with the missing or unexpected column names when a header is not the source's."""
    found = [c.strip() for c in found]
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    if missing or extra or list(found) != list(expected):
        parts = []
        if missing:
            parts.append("missing column(s) " + ", ".join(f'"{c}"' for c in missing))
        if extra:
            parts.append("unexpected column(s) " + ", ".join(f'"{c}"' for c in extra))
        if not parts:
            parts.append("columns are in another order")
        raise file.error(
            f"{where_label} {line}",
            "the header is not this source's layout: "
            + "; ".join(parts)
            + f" (expected: {', '.join(expected)})",
        )


@dataclass(frozen=True)
class RowCheck:
    """A condition every row must meet, and how to say a row breaks it.

    ``failing`` is a SQL boolean over the parsed table that is true for a bad
    row; ``message`` is a SQL string expression describing the fault.
    """

    failing: str
    message: str


def first_bad_row(
    con: duckdb.DuckDBPyConnection,
    table: str,
    file: DownloadFile,
    checks: Sequence[RowCheck],
    where_label: str = "line",
) -> None:
    """Raise on the first row (lowest ``source_row``) that fails any check."""
    if not checks:
        return
    cases = " ".join(f"WHEN {c.failing} THEN {c.message}" for c in checks)
    row = con.execute(
        f"""
        SELECT source_row, CASE {cases} END AS fault
        FROM {table}
        WHERE {" OR ".join(f"({c.failing})" for c in checks)}
        ORDER BY source_row
        LIMIT 1
        """
    ).fetchall()
    row = row[0] if row else None
    if row is not None:
        raise file.error(f"{where_label} {row[0]}", row[1])


def csv_columns(line: str, delimiter: str) -> list[str]:
    """The fields of one CSV header line, quotes removed."""
    return next(csv.reader([line], delimiter=delimiter))


def count_lines(path: Path) -> int:
    """The number of line breaks in a file, counted block by block."""
    with path.open("rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(CHUNK), b""))


def check_complete_last_line(file: DownloadFile) -> None:
    """A download cut off mid-row does not end with a line break: refuse it."""
    size = file.path.stat().st_size
    with file.path.open("rb") as f:
        f.seek(max(size - 1, 0))
        last = f.read(1)
    if last != b"\n":
        raise file.error(
            f"line {count_lines(file.path) + 1}",
            "the file ends in the middle of a row (no line break after the last line): "
            "the download was cut off; download it again",
        )


CSV_ERROR_LINE = re.compile(r"CSV Error on Line: (\d+)")
CSV_FIELD_COUNT = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _reader_error(file: DownloadFile, exc: duckdb.Error, columns: int, delimiter: str) -> IngestError:
    text = str(exc)
    line = CSV_ERROR_LINE.search(text)
    counts = CSV_FIELD_COUNT.search(text)
    where = f"line {line[1]}" if line else None
    shown = "tab" if delimiter == "\t" else repr(delimiter)
    if "unterminated quote" in text:
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
        first = text.splitlines()[0] if text else type(exc).__name__
        what = f"cannot be read as {columns} fields separated by {shown}: {first}"
    return file.error(where, what)


def _check_every_line_read(
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
    spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in columns) + "}"
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {into} AS
            SELECT *, (row_number() OVER () + ?)::BIGINT AS source_row
            FROM read_csv(?, header = false, skip = ?, delim = ?, quote = '"', escape = '"',
                          columns = {spec}, auto_detect = false, strict_mode = true,
                          null_padding = false, all_varchar = true, parallel = false)
            """,
            [skip_lines, str(text_path), skip_lines, delimiter],
        )
    except duckdb.Error as exc:
        raise _reader_error(file, exc, len(columns), delimiter) from exc
    _check_every_line_read(con, file, text_path, into, columns, skip_lines)
    if con.execute(f"SELECT count(*) FROM {into}").fetchall()[0][0] == 0:
        raise file.error(
            f"line {skip_lines + 1}",
            "the file has no data rows after the header: the export came out empty; download it again",
        )

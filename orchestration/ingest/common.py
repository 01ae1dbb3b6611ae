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
            raise IngestError(f"{rel_folder}: download folder is not a valid date ({exc})") from exc
        for path in sorted(folder.iterdir()):
            rel = f"{rel_folder}/{path.name}"
            if path.is_file() and any(fnmatch.fnmatchcase(path.name, p) for p in patterns):
                files.append(DownloadFile(source, path, rel, download_date))
            else:
                ignored.append(rel)
    return Discovery(files, ignored)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def sniff_text_encoding(file: DownloadFile, allowed: Sequence[str]) -> str:
    """The encoding of a text download: ``utf-8`` (BOM or not) or ``cp950`` (Big5).

    ``allowed`` lists which of the two the source exports. The whole file is
    checked with a strict incremental decoder, so a bad byte anywhere is
    reported with its line.
    """
    with file.path.open("rb") as f:
        head = f.read(4)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise file.error(
            "line 1", "the file is UTF-16; export it again as UTF-8 or Big5 (CSV) from the source"
        )
    if not head:
        raise file.error(None, "the file is empty")
    errors: list[str] = []
    for encoding in allowed:
        bad = _first_decode_error(file.path, encoding)
        if bad is None:
            return encoding
        errors.append(f"{bad[1]} at line {bad[0]}")
    names = " or ".join("UTF-8" if e == "utf-8" else "Big5 (CP950)" for e in allowed)
    raise file.error(
        None, f"the file is neither {names}: {'; '.join(errors)}; download it again"
    )


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
                pending = decoder.getstate()[0] if not final else b""
                data = pending + block
                line = lines_before + _line_of(data, max(exc.start, 0))
                return line, f"byte {data[exc.start:exc.start + 2]!r} is not valid {encoding}"
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


def check_header(file: DownloadFile, found: Sequence[str], expected: Sequence[str], line: int = 1):
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
            f"line {line}",
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


def check_complete_last_line(file: DownloadFile) -> None:
    """A download cut off mid-row does not end with a line break: refuse it."""
    size = file.path.stat().st_size
    with file.path.open("rb") as f:
        f.seek(max(size - 1, 0))
        last = f.read(1)
    if last != b"\n":
        with file.path.open("rb") as f:
            lines = sum(block.count(b"\n") for block in iter(lambda: f.read(CHUNK), b"")) + 1
        raise file.error(
            f"line {lines}",
            "the file ends in the middle of a row (no line break after the last line): "
            "the download was cut off; download it again",
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
    many fields are refused by the reader and reported with the file's name.
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
        detail = str(exc).splitlines()
        line = next((x for x in detail if "Line" in x or "line" in x), detail[0] if detail else "")
        raise file.error(None, f"cannot be read as {len(columns)} delimited columns: {line.strip()}") from exc

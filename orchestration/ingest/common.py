"""What every source's ingestion shares: finding downloads, decoding text, clear errors.

A source's parser turns one native file into a DuckDB temporary table of that
source's long form plus the lineage columns ``source_file`` (path under the raw
folder), ``download_date`` and ``source_row`` (the line, or the sheet row, in the file).
Nothing here knows a source's layout.
"""

from __future__ import annotations

import codecs
import concurrent.futures
import contextlib
import csv
import datetime as dt
import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from . import sniff as sniffing
from .sniff import sniff

DATE_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CHUNK = 1 << 22
# Large files are read, hashed and transcoded in blocks of this size (cut at a line end).
BLOCK = 1 << 25
# The parts a transcoded file is cut in (at a line end after this many bytes): each one goes
# through one iconv process, which holds it whole (in and out).
PART = 1 << 26
# How much of a text file the quick encoding check reads.
HEAD = 1 << 16


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
        return scan_file(self.path).sha256


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
        if download_date > dt.date.today():
            # A typo in the year would make it the latest download for good: it would win
            # over every later correct download.
            raise IngestError(
                f"{rel_folder}: download folder is dated after today ({dt.date.today().isoformat()}); "
                "name it by the day of the download, YYYY-MM-DD (a typo in the year?)"
            )
        _refuse_link_out_of(raw_dir, folder, rel_folder)
        accepted = 0
        for path in sorted(folder.iterdir()):
            rel = f"{rel_folder}/{path.name}"
            _refuse_link_out_of(raw_dir, path, rel)
            if path.is_file() and any(fnmatch.fnmatchcase(path.name, p) for p in patterns):
                files.append(DownloadFile(source, path, rel, download_date))
                accepted += 1
            else:
                ignored.append(rel)
        if not accepted:
            _no_download_in(folder, rel_folder, source, patterns)
    return Discovery(files, ignored)


# What a text download can never be: a page, a workbook, an archive, a document.
NOT_TEXT = (
    sniffing.HTML, sniffing.XML, sniffing.XLSX, sniffing.ZIP, sniffing.ZIP_CUT, sniffing.XLS_BINARY, sniffing.PDF
)


def refuse_unless_text(file: DownloadFile, expected: str, export: str) -> None:
    """Refuse a page, workbook or archive where a text export belongs, saying what it is.

    ``expected`` names the download (``a Customs portal query export``), ``export`` how to
    make it (``the CSV export``). Empty, UTF-16 and damaged text are left to the text checks,
    which name the line.
    """
    found = sniff(file.path)
    if found.kind in NOT_TEXT:
        hint = " (perhaps the service's error or log-in page)" if found.kind == sniffing.HTML else ""
        raise file.error(
            None, f"this is {found.describe()}{hint}, not {expected}; download it again as {export}"
        )


def _refuse_link_out_of(raw_dir: Path, path: Path, rel: str) -> None:
    """A symbolic link that leads out of the raw folder is refused, never followed: the raw
    folder must hold every download it is built from (nothing is read from elsewhere)."""
    if not path.is_symlink():
        return
    root = raw_dir.resolve()
    target = path.resolve()
    if target != root and root not in target.parents:
        raise IngestError(
            f"{rel}: is a symbolic link to {target}, outside the raw folder; a download is read "
            "only from the raw folder: copy the file itself into its download folder"
        )


def _no_download_in(folder: Path, rel_folder: str, source: str, patterns: Sequence[str]) -> None:
    """A download folder with no data file in it: never pass over it (and run on older data)."""
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_dir():
            found.append(f"{path.name}/ (a folder)")
        elif path.is_file():
            found.append(f"{path.name} ({sniff(path).describe()})")
        else:
            found.append(f"{path.name} (not a regular file)")
    raise IngestError(
        f"{rel_folder}: this download folder holds no {source} download "
        f"(expected a file named {' or '.join(patterns)}); "
        + (f"it holds: {'; '.join(found)}" if found else "it is empty")
        + ". Put the download in it under its own name, or remove the folder"
    )


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
    """The first line of a UTF-8 file (at most :data:`MAX_LINE_BYTES` of it), without a
    byte-order mark or line end."""
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        return f.readline(MAX_LINE_BYTES).rstrip("\r\n")


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
    if last == b"\x1a":
        raise file.error(
            f"line {count_lines(file.path) + 1}",
            "the file ends with a Ctrl-Z (byte 0x1A), the end-of-file mark some Windows programs "
            "add after the last line: remove that last byte, or download the file again",
        )
    if last != b"\n":
        raise file.error(
            f"line {count_lines(file.path) + 1}",
            "the file ends in the middle of a row (no line break after the last line): "
            "the download was cut off; download it again",
        )


# No line of a source's text export comes near this: a longer one is something else (a binary
# file, a page on one line, damage), and no reader should hold it.
MAX_LINE_BYTES = 1 << 20


def first_long_line(path: Path, limit: int = MAX_LINE_BYTES) -> int | None:
    """The number of the first line longer than ``limit`` bytes, read block by block, so
    memory stays flat whatever the file."""
    line, length = 1, 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            start = 0
            while (end := block.find(b"\n", start)) >= 0:
                if length + end - start > limit:
                    return line
                line, length, start = line + 1, 0, end + 1
            length += len(block) - start
            if length > limit:
                return line
    return None


def long_line_error(file: DownloadFile) -> IngestError | None:
    line = first_long_line(file.path)
    if line is None:
        return None
    return file.error(
        f"line {line}",
        f"the line is longer than {MAX_LINE_BYTES >> 20} MB; a line of this export is at most a few "
        "thousand bytes: the file holds something else (a binary file, a page on one line) or is "
        "damaged; download it again",
    )


CSV_ERROR_LINE = re.compile(r"CSV Error on Line: (\d+)")
CSV_FIELD_COUNT = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


CSV_ERROR_FILE = re.compile(r"^\s*file = (.+)$", re.MULTILINE)


def _reader_error(
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
    text = message
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


# ---------------------------------------------------------------- large files


@dataclass(frozen=True)
class FileScan:
    """What one pass over a file's bytes tells: its line breaks and its content hash.

    ``samples``: a few whole lines taken on the way (line number, bytes without the line
    break), to check rows against (see customs.py).
    """

    lines: int
    sha256: str
    size: int
    samples: tuple[tuple[int, bytes], ...] = ()


# Where the sample lines are taken: the first whole line after these fractions of the file.
SAMPLE_AT = (0.0, 0.25, 0.5, 0.75, 0.999)


class _Sampler:
    """Collects the sample lines of a file as its blocks go by (block, offset, lines before)."""

    def __init__(self, size: int) -> None:
        self.targets = sorted({max(1, int(size * f)) for f in SAMPLE_AT})
        self.samples: list[tuple[int, bytes]] = []

    def see(self, block: bytes | bytearray, n: int, offset: int, lines_before: int) -> None:
        while self.targets and self.targets[0] < offset + n:
            target = max(self.targets.pop(0) - offset, 0)
            # the line that starts after the line break at or after target - 1
            start = block.find(b"\n", max(target - 1, 0), n) + 1
            end = block.find(b"\n", start, n) if start else -1
            if start and end >= 0:
                line = bytes(block[start:end]).rstrip(b"\r")
                self.samples.append((lines_before + block.count(10, 0, start) + 1, line))


def _blocks(path: Path, size: int = BLOCK) -> Iterator[bytes]:
    with path.open("rb", buffering=0) as f:
        while block := f.read(size):
            yield block


def count_line_breaks(buffer: bytes | bytearray, n: int) -> int:
    """The line breaks (LF) in the first ``n`` bytes of ``buffer``.

    numpy compares 32 bytes an instruction and releases the GIL; ``bytes.count`` goes byte
    by byte, and on a file of gigabytes that is the larger part of a scan's time.
    """
    return int(np.count_nonzero(np.frombuffer(buffer, np.uint8, n) == 10))


def scan_file(path: Path, stop: threading.Event | None = None) -> FileScan:
    """Count the line breaks of a file and hash it (SHA-256), in one pass of large blocks.

    hashlib and numpy release the GIL on large blocks, so this runs well beside a DuckDB
    query in another thread; the blocks are read into one buffer, never copied.
    ``stop``, once set, ends the pass early (its result is then partial).
    """
    digest = hashlib.sha256()
    lines = size = 0
    sampler = _Sampler(path.stat().st_size)
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buffer):
            if stop is not None and stop.is_set():
                break
            digest.update(view[:n])
            sampler.see(buffer, n, size, lines)
            lines += count_line_breaks(buffer, n)
            size += n
    return FileScan(lines, digest.hexdigest(), size, tuple(sampler.samples))


def scan_in_background(
    path: Path, stop: threading.Event | None = None
) -> concurrent.futures.Future[FileScan]:
    """:func:`scan_file` in a thread of its own; ``.result()`` waits for it."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan")
    future = pool.submit(scan_file, path, stop)
    pool.shutdown(wait=False)
    return future


def check_text_head(file: DownloadFile, allowed: Sequence[str]) -> bytes:
    """The cheap checks of a text download, from its first and last bytes; returns its head.

    Empty, UTF-16 (or not text) and cut-off files are refused with the messages of
    :func:`sniff_text_encoding`, without reading the whole file.
    """
    with file.path.open("rb") as f:
        head = f.read(HEAD)
    if not head:
        raise file.error(None, "the file is empty (0 bytes); download it again")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:4096]:
        raise file.error(
            "line 1",
            "the file is UTF-16 (or not text at all: it has NUL bytes); "
            f"export it again as {_encoding_names(allowed)} from the source",
        )
    check_complete_last_line(file)
    return head


def quick_text_encoding(file: DownloadFile, allowed: Sequence[str]) -> tuple[str, bytes]:
    """The encoding of a text download, judged from its first 64 KB; and those bytes.

    A byte-order mark, or Chinese text in the head that is valid UTF-8, means UTF-8: the
    rest of the file is then validated by DuckDB's reader as it reads (an invalid byte
    stops it with its line; :func:`sniff_text_encoding` then names the fault). A head
    that is valid only as Big5 means Big5, validated as it is transcoded. A head of plain
    ASCII says nothing, and neither does a head that is neither: the whole file is
    checked as before.
    """
    head = check_text_head(file, allowed)
    if head.startswith(codecs.BOM_UTF8) and "utf-8" in allowed:
        return "utf-8", head
    cut = head[: head.rfind(b"\n") + 1] if len(head) == HEAD and b"\n" in head else head
    if cut.isascii():
        return sniff_text_encoding(file, allowed), head
    for encoding in allowed:
        try:
            codecs.getincrementaldecoder(encoding)("strict").decode(cut, final=False)
        except UnicodeDecodeError:
            continue
        return encoding, head
    return sniff_text_encoding(file, allowed), head


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
    return TextParts((path,), (2,))


class TranscodeMismatch(Exception):
    """iconv would read the file differently from Python's CP950 codec, or not at all."""


# Where glibc's CP950 and Python's cp950 differ (kana and the user-defined area, lead bytes
# C6-C8), glibc gives code points U+F6B1..U+F848 of the private use area: UTF-8 EF 9A..A1 ..
# (A stray 0x80 byte, which glibc reads as U+0080 and Python refuses, is looked for in the input.)
ICONV_ONLY = rb"\xef[\x9a-\xa1]"


def _has_iconv_only_chars(path: Path) -> bool:
    grep = shutil.which("grep")
    if grep is not None:
        proc = subprocess.run(
            [grep, "-q", "-P", ICONV_ONLY.decode("ascii"), str(path)],
            env={**os.environ, "LC_ALL": "C"},
            capture_output=True,
            check=False,
        )
        if proc.returncode in (0, 1):
            return proc.returncode == 0
    return re.search(ICONV_ONLY, path.read_bytes()) is not None


def _iconv_part(iconv: str, source: Path, start: int, end: int, first_line: bytes, target: Path) -> None:
    """Bytes ``start:end`` of ``source`` through iconv into ``target``, after ``first_line``.

    The kernel feeds iconv from the page cache (sendfile), so the bytes never pass through
    Python. Refuses (TranscodeMismatch) what Python's cp950 would read otherwise.
    """
    with target.open("wb") as out, tempfile.TemporaryFile() as errors, source.open("rb") as src:
        out.write(first_line)
        out.flush()
        proc = subprocess.Popen(
            [iconv, "-f", "CP950", "-t", "UTF-8"], stdin=subprocess.PIPE, stdout=out, stderr=errors
        )
        try:
            offset = start
            while offset < end:
                sent = os.sendfile(proc.stdin.fileno(), src.fileno(), offset, end - offset)
                if sent == 0:
                    break
                offset += sent
        except BrokenPipeError:  # iconv stopped at a byte it cannot read: its message says which
            pass
        finally:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        if proc.wait() != 0:
            errors.seek(0)
            raise TranscodeMismatch(errors.read().decode("utf-8", "replace").strip())
    if _has_iconv_only_chars(target):
        raise TranscodeMismatch("a character that glibc and Python's cp950 read differently")


def transcode_to_utf8(
    file: DownloadFile, encoding: str, workdir: Path, allowed: Sequence[str]
) -> tuple[TextParts, FileScan]:
    """A UTF-8 copy of a Big5 (CP950) download, in parts, with the scan (lines, hash) of the original.

    The file is cut in blocks at line ends; each goes through ``iconv`` (glibc) into a part of
    its own, one process per core at once, while this thread hashes the file and counts its
    lines. glibc's CP950 agrees with Python's cp950 except for a few hundred codes (kana and the
    user-defined area) and a stray 0x80 byte: a file holding one of those, or one that iconv
    refuses, is decoded again with Python's codec, so the result (and an error's message) is
    always Python's.
    """
    folder = Path(tempfile.mkdtemp(prefix="utf8-", dir=workdir))
    iconv = shutil.which("iconv") if encoding == "cp950" else None
    if iconv is not None:
        try:
            return _transcode_iconv(file, iconv, folder)
        except TranscodeMismatch:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
    target = folder / "all.csv"
    return utf8_parts(target), _transcode_python(file, encoding, target, allowed)


def _transcode_iconv(file: DownloadFile, iconv: str, folder: Path) -> tuple[TextParts, FileScan]:
    workers = max(1, min(os.cpu_count() or 1, 4))
    digest = hashlib.sha256()
    lines = size = 0
    header: bytes | None = None
    paths: list[Path] = []
    first_lines: list[int] = []
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    start = 0  # where the next part starts
    start_line = 1  # the line it starts with
    sampler = _Sampler(file.path.stat().st_size)
    with (
        concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="iconv") as pool,
        file.path.open("rb", buffering=0) as src,
    ):
        pending: list[concurrent.futures.Future[None]] = []

        def submit(end: int, line: int) -> None:
            nonlocal start, start_line
            target = folder / f"{len(paths):06d}.csv"
            # Part 0 starts with the header itself; the others with a copy of it, to be skipped.
            first = b"" if start == 0 else header
            pending.append(pool.submit(_iconv_part, iconv, file.path, start, end, first, target))
            paths.append(target)
            first_lines.append(2 if start == 0 else start_line)
            start, start_line = end, line

        try:
            while n := src.readinto(buffer):
                block = view[:n]
                if buffer.find(b"\x80", 0, n) >= 0:
                    raise TranscodeMismatch("a 0x80 byte, which is not Big5")
                if header is None:
                    first_end = buffer.find(b"\n", 0, n) + 1
                    header = (
                        bytes(buffer[:first_end]).decode("cp950").encode("utf-8") if first_end else b"\r\n"
                    )
                digest.update(block)
                sampler.see(buffer, n, size, lines)
                last = buffer.rfind(b"\n", 0, n) + 1
                lines += count_line_breaks(buffer, n)
                size += n
                if last and size - n + last - start >= PART:
                    submit(size - n + last, lines + 1)
                if any(f.done() and f.exception() for f in pending):
                    break
            if start < size:
                submit(size, lines + 1)
            for future in pending:
                future.result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    scan = FileScan(lines, digest.hexdigest(), size, tuple(sampler.samples))
    return TextParts(tuple(paths), tuple(first_lines)), scan


def _transcode_python(file: DownloadFile, encoding: str, target: Path, allowed: Sequence[str]) -> FileScan:
    digest = hashlib.sha256()
    lines = size = 0
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    sampler = _Sampler(file.path.stat().st_size)
    try:
        with target.open("wb") as out:
            for block in _blocks(file.path):
                out.write(decoder.decode(block).encode("utf-8"))
                digest.update(block)
                sampler.see(block, len(block), size, lines)
                lines += block.count(10)
                size += len(block)
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        # The whole-file check names the line and the bytes (and says if it is another encoding).
        sniff_text_encoding(file, allowed)
        raise file.error(None, f"cannot be read as {ENCODING_NAMES[encoding]}: {exc}") from exc
    return FileScan(lines, digest.hexdigest(), size, tuple(sampler.samples))


def is_invalid_unicode(exc: duckdb.Error) -> bool:
    """DuckDB's reader met a byte sequence that is not UTF-8."""
    return "Invalid unicode" in str(exc)


def read_csv_sql(
    columns: Sequence[str], delimiter: str, skip_lines: int, path: str = "?", ordinality: bool = True
) -> str:
    """DuckDB's reader for a delimited UTF-8 file (``path``: a parameter, or a list of files).

    Every field is text. With ``ordinality``, ``WITH ORDINALITY`` numbers the rows in file
    order, so a row's line is ``ordinality + skip_lines`` once every line is known to be a row;
    DuckDB then reads the file in one thread. Without it, the file is read in parallel.
    """
    spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in columns) + "}"
    shown = delimiter.replace("'", "''")
    return (
        f"read_csv({path}, header = false, skip = {int(skip_lines)}, delim = '{shown}', quote = '\"', "
        f"escape = '\"', columns = {spec}, auto_detect = false, strict_mode = true, "
        "null_padding = false, all_varchar = true, parallel = true)" + (" WITH ORDINALITY" if ordinality else "")
    )

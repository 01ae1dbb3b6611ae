"""The checks a download's text and rows must pass, each failing with the file, the line and what is wrong.

What a file is (a page or workbook where a text export belongs), whether it ends where a
download ends (a line break, no Ctrl-Z), whether a line is absurdly long, whether a header is
the source's, and :class:`RowCheck`: a SQL condition every parsed row must meet, of which
:func:`first_bad_row` reports the first broken (the number check of values is in
:mod:`.number_check`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import sniff as sniffing
from .files import DownloadFile, IngestError
from .scanning import CHUNK, count_lines
from .sniff import sniff

# What a text download can never be: a page, a workbook, an archive, a document.
NOT_TEXT = (
    sniffing.HTML, sniffing.XML, sniffing.XLSX, sniffing.ZIP, sniffing.ZIP_CUT, sniffing.XLS_BINARY, sniffing.PDF
)
# A period later than the download that holds it: the file is not where it belongs. Every
# source's check says it in these words, in Python (:func:`ends_after_download`) or in SQL
# over its parsed rows (:func:`ends_after_download_sql`).
WRONG_FOLDER = "the file is in the wrong download folder, or the folder is misnamed"


def ends_after_download(period: str, download_date: dt.date) -> str:
    """The fault of a period (``period``: how the row names it, ``month "113年9月"``) that ends
    after its download's date."""
    return f"{period} ends after the download date {download_date}: {WRONG_FOLDER}"


def ends_after_download_sql(period: str) -> str:
    """:func:`ends_after_download` in SQL: ``period`` an expression of text, the row's
    ``download_date`` its download's."""
    return f"{period} || ' ends after the download date ' || download_date || ': {WRONG_FOLDER}'"


# No line of a source's text export comes near this: a longer one is something else (a binary
# file, a page on one line, damage), and no reader should hold it.
MAX_LINE_BYTES = 1 << 20


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
    """The error for the file's first line over :data:`MAX_LINE_BYTES`, or None when it has none."""
    line = first_long_line(file.path)
    if line is None:
        return None
    return file.error(
        f"line {line}",
        f"the line is longer than {MAX_LINE_BYTES >> 20} MB; a line of this export is at most a few "
        "thousand bytes: the file holds something else (a binary file, a page on one line) or is "
        "damaged; download it again",
    )


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

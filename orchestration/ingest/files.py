"""A download file and the error that names it: what every part of ingestion passes around.

A source's parser turns one native file into a DuckDB temporary table of that
source's long form plus the lineage columns ``source_file`` (path under the raw
folder), ``download_date`` and ``source_row`` (the line, or the sheet row, in the file).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .scanning import scan_file


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

    def content_hash(self) -> str:
        """The file's BLAKE3, as the loader records it (scanning.py)."""
        return scan_file(self.path).blake3

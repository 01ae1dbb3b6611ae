"""A fetch's answers as a download folder, exactly as a person's download lands: all at once or not at all.

The answers are written into a folder beside the raw folder's sources (``<raw>/.fetching/``, which
neither ingestion nor the new-download sensor looks into), flushed to disk, and the folder is
then renamed to ``<raw>/<source>/<YYYY-MM-DD>/`` in one step. A fetch that fails before the
rename leaves nothing (its folder is removed; one left by a killed process is removed by the
next fetch), and ingestion and the sensor never see a folder half written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from ..durable import fsync_dir
from ..ingest.discovery import DATE_FOLDER
from .http import FetchError

PARTIAL = ".fetching"
# A partial folder older than this was left by a fetch that died: removed by the next fetch.
STALE_SECONDS = 6 * 3600


def _clean_stale(partial_root: Path) -> None:
    if not partial_root.is_dir():
        return
    now = time.time()
    for folder in partial_root.iterdir():
        try:
            if now - folder.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        except FileNotFoundError:
            continue


def write_download(raw_dir: Path, source: str, day: dt.date, files: Mapping[str, bytes]) -> Path:
    """Write ``files`` (name: bytes) as the download folder ``<raw>/<source>/<day>/``; its path.

    Refused, with nothing written, when that folder is already there (a download of the same
    day, the fetch's or a person's: never mixed or replaced)."""
    if not files:
        raise FetchError(f"{source}: nothing to write")
    target = raw_dir / source / day.isoformat()
    rel = f"{source}/{day.isoformat()}/"
    if target.exists():
        raise FetchError(
            f"{rel} is already there (a download of today, fetched before or saved by a person): "
            "nothing written; remove it to fetch again today"
        )
    partial_root = raw_dir / PARTIAL
    partial_root.mkdir(parents=True, exist_ok=True)
    _clean_stale(partial_root)
    partial = partial_root / f"{source}-{day.isoformat()}-{uuid.uuid4().hex[:12]}"
    partial.mkdir()
    try:
        for name, data in files.items():
            if "/" in name or name.startswith("."):
                raise FetchError(f"{source}: {name!r} is no file name for a download")
            path = partial / name
            with path.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        fsync_dir(partial)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            # rename(2) of a directory onto a path that exists fails (not empty) or replaces an
            # empty one: it was checked above; a folder that appeared since is not replaced.
            os.rename(partial, target)
        except OSError as exc:
            raise FetchError(f"{rel} could not be put in place ({exc.strerror}): nothing written") from None
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        with contextlib.suppress(OSError):  # only when empty: another fetch may be writing
            partial_root.rmdir()
    return target


def latest_download(raw_dir: Path, source: str) -> tuple[Path, list[Path]] | None:
    """The newest download folder of ``source`` and its files (names starting with ``source``_),
    or None when there is none: what a fetch compares its answers with."""
    base = raw_dir / source
    if not base.is_dir():
        return None
    folders = sorted(p for p in base.iterdir() if p.is_dir() and DATE_FOLDER.match(p.name))
    for folder in reversed(folders):
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.startswith(f"{source}_"))
        if files:
            return folder, files
    return None

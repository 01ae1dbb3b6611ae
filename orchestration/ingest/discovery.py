"""Finding the downloads: every data file of ``<raw>/<source>/<YYYY-MM-DD>/``, oldest first.

A download folder is named by the day of the download (a folder named otherwise, or dated
after today, is refused); a file counts by its name's start (the source's file patterns),
anything else is reported as ignored; a folder that holds no download at all is refused, so
a newer folder is never passed over for an older download; a symbolic link out of the raw
folder is refused, never followed.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .files import DownloadFile, IngestError
from .sniff import sniff

DATE_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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

"""Writes that survive a crash: a folder's entries (a file made or renamed in it) on disk."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Wait until the folder ``path`` (the names in it: a file created, renamed or removed) is on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

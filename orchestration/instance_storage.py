"""The Dagster instance's SQLite files, written without waiting for the disk after every event.

Dagster's default storage (SQLite files in DAGSTER_HOME: the runs, and each run's event log)
commits every event on its own, and SQLite's default (``synchronous=FULL``) waits for the disk
(fsync) at every commit: a refresh stores some 800 events in some 2,000 commits, which cost
about 13 ms each on these machines' disks: most of a refresh's time, spent writing its log.

Dagster has no setting for it, so every SQLite connection the pipeline's process opens (only
Dagster's storage opens any) gets ``PRAGMA synchronous=OFF``: SQLite hands the writes to the
operating system and goes on. A crash of the run's process loses nothing (the writes are the
system's); a crash of the system itself, or a power cut, may lose or damage the run history's
last writes, never the warehouse or the publication (DuckDB and our files have their own). The
journal stays as Dagster expects it (no WAL: the UI watches the ``.db`` files to show a run's
log live). tests/test_instance_storage.py fails if Dagster stops opening its files through
SQLAlchemy, where this hooks in.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _without_fsync(dbapi_connection: object, _connection_record: object) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


def install() -> None:
    """Set every SQLite connection opened from now on in this process to ``synchronous=OFF``."""
    if not event.contains(Engine, "connect", _without_fsync):
        event.listen(Engine, "connect", _without_fsync)

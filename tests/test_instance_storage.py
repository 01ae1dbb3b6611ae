"""The Dagster instance's SQLite files are written without an fsync per event
(orchestration/instance_storage.py): this fails if Dagster stops opening them through
SQLAlchemy, where the setting hooks in, or if the hook stops reaching them."""

from __future__ import annotations

import sqlite3

import dagster as dg
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from orchestration import instance_storage


def test_a_runs_storage_is_opened_without_fsync(tmp_path):
    instance_storage.install()
    instance_storage.install()  # once is enough; twice changes nothing
    opened: dict[str, set[int]] = {}

    def record(dbapi_connection, _connection_record) -> None:
        """After the hook (listeners run in the order they were added): each file and its setting."""
        if isinstance(dbapi_connection, sqlite3.Connection):
            setting = dbapi_connection.execute("PRAGMA synchronous").fetchone()[0]
            for _, _, path in dbapi_connection.execute("PRAGMA database_list").fetchall():
                if path.startswith(str(tmp_path)):
                    opened.setdefault(path, set()).add(setting)

    @dg.asset
    def one() -> int:
        return 1

    event.listen(Engine, "connect", record)
    try:
        with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
            result = dg.materialize([one], instance=instance)
            assert result.success
            assert instance.get_runs()
    finally:
        event.remove(Engine, "connect", record)
    # the runs, the run's own event log and the index of every run's events: all set OFF (0)
    assert any(p.endswith("runs.db") for p in opened), opened
    assert any(p.endswith(f"{result.run_id}.db") for p in opened), opened
    assert set().union(*opened.values()) == {0}, opened


def test_the_setting_is_what_sqlite_reports(tmp_path):
    instance_storage.install()
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as con:
        assert con.execute(text("PRAGMA synchronous")).scalar() == 0  # OFF
    plain = sqlite3.connect(tmp_path / "y.db")  # not through SQLAlchemy: untouched
    assert plain.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL, SQLite's default
    plain.close()

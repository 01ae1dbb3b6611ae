"""The Dagster instance's SQLite files are written without an fsync per event
(orchestration/instance_storage.py): this fails if Dagster stops opening them through
SQLAlchemy, where the setting hooks in, or if the hook stops reaching them."""

from __future__ import annotations

import sqlite3

import dagster as dg
from sqlalchemy import create_engine, text

from orchestration import instance_storage


def test_a_runs_storage_is_opened_without_fsync(tmp_path):
    instance_storage.install()
    instance_storage.install()  # once is enough; twice changes nothing
    before = set(instance_storage.SET_UP)

    @dg.asset
    def one() -> int:
        return 1

    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        result = dg.materialize([one], instance=instance)
        assert result.success
        assert instance.get_runs()
    opened = {p for p in instance_storage.SET_UP - before if p.startswith(str(tmp_path))}
    # the runs, the run's own event log and the index of every run's events
    assert any(p.endswith("runs.db") for p in opened), opened
    assert any(p.endswith(f"{result.run_id}.db") for p in opened), opened


def test_the_setting_is_what_sqlite_reports(tmp_path):
    instance_storage.install()
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as con:
        assert con.execute(text("PRAGMA synchronous")).scalar() == 0  # OFF
    plain = sqlite3.connect(tmp_path / "y.db")  # not through SQLAlchemy: untouched
    assert plain.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL, SQLite's default
    plain.close()

"""A later download added to a warehouse that already holds a source's earlier one loads, for
every source with a shipped download (the monthly refresh's ordinary case).

DuckDB 2 keeps a query's result open until it is read to its end: a count read with
``fetchone()`` left the connection busy, and the MOEA parser's next ``register`` failed."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from orchestration.ingest.loader import load_source

from .ingest_helpers import SOURCES, TABLES, data_files, download_folder


@pytest.mark.parametrize("source", SOURCES)
def test_a_later_download_loads_into_a_warehouse_that_holds_the_earlier_one(tmp_path, source):
    raw = tmp_path / "raw"
    shutil.copytree(download_folder(source), raw / source / download_folder(source).name)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        load_source(con, source, raw)
        (before,) = con.execute(f"select count(*) from {TABLES[source]}").fetchall()[0]
        later = raw / source / "2024-12-31"
        later.mkdir()
        for file in data_files(source):  # the shipped download's files, again, a later day
            shutil.copy(file, later / file.name)
        load_source(con, source, raw)
        files = con.execute(f"select count(distinct source_file) from {TABLES[source]}").fetchall()[0][0]
        (after,) = con.execute(f"select count(*) from {TABLES[source]}").fetchall()[0]
    assert files == 2 * len(data_files(source)) and after > before

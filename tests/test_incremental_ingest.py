"""A load reads only what changed: new and changed files; rows of vanished files go.

The warehouse keeps, in ``raw._ingested_files``, every file it read (path, BLAKE3 hash, size,
modification time, rows). A file already there with the same content is not read again; the
result is always the table a load of every file from scratch would give.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import blake3
import duckdb
import pytest

from orchestration.ingest import loader
from orchestration.ingest.files import IngestError
from orchestration.ingest.loader import TRACKING_TABLE, load_source

from .ingest_helpers import API_SOURCES, RAW, SOURCES, TABLES, copy_source, customs_file, edit_lines, fingerprint, rel

UTF8_NAME = customs_file("utf-8-bom").name
BIG5_NAME = customs_file("big5").name


def from_scratch(source: str, raw) -> tuple[int, int]:
    con = duckdb.connect()
    load_source(con, source, raw)
    return fingerprint(con, TABLES[source])


def tracked(con, source: str) -> dict[str, tuple]:
    rows = con.execute(
        f"SELECT source_file, blake3, rows FROM {TRACKING_TABLE} WHERE source = ? ORDER BY 1", [source]
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize("source", SOURCES)
def test_a_second_load_reads_nothing(tmp_path, source):
    raw, _ = copy_source(tmp_path, source)
    con = duckdb.connect()
    first = load_source(con, source, raw)
    before = fingerprint(con, TABLES[source])
    second = load_source(con, source, raw)
    assert first.read == first.files and second.read == [] and second.removed == []
    assert second.rows == first.rows and fingerprint(con, TABLES[source]) == before
    assert set(tracked(con, source)) == set(first.files)


def test_a_new_download_is_the_only_file_read(tmp_path):
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    con = duckdb.connect()
    load_source(con, "customs", raw)
    later = folder.with_name("2024-11-12")
    later.mkdir()
    shutil.copy2(folder / UTF8_NAME, later / "綜合查詢_20241112093000.csv")
    result = load_source(con, "customs", raw)
    assert result.read == ["customs/2024-11-12/綜合查詢_20241112093000.csv"]
    assert fingerprint(con, "raw.customs_trade") == from_scratch("customs", raw)


def test_a_changed_file_is_read_again_and_its_old_rows_go(tmp_path):
    raw, folder = copy_source(tmp_path, "customs")
    con = duckdb.connect()
    load_source(con, "customs", raw)
    path = folder / UTF8_NAME
    edit_lines(path, lambda lines: lines.__delitem__(slice(100, None)))  # keep 99 rows
    result = load_source(con, "customs", raw)
    assert result.read == [rel(path, raw)]
    assert con.execute(
        "SELECT count(*), max(source_row) FROM raw.customs_trade WHERE source_file = ?", [rel(path, raw)]
    ).fetchone() == (99, 100)
    assert fingerprint(con, "raw.customs_trade") == from_scratch("customs", raw)
    assert tracked(con, "customs")[rel(path, raw)][1] == 99


def test_a_vanished_file_takes_its_rows_with_it(tmp_path):
    raw, folder = copy_source(tmp_path, "customs")
    con = duckdb.connect()
    load_source(con, "customs", raw)
    (folder / BIG5_NAME).unlink()
    result = load_source(con, "customs", raw)
    assert result.read == [] and result.removed == [f"customs/{folder.name}/{BIG5_NAME}"]
    assert fingerprint(con, "raw.customs_trade") == from_scratch("customs", raw)
    assert list(tracked(con, "customs")) == [f"customs/{folder.name}/{UTF8_NAME}"]


def test_a_touched_file_with_the_same_content_is_not_read(tmp_path):
    raw, folder = copy_source(tmp_path, "customs")
    con = duckdb.connect()
    load_source(con, "customs", raw)
    path = folder / UTF8_NAME
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert load_source(con, "customs", raw).read == []
    assert load_source(con, "customs", raw).read == []  # its new time was recorded


def test_a_failed_load_leaves_table_and_record_as_they_were(tmp_path):
    raw, folder = copy_source(tmp_path, "customs")
    con = duckdb.connect()
    load_source(con, "customs", raw)
    before, record = fingerprint(con, "raw.customs_trade"), tracked(con, "customs")
    (folder / BIG5_NAME).unlink()  # would remove rows...
    later = folder.with_name("2024-11-12")
    later.mkdir()
    bad = later / "綜合查詢_20241112093000.csv"
    shutil.copy2(folder / UTF8_NAME, bad)
    edit_lines(bad, lambda lines: lines.__setitem__(5, lines[5].rsplit(",", 1)[0] + ",x"))  # ...and fails
    with pytest.raises(IngestError, match="line 6"):
        load_source(con, "customs", raw)
    assert fingerprint(con, "raw.customs_trade") == before and tracked(con, "customs") == record


def test_a_new_file_conflicting_with_rows_already_loaded_is_refused(tmp_path):
    # The duplicate check of one download covers the rows of its files already in the table.
    raw, folder = copy_source(tmp_path, "customs", only=UTF8_NAME)
    con = duckdb.connect()
    load_source(con, "customs", raw)
    utf8 = folder / UTF8_NAME
    extra = folder / "綜合查詢_20241014090000.csv"
    shutil.copy2(utf8, extra)
    edit_lines(
        extra, lambda lines: lines.__setitem__(slice(None), [lines[0], lines[1].rsplit(",", 1)[0] + ",1"])
    )
    with pytest.raises(IngestError) as refused:
        load_source(con, "customs", raw)
    message = str(refused.value)
    assert message.startswith(f"{rel(extra, raw)} line 2: ") and f"{rel(utf8, raw)} line 2" in message
    assert "appears more than once in one download" in message


def test_another_version_of_the_ingestion_code_reads_everything_again(tmp_path):
    raw, _ = copy_source(tmp_path, "customs")
    con = duckdb.connect()
    load_source(con, "customs", raw)
    con.execute(f"UPDATE {TRACKING_TABLE} SET code_version = 'older'")
    assert len(load_source(con, "customs", raw).read) == 2
    assert fingerprint(con, "raw.customs_trade") == from_scratch("customs", raw)


def test_a_table_written_by_something_else_is_read_again(tmp_path):
    raw, _ = copy_source(tmp_path, "customs")
    con = duckdb.connect()
    load_source(con, "customs", raw)
    con.execute("DELETE FROM raw.customs_trade WHERE source_row = 2")
    assert len(load_source(con, "customs", raw).read) == 2
    assert fingerprint(con, "raw.customs_trade") == from_scratch("customs", raw)


def test_the_record_holds_each_files_hash_and_rows(tmp_path):
    con = duckdb.connect()
    load_source(con, "customs", RAW)
    for path in (customs_file("big5"), customs_file("utf-8-bom")):
        digest, rows = tracked(con, "customs")[rel(path, RAW)]
        assert digest == blake3.blake3(path.read_bytes()).hexdigest()  # as `b3sum` prints it
        assert rows == path.read_bytes().count(b"\n") - 1


def test_a_record_of_the_former_layout_is_replaced_and_everything_read_again(tmp_path):
    """A warehouse whose record has a sha256 column (before the hash became BLAKE3): the record is
    made again, every file read again, and the table is what a load from scratch gives."""
    raw, _ = copy_source(tmp_path, "customs")
    con = duckdb.connect()
    load_source(con, "customs", raw)
    con.execute(f"ALTER TABLE {TRACKING_TABLE} RENAME COLUMN blake3 TO sha256")
    result = load_source(con, "customs", raw)
    assert result.read == result.files and len(result.read) == 2
    assert set(tracked(con, "customs")) == set(result.files)
    assert fingerprint(con, "raw.customs_trade") == from_scratch("customs", raw)


@pytest.mark.parametrize("source", SOURCES)
def test_the_code_version_covers_every_shared_ingestion_module(source, monkeypatch):
    """A change to any module of the package but another source's parser reads every file again."""
    package = Path(loader.__file__).resolve().parent
    others = {f"{s}.py" for s in (*SOURCES, *API_SOURCES) if s != source}
    hashed = [p.name for p in loader.code_files(source)]
    assert hashed[0] == f"{source}.py"
    assert sorted(hashed) == sorted(p.name for p in package.glob("*.py") if p.name not in others)
    shared = {"discovery.py", "files.py", "encoding.py", "checks.py", "number_check.py", "csv_reader.py",
              "scanning.py", "large_files.py", "spec.py", "sources.py", "sniff.py", "html_table.py", "loader.py"}
    assert shared <= set(hashed)
    before = loader.code_version(source)
    read_bytes = Path.read_bytes
    monkeypatch.setattr(
        Path, "read_bytes", lambda p: read_bytes(p) + (b"# changed" if p.name == "number_check.py" else b"")
    )
    assert loader.code_version(source) != before

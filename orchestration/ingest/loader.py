"""Load every download of one source into its table in the warehouse's ``raw`` schema."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import duckdb
import numpy as np

from . import sniff as sniffing
from .discovery import discover
from .files import DownloadFile, IngestError
from .scanning import FileScan, scan_file
from .sources import PARSERS, SPECS
from .spec import SourceSpec

log = logging.getLogger(__name__)


@dataclass
class LoadResult:
    table: str
    rows: int
    files: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    download_dates: list[str] = field(default_factory=list)
    latest_period: str | None = None
    # The files read this time (new or changed); the others were in the table already.
    read: list[str] = field(default_factory=list)
    # Files in the table before that are no longer in the raw folder: their rows were removed.
    removed: list[str] = field(default_factory=list)


def _number(value: float | None) -> str:
    if value is None:
        return "empty"
    return str(int(value)) if float(value).is_integer() else repr(value)


# More keys seen twice than this and the exact check groups every row, not just those keys.
MANY_REPEATS = 100_000


def _check_duplicates(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, table: str, dates: Sequence[dt.date]
) -> None:
    """Refuse two rows of one download with the same key and different values.

    Only the downloads in ``dates`` are checked (every row of them: the files just read and
    those already in the table). First, cheaply: a 64-bit hash of (download, key) per row,
    sorted; when no hash repeats, no key does. Only keys whose hash repeats are then grouped
    exactly, to name the first fault (a key repeated with the same value is no fault).
    """
    key = spec.key
    value = spec.value_column
    label = spec.row_label
    cols = ", ".join(key)
    params = [list(dates)]
    in_dates = "list_contains(?::DATE[], download_date)"
    hashes = con.execute(
        f"SELECT hash(download_date, {cols}) AS h FROM {table} WHERE {in_dates}", params
    ).fetchnumpy()["h"]
    hashes = np.sort(np.asarray(hashes))
    repeated = hashes[1:][hashes[1:] == hashes[:-1]]
    if repeated.size == 0:
        return
    if repeated.size <= MANY_REPEATS:
        only = "hash(download_date, " + cols + ") IN (SELECT unnest(?::UBIGINT[]))"
        params.append(np.unique(repeated).tolist())
    else:
        only = "true"
    row = con.execute(
        f"""
        SELECT {cols},
               list(DISTINCT source_file ORDER BY source_file) AS files,
               list(DISTINCT {value} ORDER BY {value}) AS vals,
               list((source_file, source_row) ORDER BY source_file, source_row) AS places
        FROM {table}
        WHERE {in_dates} AND {only}
        GROUP BY download_date, {cols}
        HAVING count(DISTINCT {value}) > 1 OR count(DISTINCT source_file) > 1
        ORDER BY min(source_file), min(source_row)
        LIMIT 1
        """,
        params,
    ).fetchall()
    row = row[0] if row else None
    if row is not None and len(row[-3]) > 1 and len(row[-2]) == 1:
        # Same value in two files: a copy of the query (or two overlapping queries), no typo.
        (first, n), (other, m) = row[-1][:2]
        key_text = ", ".join(f"{k}={v}" for k, v in zip(key, row[: len(key)], strict=True))
        raise IngestError(
            f"{first} {label} {n}: the same observation ({key_text}) is also in {other} {label} {m}: "
            "two files of one download hold the same query (a browser names a second copy "
            "'… (1)'), or two queries that overlap; keep one file of each query in the folder"
        )
    if row is not None:
        key_text = ", ".join(f"{k}={v}" for k, v in zip(key, row[: len(key)], strict=True))
        values = ", ".join(_number(v) for v in row[-2])
        places = row[-1]  # (source_file, source_row) pairs
        first_file = places[0][0]
        shown = [f"{label} {n}" if f == first_file else f"{f} {label} {n}" for f, n in places[:4]]
        raise IngestError(
            f"{first_file} {label} {places[0][1]}: the same {key_text} appears more than once "
            f"in one download with different values ({values}), at {', '.join(shown)}; keep the right one"
        )


def _check_source(file: DownloadFile, spec: SourceSpec) -> None:
    """Refuse, by its first bytes, a file that is plainly another source's download."""
    with file.path.open("rb") as f:
        head = f.read(64)
    if any(head.startswith(s) for s in spec.signatures):
        return
    kind = sniffing.sniff(file.path).kind
    readable = kind in spec.reads and kind not in (sniffing.TEXT, sniffing.UTF16_TEXT)
    if readable or kind in (sniffing.ZIP, sniffing.ZIP_CUT):
        # A workbook or a page of a kind the parser reads: its content decides, not the first
        # bytes it shares with another source's workbook; a zip archive that is no workbook is
        # nobody's download: the parser says what it is. (Text is told apart by its header.)
        return
    other = next(
        (s for s in SPECS.values() if s is not spec and any(head.startswith(b) for b in s.signatures)),
        None,
    )
    if other is not None:
        raise file.error(
            "line 1",
            f"this is {other.description}, not {spec.description}: it belongs in "
            f"{other.source}/<YYYY-MM-DD>/ as {' or '.join(other.file_patterns)}",
        )


def _drop_staging(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Drop every temporary table or view a load of ``source`` made, finished or not."""
    prefix = f"_ingest_{source}"
    views = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE temporary AND starts_with(view_name, ?)", [prefix]
    ).fetchall()
    for (name,) in views:
        con.unregister(name)
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, ?)", [prefix]
    ).fetchall()
    for (name,) in tables:
        con.execute(f'DROP TABLE IF EXISTS temp."{name}"')


# Which files of each source are in its raw table, and what they were when read.
TRACKING_TABLE = "raw._ingested_files"
TRACKING_COLUMNS = """
    source VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    download_date DATE NOT NULL,
    blake3 VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    rows BIGINT NOT NULL,
    code_version VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL
"""


def _create_tracking_table(con: duckdb.DuckDBPyConnection) -> None:
    """``raw._ingested_files`` as :data:`TRACKING_COLUMNS` has it. A record of another layout (one
    written before the hash became BLAKE3: a ``sha256`` column) is dropped: every source is then
    read again, as after any change to the ingestion code."""
    schema, name = TRACKING_TABLE.split(".")
    columns = [c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name],
    ).fetchall()]  # fmt: skip
    expected = [line.split()[0] for line in TRACKING_COLUMNS.strip().splitlines()]
    if columns and columns != expected:
        con.execute(f"DROP TABLE {TRACKING_TABLE}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} ({TRACKING_COLUMNS})")


@dataclass(frozen=True)
class _Known:
    blake3: str
    size: int
    mtime_ns: int
    rows: int
    download_date: dt.date
    loaded_at: dt.datetime


def code_files(source: str) -> list[Path]:
    """The modules whose code reads ``source``'s files: its parser, then every other module of
    the package but the other sources' parsers (discovery, encoding, checks, the CSV reader,
    the large-file path, the number check, sniffing, HTML tables, the specs and registry ...)."""
    package = Path(__file__).resolve().parent
    parsers = {Path(m.__file__).resolve() for m in PARSERS.values()}
    shared = sorted(p for p in package.glob("*.py") if p not in parsers)
    return [Path(PARSERS[source].__file__).resolve(), *shared]


def code_version(source: str) -> str:
    """A hash of the ingestion code of ``source`` (:func:`code_files`): when it changes, every
    file is read again, so a change to any module it may read with reads them again."""
    digest = hashlib.sha256()
    for path in code_files(source):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = ? AND NOT temporary",
            [schema, table],
        ).fetchall()[0][0]
    )


def _known_files(
    con: duckdb.DuckDBPyConnection, source: str, table: str, version: str
) -> dict[str, _Known] | None:
    """The files already in ``table`` as they were read; None when the table cannot be trusted.

    None (read everything again) when there is no table or no record of its files, when
    another version of the ingestion code read them, or when the rows do not add up (the
    table was written by something else).
    """
    schema, name = table.split(".")
    if not (_table_exists(con, schema, name) and _table_exists(con, *TRACKING_TABLE.split("."))):
        return None
    rows = con.execute(
        f"""SELECT source_file, blake3, size_bytes, mtime_ns, rows, download_date, loaded_at, code_version
            FROM {TRACKING_TABLE} WHERE source = ?""",
        [source],
    ).fetchall()
    if not rows or any(r[-1] != version for r in rows):
        return None
    if sum(r[4] for r in rows) != con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]:
        return None
    return {r[0]: _Known(*r[1:-1]) for r in rows}


def _unchanged(file: DownloadFile, known: _Known | None) -> tuple[bool, str | None]:
    """Whether ``file`` is the one already read (and its hash, if it had to be computed).

    Same size and modification time: the same file (as make and rsync judge). Same size and
    another time (a copy, a touch): the same when the content hash is the same.
    """
    if known is None:
        return False, None
    stat = file.path.stat()
    if stat.st_size != known.size:
        return False, None
    if stat.st_mtime_ns == known.mtime_ns:
        return True, known.blake3
    digest = file.content_hash()
    return digest == known.blake3, digest


def load_source(con: duckdb.DuckDBPyConnection, source: str, raw_dir: Path) -> LoadResult:
    """Bring ``raw.<table>`` up to date with every data file of ``source``, in one transaction.

    Files already in the table (same path, same content) are not read again; new and changed
    files are read, and the rows of changed and vanished files are removed. A file that
    cannot be parsed raises :class:`IngestError` and the transaction is rolled back, so the
    raw table (and the record of its files, ``raw._ingested_files``) keeps its previous
    contents.
    """
    spec = SPECS[source]
    parser = PARSERS[source]
    found = discover(raw_dir, source, spec.file_patterns)
    for name in found.ignored:
        log.warning(
            "%s: not a %s data file (expected %s); ignored", name, source, " or ".join(spec.file_patterns)
        )
    if not found.files and spec.optional:
        return _no_download_yet(con, spec, parser, found.ignored)
    if not found.files:
        raise IngestError(
            f"{source}/: no {source} download found under {raw_dir} "
            f"(expected {source}/<YYYY-MM-DD>/{' or '.join(spec.file_patterns)})"
        )
    table = spec.raw_table
    version = code_version(source)
    period = spec.period_column
    loaded: dict[str, tuple[FileScan, int]] = {}
    # No progress bar on a long read: it would only fill the run's log.
    con.execute("SET enable_progress_bar = false")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        _create_tracking_table(con)
        known = _known_files(con, source, table, version)
        if known is None:
            con.execute(f"DROP TABLE IF EXISTS {table}")
            known = {}
        keep: dict[str, _Known] = {}
        to_load: list[DownloadFile] = []
        for file in found.files:
            same, digest = _unchanged(file, known.get(file.rel_path))
            if same:
                stat = file.path.stat()
                old = known[file.rel_path]
                keep[file.rel_path] = _Known(
                    digest or old.blake3, stat.st_size, stat.st_mtime_ns, old.rows, old.download_date,
                    old.loaded_at,
                )
            else:
                to_load.append(file)
        gone = [path for path in known if path not in keep]
        if gone:
            con.execute(f"DELETE FROM {table} WHERE list_contains(?::VARCHAR[], source_file)", [gone])
        with tempfile.TemporaryDirectory(prefix=f"ingest-{source}-") as workdir:
            for i, file in enumerate(to_load):
                _check_source(file, spec)
                name = f"_ingest_{source}_{i}"
                loaded[file.rel_path] = _read_file(con, parser, file, Path(workdir), table, name)
        if to_load:
            _check_duplicates(con, spec, table, sorted({f.download_date for f in to_load}))
        if to_load or gone or any(keep[p] != known[p] for p in keep):
            _record_files(con, source, version, found.files, keep, loaded)
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # never hide the fault itself
            con.execute("ROLLBACK")
        with contextlib.suppress(duckdb.Error):
            _drop_staging(con, source)
        raise
    rows, latest = con.execute(f"SELECT count(*), max({period})::VARCHAR FROM {table}").fetchall()[0]
    return LoadResult(
        table=table,
        rows=rows,
        files=[f.rel_path for f in found.files],
        ignored=found.ignored,
        download_dates=sorted({f.download_date.isoformat() for f in found.files}),
        latest_period=latest,
        read=[f.rel_path for f in to_load],
        removed=[p for p in gone if p not in loaded],
    )


def _no_download_yet(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, parser: ModuleType, ignored: list[str]
) -> LoadResult:
    """An optional source without any download (yet): its table, empty, with its columns, so that
    dbt's staging model reads it like any other; rows of downloads since removed go with them."""
    table = spec.raw_table
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        _create_tracking_table(con)
        con.execute(f"DELETE FROM {TRACKING_TABLE} WHERE source = ?", [spec.source])
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(parser.create_table_sql(table))
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    return LoadResult(table=table, rows=0, ignored=ignored)


def _read_file(
    con: duckdb.DuckDBPyConnection,
    parser: ModuleType,
    file: DownloadFile,
    workdir: Path,
    table: str,
    name: str,
) -> tuple[FileScan, int]:
    """Read one file into ``table``; its scan (hash, size) and the rows it gave."""
    if hasattr(parser, "insert"):  # large downloads: straight into the table, one pass
        con.execute(parser.create_table_sql(table))
        return parser.insert(con, file, workdir, table)
    parser.parse(con, file, workdir, name)
    schema, table_name = table.split(".")
    if _table_exists(con, schema, table_name):
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {name} ORDER BY source_row")
    else:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM {name} ORDER BY source_row")
    rows = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    con.execute(f"DROP TABLE {name}")
    return scan_file(file.path), rows


def _record_files(
    con: duckdb.DuckDBPyConnection,
    source: str,
    version: str,
    files: Sequence[DownloadFile],
    keep: dict[str, _Known],
    loaded: dict[str, tuple[FileScan, int]],
) -> None:
    now = dt.datetime.now()
    records = []
    for file in files:
        if file.rel_path in keep:
            k = keep[file.rel_path]
            records.append((k.blake3, k.size, k.mtime_ns, k.rows, k.loaded_at))
        else:
            scan, rows = loaded[file.rel_path]
            records.append((scan.blake3, scan.size, file.path.stat().st_mtime_ns, rows, now))
    con.execute(f"DELETE FROM {TRACKING_TABLE} WHERE source = ?", [source])
    con.executemany(
        f"INSERT INTO {TRACKING_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [source, f.rel_path, f.download_date, sha, size, mtime, rows, version, at]
            for f, (sha, size, mtime, rows, at) in zip(files, records, strict=True)
        ],
    )

"""Load every download of one source into its table in the warehouse's ``raw`` schema."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import duckdb

from . import customs, gta, itc, moea
from .common import DownloadFile, IngestError, discover

log = logging.getLogger(__name__)

PARSERS: dict[str, ModuleType] = {m.SOURCE: m for m in (customs, gta, itc, moea)}

# The key of one observation within a download: two rows of one download with the
# same key and different values are a fault of the download.
KEYS = {
    "customs": ("flow", "hs_code", "partner_name", "period_month"),
    "gta": ("reporter", "flow", "hs_code", "partner_name", "period_month"),
    "itc": ("product_description", "exporter_name", "period_year"),
    "moea": ("product_name", "measure", "period_month"),
}
VALUE_COLUMN = {
    "customs": "value_usd_thousand",
    "gta": "value_usd",
    "itc": "value_usd_thousand",
    "moea": "value",
}


@dataclass
class LoadResult:
    table: str
    rows: int
    files: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    download_dates: list[str] = field(default_factory=list)
    latest_period: str | None = None


# What ``source_row`` counts: lines of a text file, rows of a worksheet.
ROW_LABEL = {"customs": "line", "gta": "line", "itc": "line", "moea": "row"}


def _number(value: float | None) -> str:
    if value is None:
        return "empty"
    return str(int(value)) if float(value).is_integer() else repr(value)


def _check_duplicates(con: duckdb.DuckDBPyConnection, source: str, table: str) -> None:
    key = KEYS[source]
    value = VALUE_COLUMN[source]
    cols = ", ".join(key)
    row = con.execute(
        f"""
        SELECT {cols},
               list(DISTINCT {value} ORDER BY {value}) AS vals,
               list((source_file, source_row) ORDER BY source_file, source_row) AS places
        FROM {table}
        GROUP BY download_date, {cols}
        HAVING count(DISTINCT {value}) > 1
        ORDER BY min(source_file), min(source_row)
        LIMIT 1
        """
    ).fetchall()
    row = row[0] if row else None
    if row is not None:
        label = ROW_LABEL[source]
        key_text = ", ".join(f"{k}={v}" for k, v in zip(key, row[: len(key)], strict=True))
        values = ", ".join(_number(v) for v in row[-2])
        places = row[-1]  # (source_file, source_row) pairs
        first_file = places[0][0]
        shown = [f"{label} {n}" if f == first_file else f"{f} {label} {n}" for f, n in places[:4]]
        raise IngestError(
            f"{first_file} {label} {places[0][1]}: the same {key_text} appears more than once "
            f"in one download with different values ({values}), at {', '.join(shown)}; keep the right one"
        )


def _check_source(file: DownloadFile, source: str) -> None:
    """Refuse, by its first bytes, a file that is plainly another source's download."""
    parser = PARSERS[source]
    with file.path.open("rb") as f:
        head = f.read(64)
    if any(head.startswith(s) for s in parser.SIGNATURES):
        return
    other = next(
        (m for m in PARSERS.values() if m is not parser and any(head.startswith(s) for s in m.SIGNATURES)),
        None,
    )
    if other is not None:
        raise file.error(
            "line 1",
            f"this is {other.DESCRIPTION}, not {parser.DESCRIPTION}: it belongs in "
            f"{other.SOURCE}/<YYYY-MM-DD>/ as {' or '.join(other.FILE_PATTERNS)}",
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


def load_source(con: duckdb.DuckDBPyConnection, source: str, raw_dir: Path) -> LoadResult:
    """Parse every data file of ``source`` and replace ``raw.<table>`` in one transaction.

    A file that cannot be parsed raises :class:`IngestError` before anything is
    written, so the raw table keeps its previous contents.
    """
    parser = PARSERS[source]
    found = discover(raw_dir, source, parser.FILE_PATTERNS)
    for name in found.ignored:
        log.warning(
            "%s: not a %s data file (expected %s); ignored", name, source, " or ".join(parser.FILE_PATTERNS)
        )
    if not found.files:
        raise IngestError(
            f"{source}/: no {source} download found under {raw_dir} "
            f"(expected {source}/<YYYY-MM-DD>/{' or '.join(parser.FILE_PATTERNS)})"
        )
    staged: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix=f"ingest-{source}-") as workdir:
            for i, file in enumerate(found.files):
                name = f"_ingest_{source}_{i}"
                _check_source(file, source)
                parser.parse(con, file, Path(workdir), name)
                staged.append(name)
        union = " UNION ALL BY NAME ".join(f"SELECT * FROM {t}" for t in staged)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _ingest_{source} AS {union}")
        _check_duplicates(con, source, f"_ingest_{source}")
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # never hide the fault itself
            _drop_staging(con, source)
        raise
    for t in staged:
        con.execute(f"DROP TABLE {t}")
    table = f"raw.{parser.TABLE}"
    period = "period_year" if source == "itc" else "period_month"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _ingest_{source} "
            f"ORDER BY download_date, source_file, source_row, {period}"
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute(f"DROP TABLE IF EXISTS _ingest_{source}")
    rows, latest = con.execute(f"SELECT count(*), max({period})::VARCHAR FROM {table}").fetchall()[0]
    return LoadResult(
        table=table,
        rows=rows,
        files=[f.rel_path for f in found.files],
        ignored=found.ignored,
        download_dates=sorted({f.download_date.isoformat() for f in found.files}),
        latest_period=latest,
    )

"""Load every download of one source into its table in the warehouse's ``raw`` schema."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import duckdb

from . import customs, gta, itc, moea
from .common import IngestError, discover

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


def _check_duplicates(con: duckdb.DuckDBPyConnection, source: str, table: str) -> None:
    key = KEYS[source]
    value = VALUE_COLUMN[source]
    cols = ", ".join(key)
    row = con.execute(
        f"""
        SELECT {cols},
               list(DISTINCT {value} ORDER BY {value}) AS vals,
               list(source_file || ' line ' || source_row ORDER BY source_file, source_row) AS places
        FROM {table}
        GROUP BY download_date, {cols}
        HAVING count(DISTINCT {value}) > 1
        ORDER BY min(source_file), min(source_row)
        LIMIT 1
        """
    ).fetchall()
    row = row[0] if row else None
    if row is not None:
        key_text = ", ".join(f"{k}={v}" for k, v in zip(key, row[: len(key)]))
        values = ", ".join(f"{v:g}" for v in row[-2])
        places = row[-1]
        raise IngestError(
            f"{places[0]}: the same {key_text} appears more than once in one download "
            f"with different values ({values}), at {'; '.join(places[:4])}; keep the right one"
        )


def load_source(con: duckdb.DuckDBPyConnection, source: str, raw_dir: Path) -> LoadResult:
    """Parse every data file of ``source`` and replace ``raw.<table>`` in one transaction.

    A file that cannot be parsed raises :class:`IngestError` before anything is
    written, so the raw table keeps its previous contents.
    """
    parser = PARSERS[source]
    found = discover(raw_dir, source, parser.FILE_PATTERNS)
    for name in found.ignored:
        log.warning("%s: not a %s data file (expected %s); ignored", name, source, " or ".join(parser.FILE_PATTERNS))
    if not found.files:
        raise IngestError(
            f"{source}/: no {source} download found under {raw_dir} "
            f"(expected {source}/<YYYY-MM-DD>/{' or '.join(parser.FILE_PATTERNS)})"
        )
    staged: list[str] = []
    with tempfile.TemporaryDirectory(prefix=f"ingest-{source}-") as workdir:
        for i, file in enumerate(found.files):
            name = f"_ingest_{source}_{i}"
            parser.parse(con, file, Path(workdir), name)
            staged.append(name)
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM {t}" for t in staged)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ingest_{source} AS {union}")
    _check_duplicates(con, source, f"_ingest_{source}")
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

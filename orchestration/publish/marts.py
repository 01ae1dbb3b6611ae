"""Reading what is published from the warehouse: the marts, and nothing but the marts.

Every function takes an open DuckDB connection (read-only is enough) and returns plain
Python values, so the writers never touch the warehouse and are testable on their own. Each
reads a table of the ``marts`` schema: the exhibits (``dim_bulletin_exhibits``), the product
(``dim_bulletin_product``), the cells with their print order and typed periods
(``fct_bulletin_cells``), the periods (``dim_bulletin_periods``), each source's lineage
(``fct_bulletin_source_lineage``), the revisions behind each exhibit
(``fct_bulletin_revisions``), the downloads each exhibit used and the accepted values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb

from ..settings import DEFAULT_HS_CODE
from .layout import CELLS_MART, DEFAULT_PRODUCT_ZH, LAYOUTS, MARTS_SCHEMA, MIRROR_MART, Period

# The marts read besides those published (assets/publish.py depends on them).
EXHIBITS_MART = "dim_bulletin_exhibits"
PERIODS_MART = "dim_bulletin_periods"
PRODUCT_MART = "dim_bulletin_product"
SOURCE_LINEAGE_MART = "fct_bulletin_source_lineage"
REVISIONS_MART = "fct_bulletin_revisions"
EXHIBIT_DOWNLOADS_MART = "fct_bulletin_exhibit_downloads"
ACCEPTED_VALUES_MART = "fct_accepted_values"
LINEAGE_MARTS = (
    EXHIBITS_MART,
    PERIODS_MART,
    PRODUCT_MART,
    SOURCE_LINEAGE_MART,
    REVISIONS_MART,
    ACCEPTED_VALUES_MART,
)


class PublicationError(RuntimeError):
    """The publication cannot be made (what to do is in the message)."""


@dataclass(frozen=True)
class Cell:
    """One printed cell of an exhibit mart."""

    table: str
    measure: str
    series: str
    series_zh: str
    period: str
    value: float
    decimals: int
    value_exact: float | None
    unit: str
    is_preliminary: bool
    series_rank: int
    measure_order: int
    period_order: int
    period_kind: str
    period_start: date
    period_end: date

    @property
    def when(self) -> Period:
        """The cell's period, typed."""
        return Period(self.period, self.period_kind, self.period_start, self.period_end)


@dataclass(frozen=True)
class Exhibit:
    """An exhibit: its code, order, title, source and mart (the bulletin_exhibits seed's, read
    from dim_bulletin_exhibits)."""

    code: str
    order: int
    title_zh: str
    source: str
    mart: str


@dataclass(frozen=True)
class Product:
    """The product the warehouse's current edition is built for (the dbt var hs_code)."""

    hs_code: str
    name_zh: str  # the products seed's product_zh (HS code where the seed has none)
    moea_product: str | None  # the MOEA survey product behind Figure 1 (None: no Figure 1)
    # the latest download the edition uses for the product: the date stamped on the files
    data_date: date | None = None

    @property
    def is_default(self) -> bool:
        return self.hs_code == DEFAULT_HS_CODE

    def retitle(self, text: str) -> str:
        """A title of the default product (servers) as this product's."""
        return text if self.is_default else text.replace(DEFAULT_PRODUCT_ZH, self.name_zh)

    def manifest(self) -> dict:
        return {"hs_code": self.hs_code, "product_zh": self.name_zh, "moea_product": self.moea_product}


def product(con: duckdb.DuckDBPyConnection) -> Product:
    """The product of the current edition, with its name from the products seed."""
    row = con.execute(
        f"select hs_code, product_zh, moea_product, data_date from {MARTS_SCHEMA}.{PRODUCT_MART}"
        " where edition = 'current'"
    ).fetchone()
    if row is None:
        raise PublicationError(f"{MARTS_SCHEMA}.{PRODUCT_MART} has no current edition: run dbt build first")
    hs_code, name_zh, moea_product, data_date = row
    return Product(str(hs_code), name_zh or f"HS {hs_code}", moea_product, data_date)


def exhibits(con: duckdb.DuckDBPyConnection) -> list[Exhibit]:
    """The published exhibits in the bulletin's order."""
    rows = con.execute(
        f"select exhibit, exhibit_order, title_zh, source, mart from {MARTS_SCHEMA}.{EXHIBITS_MART}"
        " order by exhibit_order"
    ).fetchall()
    unknown = [code for code, *_ in rows if code not in LAYOUTS]
    if unknown:
        raise PublicationError(
            f"exhibits {unknown} of the bulletin_exhibits seed have no layout in "
            "orchestration/publish/layout.py (LAYOUTS): add them there"
        )
    return [Exhibit(code, int(order), title, source, mart) for code, order, title, source, mart in rows]


# The published order of the cells: exhibit, block, series, column; the key itself breaks
# any tie, so the order never depends on storage.
CELLS_ORDER = 'exhibit_order, measure_order, series_rank, period_order, "table", measure, series, period'


def mart_query(mart: str) -> str:
    """The select a mart is published from, in a fixed row order."""
    if mart == MIRROR_MART:
        return f"select * from {MARTS_SCHEMA}.{mart} order by period_order, period"
    if mart == CELLS_MART:
        return f"select * from {MARTS_SCHEMA}.{CELLS_MART} order by {CELLS_ORDER}"
    return (
        f"select * from {MARTS_SCHEMA}.{mart} "
        f"order by measure_order, series_rank, period_order, measure, series, period"
    )


def read_table(con: duckdb.DuckDBPyConnection, mart: str) -> tuple[list[str], list[tuple]]:
    """A mart's column names and rows, in the published order."""
    cursor = con.execute(mart_query(mart))
    columns = [d[0] for d in cursor.description]
    return columns, cursor.fetchall()


_CELL_COLUMNS = ", ".join(f'"{name}"' for name in Cell.__dataclass_fields__)


def cells(con: duckdb.DuckDBPyConnection, exhibit: str | None = None) -> list[Cell]:
    """The printed cells (of one exhibit, or all) in the published order, from
    fct_bulletin_cells: with their print order and typed periods."""
    where = 'where "table" = $exhibit' if exhibit is not None else ""
    rows = con.execute(
        f"select {_CELL_COLUMNS} from {MARTS_SCHEMA}.{CELLS_MART} {where} order by {CELLS_ORDER}",
        {"exhibit": exhibit} if exhibit is not None else {},
    ).fetchall()
    return [Cell(*row) for row in rows]


def exhibit_cells(con: duckdb.DuckDBPyConnection, exhibit: str) -> list[Cell]:
    return cells(con, exhibit)


def row_count(con: duckdb.DuckDBPyConnection, mart: str) -> int:
    return con.execute(f"select count(*) from {MARTS_SCHEMA}.{mart}").fetchone()[0]


def period_label(start: date, grain: str) -> str:
    """A source's period as the manifest writes it: ``2024-09``, or ``2023`` for a year."""
    return str(start.year) if grain == "year" else start.strftime("%Y-%m")


@dataclass(frozen=True)
class SourceLineage:
    """Where a source's numbers come from (a row of fct_bulletin_source_lineage)."""

    source: str
    period_grain: str
    latest_period_start: date
    download_date: date
    source_files: Sequence[str]
    preliminary_months: Sequence[date]
    revised_values: int
    raw_table: str | None
    raw_rows: int | None
    raw_download_dates: Sequence[date] | None

    def manifest(self) -> dict:
        """As manifest.json's sources record it."""
        entry = {
            "period_grain": self.period_grain,
            "latest_period": period_label(self.latest_period_start, self.period_grain),
            "download_date": self.download_date.isoformat(),
            "source_files": list(self.source_files),
            "preliminary_months": [period_label(m, "month") for m in self.preliminary_months],
        }
        if self.raw_table is not None:
            entry["raw_table"] = self.raw_table
            entry["raw_rows"] = self.raw_rows
            entry["raw_download_dates"] = [d.isoformat() for d in self.raw_download_dates or []]
        return entry


def source_lineage(con: duckdb.DuckDBPyConnection) -> dict[str, SourceLineage]:
    """For each source that has the product: its latest period in the current edition and the
    download it came from, its preliminary months, and the raw table it was loaded into (rows,
    download dates)."""
    cursor = con.execute(
        f"""
        select source, period_grain, latest_period_start, download_date, source_files,
               preliminary_months, revised_values, raw_table, raw_rows, raw_download_dates
        from {MARTS_SCHEMA}.{SOURCE_LINEAGE_MART}
        order by source
        """
    )
    return {row[0]: SourceLineage(*row) for row in cursor.fetchall()}


def exhibit_downloads(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """For each exhibit, the downloads it used (source, download date, file, periods given)."""
    rows = con.execute(
        f"""
        select exhibit, source, download_date, source_file, period_grain,
               first_period_start, last_period_start
        from {MARTS_SCHEMA}.{EXHIBIT_DOWNLOADS_MART}
        order by exhibit_order, download_date, source_file
        """
    ).fetchall()
    used: dict[str, list[dict]] = {}
    for exhibit, source, download_date, file, grain, first, last in rows:
        used.setdefault(exhibit, []).append(
            {
                "source": source,
                "download_date": download_date.isoformat(),
                "file": file,
                "first_period": period_label(first, grain),
                "last_period": period_label(last, grain),
            }
        )
    return used


def accepted_values(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The flags of the plausibility gates and download checks that the accepted_values seed
    accepted in this run: what was found, in which file, line, series and period, why it is
    right and who checked it."""
    cursor = con.execute(
        f"""
        select check_name, source, source_file, source_row, flow, product, measure, partner_name,
               period, value, compared_value, finding, accepted_reason, accepted_by
        from {MARTS_SCHEMA}.{ACCEPTED_VALUES_MART}
        order by source, source_file, flow, product, measure, partner_name, period, check_name
        """
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def preliminary_periods(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """For each exhibit, the periods (columns) a preliminary month goes into."""
    rows = con.execute(
        f"""
        select "table", list(distinct period order by period)
        from {MARTS_SCHEMA}.{CELLS_MART}
        where is_preliminary
        group by "table"
        order by "table"
        """
    ).fetchall()
    return {table: list(periods) for table, periods in rows}


def preliminary_months(con: duckdb.DuckDBPyConnection) -> dict[str, list[date]]:
    """For each exhibit with any, the preliminary months its series hold in the current edition."""
    rows = con.execute(
        f"""
        select exhibit, preliminary_months
        from {MARTS_SCHEMA}.{EXHIBITS_MART}
        where len(preliminary_months) > 0
        order by exhibit
        """
    ).fetchall()
    return {exhibit: list(months) for exhibit, months in rows}


def mirror_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The mirror check's rows in the published order, each with its period typed (``when``,
    from dim_bulletin_periods)."""
    cursor = con.execute(
        f"""
        select mirror.*, periods.period_kind, periods.period_start, periods.period_end
        from ({mart_query(MIRROR_MART)}) as mirror
        inner join {MARTS_SCHEMA}.{PERIODS_MART} as periods on mirror.period = periods.period
        order by mirror.period_order, mirror.period
        """
    )
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        row["when"] = Period(row["period"], row.pop("period_kind"), row.pop("period_start"), row.pop("period_end"))
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Revision:
    """Values of a period of an exhibit's source that a later download changed
    (fct_bulletin_revisions)."""

    period_grain: str
    period_start: date
    old_download_date: date
    new_download_date: date


def revisions(con: duckdb.DuckDBPyConnection, exhibit: str, since: date | None) -> list[Revision]:
    """The revisions of the values the exhibit reads (its source's flow, product and measure)
    by downloads after ``since`` (None: every revision)."""
    rows = con.execute(
        f"""
        select period_grain, period_start, old_download_date, new_download_date
        from {MARTS_SCHEMA}.{REVISIONS_MART}
        where exhibit = $exhibit and ($since is null or new_download_date > $since)
        order by period_start, old_download_date, new_download_date
        """,
        {"exhibit": exhibit, "since": since},
    ).fetchall()
    return [Revision(*row) for row in rows]

"""Reading what is published from the warehouse: the marts and the lineage behind them.

Every function takes an open DuckDB connection (read-only is enough) and returns plain
Python values, so the writers never touch the warehouse and are testable on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from ..ingest.loader import PARSERS
from ..settings import DEFAULT_HS_CODE
from .layout import CELLS_MART, DEFAULT_PRODUCT_ZH, EXHIBIT_MARTS, MARTS_SCHEMA, MIRROR_MART

# The raw table each source loads.
RAW_TABLES = {source: parser.TABLE for source, parser in PARSERS.items()}

# The observations of the product, in int_observations__vintaged/__revisions: the trade
# sources by HS code, the MOEA survey by the survey product the products seed maps it to.
PRODUCT_FILTER = (
    "((source <> 'moea' and product = $hs_code) or (source = 'moea' and product = $moea_product))"
)
# The flow (and, for MOEA, the measure) each exhibit's source is read for: what a revision
# must touch to move a printed cell (as int_bulletin__series reads them; moea_measure var).
EXHIBIT_FLOWS = {
    "customs": ("export", None),
    "gta": ("import", None),
    "itc": ("export", None),
    "moea": ("production", "生產值(千元)"),
}


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


@dataclass(frozen=True)
class Exhibit:
    """An exhibit: its code, order, title (from the bulletin_exhibits seed) and mart."""

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

    @property
    def is_default(self) -> bool:
        return self.hs_code == DEFAULT_HS_CODE

    def retitle(self, text: str) -> str:
        """A title of the default product (servers) as this product's."""
        return text if self.is_default else text.replace(DEFAULT_PRODUCT_ZH, self.name_zh)

    def params(self) -> dict[str, str | None]:
        """The parameters of :data:`PRODUCT_FILTER`."""
        return {"hs_code": self.hs_code, "moea_product": self.moea_product}

    def manifest(self) -> dict:
        return {"hs_code": self.hs_code, "product_zh": self.name_zh, "moea_product": self.moea_product}


def product(con: duckdb.DuckDBPyConnection) -> Product:
    """The product of the current edition, with its name from the products seed."""
    row = con.execute(
        """
        select editions.hs_code, products.product_zh, products.moea_product
        from intermediate.int_editions as editions
        left join reference.products as products
            on cast(products.hs_code as varchar) = editions.hs_code
        where editions.edition = 'current'
        """
    ).fetchone()
    if row is None:
        raise PublicationError("intermediate.int_editions has no current edition: run dbt build first")
    hs_code, name_zh, moea_product = row
    return Product(str(hs_code), name_zh or f"HS {hs_code}", moea_product)


def exhibits(con: duckdb.DuckDBPyConnection) -> list[Exhibit]:
    """The published exhibits in the bulletin's order."""
    rows = con.execute(
        "select exhibit, exhibit_order, title_zh, source"
        " from reference.bulletin_exhibits order by exhibit_order"
    ).fetchall()
    unknown = [code for code, *_ in rows if code not in EXHIBIT_MARTS]
    if unknown:
        raise PublicationError(
            f"exhibits {unknown} of the bulletin_exhibits seed have no mart and layout in "
            "orchestration/publish/layout.py (EXHIBIT_MARTS, LAYOUTS): add them there"
        )
    return [
        Exhibit(code, int(order), title, source, EXHIBIT_MARTS[code]) for code, order, title, source in rows
    ]


def mart_query(mart: str) -> str:
    """The select a mart is published from, in a fixed row order."""
    if mart == MIRROR_MART:
        return f"select * from {MARTS_SCHEMA}.{mart} order by period_order, period"
    if mart == CELLS_MART:
        # The cells carry no order columns: print order from the exhibit marts (exhibit, block,
        # series, column); the key itself breaks any tie, so the order never depends on storage.
        orders = "\n            union all ".join(
            f'select "table", measure, series, period, measure_order, series_rank, period_order '
            f"from {MARTS_SCHEMA}.{m}"
            for m in EXHIBIT_MARTS.values()
        )
        return f"""
        select cells.*
        from {MARTS_SCHEMA}.{CELLS_MART} as cells
        left join reference.bulletin_exhibits as exhibits on cells."table" = exhibits.exhibit
        left join (
            {orders}
        ) as orders
            on cells."table" = orders."table" and cells.measure = orders.measure
            and cells.series = orders.series and cells.period = orders.period
        order by exhibits.exhibit_order, orders.measure_order, orders.series_rank, orders.period_order,
            cells."table", cells.measure, cells.series, cells.period
        """
    return (
        f"select * from {MARTS_SCHEMA}.{mart} "
        f"order by measure_order, series_rank, period_order, measure, series, period"
    )


def read_table(con: duckdb.DuckDBPyConnection, mart: str) -> tuple[list[str], list[tuple]]:
    """A mart's column names and rows, in the published order."""
    cursor = con.execute(mart_query(mart))
    columns = [d[0] for d in cursor.description]
    return columns, cursor.fetchall()


def exhibit_cells(con: duckdb.DuckDBPyConnection, exhibit: str) -> list[Cell]:
    columns, rows = read_table(con, EXHIBIT_MARTS[exhibit])
    fields = Cell.__dataclass_fields__
    return [Cell(**{k: v for k, v in zip(columns, row, strict=True) if k in fields}) for row in rows]


def row_count(con: duckdb.DuckDBPyConnection, mart: str) -> int:
    return con.execute(f"select count(*) from {MARTS_SCHEMA}.{mart}").fetchone()[0]


def _month(d: date) -> str:
    return d.strftime("%Y-%m")


def source_lineage(con: duckdb.DuckDBPyConnection, product: Product) -> dict[str, dict]:
    """For each source that has the product: its latest period in the current edition and the
    download it came from, its preliminary months, and the raw table it was loaded into (rows,
    download dates)."""
    lineage: dict[str, dict] = {}
    latest = con.execute(
        f"""
        with current_obs as (
            select * from intermediate.int_observations__vintaged
            where edition = 'current' and {PRODUCT_FILTER}
        ),
        latest as (
            select source, max(period_start) as period_start from current_obs group by source
        )
        select
            current_obs.source,
            any_value(current_obs.period_grain) as period_grain,
            latest.period_start,
            list(distinct current_obs.download_date order by current_obs.download_date) as download_dates,
            list(distinct current_obs.source_file order by current_obs.source_file) as source_files
        from current_obs
        inner join latest
            on current_obs.source = latest.source and current_obs.period_start = latest.period_start
        group by current_obs.source, latest.period_start
        order by current_obs.source
        """,
        product.params(),
    ).fetchall()
    for source, grain, period_start, downloads, files in latest:
        lineage[source] = {
            "period_grain": grain,
            "latest_period": str(period_start.year) if grain == "year" else _month(period_start),
            "download_date": downloads[-1].isoformat(),
            "source_files": list(files),
            "preliminary_months": [],
        }
    preliminary = con.execute(
        f"""
        select distinct source, period_start
        from intermediate.int_observations__vintaged
        where edition = 'current' and is_preliminary and {PRODUCT_FILTER}
        order by source, period_start
        """,
        product.params(),
    ).fetchall()
    for source, period_start in preliminary:
        lineage[source]["preliminary_months"].append(_month(period_start))
    for source, table in RAW_TABLES.items():
        if source not in lineage:
            continue
        rows, downloads = con.execute(
            f"select count(*), list(distinct download_date order by download_date) from raw.{table}"
        ).fetchone()
        lineage[source]["raw_table"] = f"raw.{table}"
        lineage[source]["raw_rows"] = rows
        lineage[source]["raw_download_dates"] = [d.isoformat() for d in downloads or []]
    return lineage


EXHIBIT_DOWNLOADS_MART = "fct_bulletin_exhibit_downloads"


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
        period = (lambda d: str(d.year)) if grain == "year" else _month
        used.setdefault(exhibit, []).append(
            {
                "source": source,
                "download_date": download_date.isoformat(),
                "file": file,
                "first_period": period(first),
                "last_period": period(last),
            }
        )
    return used


ACCEPTED_VALUES_MART = "fct_accepted_values"


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


def preliminary_months(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """For each exhibit, the preliminary months (2024-09) its series hold in the current edition."""
    rows = con.execute(
        """
        select exhibit, list(distinct period_start order by period_start)
        from intermediate.int_bulletin__series
        where edition = 'current' and is_preliminary
        group by exhibit
        order by exhibit
        """
    ).fetchall()
    return {exhibit: [_month(d) for d in months] for exhibit, months in rows}


def data_date(con: duckdb.DuckDBPyConnection, product: Product) -> date:
    """The latest download date the current edition uses for the product: the date stamped on
    the files."""
    (latest,) = con.execute(
        "select max(download_date) from intermediate.int_observations__vintaged"
        f" where edition = 'current' and {PRODUCT_FILTER}",
        product.params(),
    ).fetchone()
    return latest or date(1980, 1, 1)


@dataclass(frozen=True)
class Revision:
    """A value of a download that a later download changed (int_observations__revisions)."""

    period_grain: str
    period_start: date
    old_download_date: date
    new_download_date: date

    @property
    def period(self) -> str:
        return str(self.period_start.year) if self.period_grain == "year" else _month(self.period_start)


def revisions(
    con: duckdb.DuckDBPyConnection, product: Product, source: str, since: date | None
) -> list[Revision]:
    """The source's revisions of the product's values (in the flow and measure its exhibit
    reads) by downloads after ``since`` (None: every revision)."""
    flow, measure = EXHIBIT_FLOWS.get(source, (None, None))
    rows = con.execute(
        f"""
        select distinct period_grain, period_start, old_download_date, new_download_date
        from intermediate.int_observations__revisions
        where source = $source and {PRODUCT_FILTER}
            and ($flow is null or flow = $flow)
            and ($measure is null or measure = $measure)
            and ($since is null or new_download_date > $since)
        order by period_start, old_download_date, new_download_date
        """,
        {**product.params(), "source": source, "flow": flow, "measure": measure, "since": since},
    ).fetchall()
    return [Revision(*row) for row in rows]

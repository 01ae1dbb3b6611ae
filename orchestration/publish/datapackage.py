"""``datapackage.json``: the publication's CSV files described as a Frictionless Data Package.

So that other tools (frictionless, pandas, R, a spreadsheet's import) can load the CSV files
without our docs, the package lists each CSV of the publication as a tabular resource: its
fields with their types and descriptions, its primary key, the units of its numbers, and the
CSV dialect the writers use (UTF-8, comma, LF, a header row; :mod:`.files`).

Nothing here is a second copy of the marts' documentation. Each field's type and description
are the mart's own, read from the warehouse: the column's DuckDB type (the marts' contracts
fix it) and its comment, which dbt writes from the column's description in the mart's yml
(``persist_docs``); each resource's description is its mart's comment. Only the columns a
writer adds to a mart's (``printed_in`` of bulletin_cells.csv, the old and new numbers of
revisions.csv) are described here, each next to the mart column it takes its type from. The
units come from the cells: each printed number's unit is its cell's (``unit``, from the
bulletin_exhibits seed's value unit or the measure), by exhibit and measure; a column whose
name ends in ``_usd``, ``_pct`` or ``_pp`` is in US$, percent or percentage points, as the
cells' measures are named. The package depends only on the warehouse's contents, in a fixed
order: the same marts give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import files
from .layout import CELLS_COLUMNS, CELLS_CSV, CELLS_MART, MARTS_SCHEMA, MIRROR_MART, REVISIONS, REVISIONS_COLUMNS
from .marts import EXHIBITS_MART, REVISIONS_MART, Cell, Exhibit, Product, PublicationError

DATAPACKAGE = "datapackage.json"
PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"

# A mart column's DuckDB type as a Table Schema field type.
FIELD_TYPES = {
    "VARCHAR": "string",
    "BOOLEAN": "boolean",
    "TINYINT": "integer",
    "SMALLINT": "integer",
    "INTEGER": "integer",
    "BIGINT": "integer",
    "HUGEINT": "integer",
    "UTINYINT": "integer",
    "USMALLINT": "integer",
    "UINTEGER": "integer",
    "UBIGINT": "integer",
    "FLOAT": "number",
    "DOUBLE": "number",
    "DATE": "date",
}
# How files.write_csv writes: a header row, comma, LF, a double quote doubled inside a quoted
# field; a boolean as true or false, a missing value as nothing.
DIALECT = {"header": True, "delimiter": ",", "lineTerminator": "\n", "quoteChar": '"', "doubleQuote": True}
TRUE_VALUES, FALSE_VALUES, MISSING_VALUES = ["true"], ["false"], [""]
# The unit of a column by how its name ends (the cells' measures end so: yoy_pct, share_change_pp).
UNIT_SUFFIXES = {"_usd": "USD", "_pct": "percent", "_pp": "percentage points"}
# The printed numbers, whose unit is their cell's: by exhibit and measure, in the resource's
# ``units`` (a file of cells also holds it in each row's ``unit``).
CELL_NUMBERS = ("value", "value_exact", "old_value", "new_value")
CELL_UNIT = "unit"
UNITS_BY = ("table", "measure")

# The rows' keys: a printed cell is one exhibit's measure of a series in a period (the marts'
# primary_key constraints); the mirror check has a row a period.
CELL_KEY = ("table", "measure", "series", "period")
EXHIBIT_KEY = ("measure", "series", "period")
MIRROR_KEY = ("period",)


@dataclass(frozen=True)
class Column:
    """A column of a mart (its DuckDB type and comment), or one a writer adds, as a field."""

    name: str
    data_type: str
    description: str | None = None
    extra: tuple[tuple[str, object], ...] = ()

    @property
    def type(self) -> str:
        """Its Table Schema type."""
        if self.data_type not in FIELD_TYPES:
            raise PublicationError(
                f"the published column {self.name} is {self.data_type}, which a CSV field of "
                "datapackage.json cannot be: add it to FIELD_TYPES in orchestration/publish/datapackage.py"
            )
        return FIELD_TYPES[self.data_type]


# The columns a writer adds, each with the mart column its type comes from and what it holds.
ADDED_COLUMNS = {
    CELLS_CSV: {
        "printed_in": (
            CELLS_MART,
            "table",
            "table where the exhibit's table prints the cell, text where only the bulletin's text "
            "or figure states it.",
            (("constraints", {"enum": ["table", "text"]}),),
        ),
    },
    REVISIONS: {
        "old_value": (CELLS_MART, "value", "The number as the previous publication printed it.", ()),
        "new_value": (CELLS_MART, "value", "The number as this publication prints it.", ()),
        "source": (EXHIBITS_MART, "source", "The source of the exhibit: customs, gta, itc or moea.", ()),
        "revised_months": (
            CELLS_MART,
            "period",
            "The months (2024-03, or a year for ITC) of the revisions that moved the number, "
            "separated by ';'; empty when none of them falls in the periods it depends on.",
            (),
        ),
        "old_download_date": (
            REVISIONS_MART,
            "old_download_date",
            "The earliest download the revised months came from before.",
            (),
        ),
        "new_download_date": (
            REVISIONS_MART,
            "new_download_date",
            "The latest download whose values revised them.",
            (),
        ),
    },
}
REVISIONS_DESCRIPTION = (
    "Every printed cell whose number differs from the previous publication's: the old and the "
    "new number as printed, the source and the months whose revision moved it, and the two "
    "downloads (a header only when nothing changed, or at the first publication)."
)


def mart_columns(con: duckdb.DuckDBPyConnection, mart: str) -> dict[str, Column]:
    """A mart's columns in order, typed and described as the warehouse holds them."""
    rows = con.execute(
        """
        select column_name, data_type, comment
        from duckdb_columns()
        where database_name = current_database() and schema_name = ? and table_name = ?
        order by column_index
        """,
        [MARTS_SCHEMA, mart],
    ).fetchall()
    if not rows:
        raise PublicationError(f"{MARTS_SCHEMA}.{mart} does not exist: run dbt build first")
    return {name: Column(name, data_type, _text(comment)) for name, data_type, comment in rows}


def mart_description(con: duckdb.DuckDBPyConnection, mart: str) -> str | None:
    row = con.execute(
        """
        select comment from duckdb_tables()
        where database_name = current_database() and schema_name = ? and table_name = ?
        """,
        [MARTS_SCHEMA, mart],
    ).fetchone()
    return _text(row[0]) if row else None


def _text(comment: str | None) -> str | None:
    return " ".join(comment.split()) if comment and comment.strip() else None


def value_units(cells: Sequence[Cell], tables: Sequence[str]) -> dict[str, dict[str, str]]:
    """The unit of every printed number of ``tables``, by exhibit and measure (from the cells)."""
    units: dict[str, dict[str, str]] = {}
    for cell in cells:
        if cell.table in tables:
            units.setdefault(cell.table, {}).setdefault(cell.measure, cell.unit)
    return {table: dict(sorted(by.items())) for table, by in sorted(units.items())}


def _field(column: Column, units: dict[str, dict[str, str]]) -> dict:
    field: dict = {"name": column.name, "type": column.type}
    if column.description:
        field["description"] = column.description
    if column.type == "boolean":
        field["trueValues"], field["falseValues"] = TRUE_VALUES, FALSE_VALUES
    suffix = next((s for s in UNIT_SUFFIXES if column.name.endswith(s)), None)
    if column.type == "number" and suffix is not None:
        field["unit"] = UNIT_SUFFIXES[suffix]
    elif column.name in CELL_NUMBERS and units:
        field["unitsBy"] = list(UNITS_BY)  # the resource's units
    if column.name == CELL_UNIT and units:
        field["constraints"] = {"enum": sorted({u for by in units.values() for u in by.values()})}
    field.update(dict(column.extra))
    return field


def _resource(
    path: str,
    columns: Sequence[Column],
    key: Sequence[str],
    *,
    title: str | None = None,
    description: str | None = None,
    units: dict[str, dict[str, str]] | None = None,
) -> dict:
    names = [c.name for c in columns]
    missing = [k for k in key if k not in names]
    if missing:
        raise PublicationError(f"{path}: its key {missing} is not among its columns {names}")
    units = units or {}
    resource: dict = {"name": Path(path).stem, "type": "table", "path": path}
    if title:
        resource["title"] = title
    if description:
        resource["description"] = description
    if units:
        resource["units"] = units
    resource.update(
        {
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": DIALECT,
            "schema": {
                "fields": [_field(c, units) for c in columns],
                "primaryKey": list(key),
                "missingValues": MISSING_VALUES,
            },
        }
    )
    return resource


def _columns(con: duckdb.DuckDBPyConnection, name: str, mart: str, published: Sequence[str]) -> list[Column]:
    """The columns of a published CSV that writes ``published`` of ``mart`` (and added ones)."""
    own = mart_columns(con, mart)
    added = ADDED_COLUMNS.get(name, {})
    columns = []
    for column in published:
        if column in added:
            source_mart, source_column, description, extra = added[column]
            typed = mart_columns(con, source_mart)[source_column]
            columns.append(Column(column, typed.data_type, description, extra))
        elif column in own:
            columns.append(own[column])
        else:
            raise PublicationError(f"{name}: its column {column} is neither in marts.{mart} nor added by a writer")
    return columns


def datapackage(
    con: duckdb.DuckDBPyConnection, product: Product, exhibits: Sequence[Exhibit], cells: Sequence[Cell]
) -> dict:
    """The package of a publication of ``exhibits`` (those with rows) for ``product``."""
    codes = [e.code for e in exhibits]
    resources = [
        _resource(
            CELLS_CSV,
            _columns(con, CELLS_CSV, CELLS_MART, CELLS_COLUMNS),
            CELL_KEY,
            description=mart_description(con, CELLS_MART),
            units=value_units(cells, codes),
        )
    ]
    for exhibit in exhibits:
        resources.append(
            _resource(
                f"{exhibit.code}.csv",
                list(mart_columns(con, exhibit.mart).values()),
                EXHIBIT_KEY,
                title=exhibit.title_zh,
                description=mart_description(con, exhibit.mart),
                units=value_units(cells, [exhibit.code]),
            )
        )
    resources.append(
        _resource(
            f"{MIRROR_MART}.csv",
            list(mart_columns(con, MIRROR_MART).values()),
            MIRROR_KEY,
            description=mart_description(con, MIRROR_MART),
        )
    )
    resources.append(
        _resource(
            REVISIONS,
            _columns(con, REVISIONS, CELLS_MART, REVISIONS_COLUMNS),
            CELL_KEY,
            description=REVISIONS_DESCRIPTION,
            units=value_units(cells, codes),
        )
    )
    return {
        "$schema": PROFILE,
        "name": f"bulletin-hs{product.hs_code}",
        "title": f"產業經濟統計簡訊：{product.name_zh}產銷與貿易概況（HS {product.hs_code}）",
        "description": (
            f"The figures of the MOEA Department of Statistics' bulletin on {product.name_zh} "
            f"(HS {product.hs_code}), built from the source downloads: every printed cell, each "
            "exhibit's cells, the mirror check of Taiwan's exports to the US against the US's "
            "imports from Taiwan, and the revisions since the previous publication. Every file, "
            "its size and SHA-256 are in manifest.json."
        ),
        "resources": resources,
    }


def write_datapackage(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    product: Product,
    exhibits: Sequence[Exhibit],
    cells: Sequence[Cell],
) -> Path:
    """``folder/datapackage.json`` (UTF-8, LF, synced), from the marts."""
    path = folder / DATAPACKAGE
    text = json.dumps(datapackage(con, product, exhibits, cells), ensure_ascii=False, indent=2) + "\n"
    files.write_text(path, text)
    return path

"""Rows a parser read in Python (a JSON answer, a workbook) into its temporary table.

The parsers whose format DuckDB cannot read (census and comtrade's JSON answers, MOEA's
workbooks) build a list of values per column; ``load_rows`` puts them in the temporary table
``into`` with the source's columns and types, each value cast by DuckDB, and the file's lineage
(``source_file``, ``download_date``) added to every row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pandas as pd

from .files import DownloadFile

Columns = Sequence[tuple[str, str]]  # (name, DuckDB type), in the table's order
LINEAGE = ("source_file", "download_date")


def columns_sql(columns: Columns) -> str:
    """The column list of a ``CREATE TABLE``: ``name TYPE, ...``."""
    return ", ".join(f"{name} {kind}" for name, kind in columns)


def load_rows(
    con: duckdb.DuckDBPyConnection,
    into: str,
    file: DownloadFile,
    columns: Columns,
    values: Mapping[str, Sequence[object]],
    keep: str | None = None,
) -> None:
    """``values`` (a list per column, every column of ``columns`` but the lineage) as the
    temporary table ``into``; ``keep``, a SQL condition on the columns, leaves the other rows out."""
    kinds = dict(columns)
    # a DOUBLE column as floats (None: NaN, which DuckDB reads as NULL), so that ints and floats
    # mixed in it are all numbers; every other column as Python objects, cast by DuckDB
    frame = pd.DataFrame(
        {
            name: pd.Series(column, dtype="float64" if kinds.get(name) == "DOUBLE" else "object")
            for name, column in values.items()
        }
    )
    expected = [name for name, _ in columns if name not in LINEAGE]
    if sorted(frame.columns) != sorted(expected):
        raise ValueError(f"{into}: values for {sorted(frame.columns)}, the table has {sorted(expected)}")
    select = ", ".join(
        "? AS source_file"
        if name == "source_file"
        else "CAST(? AS DATE) AS download_date"
        if name == "download_date"
        else f"CAST({name} AS {kind}) AS {name}"
        for name, kind in columns
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {into} ({columns_sql(columns)})")
    con.register(f"{into}_frame", frame)
    try:
        con.execute(
            f"INSERT INTO {into} SELECT {select} FROM {into}_frame {f'WHERE {keep}' if keep else ''}",
            [file.rel_path if name == "source_file" else file.download_date for name, _ in columns if name in LINEAGE],
        )
    finally:
        con.unregister(f"{into}_frame")

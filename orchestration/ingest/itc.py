"""ITC Trade Map export: list of exporters of one product, one column per year.

Native layout: tab-separated, UTF-8 with a byte-order mark, LF line ends,
exporter names in double quotes, a trailing tab on every line (an empty last
column). The ``World`` row is the world total. The product is named only in the
file name, by its description: ``Trade_Map_-_List_of_exporters_for_the_selected_product_(<description>).txt``.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from .common import (
    DownloadFile,
    RowCheck,
    check_complete_last_line,
    csv_columns,
    first_bad_row,
    read_csv_relation,
    read_first_line,
    sniff_text_encoding,
)

SOURCE = "itc"
TABLE = "itc_exporters"
FILE_PATTERNS = ("Trade_Map_-_*.txt",)
DESCRIPTION = "an ITC Trade Map list of exporters"
SIGNATURES = (b"\xef\xbb\xbfExporters\t", b"Exporters\t")
PRODUCT_IN_NAME = re.compile(r"_product_\((?P<product>.+)\)\.txt$")
YEAR_COLUMN = re.compile(r"^Exported value in (?P<year>[0-9]{4})$")
NUMBER = r"^[0-9]+(\.[0-9]+)?$"


def parse(con: duckdb.DuckDBPyConnection, file: DownloadFile, workdir: Path, into: str) -> None:
    """Parse one Trade Map download into the temporary table ``into``, one row per exporter and year."""
    product = PRODUCT_IN_NAME.search(file.path.name)
    if product is None:
        raise file.error(
            None,
            "the file name does not name the product: expected "
            "'Trade_Map_-_List_of_exporters_for_the_selected_product_(<description>).txt'",
        )
    sniff_text_encoding(file, ("utf-8",))
    header = csv_columns(read_first_line(file.path), "\t")
    if header and header[-1] == "":
        header = header[:-1]
    if not header or header[0] != "Exporters" or len(header) < 2:
        raise file.error(
            "line 1", "the header is not this source's layout: expected 'Exporters' then "
            "'Exported value in <year>' columns"
        )
    years = [YEAR_COLUMN.match(h) for h in header[1:]]
    bad = next((h for h, y in zip(header[1:], years, strict=True) if y is None), None)
    if bad is not None:
        raise file.error("line 1", f'column "{bad}" is not "Exported value in <year>"')
    year_values = [int(y["year"]) for y in years]
    gaps = sorted(set(range(min(year_values), max(year_values) + 1)) - set(year_values))
    if gaps:
        raise file.error(
            "line 1",
            f"the year column(s) {', '.join(map(str, gaps))} are missing: export every year of the range",
        )
    check_complete_last_line(file)
    year_columns = [f"y{y}" for y in year_values]
    read_csv_relation(
        con, file, file.path, ["exporter_name", *year_columns, "trailing_field"], "\t", f"{into}_text"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        WITH long AS (
            UNPIVOT {into}_text ON {", ".join(year_columns)} INTO NAME col VALUE value_text
        )
        SELECT
            ? AS product_description,
            trim(exporter_name) AS exporter_name,
            'Exported value in ' || substr(col, 2) AS period_label,
            substr(col, 2)::INTEGER AS period_year,
            trim(value_text) AS value_text,
            trailing_field,
            ? AS source_file, ?::DATE AS download_date, source_row
        FROM long
        WHERE trim(value_text) <> ''
        """,
        [product["product"], file.rel_path, file.download_date],
    )
    first_bad_row(
        con,
        into,
        file,
        [
            RowCheck("coalesce(trailing_field, '') <> ''", "'a value stands after the last year column'"),
            RowCheck("coalesce(exporter_name, '') = ''", "'Exporters (the exporter name) is empty'"),
            RowCheck(
                "value_text LIKE '-%'",
                """'value "' || value_text || '" for ' || period_label
                || ' is negative; trade values cannot be'""",
            ),
            RowCheck(
                f"NOT regexp_matches(value_text, '{NUMBER}')",
                """'value "' || value_text || '" for ' || period_label || ' is not a number'""",
            ),
            RowCheck(
                "make_date(period_year + 1, 1, 1) > download_date",
                """'year ' || period_year || ' ends after the download date ' || download_date
                || ': the file is in the wrong download folder, or the folder is misnamed'""",
            ),
        ],
    )
    if con.execute(f"SELECT count(*) FROM {into} WHERE exporter_name = 'World'").fetchall()[0][0] == 0:
        raise file.error(None, "has no 'World' row: the world total is needed for the shares")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        SELECT product_description, exporter_name, period_label, period_year,
               value_text::DOUBLE AS value_usd_thousand, source_file, download_date, source_row
        FROM {into}
        """
    )
    con.execute(f"DROP TABLE {into}_text")

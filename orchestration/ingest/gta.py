"""Global Trade Atlas export: one reporter's imports of one HS code, monthly, by partner.

Native layout: CSV, UTF-8, a title block of five lines and a blank line
(reporter and flow on line 2, HS code on line 3), then the header
``Partner Country, Unit, January 2016, …`` and one row per partner; the
``World`` row is the total; an empty cell (or a lone ``-``) means no trade.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb

from .checks import (
    MAX_LINE_BYTES,
    RowCheck,
    check_complete_last_line,
    ends_after_download_sql,
    first_bad_row,
    long_line_error,
    refuse_unless_text,
)
from .csv_reader import csv_columns, read_csv_relation
from .encoding import sniff_text_encoding
from .files import DownloadFile
from .number_check import has_value_sql, value_checks, value_text_sql
from .spec import SourceSpec

SPEC = SourceSpec(
    source="gta",
    table="gta_us_imports",
    file_patterns=("GTA_*.csv",),
    description="a Global Trade Atlas export",
    asset_description="Global Trade Atlas exports: US imports of HS 847150 by partner and month.",
    key=("reporter", "flow", "hs_code", "partner_name", "period_month"),
    value_column="value_usd",
    period_column="period_month",
    signatures=(b"Global Trade Atlas", b"\xef\xbb\xbfGlobal Trade Atlas"),
)
# For readers of PARSERS[source].TABLE; the spec says it.
TABLE = SPEC.table
TITLE_LINES = 6
HEADER_LINE = TITLE_LINES + 1
REPORTER_FLOW = re.compile(r"^(?P<reporter>.+?) (?P<flow>Imports|Exports) from (?P<partner>.+)$")
COMMODITY = re.compile(r"^Commodity: (?P<hs>[0-9]{4,10}), (?P<description>.*)$")


def _title_block(file: DownloadFile) -> tuple[list[str], list[str]]:
    with file.path.open("r", encoding="utf-8-sig", newline="") as f:
        lines = [f.readline(MAX_LINE_BYTES) for _ in range(HEADER_LINE)]
    if any(len(line) >= MAX_LINE_BYTES for line in lines):
        raise long_line_error(file) or file.error(None, "the title block's lines are too long for a GTA export")
    if not lines[0]:
        raise file.error(None, "the file is empty")
    return [line.rstrip("\r\n") for line in lines[:TITLE_LINES]], csv_columns(
        lines[TITLE_LINES].rstrip("\r\n"), ","
    )


def _month(label: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(label.strip(), "%B %Y").date()
    except ValueError:
        return None


def parse(con: duckdb.DuckDBPyConnection, file: DownloadFile, workdir: Path, into: str) -> None:
    """Parse one GTA download into the temporary table ``into``, one row per partner and month."""
    refuse_unless_text(file, SPEC.description, "a CSV report")
    sniff_text_encoding(file, ("utf-8",))
    title, header = _title_block(file)
    reporter_flow = REPORTER_FLOW.match(title[1].strip().strip('"'))
    if title[0].strip() != "Global Trade Atlas" or reporter_flow is None:
        raise file.error(
            "line 1", "not a Global Trade Atlas export: expected 'Global Trade Atlas' on line 1 "
            "and '<reporter> Imports from <partner>' on line 2"
        )
    commodity = COMMODITY.match(title[2].strip().strip('"'))
    if commodity is None:
        raise file.error("line 3", f"expected 'Commodity: <HS code>, <description>', found {title[2]!r}")
    if header[:2] != ["Partner Country", "Unit"] or len(header) < 3:
        raise file.error(
            f"line {HEADER_LINE}",
            "the header is not this source's layout: expected 'Partner Country,Unit,<month>…', "
            f"found {','.join(header[:3])!r}",
        )
    months = header[2:]
    bad = next((m for m in months if _month(m) is None), None)
    if bad is not None:
        raise file.error(
            f"line {HEADER_LINE}", f'column "{bad}" is not a month such as "January 2016"'
        )
    check_complete_last_line(file)
    month_columns = [f"m{i}" for i in range(len(months))]
    read_csv_relation(
        con, file, file.path, ["partner_name", "unit", *month_columns], ",", f"{into}_text",
        skip_lines=HEADER_LINE,
    )
    labels = con.execute(
        "SELECT * FROM (VALUES " + ", ".join("(?, ?, ?::DATE)" for _ in months) + ") t(col, label, month)",
        [v for i, m in enumerate(months) for v in (month_columns[i], m, _month(m))],
    ).df()
    con.register(f"{into}_months", labels)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        WITH long AS (
            UNPIVOT {into}_text ON {", ".join(month_columns)} INTO NAME col VALUE value_text
        )
        SELECT
            ? AS reporter, ? AS flow, ? AS hs_code, ? AS commodity,
            trim(long.partner_name) AS partner_name, trim(long.unit) AS unit,
            m.label AS period_label, m.month::DATE AS period_month,
            -- Thousands separators (1,234) are the number's, not the data's.
            {value_text_sql("long.value_text")} AS value_text,
            ? AS source_file, ?::DATE AS download_date, long.source_row
        FROM long JOIN {into}_months m USING (col)
        -- An empty cell, or a lone '-', is no value: the partner had no trade that month.
        WHERE {has_value_sql("long.value_text")}
        """,
        [
            reporter_flow["reporter"], reporter_flow["flow"], commodity["hs"], commodity["description"],
            file.rel_path, file.download_date,
        ],
    )
    con.unregister(f"{into}_months")
    first_bad_row(
        con,
        into,
        file,
        [
            RowCheck("coalesce(partner_name, '') = ''", "'Partner Country is empty'"),
            *value_checks("value_text", "'for ' || period_label", any_minus=True),
            RowCheck(
                "period_month + INTERVAL 1 MONTH > download_date",
                ends_after_download_sql("""'month "' || period_label || '"'"""),
            ),
        ],
    )
    if con.execute(f"SELECT count(*) FROM {into} WHERE partner_name = 'World'").fetchall()[0][0] == 0:
        raise file.error(
            None, "has no 'World' row: the total is needed for the shares; export the report again with World"
        )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        SELECT reporter, flow, hs_code, commodity, partner_name, unit, period_label, period_month,
               value_text::DOUBLE AS value_usd, source_file, download_date, source_row
        FROM {into}
        """
    )
    con.execute(f"DROP TABLE {into}_text")

"""MOEA Industrial Production, Sales and Inventory Survey (工業產銷存動態調查), query export.

Native layout: an .xlsx workbook of one sheet; a header row 統計期, 產品名稱, 單位,
生產量, 生產值(千元), 銷售量, 銷售值(千元), then one row per ROC month (text, 113年7月)
and product. All four measures are kept, in long form with a measure column.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from .common import DownloadFile, RowCheck, check_header, first_bad_row

SOURCE = "moea"
TABLE = "moea_production"
FILE_PATTERNS = ("InquireAdvance*.xlsx",)
DESCRIPTION = "an .xlsx workbook (the MOEA survey export)"
SIGNATURES = (b"PK\x03\x04",)
HEADER = ("統計期", "產品名稱", "單位", "生產量", "生產值(千元)", "銷售量", "銷售值(千元)")
MEASURES = HEADER[3:]
ROC_MONTH = r"^([0-9]{2,3})年([0-9]{1,2})月$"
NUMBER = r"^[0-9]+(\.[0-9]+)?$"


def _text(cell) -> str | None:
    if cell is None:
        return None
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _rows(file: DownloadFile) -> list[tuple]:
    with file.path.open("rb") as f:
        head = f.read(512)
    if not head:
        raise file.error(None, "the file is empty (0 bytes); download it again")
    if not zipfile.is_zipfile(file.path):
        looks = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        kind = (
            "it is an HTML/XML page, perhaps the portal's error page" if looks == b"<"
            else "it does not end as a zip archive: the download was cut off" if head[:2] == b"PK"
            else "it is not a zip archive, as every .xlsx is"
        )
        raise file.error(None, f"the file is not an .xlsx workbook ({kind}); download it again as Excel")
    try:
        workbook = openpyxl.load_workbook(file.path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise file.error(
            None, f"the file is not an .xlsx workbook ({exc}); download it again as Excel"
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        return [tuple(_text(c) for c in row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def parse(con: duckdb.DuckDBPyConnection, file: DownloadFile, workdir: Path, into: str) -> None:
    """Parse one survey workbook into the temporary table ``into``, one row per month, product and measure."""
    rows = _rows(file)
    if not rows:
        raise file.error(None, "the workbook's sheet is empty")
    header = [h for h in rows[0] if h is not None]
    check_header(file, header, HEADER, line=1, where_label="row")
    body = [r[: len(HEADER)] + (None,) * (len(HEADER) - len(r)) for r in rows[1:]]
    frame = pd.DataFrame(body, columns=[f"c{i}" for i in range(len(HEADER))], dtype="object")
    frame["source_row"] = range(2, len(body) + 2)
    con.register(f"{into}_frame", frame)
    measure_cols = ", ".join(f"c{i + 3} AS \"{m}\"" for i, m in enumerate(MEASURES))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        WITH typed AS (
            SELECT trim(c0::VARCHAR) AS period_label, trim(c1::VARCHAR) AS product_name,
                   trim(c2::VARCHAR) AS unit, {measure_cols}, source_row::BIGINT AS source_row
            FROM {into}_frame
            WHERE coalesce(c0, c1, c2, c3, c4, c5, c6) IS NOT NULL
        ),
        long AS (
            UNPIVOT typed ON {", ".join(f'"{m}"' for m in MEASURES)}
            INTO NAME measure VALUE value_text
        )
        SELECT period_label,
               regexp_extract(period_label, '{ROC_MONTH}', 1) AS _roc_year,
               regexp_extract(period_label, '{ROC_MONTH}', 2) AS _month,
               product_name, unit, measure, trim(value_text::VARCHAR) AS value_text,
               ? AS source_file, ?::DATE AS download_date, source_row
        FROM long
        """,
        [file.rel_path, file.download_date],
    )
    con.unregister(f"{into}_frame")
    if con.execute(f"SELECT count(*) FROM {into}").fetchall()[0][0] == 0:
        raise file.error(
            "row 2",
            "the sheet has no data rows after the header: the export came out empty; download it again",
        )
    first_bad_row(
        con,
        into,
        file,
        [
            RowCheck(
                "_roc_year = '' OR NOT (_month::INT BETWEEN 1 AND 12)",
                """'統計期 "' || coalesce(period_label, '') || '" is not a ROC month such as 113年7月'""",
            ),
            RowCheck(
                "make_date(_roc_year::INT + 1911, _month::INT, 1) + INTERVAL 1 MONTH > download_date",
                """'統計期 "' || period_label || '" ends after the download date ' || download_date
                || ': the file is in the wrong download folder, or the folder is misnamed'""",
            ),
            RowCheck("coalesce(product_name, '') = ''", "'產品名稱 (product) is empty'"),
            RowCheck(
                "value_text LIKE '-%'",
                """'value "' || value_text || '" in ' || measure || ' is negative'""",
            ),
            RowCheck(
                f"value_text IS NOT NULL AND NOT regexp_matches(value_text, '{NUMBER}')",
                """'value "' || value_text || '" in ' || measure || ' is not a number'""",
            ),
        ],
        where_label="row",
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        SELECT period_label, make_date(_roc_year::INT + 1911, _month::INT, 1) AS period_month,
               product_name, unit, measure, value_text::DOUBLE AS value,
               source_file, download_date, source_row
        FROM {into}
        """
    )

"""Customs portal query export (財政部關務署 綜合查詢): monthly trade by flow, HS code, country.

Native layout: CSV, Big5 (CP950) or UTF-8 with or without a byte-order mark,
CRLF line ends, one header line, then one row per flow, ROC month, HS code and
country; the newest month carries ``(初步值)`` (preliminary).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .common import (
    DownloadFile,
    RowCheck,
    check_complete_last_line,
    check_header,
    csv_columns,
    first_bad_row,
    read_csv_relation,
    read_first_line,
    sniff_text_encoding,
    utf8_copy,
)

SOURCE = "customs"
TABLE = "customs_trade"
FILE_PATTERNS = ("綜合查詢_*.csv",)
DESCRIPTION = "a Customs portal query export (綜合查詢)"
# How the file's first bytes look (UTF-8 with or without BOM, or Big5): the start of the header.
SIGNATURES = (
    "進出口別,".encode(),
    "\ufeff進出口別,".encode(),
    "進出口別,".encode("cp950"),
)
HEADER = ("進出口別", "日期", "貨品號列", "中文貨名", "英文貨名", "國家", "美元(千元)")
COLUMNS = {
    "flow": "進出口別",
    "period_label": "日期",
    "hs_code": "貨品號列",
    "product_name_zh": "中文貨名",
    "product_name_en": "英文貨名",
    "partner_name": "國家",
    "value_text": "美元(千元)",
}
# 113年9月, 113年09月, 113年9月(初步值): ROC year, month, optional preliminary flag.
ROC_MONTH = r"^([0-9]{2,3})年([0-9]{1,2})月(\(初步值\))?$"
NUMBER = r"^[0-9]+(\.[0-9]+)?$"


def parse(con: duckdb.DuckDBPyConnection, file: DownloadFile, workdir: Path, into: str) -> None:
    """Parse one customs download file into the temporary table ``into``."""
    encoding = sniff_text_encoding(file, ("utf-8", "cp950"))
    text_path = utf8_copy(file, encoding, workdir)
    header = csv_columns(read_first_line(text_path), ",")
    check_header(file, header, HEADER)
    check_complete_last_line(file)
    read_csv_relation(con, file, text_path, list(COLUMNS), delimiter=",", into=f"{into}_text")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        SELECT
            trim(flow) AS flow,
            trim(period_label) AS period_label,
            regexp_extract(trim(period_label), '{ROC_MONTH}', 1) AS _roc_year,
            regexp_extract(trim(period_label), '{ROC_MONTH}', 2) AS _month,
            trim(period_label) LIKE '%(初步值)' AS is_preliminary,
            trim(hs_code) AS hs_code,
            product_name_zh,
            product_name_en,
            trim(partner_name) AS partner_name,
            trim(value_text) AS value_text,
            ? AS source_file,
            ?::DATE AS download_date,
            source_row
        FROM {into}_text
        """,
        [file.rel_path, file.download_date],
    )
    first_bad_row(
        con,
        into,
        file,
        [
            RowCheck("coalesce(flow, '') = ''", "'進出口別 (flow) is empty'"),
            RowCheck(
                "_roc_year = '' OR NOT (_month::INT BETWEEN 1 AND 12)",
                """'日期 "' || coalesce(period_label, '') || '" is not a ROC month such as 113年9月'""",
            ),
            RowCheck(
                "make_date(_roc_year::INT + 1911, _month::INT, 1) + INTERVAL 1 MONTH > download_date",
                """'日期 "' || period_label || '" ends after the download date ' || download_date
                || ': the file is in the wrong download folder, or the folder is misnamed'""",
            ),
            RowCheck(
                "NOT regexp_full_match(coalesce(hs_code, ''), '[0-9]{6,11}')",
                """'貨品號列 "' || coalesce(hs_code, '') || '" is not an HS code of digits'""",
            ),
            RowCheck("coalesce(partner_name, '') = ''", "'國家 (country) is empty'"),
            RowCheck(
                "value_text LIKE '-%' AND regexp_full_match(substr(value_text, 2), '[0-9]+(\\.[0-9]+)?')",
                """'value "' || value_text || '" in 美元(千元) is negative; trade values cannot be'""",
            ),
            RowCheck(
                f"NOT regexp_matches(coalesce(value_text, ''), '{NUMBER}')",
                """'value "' || coalesce(value_text, '') || '" in 美元(千元) is not a number'""",
            ),
        ],
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        SELECT
            flow, period_label,
            make_date(_roc_year::INT + 1911, _month::INT, 1) AS period_month,
            is_preliminary, hs_code, product_name_zh, product_name_en, partner_name,
            value_text::DOUBLE AS value_usd_thousand,
            source_file, download_date, source_row
        FROM {into}
        """
    )
    con.execute(f"DROP TABLE {into}_text")

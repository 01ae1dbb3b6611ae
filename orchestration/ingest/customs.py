"""Customs portal query export (財政部關務署 綜合查詢): monthly trade by flow, HS code, country.

Native layout: CSV, Big5 (CP950) or UTF-8 with or without a byte-order mark,
CRLF line ends, one header line, then one row per flow, ROC month, HS code and
country; the newest month carries ``(初步值)`` (preliminary).

The portal's full export (every code, every country, every month) runs to millions of
rows, so a file is read once, by DuckDB's parallel reader, straight into the raw table: one
``INSERT`` that dates the rows as it reads them; one ``UPDATE`` of one column numbers them.
They are then checked where they are, each distinct value once. Only when that pass comes out
short (a row failed a check, or a line was not one row) is the file read again, slowly, to
name the first fault and its line. A Big5 download is read the same way, as Latin-1, its text
made from each distinct value (large_files.py).
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb

from .checks import RowCheck, check_header, ends_after_download_sql, first_bad_row, refuse_unless_text
from .csv_reader import (
    NOT_UTF8_ERROR,
    Rejects,
    TextParts,
    check_every_line_read,
    csv_columns,
    read_csv_sql,
    reader_error,
    rejected_line_error,
    utf8_parts,
)
from .encoding import quick_text_encoding, sniff_text_encoding
from .files import DownloadFile
from .large_files import LATIN1, Big5Columns, as_latin1, sample_rows, transcode_with_python
from .number_check import is_number_sql, value_checks
from .scanning import FileScan, scan_in_background
from .spec import SourceSpec

SPEC = SourceSpec(
    source="customs",
    table="customs_trade",
    file_patterns=("綜合查詢_*.csv",),
    description="a Customs portal query export (綜合查詢)",
    asset_description="Customs portal exports (財政部關務署 綜合查詢): Taiwan's trade by flow, HS code and country.",
    key=("flow", "hs_code", "partner_name", "period_month"),
    value_column="value_usd_thousand",
    period_column="period_month",
    # How the file's first bytes look (UTF-8 with or without BOM, or Big5): the start of the header.
    signatures=(
        "進出口別,".encode(),
        "\ufeff進出口別,".encode(),
        "進出口別,".encode("cp950"),
    ),
)
# For readers of PARSERS[source].TABLE; the spec says it.
TABLE = SPEC.table
ENCODINGS = ("utf-8", "cp950")
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
# The raw table: its columns, in order, and their types.
SCHEMA = (
    ("flow", "VARCHAR"),
    ("period_label", "VARCHAR"),
    ("period_month", "DATE"),
    ("is_preliminary", "BOOLEAN"),
    ("hs_code", "VARCHAR"),
    ("product_name_zh", "VARCHAR"),
    ("product_name_en", "VARCHAR"),
    ("partner_name", "VARCHAR"),
    ("value_usd_thousand", "DOUBLE"),
    ("source_file", "VARCHAR"),
    ("download_date", "DATE"),
    ("source_row", "BIGINT"),
)
# 113年9月, 113年09月, 113年9月(初步值): ROC year, month, optional preliminary flag.
ROC_MONTH = r"^([0-9]{2,3})年([0-9]{1,2})月(\(初步值\))?$"
# The portal's codes: HS (6 digits), tariff (8) or CCC (11). A code of 5, 7 or 10 digits is one
# whose leading zero was lost (a CSV opened and saved in Excel): named so in the message.
HS_CODE = "(?:[0-9]{6}|[0-9]{8}|[0-9]{11})"


def roc_period_sql(label: str) -> str:
    """SQL: the struct ``roc`` (year, month, preliminary) of a period label, as text parts."""
    return f"regexp_extract({label}, '{ROC_MONTH}', ['year', 'month', 'preliminary'])"


# SQL: the first day of the month of ``roc``; NULL when it is not a ROC month.
PERIOD_MONTH_SQL = """CASE WHEN roc.year <> '' AND TRY_CAST(roc.month AS INT) BETWEEN 1 AND 12
    THEN make_date(TRY_CAST(roc.year AS INT) + 1911, TRY_CAST(roc.month AS INT), 1) END"""
# The same for a label such as the portal writes it, cheaply, row by row in the fast pass (a
# year of any digits, ``%m`` with or without its zero). Whatever it makes of a label is checked
# against :data:`PERIOD_MONTH_SQL` once per distinct label (:func:`_fast_rows_clean`).
FAST_PERIOD_MONTH_SQL = """CAST(try_strptime(period_label, ['%Y年%m月', '%Y年%m月(初步值)'])
    + INTERVAL 1911 YEAR AS DATE)"""
FAST_PRELIMINARY_SQL = "ends_with(period_label, '(初步值)')"
SKIP_LINES = 1
# The columns that hold Big5 text in a Big5 download, looked up (the product's name by its HS
# code); and those that hold mostly ASCII, loaded as read and decoded afterwards where they are
# not (the others are digits).
BIG5_TEXT = ("flow", "period_label", "product_name_zh", "partner_name")
BIG5_KEYED = {"product_name_zh": "hs_code"}
BIG5_MOSTLY_ASCII = ("product_name_en",)

# The old-style checks (one message each), run only to explain a file the fast pass refused.
ROW_CHECKS = [
    RowCheck("coalesce(flow, '') = ''", "'進出口別 (flow) is empty'"),
    RowCheck(
        "_roc_year = '' OR NOT (_month::INT BETWEEN 1 AND 12)",
        """'日期 "' || coalesce(period_label, '') || '" is not a ROC month such as 113年9月'""",
    ),
    RowCheck(
        "make_date(_roc_year::INT + 1911, _month::INT, 1) + INTERVAL 1 MONTH > download_date",
        ends_after_download_sql("""'日期 "' || period_label || '"'"""),
    ),
    RowCheck(
        "regexp_full_match(coalesce(hs_code, ''), '[1-9]([0-9]{4}|[0-9]{6}|[0-9]{9})')",
        """'貨品號列 "' || hs_code || '" has ' || length(hs_code) || ' digits: an HS code of '
        || (length(hs_code) + 1) || ' digits that lost its leading zero (Excel drops it when the '
        || 'file is opened and saved); use the file as the portal wrote it, or download it again'""",
    ),
    RowCheck(
        "regexp_full_match(coalesce(hs_code, ''), '[0-9.]+[Ee][+][0-9]+')",
        """'貨品號列 "' || hs_code || '" is a number Excel rewrote in scientific notation; use the '
        || 'file as the portal wrote it, or download it again'""",
    ),
    RowCheck(
        f"NOT regexp_full_match(coalesce(hs_code, ''), '{HS_CODE}')",
        """'貨品號列 "' || coalesce(hs_code, '') || '" is not an HS code of digits'""",
    ),
    RowCheck("coalesce(partner_name, '') = ''", "'國家 (country) is empty'"),
    *value_checks("value_text", "'in 美元(千元)'"),
]


def create_table_sql(table: str) -> str:
    return f"CREATE TABLE IF NOT EXISTS {table} (" + ", ".join(f"{c} {t}" for c, t in SCHEMA) + ")"


def _header(file: DownloadFile, head: bytes, encoding: str) -> list[str]:
    end = head.find(b"\n")
    line = head[: end if end >= 0 else len(head)].decode(encoding, errors="strict")
    return csv_columns(line.removeprefix("\ufeff").rstrip("\r\n"), ",")


def _check_query_by_country(file: DownloadFile, header: list[str]) -> None:
    """The portal's 合計 query (country = 合計) has every column but 國家: say to query by country."""
    found = [c.strip() for c in header]
    if "國家" not in found and found == [c for c in HEADER if c != "國家"]:
        raise file.error(
            "line 1",
            "this is a query of the total over all countries (國家 = 合計: the header has no 國家 "
            "column); query again by country (國家: each country), monthly, and download that",
        )


def insert(
    con: duckdb.DuckDBPyConnection, file: DownloadFile, workdir: Path, table: str
) -> tuple[FileScan, int]:
    """Read one customs download into ``table`` (which has :data:`SCHEMA`): its scan and its rows.

    Raises :class:`IngestError` naming the first fault; the caller's transaction is then
    to be rolled back (rows of the file may have been inserted before the fault was found).
    """
    refuse_unless_text(file, SPEC.description, "the query's CSV file (下載 CSV)")
    encoding, head = quick_text_encoding(file, ENCODINGS)
    try:
        header = _header(file, head, encoding)
    except UnicodeDecodeError:
        sniff_text_encoding(file, ENCODINGS)  # names the line and the bytes
        raise
    _check_query_by_country(file, header)
    check_header(file, header, HEADER)
    if encoding == "utf-8":
        stop = threading.Event()
        scanning = scan_in_background(file.path, stop)
        try:
            inserted = _insert_text(con, file, utf8_parts(file.path), table, encoding, scanning.result)
        finally:
            stop.set()
        return scanning.result(), inserted
    # Big5: read as Latin-1 and looked up (see large_files.py), beside the scan of the file.
    stop = threading.Event()
    scanning = scan_in_background(file.path, stop)
    try:
        inserted = _insert_big5_fast(con, file, table, scanning.result)
        if inserted is not None:
            return scanning.result(), inserted
    finally:
        stop.set()
    # Not clean: transcoded by Python's codec and read the exact way, which names the fault.
    con.execute(f"DELETE FROM {table} WHERE source_file = ?", [file.rel_path])
    text, scan = transcode_with_python(file, encoding, workdir, ENCODINGS)
    return scan, _insert_text(con, file, text, table, encoding, lambda: scan)


def _insert_big5_fast(
    con: duckdb.DuckDBPyConnection, file: DownloadFile, table: str, scan: Callable[[], FileScan]
) -> int | None:
    """The fast pass over a Big5 download, read as Latin-1: its rows, or None when it is not clean.

    The text columns' values are looked up (:class:`Big5Columns`: values sampled across the
    file, each decoded once by Python's cp950 codec), and those the samples missed decoded
    afterwards, once each. None (the rows it inserted are left, for the caller to remove) when
    a line is not a row, a value is not Big5 or a row is not as the exact checks would have it.
    """
    field = {c: i for i, c in enumerate(COLUMNS)}
    rows = sample_rows(file.path, len(HEADER))
    keyed = {c: (field[c], key, field[key]) for c, key in BIG5_KEYED.items()}
    plain = {c: field[c] for c in BIG5_TEXT if c not in keyed}
    rejects = Rejects(f"_ingest_{SPEC.source}_read")
    try:
        rejects.drop(con)
        big5 = Big5Columns(con, rows, plain, keyed)
        inserted = _insert_fast(con, file, utf8_parts(file.path), table, rejects, big5)
        rejected = rejects.first(con, utf8_parts(file.path))
    except duckdb.Error as exc:
        raise reader_error(file, exc, len(COLUMNS), ",") from exc
    lines = scan()
    if rejected is not None or not (inserted > 0 and inserted + SKIP_LINES == lines.lines):
        return None
    if not big5.fix_missed(con, table, f"{table}.source_file = ?", [file.rel_path], BIG5_TEXT, BIG5_MOSTLY_ASCII):
        return None
    _number_rows(con, file, table)
    return inserted if _fast_rows_clean(con, file, table, lines, "cp950") else None


def _insert_text(
    con: duckdb.DuckDBPyConnection,
    file: DownloadFile,
    text: TextParts,
    table: str,
    encoding: str,
    scan: Callable[[], FileScan],
) -> int:
    """The rows of ``text`` (the download as UTF-8) into ``table``; their count.

    The fast pass first; when it comes out short or a row is not as the exact checks would
    have it, the exact pass, which names the first fault.
    ``scan`` gives the scan of the download (its lines, its sample lines), waiting for it.
    """
    rejects = Rejects(f"_ingest_{SPEC.source}_read")
    try:
        rejects.drop(con)
        inserted = _insert_fast(con, file, text, table, rejects)
        rejected = rejects.first(con, text)
    except duckdb.Error as exc:
        raise reader_error(file, exc, len(COLUMNS), ",") from exc
    if rejected is not None:
        if rejected.error_type == NOT_UTF8_ERROR and encoding == "utf-8":
            # The whole-file check names the line and the bytes, as for any download.
            if sniff_text_encoding(file, ENCODINGS) != "utf-8":
                raise file.error(
                    None,
                    "the file starts as UTF-8 but is Big5 (CP950) further on: it mixes two "
                    "encodings; download it again",
                )
        raise rejected_line_error(file, rejected, len(COLUMNS), ",")
    lines = scan()
    complete = inserted > 0 and inserted + SKIP_LINES == lines.lines
    if complete:
        _number_rows(con, file, table)
    if complete and _fast_rows_clean(con, file, table, lines, encoding):
        return inserted
    # Not every line came through the fast pass: the exact pass decides, and explains.
    con.execute(f"DELETE FROM {table} WHERE source_file = ?", [file.rel_path])
    inserted = _insert_general(con, file, text, table)
    if inserted == 0 or inserted + SKIP_LINES != lines.lines:
        _explain_shortfall(con, file, text)
    return inserted


def _insert_fast(
    con: duckdb.DuckDBPyConnection,
    file: DownloadFile,
    text: TextParts,
    table: str,
    rejects: Rejects,
    big5: Big5Columns | None = None,
) -> int:
    """The one pass over a clean file: its rows into ``table`` as they are; their count.

    Clean means what the portal writes: no spaces around a field, periods such as 113年9月,
    values of digits. A row whose value is not is left out (the count comes out short);
    :func:`_fast_rows_clean` then checks the rows it kept. Either way the caller falls back to
    :func:`_insert_general`, so a row gets in only as the exact checks would have it.

    The file is read in parallel, so the rows come without their line: ``source_row`` is left
    empty for :func:`_number_rows` (a row number here, ``row_number() OVER ()`` or ``WITH
    ORDINALITY``, would have DuckDB read in one thread). The month and the preliminary flag
    come from the period's label by a cheap parse (:data:`FAST_PERIOD_MONTH_SQL`), checked
    afterwards once per distinct label. No join here (a join does not keep the file's order).
    When ``preserve_insertion_order`` is off, the rows are numbered as read (``WITH
    ORDINALITY``, in one thread).

    With ``big5``, ``text`` is a Big5 download, read as Latin-1, its text columns looked up.

    A line the reader cannot read as a row is left out too, and recorded in ``rejects``: the
    caller names the first such line.
    """
    ordered = bool(con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0])
    # Numbered as read: each part skips its first line, so the count runs on over the parts.
    source_row = "NULL" if ordered else f"ordinality + {text.first_lines[0] - 1}"
    reader = read_csv_sql(
        list(COLUMNS), ",", SKIP_LINES, "$path", ordinality=not ordered, rejects=rejects,
        encoding=LATIN1 if big5 else None,
    )
    texts = {c: (big5.sql(c, c) if big5 else c) for c in BIG5_TEXT}
    # The month from the label as read (as Latin-1 too: its words in Big5's bytes).
    month, preliminary = FAST_PERIOD_MONTH_SQL, FAST_PRELIMINARY_SQL
    if big5:
        for word in ("年", "月", "(初步值)"):
            month, preliminary = (e.replace(word, as_latin1(word).replace("'", "''")) for e in (month, preliminary))
    # The text columns by their names in the subquery: looked up (``<name>_text``) or as read.
    shown = {c: f"{c}_text" if c in texts else c for c in (*BIG5_TEXT, *BIG5_MOSTLY_ASCII)}
    columns = ", ".join(c for c, _ in SCHEMA)
    result = con.execute(
        f"""
        INSERT INTO {table} ({columns})
        SELECT
            {shown["flow"]}, {shown["period_label"]}, period_month, is_preliminary, hs_code,
            {shown["product_name_zh"]}, {shown["product_name_en"]}, {shown["partner_name"]},
            CAST(value_text AS DOUBLE), $source_file, $download_date::DATE, source_row
        FROM (
            SELECT
                {", ".join(f"{e} AS {c}_text" for c, e in texts.items())},
                {month} AS period_month, {preliminary} AS is_preliminary,
                {", ".join(BIG5_MOSTLY_ASCII)}, hs_code, value_text, ({source_row})::BIGINT AS source_row
            FROM {reader}
            WHERE {is_number_sql('value_text')}
        )
        """,
        {
            "path": [str(p) for p in text.paths],
            "source_file": file.rel_path,
            "download_date": file.download_date,
            **(big5.params() if big5 else {}),
        },
    )
    return result.fetchall()[0][0]


def _number_rows(con: duckdb.DuckDBPyConnection, file: DownloadFile, table: str) -> None:
    """``source_row`` of the rows the fast pass inserted, from the order they were inserted in.

    Called only when every line after the header became a row, so the n-th row inserted is
    line n + 1. The file's rows were all appended in this transaction (the loader removed any
    it had before), in file order (DuckDB keeps it: ``preserve_insertion_order``): their row
    ids run on from the first. One column of every row is updated; rows numbered as read
    (when insertion order is not kept) keep their numbers.
    """
    first = con.execute(f"SELECT min(rowid) FROM {table} WHERE source_file = ?", [file.rel_path]).fetchall()[0][0]
    con.execute(
        f"""UPDATE {table} SET source_row = rowid - $first + {SKIP_LINES + 1}
            WHERE source_file = $file AND source_row IS NULL""",
        {"file": file.rel_path, "first": first},
    )


def _fast_rows_clean(
    con: duckdb.DuckDBPyConnection,
    file: DownloadFile,
    table: str,
    scan: FileScan,
    encoding: str,
) -> bool:
    """The rows the fast pass kept are as the exact checks would keep them, at the right lines.

    Each distinct value is checked once (these columns hold few: two flows, a hundred months,
    a few hundred countries, the codes): flow and country not empty and without spaces
    around them, the code an HS code, and each period label's month and preliminary flag as
    :data:`PERIOD_MONTH_SQL` reads it, a month before the download's.
    Then the lines the scan took on its way (the first, a few in between, the last) must be
    the rows numbered so.
    """

    def bad_values(value: str, bad: str, extra: str = "") -> str:
        # The distinct values as a list, unnested: a filter on them is never pushed down to
        # every row, where a regular expression would run millions of times.
        return f"""(SELECT count(*) FROM (
                SELECT v{extra} FROM (SELECT unnest(list(DISTINCT {value})) AS v FROM {table}
                    WHERE source_file = $file))
            WHERE {bad})"""

    def text_bad(column: str, bad: str) -> str:
        return bad_values(f"coalesce({column}, '')", bad)

    checks = [
        text_bad("flow", "v = '' OR v <> trim(v)"),
        text_bad("partner_name", "v = '' OR v <> trim(v)"),
        text_bad("hs_code", f"NOT regexp_full_match(v, '{HS_CODE}')"),
        bad_values(
            "{'label': period_label, 'month': period_month, 'preliminary': is_preliminary}",
            f"""v.month IS NULL OR NOT v.month < $first_bad_month
                OR v.month IS DISTINCT FROM ({PERIOD_MONTH_SQL})
                OR v.preliminary IS DISTINCT FROM (roc.preliminary <> '')""",
            f", {roc_period_sql('v.label')} AS roc",
        ),
    ]
    bad = con.execute(
        "SELECT " + " + ".join(checks),
        {"file": file.rel_path, "first_bad_month": file.download_date.replace(day=1)},
    ).fetchall()[0][0]
    if bad:
        return False
    for line, raw in scan.samples:
        try:
            fields = csv_columns(raw.decode(encoding), ",")
        except (UnicodeDecodeError, csv.Error):
            return False
        row = con.execute(
            f"""SELECT flow, period_label, hs_code, partner_name, value_usd_thousand FROM {table}
                WHERE source_file = ? AND source_row = ?""",
            [file.rel_path, line],
        ).fetchall()
        expected = [fields[0], fields[1], fields[2], fields[5]] if len(fields) == len(HEADER) else None
        if len(row) != 1 or expected is None or list(row[0][:4]) != expected or row[0][4] != float(fields[6]):
            return False
    return True


def _insert_general(con: duckdb.DuckDBPyConnection, file: DownloadFile, text: TextParts, table: str) -> int:
    """Every row of the file that passes every check, converted, into ``table``; their count.

    The checks and conversions of :data:`ROW_CHECKS`, row by row (trim, regular expressions):
    exact for any file, but three times the work of :func:`_insert_fast`.
    """
    columns = ", ".join(c for c, _ in SCHEMA)
    first_bad_month = file.download_date.replace(day=1)
    result = con.execute(
        f"""
        INSERT INTO {table} ({columns})
        WITH text_rows AS (
            SELECT
                trim(flow) AS flow,
                trim(period_label) AS period_label,
                {roc_period_sql("trim(period_label)")} AS roc,
                trim(hs_code) AS hs_code,
                product_name_zh,
                product_name_en,
                trim(partner_name) AS partner_name,
                trim(value_text) AS value_text,
                (ordinality + {SKIP_LINES})::BIGINT AS source_row
            FROM {read_csv_sql(list(COLUMNS), ",", SKIP_LINES)}
        ),
        converted AS (
            SELECT
                *,
                {PERIOD_MONTH_SQL} AS period_month
            FROM text_rows
        )
        SELECT
            flow, period_label, period_month, roc.preliminary <> '' AS is_preliminary, hs_code,
            product_name_zh, product_name_en, partner_name,
            CAST(value_text AS DOUBLE), ?, ?::DATE, source_row
        FROM converted
        WHERE coalesce(flow, '') <> ''
            AND period_month < ?::DATE
            AND regexp_full_match(coalesce(hs_code, ''), '{HS_CODE}')
            AND coalesce(partner_name, '') <> ''
            AND {is_number_sql("coalesce(value_text, '')")}
        """,
        [[str(p) for p in text.paths], file.rel_path, file.download_date, first_bad_month],
    )
    return result.fetchall()[0][0]


def _explain_shortfall(con: duckdb.DuckDBPyConnection, file: DownloadFile, text: TextParts) -> None:
    """The fast pass kept fewer rows than the file has lines: read it again to say why.

    In the order the checks always ran: a line that is not one row (an empty line, a quote
    that does not close), no rows at all, then the first row (by line) that fails a check.
    Returns quietly when nothing is wrong (empty lines at the very end of a file).
    """
    view = f"_ingest_{SPEC.source}_explain"
    reader = read_csv_sql(list(COLUMNS), ",", SKIP_LINES, text.sql_list())
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP VIEW {view}_text AS
            SELECT * EXCLUDE (ordinality), (ordinality + {SKIP_LINES})::BIGINT AS source_row FROM {reader}
            """
        )
        # Lines are counted and looked at in the download itself (a Big5 byte is never a line
        # break, a tab or a space, so its lines are those of the UTF-8 text).
        check_every_line_read(con, file, file.path, f"{view}_text", list(COLUMNS), SKIP_LINES)
        if con.execute(f"SELECT count(*) FROM {view}_text").fetchall()[0][0] == 0:
            raise file.error(
                f"line {SKIP_LINES + 1}",
                "the file has no data rows after the header: the export came out empty; download it again",
            )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP VIEW {view} AS
            SELECT
                trim(flow) AS flow,
                trim(period_label) AS period_label,
                regexp_extract(trim(period_label), '{ROC_MONTH}', 1) AS _roc_year,
                regexp_extract(trim(period_label), '{ROC_MONTH}', 2) AS _month,
                trim(hs_code) AS hs_code,
                trim(partner_name) AS partner_name,
                trim(value_text) AS value_text,
                DATE '{file.download_date.isoformat()}' AS download_date,
                source_row
            FROM {view}_text
            """
        )
        first_bad_row(con, view, file, ROW_CHECKS)
    finally:
        con.execute(f"DROP VIEW IF EXISTS {view}")
        con.execute(f"DROP VIEW IF EXISTS {view}_text")

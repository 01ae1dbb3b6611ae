"""US Census Bureau international trade API: US general imports of one HS code, by partner and month.

Native form: the API's answer, saved as it came, to

    GET https://api.census.gov/data/timeseries/intltrade/imports/hs
        ?get=CTY_CODE,CTY_NAME,GEN_VAL_MO&I_COMMODITY=847150&COMM_LVL=HS6
        &time=from 2016-01 to 2016-12

(the fetch job saves one answer a year asked, ``census_imports_<hs>_<year>.json``; a person may
save one answer of any span). As the Census Bureau's guide to its trade datasets documents it,
an answer is a JSON array of arrays: the first the header (the variables asked for, then the
predicates the API echoes, here ``I_COMMODITY``, ``COMM_LVL`` and ``time``; ``YEAR`` and
``MONTH`` where asked for instead of ``time``), then one row a partner and month, every value
a string. ``GEN_VAL_MO`` is the month's general imports in US$. Beside the countries (four-digit
Schedule C codes, ``5830`` TAIWAN) the rows hold the groupings: ``TOTAL FOR ALL COUNTRIES``
(``CTY_CODE`` ``-``: the total), regions (``5XXX`` ASIA …) and trade groups (``0003`` EUROPEAN
UNION …); the partner_names_census seed says which is which, so that each country counts once
and the total comes from the total row. A month with no trade has no row.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import duckdb

from .checks import ends_after_download, refuse_unless_text
from .files import DownloadFile
from .json_answer import AnswerError, decode, kind_of
from .number_check import NUMBER, TRADE_VALUES, is_negative, negative_message, not_a_number_message
from .rows import columns_sql, load_rows
from .spec import SourceSpec

SPEC = SourceSpec(
    source="census",
    table="census_us_imports",
    file_patterns=("census_*.json",),
    description="a US Census Bureau international trade API answer",
    asset_description=(
        "US Census Bureau international trade API (imports/hs): US general imports of the product "
        "by partner and month, as the fetch job (or a person) saved the answers."
    ),
    key=("hs_code", "cty_code", "period_month"),
    value_column="value_usd",
    period_column="period_month",
    row_label="row",
    signatures=(b'[["',),
    optional=True,
)
TABLE = SPEC.table

# The table's columns (an empty table, before any download, has them too).
COLUMNS = (
    ("hs_code", "VARCHAR"),
    ("cty_code", "VARCHAR"),
    ("cty_name", "VARCHAR"),
    ("period_label", "VARCHAR"),
    ("period_month", "DATE"),
    ("value_usd", "DOUBLE"),
    ("source_file", "VARCHAR"),
    ("download_date", "DATE"),
    ("source_row", "BIGINT"),
)
# An answer of the API for one product is a few megabytes: far more is no such answer.
MAX_BYTES = 256 << 20

# The variables an answer must hold; the month is ``time`` (YYYY-MM), or YEAR and MONTH.
REQUIRED = ("CTY_CODE", "CTY_NAME", "GEN_VAL_MO", "I_COMMODITY")
TOTAL_CODE = "-"
TOTAL_NAME = "TOTAL FOR ALL COUNTRIES"
MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
HS = re.compile(r"^[0-9]{2,10}$")


def create_table_sql(table: str) -> str:
    return f"CREATE TABLE IF NOT EXISTS {table} ({columns_sql(COLUMNS)})"


@dataclass(frozen=True)
class Record:
    """One row of an answer: a partner's (or grouping's) imports of a month."""

    row: int  # the row of the answer, the header being row 1
    cty_code: str
    cty_name: str
    hs_code: str
    period_label: str
    month: dt.date
    value: float | None  # None: no value given


def _month(text: str) -> dt.date | None:
    found = MONTH.match(text)
    if not found or not 1 <= int(found.group(2)) <= 12:
        return None
    return dt.date(int(found.group(1)), int(found.group(2)), 1)


def records(answer: object) -> list[Record]:
    """The rows of a decoded answer, checked against the documented shape; an
    :class:`AnswerError` naming the row and what is wrong otherwise."""
    if not isinstance(answer, list):
        raise AnswerError(
            f"expected a JSON array of rows (the first the header), found {kind_of(answer)}"
        )
    if not answer:
        raise AnswerError("the answer is an empty array: no header, no rows")
    header = answer[0]
    if not isinstance(header, list) or not all(isinstance(h, str) for h in header):
        raise AnswerError("the first row is not the header (an array of variable names)", "row 1")
    missing = [c for c in REQUIRED if c not in header]
    has_time = "time" in header
    if not has_time and not ("YEAR" in header and "MONTH" in header):
        missing.append("time (or YEAR and MONTH)")
    if missing:
        raise AnswerError(
            "the header lacks " + ", ".join(missing) + f" (it has {', '.join(header)}): ask with "
            "get=CTY_CODE,CTY_NAME,GEN_VAL_MO, I_COMMODITY=<HS code> and time=…",
            "row 1",
        )
    # A variable both asked for and used as a predicate is echoed twice: the first counts.
    at = {name: header.index(name) for name in set(header)}
    found: list[Record] = []
    for n, row in enumerate(answer[1:], start=2):
        where = f"row {n}"
        if not isinstance(row, list):
            raise AnswerError(f"expected an array of values, found {kind_of(row)}", where)
        if len(row) != len(header):
            raise AnswerError(f"the row has {len(row)} values, the header {len(header)} names", where)
        bad = next((i for i, v in enumerate(row) if v is not None and not isinstance(v, str)), None)
        if bad is not None:
            raise AnswerError(
                f"{header[bad]} is {kind_of(row[bad])}; the API gives every value as a string", where
            )
        code = (row[at["CTY_CODE"]] or "").strip()
        if not code:
            raise AnswerError("CTY_CODE is empty", where)
        hs = (row[at["I_COMMODITY"]] or "").strip()
        if not HS.match(hs):
            raise AnswerError(f'I_COMMODITY "{hs}" is not an HS code', where)
        if has_time:
            label = (row[at["time"]] or "").strip()
        else:
            label = f"{(row[at['YEAR']] or '').strip()}-{(row[at['MONTH']] or '').strip().zfill(2)}"
        month = _month(label)
        if month is None:
            raise AnswerError(f'the month "{label}" is not a month YYYY-MM', where)
        text = (row[at["GEN_VAL_MO"]] or "").strip()
        value = None
        if text:
            if is_negative(text):
                raise AnswerError(negative_message(text, "in GEN_VAL_MO", TRADE_VALUES), where)
            if NUMBER.match(text) is None or "," in text:
                raise AnswerError(not_a_number_message(text, "in GEN_VAL_MO"), where)
            value = float(text)
        name = (row[at["CTY_NAME"]] or "").strip()
        found.append(Record(n, code, name, hs, label, month, value))
    return found


def has_total(found: list[Record]) -> bool:
    """Whether an answer holds the total row (TOTAL FOR ALL COUNTRIES)."""
    return any(r.cty_code == TOTAL_CODE or r.cty_name.upper() == TOTAL_NAME for r in found)


def parse(con: duckdb.DuckDBPyConnection, file: DownloadFile, workdir, into: str) -> None:
    """Parse one saved answer into the temporary table ``into``, one row per partner and month."""
    refuse_unless_text(file, SPEC.description, "the API's JSON answer")
    if file.path.stat().st_size > MAX_BYTES:
        raise file.error(
            None, f"the file is larger than {MAX_BYTES >> 20} MB; an answer for one product is a few MB"
        )
    try:
        found = records(decode(file.path.read_bytes()))
    except AnswerError as exc:
        raise file.error(exc.where, exc.message) from None
    if not found:
        raise file.error(None, "the answer holds a header and no rows: save an answer that has data")
    if not has_total(found):
        raise file.error(
            None,
            f"has no {TOTAL_NAME} row (CTY_CODE {TOTAL_CODE}): the total is needed for the shares; "
            "ask for every partner (no CTY_CODE predicate)",
        )
    late = next((r for r in found if r.month >= file.download_date.replace(day=1)), None)
    if late is not None:
        raise file.error(f"row {late.row}", ends_after_download(f'month "{late.period_label}"', file.download_date))
    values = {
        "hs_code": [r.hs_code for r in found],
        "cty_code": [r.cty_code for r in found],
        "cty_name": [r.cty_name for r in found],
        "period_label": [r.period_label for r in found],
        "period_month": [r.month for r in found],
        "value_usd": [r.value for r in found],
        "source_row": [r.row for r in found],
    }
    # a row without a value is no trade that month, as a cell left empty
    load_rows(con, into, file, COLUMNS, values, keep="value_usd IS NOT NULL")

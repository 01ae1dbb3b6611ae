"""UN Comtrade API: every reporter's exports of one HS code to the World, by year.

Native form: the API's answer, saved as it came, to

    GET https://comtradeapi.un.org/data/v1/get/C/A/HS            (with a subscription key)
    GET https://comtradeapi.un.org/public/v1/preview/C/A/HS      (without: at most 500 records)
        ?cmdCode=847150&flowCode=X&partnerCode=0&partner2Code=0&customsCode=C00&motCode=0
        &period=2023&includeDesc=true

(the fetch job saves one answer a year asked, ``comtrade_exports_<hs>_<year>.json``). As the
API documents it (and UN Comtrade's own client, comtradeapicall, reads it) an answer is a JSON
object whose ``data`` (``elements`` in some answers) is the list of records and ``count`` their
number; each record is an object of the API's fields: ``reporterCode`` (UN Comtrade's numeric
code: M49 with its own codes for a few reporters, 490 "Other Asia, nes" for Taiwan, 842 USA,
97 the European Union), ``reporterISO`` and ``reporterDesc`` (with includeDesc), ``period``
(the year), ``flowCode`` (X exports), ``partnerCode`` (0 World), ``cmdCode``, ``freqCode``
(A annual), ``partner2Code``, ``customsCode``, ``motCode`` (the totals: 0, C00, 0) and
``primaryValue`` (US$; FOB for exports). The partner_names_comtrade seed maps reporter codes
to ISO codes and says which are groupings (the EU): Table 3's world total is the sum of the
countries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from .checks import ends_after_download, refuse_unless_text
from .files import DownloadFile
from .json_answer import AnswerError, decode, kind_of
from .rows import columns_sql, load_rows
from .spec import SourceSpec

SPEC = SourceSpec(
    source="comtrade",
    table="comtrade_exporters",
    file_patterns=("comtrade_*.json",),
    description="a UN Comtrade API answer",
    asset_description=(
        "UN Comtrade API (data/v1/get/C/A/HS): every reporter's exports of the product to the World "
        "by year, as the fetch job (or a person) saved the answers."
    ),
    key=("hs_code", "flow", "reporter_code", "period_year"),
    value_column="value_usd",
    period_column="period_year",
    row_label="record",
    signatures=(b'{"',),
    optional=True,
)
TABLE = SPEC.table

COLUMNS = (
    ("hs_code", "VARCHAR"),
    ("flow", "VARCHAR"),
    ("reporter_code", "VARCHAR"),
    ("reporter_iso", "VARCHAR"),
    ("reporter_desc", "VARCHAR"),
    ("period_year", "INTEGER"),
    ("period_label", "VARCHAR"),
    ("value_usd", "DOUBLE"),
    ("source_file", "VARCHAR"),
    ("download_date", "DATE"),
    ("source_row", "BIGINT"),
)
MAX_BYTES = 256 << 20
FLOWS = {"X": "export", "M": "import"}
# The fields a record must have.
REQUIRED = ("reporterCode", "period", "flowCode", "partnerCode", "cmdCode", "primaryValue")
# The breakdowns a record must be the total of, where the answer has them.
TOTALS = {"partner2Code": (0,), "customsCode": ("C00",), "motCode": (0,)}
YEAR = re.compile(r"^[0-9]{4}$")
HS = re.compile(r"^[0-9]{2,10}$")


def create_table_sql(table: str) -> str:
    return f"CREATE TABLE IF NOT EXISTS {table} ({columns_sql(COLUMNS)})"


@dataclass(frozen=True)
class Record:
    """One record of an answer: a reporter's exports (or imports) of a year, to the World."""

    row: int  # the record's place in the answer's list, from 1
    reporter_code: str
    reporter_iso: str | None
    reporter_desc: str | None
    flow: str
    hs_code: str
    year: int
    value: float | None


@dataclass(frozen=True)
class Answer:
    records: list[Record]
    count: int | None  # the answer's own count, where it gives one


def _records_list(answer: object) -> tuple[list, int | None]:
    if not isinstance(answer, dict):
        raise AnswerError(f"expected a JSON object with the records under data, found {kind_of(answer)}")
    error = answer.get("error")
    if isinstance(error, str) and error.strip():
        raise AnswerError(f"the API answered with an error: {error.strip()}")
    if "statusCode" in answer and "data" not in answer and "elements" not in answer:
        said = f"{answer.get('statusCode')} {answer.get('message', '')}".strip()
        raise AnswerError(f"the API answered with an error: {said}")
    key = "data" if "data" in answer else "elements" if "elements" in answer else None
    if key is None:
        raise AnswerError(f"the answer has no data (its fields: {', '.join(map(str, answer)) or 'none'})")
    rows = answer[key]
    if rows is None:
        rows = []
    if not isinstance(rows, list):
        raise AnswerError(f"{key} is {kind_of(rows)}, not a list of records")
    count = answer.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
        raise AnswerError(f"count is {kind_of(count)}, not a number")
    if count is not None and count > len(rows):
        raise AnswerError(
            f"the answer holds {len(rows)} of the {count} records it counts: it was cut at the API's "
            "limit (the keyless preview gives 500 at most); ask for less at a time, or with a key"
        )
    if count is not None and count < len(rows):
        raise AnswerError(f"the answer holds {len(rows)} records but counts {count}")
    return rows, count


def answer(decoded: object) -> Answer:
    """The records of a decoded answer, checked against the documented shape; an
    :class:`AnswerError` naming the record and what is wrong otherwise."""
    rows, count = _records_list(decoded)
    found: list[Record] = []
    for n, row in enumerate(rows, start=1):
        where = f"record {n}"
        if not isinstance(row, dict):
            raise AnswerError(f"expected an object of fields, found {kind_of(row)}", where)
        missing = [f for f in REQUIRED if f not in row]
        if missing:
            raise AnswerError(f"the record lacks {', '.join(missing)}", where)
        if row.get("freqCode", "A") != "A":
            raise AnswerError(f'freqCode is "{row.get("freqCode")}": a yearly answer (A) is expected', where)
        if row["partnerCode"] != 0:
            raise AnswerError(
                f"partnerCode is {row['partnerCode']!r}: the exporters list is each reporter's trade with "
                "the World, partnerCode 0",
                where,
            )
        for field, totals in TOTALS.items():
            if field in row and row[field] is not None and row[field] not in totals:
                raise AnswerError(
                    f"{field} is {row[field]!r}, a breakdown: ask for the totals "
                    "(partner2Code=0, customsCode=C00, motCode=0)",
                    where,
                )
        flow = row["flowCode"]
        if flow not in FLOWS:
            raise AnswerError(f'flowCode "{flow}" is neither X (exports) nor M (imports)', where)
        reporter = row["reporterCode"]
        if isinstance(reporter, bool) or not isinstance(reporter, (int, str)) or not str(reporter).strip().isdigit():
            raise AnswerError(f"reporterCode {reporter!r} is not a numeric code", where)
        hs = str(row["cmdCode"]).strip()
        if not HS.match(hs):
            raise AnswerError(f'cmdCode "{hs}" is not an HS code', where)
        period = str(row["period"]).strip()
        if not YEAR.match(period):
            raise AnswerError(f'period "{period}" is not a year', where)
        value = row["primaryValue"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise AnswerError(f"primaryValue is {kind_of(value)}, not a number", where)
        if value is not None and value < 0:
            raise AnswerError(f"primaryValue {value} is negative; trade values cannot be", where)
        iso = row.get("reporterISO")
        desc = row.get("reporterDesc")
        found.append(
            Record(
                n,
                str(int(str(reporter).strip())),
                iso if isinstance(iso, str) else None,
                desc if isinstance(desc, str) else None,
                FLOWS[flow],
                hs,
                int(period),
                None if value is None else float(value),
            )
        )
    return Answer(found, count)


def parse(con: duckdb.DuckDBPyConnection, file: DownloadFile, workdir, into: str) -> None:
    """Parse one saved answer into the temporary table ``into``, one row per reporter and year."""
    refuse_unless_text(file, SPEC.description, "the API's JSON answer")
    if file.path.stat().st_size > MAX_BYTES:
        raise file.error(
            None, f"the file is larger than {MAX_BYTES >> 20} MB; an answer for one product is a few MB"
        )
    try:
        found = answer(decode(file.path.read_bytes())).records
    except AnswerError as exc:
        raise file.error(exc.where, exc.message) from None
    if not found:
        raise file.error(None, "the answer holds no records: save an answer that has data")
    late = next((r for r in found if r.year >= file.download_date.year), None)
    if late is not None:
        raise file.error(f"record {late.row}", ends_after_download(f"year {late.year}", file.download_date))
    values = {
        "hs_code": [r.hs_code for r in found],
        "flow": [r.flow for r in found],
        "reporter_code": [r.reporter_code for r in found],
        "reporter_iso": [r.reporter_iso for r in found],
        "reporter_desc": [r.reporter_desc for r in found],
        "period_year": [r.year for r in found],
        "period_label": [str(r.year) for r in found],
        "value_usd": [r.value for r in found],
        "source_row": [r.row for r in found],
    }
    # a record without a value gives none (the reporter reported no value)
    load_rows(con, into, file, COLUMNS, values, keep="value_usd IS NOT NULL")

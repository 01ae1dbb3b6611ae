"""The US Census Bureau's international trade API: US imports of the product, by partner and month.

What it asks (``imports/hs``, general imports ``GEN_VAL_MO`` by ``CTY_CODE``/``CTY_NAME``, for
one HS code at the HS6 level), one request a year from January of the first year to the last month that is over
(the API takes a span, ``time=from 2016-01 to 2016-12``; a year of one product is a few hundred
rows, so a year is a page), and the answers saved as they came, one file a year:
``census_imports_<hs>_<year>.json``. An answer is checked with the parser's own reading of it
(:func:`orchestration.ingest.census.records`) before anything is written.

When an earlier download is there, its latest month tells the month to come: that month is
asked first, alone (``time=2024-09``), and an empty answer (the API's 204, or a header without
rows) means it is not released yet: nothing is fetched or written. The Census Bureau releases a
month about five weeks after its end, all of it at once.

A key (``CENSUS_API_KEY``) is optional: without one the API allows 500 requests a day, a fetch
makes about ten. It is sent as the ``key`` parameter and never shown or written.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..ingest import census as parser
from ..ingest.json_answer import AnswerError, decode
from .folder import latest_download
from .http import Answer, Client, FetchError, HttpSettings, NotReleasedYet

SOURCE = parser.SPEC.source
DEFAULT_URL = "https://api.census.gov"
URL_ENV = "BULLETIN_CENSUS_API_URL"
KEY_ENV = "CENSUS_API_KEY"
PATH = "/data/timeseries/intltrade/imports/hs"
GET = "CTY_CODE,CTY_NAME,GEN_VAL_MO"


@dataclass
class Fetched:
    """A fetch's answers, checked, and what they cover."""

    source: str
    files: dict[str, bytes] = field(default_factory=dict)
    first_period: str | None = None
    latest_period: str | None = None
    rows: int = 0
    requests: int = 0
    with_key: bool = False
    urls: list[str] = field(default_factory=list)
    empty_pages: list[str] = field(default_factory=list)


def base_url() -> str:
    return os.environ.get(URL_ENV) or DEFAULT_URL


def client(settings: HttpSettings | None = None) -> Client:
    key = os.environ.get(KEY_ENV, "").strip()
    return Client(SOURCE, base_url(), settings, secret_params={"key": key} if key else None)


def params(hs_code: str, time: str) -> dict[str, str]:
    return {"get": GET, "I_COMMODITY": hs_code, "COMM_LVL": "HS6", "time": time}


def _records(answer: Answer) -> list[parser.Record]:
    """The rows of an answer (none when empty), or a FetchError naming the URL and the fault."""
    if answer.empty:
        return []
    try:
        found = parser.records(decode(answer.body))
    except AnswerError as exc:
        raise FetchError(f"{SOURCE}: {answer.url}: {exc}; nothing written") from None
    return found


def previous_latest(raw_dir: Path) -> dt.date | None:
    """The latest month of the newest census download under ``raw_dir`` (None: there is none)."""
    found = latest_download(raw_dir, SOURCE)
    if found is None:
        return None
    folder, files = found
    latest = None
    for path in files:
        try:
            months = [r.month for r in parser.records(decode(path.read_bytes())) if r.value is not None]
        except AnswerError as exc:
            raise FetchError(
                f"{SOURCE}: the newest download {folder.name} cannot be read ({path.name}: {exc}); "
                "fix or remove it first"
            ) from None
        if months:
            latest = max(latest or months[0], max(months))
    return latest


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def fetch(
    hs_code: str, first_year: int, raw_dir: Path, today: dt.date, settings: HttpSettings | None = None
) -> Fetched:
    """Ask the API for ``hs_code`` from January ``first_year`` to the latest month released.

    A :class:`NotReleasedYet` when the month after the newest download's latest is not in the
    API yet; a :class:`FetchError` (naming the URL, without the key) on any other fault."""
    previous = previous_latest(raw_dir)
    expected = _next_month(previous) if previous else None
    result = Fetched(SOURCE)
    with client(settings) as api:
        result.with_key = api.has_key
        if expected is not None:
            if expected >= today.replace(day=1):
                raise NotReleasedYet(
                    f"{SOURCE}: {expected:%Y-%m} is not released yet: the month is not over (the newest "
                    f"download covers to {previous:%Y-%m}, as new as it gets); nothing fetched"
                )
            probe = api.get(PATH, params(hs_code, f"{expected:%Y-%m}"))
            result.urls.append(probe.url)
            if not [r for r in _records(probe) if r.value is not None]:
                raise NotReleasedYet(
                    f"{SOURCE}: {expected:%Y-%m} is not released yet: the API has no data for it "
                    f"({probe.url} answered {'204 No Content' if probe.status == 204 else 'no rows'}); "
                    f"the newest download covers to {previous:%Y-%m}; nothing written"
                )
        # up to the last month that is over (a month is released weeks after its end)
        last_over = today.replace(day=1) - dt.timedelta(days=1)
        for year in range(first_year, last_over.year + 1):
            end = f"{year}-12" if year < last_over.year else f"{last_over:%Y-%m}"
            answer = api.get(PATH, params(hs_code, f"from {year}-01 to {end}"))
            result.urls.append(answer.url)
            found = _records(answer)
            if not found:
                result.empty_pages.append(str(year))
                continue
            _check_page(found, answer.url, hs_code, year)
            result.files[f"census_imports_{hs_code}_{year}.json"] = answer.body
            result.rows += len(found)
            months = sorted(r.month for r in found)
            result.first_period = result.first_period or f"{months[0]:%Y-%m}"
            result.latest_period = f"{months[-1]:%Y-%m}"
        result.requests = api.requests
    if not result.files:
        raise FetchError(
            f"{SOURCE}: the API has no data for HS {hs_code} from {first_year} on "
            f"(asked {', '.join(result.urls[-2:])} …); nothing written"
        )
    if expected is not None and result.latest_period < f"{expected:%Y-%m}":
        raise NotReleasedYet(
            f"{SOURCE}: {expected:%Y-%m} is not released yet (the API's latest month is "
            f"{result.latest_period}); nothing written"
        )
    return result


def _check_page(found: list[parser.Record], url: str, hs_code: str, year: int) -> None:
    """An answer holds the product and year asked for, and the total row."""
    other = next((r for r in found if r.hs_code != hs_code), None)
    if other is not None:
        raise FetchError(
            f"{SOURCE}: {url}: row {other.row} is for HS {other.hs_code}, not the {hs_code} asked for; nothing written"
        )
    outside = next((r for r in found if r.month.year != year), None)
    if outside is not None:
        raise FetchError(
            f"{SOURCE}: {url}: row {outside.row} is for {outside.period_label}, outside the year {year} asked "
            "for; nothing written"
        )
    if not parser.has_total(found):
        raise FetchError(
            f"{SOURCE}: {url}: the answer has no {parser.TOTAL_NAME} row (CTY_CODE {parser.TOTAL_CODE}); "
            "nothing written"
        )

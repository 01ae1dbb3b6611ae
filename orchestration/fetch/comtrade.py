"""UN Comtrade's API: every reporter's exports of the product to the World, by year.

What it asks: ``data/v1/get/C/A/HS`` with a subscription key (``COMTRADE_API_KEY``, sent as the
``Ocp-Apim-Subscription-Key`` header, never shown or written), else the keyless preview
``public/v1/preview/C/A/HS`` (at most 500 records an answer: a year of one product's exporters
is about two hundred); ``cmdCode`` the product, ``flowCode=X``, ``partnerCode=0`` (World) and
the totals of the breakdowns (``partner2Code=0``, ``customsCode=C00``, ``motCode=0``), one
request a year (the page) from the first year to last year, with ``includeDesc=true``. Each
answer is saved as it came, ``comtrade_exports_<hs>_<year>.json``, once the parser's own reading
(:func:`orchestration.ingest.comtrade.answer`) has checked it.

Countries report a year over the next one. The newest year counts as released once it has at
least half as many reporters as the year before (``RELEASED_SHARE``; fewer would show a world
total of a few countries, and the download checks would stop the refresh as a file cut
short); before that it is left out. When an earlier download is there, the year after its
latest is asked first: not released, and nothing else is asked or written.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from ..ingest import comtrade as parser
from ..ingest.json_answer import AnswerError, decode
from .census import Fetched
from .folder import latest_download
from .http import Answer, Client, FetchError, HttpSettings, NotReleasedYet

SOURCE = parser.SPEC.source
DEFAULT_URL = "https://comtradeapi.un.org"
URL_ENV = "BULLETIN_COMTRADE_API_URL"
KEY_ENV = "COMTRADE_API_KEY"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
PATH_WITH_KEY = "/data/v1/get/C/A/HS"
PATH_PREVIEW = "/public/v1/preview/C/A/HS"
PREVIEW_CAP = 500
# The newest year is released when it has at least this share of the year before's reporters.
RELEASED_SHARE = 0.5


def base_url() -> str:
    return os.environ.get(URL_ENV) or DEFAULT_URL


def client(settings: HttpSettings | None = None) -> Client:
    key = os.environ.get(KEY_ENV, "").strip()
    return Client(SOURCE, base_url(), settings, secret_headers={KEY_HEADER: key} if key else None)


def params(hs_code: str, year: int) -> dict[str, str]:
    return {
        "cmdCode": hs_code,
        "flowCode": "X",
        "partnerCode": "0",
        "partner2Code": "0",
        "customsCode": "C00",
        "motCode": "0",
        "period": str(year),
        "includeDesc": "true",
    }


@dataclass(frozen=True)
class _Page:
    year: int
    answer: Answer
    records: list[parser.Record]

    @property
    def reporters(self) -> int:
        return len({r.reporter_code for r in self.records if r.value is not None})


def _page(api: Client, path: str, hs_code: str, year: int) -> _Page:
    answer = api.get(path, params(hs_code, year))
    if answer.empty:
        return _Page(year, answer, [])
    try:
        found = parser.answer(decode(answer.body))
    except AnswerError as exc:
        raise FetchError(f"{SOURCE}: {answer.url}: {exc}; nothing written") from None
    if not api.has_key and len(found.records) >= PREVIEW_CAP:
        raise FetchError(
            f"{SOURCE}: {answer.url}: {len(found.records)} records, the keyless preview's limit: the answer "
            f"may be cut short; set {KEY_ENV}; nothing written"
        )
    other = next((r for r in found.records if r.hs_code != hs_code or r.year != year or r.flow != "export"), None)
    if other is not None:
        raise FetchError(
            f"{SOURCE}: {answer.url}: record {other.row} is for HS {other.hs_code}, {other.year}, {other.flow}s, "
            f"not the exports of HS {hs_code} in {year} asked for; nothing written"
        )
    return _Page(year, answer, found.records)


def previous(raw_dir: Path) -> tuple[int, dict[int, int]] | None:
    """The newest comtrade download's latest year and its reporters a year, or None."""
    found = latest_download(raw_dir, SOURCE)
    if found is None:
        return None
    folder, files = found
    reporters: dict[int, set[str]] = {}
    for path in files:
        try:
            records = parser.answer(decode(path.read_bytes())).records
        except AnswerError as exc:
            raise FetchError(
                f"{SOURCE}: the newest download {folder.name} cannot be read ({path.name}: {exc}); "
                "fix or remove it first"
            ) from None
        for r in records:
            if r.value is not None:
                reporters.setdefault(r.year, set()).add(r.reporter_code)
    if not reporters:
        return None
    return max(reporters), {year: len(codes) for year, codes in reporters.items()}


def _short(page: _Page, before: int | None) -> bool:
    """Whether a year's page holds too few reporters to count as released."""
    return before is not None and page.reporters < RELEASED_SHARE * before


def fetch(
    hs_code: str, first_year: int, raw_dir: Path, today: dt.date, settings: HttpSettings | None = None
) -> Fetched:
    """Ask the API for ``hs_code``'s exporters from ``first_year`` to the latest year released.

    A :class:`NotReleasedYet` when the year after the newest download's latest is not (enough)
    in the API yet; a :class:`FetchError` (naming the URL, without the key) on any other fault."""
    before = previous(raw_dir)
    expected = before[0] + 1 if before else None
    last_year = today.year - 1
    result = Fetched(SOURCE)
    pages: dict[int, _Page] = {}
    with client(settings) as api:
        result.with_key = api.has_key
        path = PATH_WITH_KEY if api.has_key else PATH_PREVIEW
        if expected is not None:
            if expected > last_year:
                raise NotReleasedYet(
                    f"{SOURCE}: {expected} is not released yet: the year is not over (the newest download "
                    f"covers to {before[0]}); nothing fetched"
                )
            probe = _page(api, path, hs_code, expected)
            result.urls.append(probe.answer.url)
            reported_before = before[1].get(expected - 1)
            if not probe.reporters:
                raise NotReleasedYet(
                    f"{SOURCE}: {expected} is not released yet: the API has no data for it ({probe.answer.url}); "
                    f"the newest download covers to {before[0]}; nothing written"
                )
            if _short(probe, reported_before):
                raise NotReleasedYet(
                    f"{SOURCE}: {expected} is not released yet: {probe.reporters} reporters so far, against "
                    f"{reported_before} for {expected - 1} ({probe.answer.url}); nothing written"
                )
            pages[expected] = probe
        for year in range(first_year, last_year + 1):
            if year in pages:
                continue
            page = _page(api, path, hs_code, year)
            result.urls.append(page.answer.url)
            pages[year] = page
        result.requests = api.requests
    years = [y for y in sorted(pages) if pages[y].records]
    # the newest years, while too few have reported, are not released yet: left out
    while len(years) >= 2 and _short(pages[years[-1]], pages[years[-2]].reporters):
        result.empty_pages.append(f"{years[-1]} ({pages[years[-1]].reporters} reporters so far)")
        years.pop()
    if not years:
        raise FetchError(
            f"{SOURCE}: the API has no data for HS {hs_code} from {first_year} to {last_year} "
            f"(asked {', '.join(result.urls[-2:])} …); nothing written"
        )
    for year in years:
        page = pages[year]
        result.files[f"comtrade_exports_{hs_code}_{year}.json"] = page.answer.body
        result.rows += len(page.records)
    result.empty_pages += [str(y) for y in sorted(pages) if not pages[y].records]
    result.first_period, result.latest_period = str(years[0]), str(years[-1])
    if expected is not None and years[-1] < expected:
        raise NotReleasedYet(
            f"{SOURCE}: {expected} is not released yet (the API's latest year with most reporters is "
            f"{years[-1]}); nothing written"
        )
    return result

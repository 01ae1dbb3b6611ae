"""Fetching what can be pulled: the sources with a public API, asked by the pipeline itself.

- ``census``: the US Census Bureau's international trade API (US imports by partner and month:
  what Table 2 can be built from instead of Global Trade Atlas).
- ``comtrade``: UN Comtrade's API (every reporter's exports by year: Table 3 instead of ITC
  Trade Map).
- ``http``: the HTTP client both use (timeouts, retries with backoff, rate limit, keys kept out
  of every message and file); ``folder``: the download folder, written all at once.

A fetch writes its answers as a new download folder, ``<raw>/<source>/<YYYY-MM-DD>/``, exactly
as a person's download lands; ingestion, vintages and revisions then treat it like any other.
The Dagster assets that run them are in ``orchestration/assets/fetch.py`` (group and job
``fetch``), ``make fetch`` runs that job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from . import census, comtrade
from .census import Fetched
from .folder import write_download
from .http import FetchError, HttpSettings, NoNetwork, NotReleasedYet

FETCHERS: dict[str, Callable[..., Fetched]] = {census.SOURCE: census.fetch, comtrade.SOURCE: comtrade.fetch}
# What each source's API is, for descriptions and messages.
APIS = {
    census.SOURCE: f"the US Census Bureau's international trade API ({census.PATH})",
    comtrade.SOURCE: f"UN Comtrade's API ({comtrade.PATH_WITH_KEY}, or {comtrade.PATH_PREVIEW} without a key)",
}
KEY_ENVS = {census.SOURCE: census.KEY_ENV, comtrade.SOURCE: comtrade.KEY_ENV}
URL_ENVS = {census.SOURCE: census.URL_ENV, comtrade.SOURCE: comtrade.URL_ENV}

__all__ = [
    "APIS",
    "FETCHERS",
    "FetchError",
    "Fetched",
    "HttpSettings",
    "NoNetwork",
    "NotReleasedYet",
    "fetch_download",
]


def fetch_download(
    source: str,
    hs_code: str,
    first_year: int,
    raw_dir: Path,
    today: dt.date | None = None,
    settings: HttpSettings | None = None,
) -> tuple[Fetched, Path]:
    """Ask ``source``'s API for the product and write the answers as today's download folder;
    what was fetched and the folder. Raises :class:`NotReleasedYet` when there is nothing new,
    :class:`FetchError` on any fault; either way nothing is written."""
    today = today or dt.date.today()
    fetched = FETCHERS[source](hs_code, first_year, raw_dir, today, settings)
    folder = write_download(raw_dir, source, today, fetched.files)
    return fetched, folder

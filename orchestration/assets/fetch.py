"""Fetching: one asset a source with a public API, each writing the API's answers as a new download folder.

The assets are the group and job ``fetch`` (``make fetch``; the monthly schedule
``monthly_fetch`` runs the job before the monthly refresh, see orchestration/automation.py).
Each asks its API for the product's series (``orchestration/fetch/``) and writes the answers as
``raw/<source>/<YYYY-MM-DD>/``, all at once; the new-download sensor then starts a refresh,
which reads the folder like any download. They write no warehouse and are no part of the
refresh job: a fetch that fails (no network, an API fault) leaves the raw folder as it was, and
the refresh of what is downloaded runs all the same.

When the month (or year) to come is not in the API yet, the asset materializes nothing: it
records an observation saying so ("not released yet") and the run succeeds.
"""


import functools

import dagster as dg
import yaml

from ..fetch import APIS, FETCHERS, KEY_ENVS, URL_ENVS, FetchError, NotReleasedYet, fetch_download
from ..ingest.sources import PARSERS
from ..settings import DBT_PROJECT_DIR, check_hs_code, raw_dir
from ..settings import hs_code as settings_hs_code
from .catalog import quiet_beta, with_code_references

FETCH_GROUP = "fetch"
FETCH_JOB = "fetch_downloads"


@functools.cache
def default_first_year() -> int:
    """The first year fetched: the year before dbt's ``first_year`` (the bulletin reads it for
    the first year's growth), from dbt_project.yml."""
    with (DBT_PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as f:
        return int(yaml.safe_load(f)["vars"]["first_year"]) - 1


class FetchConfig(dg.Config):
    """What a fetch asks for (empty: the product of BULLETIN_HS_CODE, else 847150, from the year
    before dbt_project.yml's first_year)."""

    hs_code: str | None = None
    first_year: int | None = None


def fetch_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["fetch", source])


def build_fetch_asset(source: str) -> dg.AssetsDefinition:
    key = fetch_key(source)
    spec = PARSERS[source].SPEC
    with quiet_beta():
        references = dg.CodeReferencesMetadataValue(
            code_references=[
                dg.LocalFileCodeReference(file_path=FETCHERS[source].__code__.co_filename),
                dg.LocalFileCodeReference(file_path=PARSERS[source].__file__),
            ]
        )

    @dg.asset(
        key=key,
        group_name=FETCH_GROUP,
        description=(
            f"Asks {APIS[source]} for the product's series and writes the answers as a new download "
            f"folder raw/{source}/<today>/ ({' or '.join(spec.file_patterns)}), all at once; nothing "
            f"when the period to come is not released yet. Base URL {URL_ENVS[source]}, key "
            f"{KEY_ENVS[source]} (optional; never shown or written)."
        ),
        kinds={"python"},
        output_required=False,
        metadata={"dagster/code_references": references},
    )
    def _fetch(context: dg.AssetExecutionContext, config: FetchConfig):
        product = check_hs_code(config.hs_code) if config.hs_code else settings_hs_code()
        first_year = config.first_year or default_first_year()
        try:
            fetched, folder = fetch_download(source, product, first_year, raw_dir())
        except NotReleasedYet as exc:
            context.log.info(str(exc))
            yield dg.AssetObservation(
                asset_key=key, metadata={"status": "not released yet", "message": str(exc), "hs_code": product}
            )
            return
        except FetchError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        rel = folder.relative_to(raw_dir()).as_posix()
        context.log.info(
            f"{source}: wrote {rel}/ ({len(fetched.files)} files, {fetched.first_period}..{fetched.latest_period})"
        )
        yield dg.MaterializeResult(
            metadata={
                "folder": f"{rel}/",
                "files": dg.MetadataValue.json(sorted(fetched.files)),
                "rows": fetched.rows,
                "hs_code": product,
                "first_period": fetched.first_period,
                "latest_period": fetched.latest_period,
                "requests": fetched.requests,
                "with_key": fetched.with_key,
                "left_out": dg.MetadataValue.json(fetched.empty_pages),
            }
        )

    _fetch.__name__ = f"fetch_{source}"
    return _fetch


fetch_assets = with_code_references([build_fetch_asset(source) for source in FETCHERS])
fetch_job = dg.define_asset_job(
    FETCH_JOB,
    selection=dg.AssetSelection.groups(FETCH_GROUP),
    description=(
        "Ask the APIs (US Census Bureau, UN Comtrade) for the product and write each answer as a new "
        "download folder; the new-download sensor then starts a refresh."
    ),
)

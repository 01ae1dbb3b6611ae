"""The Dagster code location: assets, checks, resources, jobs, schedule and sensor."""

from __future__ import annotations

import dagster as dg

from . import instance_storage
from .assets.catalog import owners, with_code_references
from .assets.dbt import bulletin_dbt_assets
from .assets.dbt_invocation import dbt_resource
from .assets.fetch import FETCH_GROUP, fetch_assets, fetch_job
from .assets.ingest import ingest_assets
from .assets.publish import publication_matches_manifest, published_bulletin
from .automation import monthly_fetch, monthly_refresh, new_download_sensor
from .settings import warehouse_path
from .warehouse import Warehouse, watch_failures

# The run history's SQLite files without an fsync per event (most of a refresh's time otherwise).
instance_storage.install()

warehouse = warehouse_path()
warehouse.parent.mkdir(parents=True, exist_ok=True)

refresh_job = dg.define_asset_job(
    "refresh_bulletin",
    # everything but the fetch (its own job, fetch_downloads): a refresh reads what is downloaded
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(FETCH_GROUP),
    description="Ingest every download, build the dbt models with their tests, publish the bulletin.",
)

# Every asset: its owner, the team that owns the bulletin (the owner of dbt's exposure
# published_bulletin), and a link to its code (the dbt assets' SQL or seed, from dagster-dbt;
# the Python assets' function, and an ingestion asset's parser).
assets = dg.map_asset_specs(
    lambda spec: spec.replace_attributes(owners=owners()),
    [*ingest_assets, bulletin_dbt_assets, *with_code_references([published_bulletin])],
)
# The fetch assets write no warehouse: a failed fetch never keeps a run's warehouse from going live.
fetching = dg.map_asset_specs(lambda spec: spec.replace_attributes(owners=owners()), fetch_assets)

defs = dg.Definitions(
    # The assets that write the warehouse say so themselves (op_tags=WRITES_WAREHOUSE); a
    # failed step keeps the run's writes from being made live (orchestration/warehouse.py).
    assets=[*watch_failures(assets), *fetching],
    asset_checks=[publication_matches_manifest],
    jobs=[refresh_job, fetch_job],
    schedules=[monthly_refresh, monthly_fetch],
    sensors=[new_download_sensor],
    resources={"warehouse": Warehouse(path=str(warehouse)), "dbt": dbt_resource()},
    # DuckDB allows one writing process at a time: steps run one after another, in one process.
    executor=dg.in_process_executor,
)

"""The Dagster code location: assets, checks, resources, jobs, schedule and sensor."""

from __future__ import annotations

import dagster as dg

from .assets.dbt import bulletin_dbt_assets
from .assets.dbt_invocation import dbt_resource
from .assets.ingest import ingest_assets
from .assets.publish import publication_matches_manifest, published_bulletin
from .automation import monthly_refresh, new_download_sensor
from .settings import warehouse_path
from .warehouse import Warehouse, watch_failures

warehouse = warehouse_path()
warehouse.parent.mkdir(parents=True, exist_ok=True)

refresh_job = dg.define_asset_job(
    "refresh_bulletin",
    selection=dg.AssetSelection.all(),
    description="Ingest every download, build the dbt models with their tests, publish the bulletin.",
)

defs = dg.Definitions(
    # The assets that write the warehouse say so themselves (op_tags=WRITES_WAREHOUSE); a
    # failed step keeps the run's writes from being made live (orchestration/warehouse.py).
    assets=watch_failures([*ingest_assets, bulletin_dbt_assets, published_bulletin]),
    asset_checks=[publication_matches_manifest],
    jobs=[refresh_job],
    schedules=[monthly_refresh],
    sensors=[new_download_sensor],
    resources={"warehouse": Warehouse(path=str(warehouse)), "dbt": dbt_resource()},
    # DuckDB allows one writing process at a time: steps run one after another, in one process.
    executor=dg.in_process_executor,
)

"""The dbt project as assets: seeds, staging, intermediate and marts; its tests as asset checks."""


from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ..project import dbt_build_args, dbt_project, dbt_vars, warehouse_env
from ..warehouse import Warehouse

LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


class BulletinTranslator(DagsterDbtTranslator):
    """Groups by the dbt folder (seeds join staging), so the graph reads like the pipeline."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "staging"
        fqn = dbt_resource_props.get("fqn", [])
        return next((LAYER_GROUPS[part] for part in fqn if part in LAYER_GROUPS), "staging")


class DbtRunConfig(dg.Config):
    """Run parameters passed to dbt as vars (empty: dbt_project.yml's defaults)."""

    as_of_date: str | None = None
    first_year: int | None = None


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=BulletinTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
)
def bulletin_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse, config: DbtRunConfig
):
    vars_ = dbt_vars({"as_of_date": config.as_of_date, "first_year": config.first_year})
    # dbt builds in this run's working copy; its tests run inside `dbt build`, so a failed
    # test fails this step and the live warehouse is never touched.
    with warehouse_env(warehouse.working_copy(context)):
        yield from dbt.cli(dbt_build_args(vars_), context=context).stream()
    warehouse.finish_step(context)

"""Ingestion: one asset a source, each loading every download of it into the warehouse's raw schema.

Each asset also reports its source's freshness (the check ``download_freshness``): how old the
newest download is on the run's as-of date, against the thresholds of ``dbt source freshness``
(read from dbt's manifest: see catalog.py). The check never stops a run: a stale source
is a WARN past warn_after and an ERROR past error_after, shown in the UI and the run's last lines.
"""

from datetime import date

import dagster as dg

from ..ingest.files import IngestError
from ..ingest.loader import load_source
from ..ingest.sources import PARSERS, SPECS
from ..settings import raw_dir
from ..warehouse import WRITES_WAREHOUSE, Warehouse
from .catalog import quiet_beta, source_freshness, with_code_references
from .dbt import bulletin_dbt_assets

FRESHNESS_CHECK = "download_freshness"


def run_as_of(context: dg.AssetExecutionContext) -> tuple[date, str]:
    """The run's as-of date and where it comes from: the dbt asset's ``as_of_date`` in the run's
    config (the cut-off of the edition built), else today."""
    ops = (context.run.run_config or {}).get("ops") or {}
    configured = ((ops.get(bulletin_dbt_assets.op.name) or {}).get("config") or {}).get("as_of_date")
    if configured:
        return date.fromisoformat(str(configured)), "the run's as_of_date"
    return date.today(), "today"


def parser_reference(source: str) -> dg.CodeReferencesMetadataValue:
    """A code reference to the source's parser and SPEC (orchestration/ingest/<source>.py)."""
    with quiet_beta():
        return dg.CodeReferencesMetadataValue(
            code_references=[dg.LocalFileCodeReference(file_path=PARSERS[source].__file__)]
        )


def build_ingest_asset(source: str) -> dg.AssetsDefinition:
    spec = SPECS[source]
    key = dg.AssetKey(["raw", spec.table])
    freshness = source_freshness(key)

    @dg.asset(
        key=key,
        group_name="ingest",
        description=f"{spec.asset_description} Every download in raw/{source}/<date>/ into {spec.raw_table}.",
        kinds={"duckdb", "python"},
        op_tags=WRITES_WAREHOUSE,
        check_specs=[
            dg.AssetCheckSpec(
                FRESHNESS_CHECK,
                asset=key,
                blocking=False,
                description=(
                    f"The newest {source} download is fresh on the run's as-of date (else today): "
                    f"{freshness.thresholds()}, as dbt source freshness {freshness.source}."
                ),
            )
        ],
        # the source's parser and SPEC (orchestration/ingest/<source>.py); with_code_references
        # adds this file's asset function
        metadata={"dagster/code_references": parser_reference(source)},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        as_of, as_of_from = run_as_of(context)
        try:
            with warehouse.writing(context) as con:
                result = load_source(con, source, raw_dir())
                newest = con.execute(freshness.newest_sql(), {"as_of": as_of}).fetchone()[0]
        except IngestError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        for name in result.ignored:
            context.log.warning(f"{name}: not a {source} data file; ignored")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": result.rows,
                "table": result.table,
                "files": dg.MetadataValue.json(result.files),
                "download_dates": dg.MetadataValue.json(result.download_dates),
                # The newest download: for every period it covers, its values are the ones used.
                "latest_download_date": max(result.download_dates, default=None),
                "downloads": len(result.download_dates),
                "latest_period": result.latest_period,
                "ignored_files": dg.MetadataValue.json(result.ignored),
            },
            check_results=[freshness.check(newest, as_of, as_of_from, optional=spec.optional)],
        )

    _ingest.__name__ = f"raw_{spec.table}"
    return _ingest


ingest_assets = with_code_references([build_ingest_asset(source) for source in SPECS])

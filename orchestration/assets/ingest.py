"""Ingestion: one asset a source, each loading every download of it into the warehouse's raw schema."""


import dagster as dg

from ..ingest.files import IngestError
from ..ingest.loader import load_source
from ..ingest.sources import SPECS
from ..settings import raw_dir
from ..warehouse import WRITES_WAREHOUSE, Warehouse


def build_ingest_asset(source: str) -> dg.AssetsDefinition:
    spec = SPECS[source]

    @dg.asset(
        key=["raw", spec.table],
        group_name="ingest",
        description=f"{spec.asset_description} Every download in raw/{source}/<date>/ into {spec.raw_table}.",
        kinds={"duckdb", "python"},
        op_tags=WRITES_WAREHOUSE,
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        try:
            with warehouse.writing(context) as con:
                result = load_source(con, source, raw_dir())
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
            }
        )

    _ingest.__name__ = f"raw_{spec.table}"
    return _ingest


ingest_assets = [build_ingest_asset(source) for source in SPECS]

"""Ingestion: one asset a source, each loading every download of it into the warehouse's raw schema."""


import dagster as dg

from ..ingest.common import IngestError
from ..ingest.loader import PARSERS, load_source
from ..settings import raw_dir
from ..warehouse import Warehouse

DESCRIPTIONS = {
    "customs": "Customs portal exports (財政部關務署 綜合查詢): Taiwan's trade by flow, HS code and country.",
    "gta": "Global Trade Atlas exports: US imports of HS 847150 by partner and month.",
    "itc": "ITC Trade Map exports: exporters of HS 847150 by year.",
    "moea": "MOEA production survey exports (工業產銷存動態調查): production and sales by product and month.",
}


def build_ingest_asset(source: str) -> dg.AssetsDefinition:
    parser = PARSERS[source]

    @dg.asset(
        key=["raw", parser.TABLE],
        group_name="ingest",
        description=f"{DESCRIPTIONS[source]} Every download in raw/{source}/<date>/ into raw.{parser.TABLE}.",
        kinds={"duckdb", "python"},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        try:
            with warehouse.connect(context) as con:
                result = load_source(con, source, raw_dir())
        except IngestError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        warehouse.finish_step(context)
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

    _ingest.__name__ = f"raw_{parser.TABLE}"
    return _ingest


ingest_assets = [build_ingest_asset(source) for source in PARSERS]

"""Publication: the marts as the bulletin's files, switched in atomically when the run succeeds.

The product published is the one the marts were built for (the dbt asset's ``hs_code``,
``BULLETIN_HS_CODE`` by default): 847150 at ``BULLETIN_PUBLISH_DIR``, any other at
``BULLETIN_PUBLISH_DIR/<hs code>/`` (see orchestration/publish/atomic.py)."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from ..publish import PublicationError, atomic, expected_files, files, marts, publication_target, stage
from ..publish.layout import CELLS_MART, EXHIBIT_MARTS, MANIFEST, MIRROR_MART
from ..publish.unmapped import UNMAPPED_MART
from ..settings import DEFAULT_HS_CODE, check_hs_code, publish_dir
from ..warehouse import WRITES_WAREHOUSE, Warehouse
from .dbt import bulletin_dbt_assets

# The marts it publishes ...
MART_DEPS = [
    get_asset_key_for_model([bulletin_dbt_assets], m)
    for m in (CELLS_MART, *EXHIBIT_MARTS.values(), MIRROR_MART, marts.EXHIBIT_DOWNLOADS_MART, UNMAPPED_MART)
]
# ... and the marts it reads besides (it reads nothing but marts): the exhibits, periods and
# product, each source's lineage (raw tables included), the revisions, the accepted values.
LINEAGE_DEPS = [get_asset_key_for_model([bulletin_dbt_assets], m) for m in marts.LINEAGE_MARTS]


class PublishConfig(dg.Config):
    """The product to publish. Empty: the product the marts were built for (the dbt asset's
    hs_code; BULLETIN_HS_CODE, default 847150), so a run publishes what it built. A value the
    marts were not built for fails the step instead of publishing the wrong product."""

    hs_code: str | None = None


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def run_info(context: dg.AssetExecutionContext) -> dict:
    """When and by which run the publication was made: the manifest's only varying part."""
    run_id = context.run.run_id
    record = context.instance.get_run_record_by_id(run_id)
    return {
        "run_id": run_id,
        "job": context.job_name,
        "started_at": _iso(record.start_time if record else None),
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@dg.asset(
    key="published_bulletin",
    group_name="publish",
    description=(
        "The bulletin as files in BULLETIN_PUBLISH_DIR: the page and the PDF, the workbook, the chart, "
        "the draft, CSV, Parquet, datapackage.json, manifest.json."
    ),
    kinds={"python", "excel", "parquet"},
    deps=[*MART_DEPS, *LINEAGE_DEPS],
    # It runs after every other step that writes the warehouse (it depends on all of them),
    # and makes the run's writes live before it switches the published files.
    op_tags=WRITES_WAREHOUSE,
)
def published_bulletin(
    context: dg.AssetExecutionContext, warehouse: Warehouse, config: PublishConfig
) -> dg.MaterializeResult:
    base = publish_dir()
    base.parent.mkdir(parents=True, exist_ok=True)
    # The new version folder is written completely (and checked) while the readers still see
    # the previous publication; the run's warehouse is swapped in, then the publication.
    try:
        wanted = check_hs_code(config.hs_code) if config.hs_code else None
    except ValueError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    try:
        with warehouse.connect(context, read_only=True) as con:
            product = marts.product(con)
            if wanted is not None and wanted != product.hs_code:
                raise PublicationError(
                    f"the run's hs_code is {wanted} but the marts were built for HS {product.hs_code}: "
                    f"give the dbt asset the same hs_code (or leave the publish asset's empty)"
                )
            target = publication_target(base, product)
            target.parent.mkdir(parents=True, exist_ok=True)
            version = stage(
                con,
                target,
                run_info(context),
                context.run.run_id,
                progress=lambda n: context.log.debug(f"wrote {n}"),
            )
    except PublicationError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    try:
        warehouse.commit(context)
    except BaseException:
        atomic.discard(version)
        raise
    atomic.activate(target, version)
    removed = atomic.prune(target)
    if target != base:
        atomic.link_product(base, product.hs_code)
    shown = base / product.hs_code if target != base else base
    context.log.info(f"published HS {product.hs_code} at {shown} -> {version}")

    manifest = files.read_manifest(version)
    previous = version / atomic.PREVIOUS
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(shown)),
            "product": dg.MetadataValue.json(manifest.get("product")),
            "version": version.name,
            "previous": previous.resolve().name if previous.is_symlink() else None,
            "removed_versions": dg.MetadataValue.json([p.name for p in removed]),
            "dagster/row_count": manifest["tables"][CELLS_MART]["rows"],
            "files": dg.MetadataValue.json({f["path"]: f["bytes"] for f in manifest["files"]}),
            "sources": dg.MetadataValue.json(
                {
                    s: {"latest_period": v.get("latest_period"), "download_date": v.get("download_date")}
                    for s, v in manifest["sources"].items()
                }
            ),
            "preliminary": dg.MetadataValue.json(manifest["preliminary"]),
            "revised_cells": manifest["revisions"]["rows"],
            "exhibits_left_out": dg.MetadataValue.json(
                {e["exhibit"]: e["reason"] for e in manifest["exhibits_left_out"]}
            ),
            # partner names no seed maps: the run's last lines name them (orchestration/cli.py)
            "unmapped_names": dg.MetadataValue.json(manifest.get("unmapped_names", [])),
        }
    )


def publications(base: Path) -> dict[str, Path]:
    """Every publication under BULLETIN_PUBLISH_DIR: the default product's (once published:
    not a version of links only) and each other product's, by HS code."""
    found = {}
    current = atomic.current_publication(base)
    if current is not None and not atomic.is_links_only(current):
        found[DEFAULT_HS_CODE] = base
    for hs_code in atomic.product_links(base):
        found[hs_code] = base / hs_code
    return found


@dg.asset_check(
    asset=published_bulletin,
    description=(
        f"Every published file of every product exists, is non-empty and matches its {MANIFEST} "
        "(size and SHA-256), and no file a publication of its exhibits holds is missing."
    ),
)
def publication_matches_manifest() -> dg.AssetCheckResult:
    base = publish_dir()
    found = publications(base) or {DEFAULT_HS_CODE: base}
    problems = []
    for hs_code, folder in found.items():
        where = "" if folder == base else f"{hs_code}/"
        found_problems = files.verify_folder(folder)
        present = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
        try:
            exhibits = files.manifest_exhibits(files.read_manifest(folder))
        except (OSError, ValueError):
            exhibits = None
        found_problems += [f"{name}: missing" for name in expected_files(exhibits) if name not in present]
        problems += [f"{where}{p}" for p in sorted(set(found_problems))]
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "path": dg.MetadataValue.path(str(base)),
            "version": base.resolve().name if base.exists() else None,
            "products": dg.MetadataValue.json(sorted(found)),
            "problems": dg.MetadataValue.json(problems),
        },
    )

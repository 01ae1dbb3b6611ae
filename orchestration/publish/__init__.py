"""Publishing the bulletin: the marts as files a statistician can hand on.

A publication folder holds ``bulletin_cells.csv`` (fct_bulletin_cells in the columns of the
bulletin's published_tables.csv), a CSV and a Parquet file per exhibit mart and for the
mirror check (``fct_mirror_tw_us_server_trade``), ``bulletin.xlsx`` (one sheet per exhibit,
as the bulletin prints it, then 鏡像比對 and 草稿), ``figure1.png``, ``bulletin_draft.md``
(the numbered highlights drafted from the marts and the revisions since the previous
publication), ``revisions.csv`` (every printed cell whose number changed since then, see
:mod:`.revisions`) and ``manifest.json`` (every file's SHA-256 and size, the product, row
counts, the exhibits left out and why, each source's latest period and download, the
preliminary months, the revisions, when the run happened) and ``datapackage.json`` (every
CSV as a Frictionless Data Package: fields, types, units, keys; see :mod:`.datapackage`),
and the bulletin itself laid out like No. 459, from the same cells and draft: ``bulletin.html``
(one self-contained page) and ``bulletin.pdf`` (A4), see :mod:`.bulletin_document`.

The product is the one the warehouse's current edition was built for (the dbt var hs_code):
the default (847150, servers) is published at ``BULLETIN_PUBLISH_DIR``, any other at
``BULLETIN_PUBLISH_DIR/<hs code>/`` (see :mod:`.atomic`), with the same file names. An exhibit
whose mart has no rows for the product (its source has no download of it) is left out: no
files, no sheet, no highlight (figure1.png goes with Figure 1), and the manifest and the
draft say so.

:func:`stage` writes a complete, checked version folder without touching what readers see;
:func:`atomic.activate` then switches the link to it (see :mod:`.atomic`). :func:`publish`
does both, for use outside Dagster. Every file but the manifest's ``run`` is a function of
the warehouse's contents and the previous publication alone: the same raw data give the same
bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path

import duckdb

from ..settings import DEFAULT_HS_CODE, check_hs_code
from . import (
    atomic,
    bulletin_document,
    bulletin_html,
    bulletin_pdf,
    chart,
    datapackage,
    files,
    marts,
    revisions,
    unmapped,
    workbook,
)
from .draft import draft_markdown
from .layout import (
    CELLS_CSV,
    CELLS_MART,
    DRAFT,
    EXHIBIT_MARTS,
    FIGURE,
    LAYOUTS,
    MANIFEST,
    MIRROR_MART,
    REVISIONS,
    WORKBOOK,
    for_product,
    for_source,
)
from .marts import Product, PublicationError

__all__ = [
    "PublicationError",
    "expected_files",
    "publication_target",
    "publish",
    "stage",
    "write_publication",
]

FIGURE_EXHIBIT = next(code for code, layout in LAYOUTS.items() if layout.is_figure)
# The workbook's date when the edition uses no download of the product.
NO_DATA_DATE = date(1980, 1, 1)


def expected_files(exhibits: list[str] | None = None) -> list[str]:
    """The names a publication of ``exhibits`` (default: every exhibit) holds."""
    present = list(EXHIBIT_MARTS) if exhibits is None else list(exhibits)
    names = [CELLS_CSV, WORKBOOK, MANIFEST, DRAFT, REVISIONS, f"{MIRROR_MART}.csv", f"{MIRROR_MART}.parquet"]
    names.append(datapackage.DATAPACKAGE)
    names += [bulletin_html.HTML, bulletin_pdf.PDF]
    if FIGURE_EXHIBIT in present:
        names.append(FIGURE)
    for code in present:
        names += [f"{code}.csv", f"{code}.parquet"]
    return sorted(names)


def publication_target(target: Path, product: Product | str) -> Path:
    """The link a product's publication is switched at: ``target`` itself for the default
    product, ``target.products/<hs code>`` (reached as ``target/<hs code>``) for any other."""
    hs_code = product.hs_code if isinstance(product, Product) else check_hs_code(product)
    return target if hs_code == DEFAULT_HS_CODE else atomic.product_target(target, hs_code)


def _left_out_reason(exhibit: marts.Exhibit, product: Product) -> str:
    if exhibit.source == "moea" and product.moea_product is None:
        return (
            f"marts.{exhibit.mart} has no rows for HS {product.hs_code}: the products seed maps it "
            "to no product of the MOEA production survey"
        )
    return (
        f"marts.{exhibit.mart} has no rows for HS {product.hs_code}: "
        f"the {exhibit.source} downloads hold no such product"
    )


def _write_mart(con, folder: Path, mart: str, name: str, note) -> tuple[list[str], list[tuple], list[str]]:
    columns, rows = marts.read_table(con, mart)
    csv_name, parquet_name = f"{name}.csv", f"{name}.parquet"
    files.write_csv(folder / csv_name, columns, rows)
    note(csv_name)
    files.write_parquet(con, mart, folder / parquet_name)
    note(parquet_name)
    return columns, rows, [csv_name, parquet_name]


def write_publication(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    run: dict,
    *,
    previous: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write every file of a publication into ``folder`` (empty, existing); return the manifest.

    ``previous``: the publication readers see now (of the same product), for the revisions."""
    note = progress or (lambda _name: None)
    product = marts.product(con)
    every = [replace(e, title_zh=product.retitle(e.title_zh)) for e in marts.exhibits(con)]
    exhibits = [e for e in every if marts.row_count(con, e.mart)]
    left_out = [e for e in every if e not in exhibits]
    if not exhibits:
        raise PublicationError(
            f"no exhibit has rows for HS {product.hs_code}: none of the downloads holds the product; "
            "check the HS code (BULLETIN_HS_CODE, or the run's hs_code)"
        )
    # the product's layouts, with the source line of the source each exhibit is built from
    built_from = {e.code: e.source for e in every}
    layouts = {
        code: for_source(for_product(layout, product.hs_code, product.is_default), built_from.get(code, ""))
        for code, layout in LAYOUTS.items()
    }
    every_cell = marts.cells(con)
    cells = {e.code: [c for c in every_cell if c.table == e.code] for e in exhibits}
    tables: dict[str, dict] = {}

    columns, rows = marts.read_table(con, CELLS_MART)
    files.write_cells_csv(folder / CELLS_CSV, columns, rows)
    tables[CELLS_MART] = {"table": f"marts.{CELLS_MART}", "rows": len(rows), "files": [CELLS_CSV]}
    note(CELLS_CSV)

    downloads = marts.exhibit_downloads(con)
    for exhibit in exhibits:
        _, rows, names = _write_mart(con, folder, exhibit.mart, exhibit.code, note)
        tables[exhibit.mart] = {
            "table": f"marts.{exhibit.mart}",
            "exhibit": exhibit.code,
            "title": exhibit.title_zh,
            "rows": len(rows),
            "files": names,
            # the downloads the exhibit's numbers come from (a later one wins within its periods)
            "downloads": downloads.get(exhibit.code, []),
        }

    _, rows, names = _write_mart(con, folder, MIRROR_MART, MIRROR_MART, note)
    tables[MIRROR_MART] = {"table": f"marts.{MIRROR_MART}", "rows": len(rows), "files": names}

    # The revisions since the previous publication: the cells as bulletin_cells.csv prints them
    # against the previous one's, attributed to the revisions of fct_bulletin_revisions.
    before = revisions.previous_publication(previous, product)
    revised = revisions.revision_rows(con, every, every_cell, before)
    revisions.write_revisions(folder / REVISIONS, revised)
    note(REVISIONS)

    # Every CSV above described for other tools (fields, types, units, keys) from the marts.
    datapackage.write_datapackage(con, folder, product, exhibits, every_cell)
    note(datapackage.DATAPACKAGE)

    titles = {e.code: e.title_zh for e in every}
    draft_title = None if product.is_default else f"{product.name_zh}產銷與貿易概況（HS {product.hs_code}）"
    draft = draft_markdown([c for e in exhibits for c in cells[e.code]], draft_title, product.name_zh)
    draft += "\n" + revisions.revisions_markdown(revised, before, titles)
    files.write_text(folder / DRAFT, draft)
    note(DRAFT)

    # The workbook's dates are the data's: the latest download the edition uses.
    stamp = datetime.combine(product.data_date or NO_DATA_DATE, time())
    preliminary_months = marts.preliminary_months(con)
    source_lineage = marts.source_lineage(con)
    name = product.name_zh
    customs = source_lineage.get("customs")
    mirror = workbook.MirrorTable(
        title=f"鏡像比對：我國對美國{name}出口與美國自我國{name}進口（HS {product.hs_code}）",
        rows=marts.mirror_rows(con),
        preliminary_months=customs.preliminary_months if customs else [],
        hs_code=product.hs_code,
    )
    workbook.write_workbook(
        folder / WORKBOOK,
        exhibits,
        cells,
        stamp,
        layouts=layouts,
        preliminary=preliminary_months,
        mirror=mirror,
        draft=draft,
    )
    note(WORKBOOK)

    figure = next((e for e in exhibits if e.code == FIGURE_EXHIBIT), None)
    if figure is not None:
        chart.write_figure1(folder / FIGURE, figure, cells[figure.code], layouts[figure.code])
        note(FIGURE)

    # The bulletin itself, as a page and as A4: the draft's words, the workbook's tables, Figure 1.
    document = bulletin_document.build_document(product, exhibits, cells, layouts, preliminary_months, draft)
    bulletin_html.write_html(folder / bulletin_html.HTML, document)
    note(bulletin_html.HTML)
    bulletin_pdf.write_pdf(folder / bulletin_pdf.PDF, document, stamp)
    note(bulletin_pdf.PDF)

    manifest = files.build_manifest(
        folder,
        tables=tables,
        sources={source: lineage.manifest() for source, lineage in source_lineage.items()},
        preliminary=marts.preliminary_periods(con),
        preliminary_months={
            exhibit: [marts.period_label(m, "month") for m in months]
            for exhibit, months in preliminary_months.items()
        },
        run=run,
        product=product.manifest(),
        exhibits_left_out=[
            {
                "exhibit": e.code,
                "title": e.title_zh,
                "source": e.source,
                "table": f"marts.{e.mart}",
                "reason": _left_out_reason(e, product),
                "files_left_out": sorted(
                    set(expected_files([e.code])) - set(expected_files([]))
                ),
            }
            for e in left_out
        ],
        revisions={
            "file": REVISIONS,
            "rows": len(revised),
            # what the previous publication held (its content, not its time): null the first time
            "compared_with": revisions.compared_with(before),
        },
    )
    # partner names no seed maps (one that could change a printed cell fails dbt build first)
    manifest["unmapped_names"] = unmapped.unmapped_names(con)
    # the flagged values and downloads a statistician accepted (seeds/accepted_values.csv)
    manifest["accepted_values"] = marts.accepted_values(con)
    files.write_manifest(folder, manifest)
    note(MANIFEST)
    return manifest


def stage(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    run: dict,
    token: str,
    *,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write a publication into a staging folder beside ``target`` (the link it will be
    switched at: :func:`publication_target`), check it, and seal it as a version folder;
    returns it. ``target`` is not touched; on any failure nothing is left."""
    staging = atomic.new_staging(target, token)
    try:
        manifest = write_publication(
            con, staging, run, previous=atomic.current_publication(target), progress=progress
        )
        problems = files.verify_folder(staging)
        missing = sorted(
            set(expected_files(files.manifest_exhibits(manifest))) - {p.name for p in staging.iterdir()}
        )
        problems += [f"{name}: not written" for name in missing]
        if problems:
            raise PublicationError("the publication is incomplete: " + "; ".join(problems))
        return atomic.seal(staging, target, files.content_digest(manifest), now)
    except BaseException:
        atomic.discard(staging)
        raise


def publish(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    run: dict | None = None,
    *,
    token: str = "local",
    keep: int = atomic.KEEP,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Stage the warehouse's product, switch its link (``target``, or ``target/<hs code>`` for a
    product other than the default) to the new version, prune old versions; returns the version."""
    run = run or {"published_at": datetime.now(UTC).isoformat(timespec="seconds")}
    product = marts.product(con)
    where = publication_target(target, product)
    version = stage(con, where, run, token, progress=progress)
    atomic.activate(where, version)
    atomic.prune(where, keep)
    if where != target:
        atomic.link_product(target, product.hs_code)
    return version

"""The revision report: every printed cell whose number changed since the previous publication.

The previous publication is the one readers saw before this one (``published``, or the
product's own folder, before the switch). A cell is reported when both publications print it
(same table, measure, series and period in ``bulletin_cells.csv``) and its printed number
differs; it is attributed to the revisions of its exhibit's values (``marts.fct_bulletin_revisions``:
its source's flow, product and measure), by downloads after the one the previous publication
used for that source (its manifest's ``sources.<source>.download_date``), of the months the
cell is computed from: its period, the same period a year earlier for a growth rate, every
year of a span and the year before it (from the cell's typed period). A column that moved (the
year-to-date span grew a month) has other keys: it is a new column, not a revision.

``revisions.csv`` holds a header only when nothing changed, and on the first publication.
"""

from __future__ import annotations

import calendar
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from . import files
from .layout import (
    CELLS_CSV,
    LAYOUTS,
    MANIFEST,
    REVISIONS_COLUMNS,
    SPAN_HEADERS,
    Period,
    format_value,
    month_zh,
    period_zh,
)
from .marts import Cell, Exhibit, Product, Revision, period_label, revisions

# How the draft names a source.
SOURCE_ZH = {
    "customs": "財政部關務署海關進出口統計",
    "gta": "Global Trade Atlas",
    "itc": "ITC Trade Map",
    "moea": "經濟部統計處工業產銷存動態調查",
    "census": "美國商務部普查局國際貿易統計",
    "comtrade": "聯合國商品貿易統計資料庫（UN Comtrade）",
}
# How the draft names a measure that no block of the exhibit's table labels.
MEASURE_ZH = {"value": "金額", "yoy_pct": "年增率(%)", "share_pct": "占比(%)"}


@dataclass(frozen=True)
class Previous:
    """The publication this one is compared with."""

    folder: Path
    manifest: dict
    cells: dict[tuple[str, str, str, str], dict[str, str]]


def read_cells(path: Path) -> dict[tuple[str, str, str, str], dict[str, str]]:
    """bulletin_cells.csv by (table, measure, series, period)."""
    with path.open(encoding="utf-8", newline="") as f:
        return {(r["table"], r["measure"], r["series"], r["period"]): r for r in csv.DictReader(f)}


def previous_publication(folder: Path | None, product: Product) -> Previous | None:
    """The previous publication of the same product, when there is one to compare with (a
    complete folder: its cells and manifest)."""
    if folder is None or not (folder / CELLS_CSV).is_file() or not (folder / MANIFEST).is_file():
        return None
    try:
        manifest = files.read_manifest(folder)
    except (OSError, ValueError):
        return None
    # publications from before products were recorded are the default product's
    published_for = (manifest.get("product") or {}).get("hs_code", "847150")
    if published_for != product.hs_code:
        return None
    return Previous(folder, manifest, read_cells(folder / CELLS_CSV))


def compared_with(previous: Previous | None) -> dict | None:
    """The manifest's note of the publication compared with: its content digest and the
    download each source came from (nothing that changes with the time it was made)."""
    if previous is None:
        return None
    return {
        "content_digest": files.content_digest(previous.manifest),
        "download_dates": {
            source: info.get("download_date")
            for source, info in (previous.manifest.get("sources") or {}).items()
        },
    }


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def depends_on(measure: str, period: Period) -> list[tuple[date, date]]:
    """The stretches of time a cell is computed from: its period (a span: its years and the
    year before, which its growth or share starts from), and for a growth rate the same period
    a year earlier."""
    start, end = period.start, period.end
    if period.is_span:
        start = date(start.year - 1, 1, 1)
    ranges = [(start, end)]
    if measure == "yoy_pct" and not period.is_span:
        ranges.append((date(start.year - 1, start.month, 1), _month_end(end.year - 1, end.month)))
    return ranges


def _download_date(manifest: dict, source: str) -> date | None:
    value = ((manifest.get("sources") or {}).get(source) or {}).get("download_date")
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class RevisedCell:
    """A row of revisions.csv (``row``, as written), with the cell's typed period and the
    revisions that moved it."""

    row: dict[str, str]
    period: Period
    moved: tuple[Revision, ...]


def revision_rows(
    con: duckdb.DuckDBPyConnection,
    exhibits: Sequence[Exhibit],
    cells: Sequence[Cell],
    previous: Previous | None,
) -> list[RevisedCell]:
    """The rows of revisions.csv: the new publication's cells (``cells``, in the published
    order, as bulletin_cells.csv prints them) whose printed number differs from the previous
    publication's."""
    if previous is None:
        return []
    sources = {e.code: e.source for e in exhibits}
    found: dict[str, list[Revision]] = {}
    rows = []
    for cell in cells:
        key = (cell.table, cell.measure, cell.series, cell.period)
        old = previous.cells.get(key)
        # the number as bulletin_cells.csv prints it (files.csv_rows)
        new_value = format_value(cell.value, int(cell.decimals))
        if old is None or old["value"] == new_value:
            continue
        source = sources.get(cell.table, "")
        if source and cell.table not in found:
            since = _download_date(previous.manifest, source)
            found[cell.table] = revisions(con, cell.table, since)
        ranges = depends_on(cell.measure, cell.when)
        moved = tuple(
            r for r in found.get(cell.table, []) if any(start <= r.period_start <= end for start, end in ranges)
        )
        row = {
            "table": cell.table,
            "measure": cell.measure,
            "series": cell.series,
            "series_zh": cell.series_zh,
            "period": cell.period,
            "old_value": old["value"],
            "new_value": new_value,
            "decimals": str(cell.decimals),
            "source": source,
            "revised_months": ";".join(sorted({period_label(r.period_start, r.period_grain) for r in moved})),
            "old_download_date": str(min(r.old_download_date for r in moved)) if moved else "",
            "new_download_date": str(max(r.new_download_date for r in moved)) if moved else "",
        }
        rows.append(RevisedCell(row, cell.when, moved))
    return rows


def write_revisions(path: Path, rows: Sequence[RevisedCell]) -> None:
    """revisions.csv: UTF-8, a header row, LF line ends (a header only when nothing changed)."""
    files.write_csv(path, REVISIONS_COLUMNS, ([r.row[c] for c in REVISIONS_COLUMNS] for r in rows))


def _measure_zh(table: str, measure: str) -> str:
    layout = LAYOUTS.get(table)
    label = next((b.label for b in layout.blocks if b.measure == measure), None) if layout else None
    if label:
        return label
    if measure in SPAN_HEADERS:
        return SPAN_HEADERS[measure].split()[-1]
    return MEASURE_ZH.get(measure, measure)


def revisions_markdown(
    rows: Sequence[RevisedCell], previous: Previous | None, titles: dict[str, str]
) -> str:
    """The draft's section on revisions: a line a revised cell, or why there is none."""
    lines = ["## 修正說明", ""]
    if previous is None:
        lines.append("本期為首次發布，無前期數值可資比較。")
        return "\n".join(lines) + "\n"
    against = "與前期發布相比"
    if not rows:
        lines.append(f"{against}，本期已刊數值均無修正。")
        return "\n".join(lines) + "\n"
    lines += [f"{against}，下列已刊數值因資料來源修正而變動（共{len(rows)}項）：", ""]
    for revised in rows:
        row = revised.row
        old, new = row["old_value"], row["new_value"]
        table = row["table"]
        where = "｜".join((titles.get(table, table), row["series_zh"], _measure_zh(table, row["measure"])))
        line = f"- {where}｜{period_zh(revised.period)}：由 {old} 修正為 {new}"
        if revised.moved:
            months = sorted({(r.period_start, r.period_grain) for r in revised.moved})
            named = "、".join(month_zh(start, grain) for start, grain in months)
            line += (
                f"（{SOURCE_ZH.get(row['source'], row['source'])} {row['new_download_date']} 下載之資料"
                f"修正 {named}，前期採 {row['old_download_date']} 下載）"
            )
        else:
            line += "（非來源資料修正所致）"
        lines.append(line)
    return "\n".join(lines) + "\n"

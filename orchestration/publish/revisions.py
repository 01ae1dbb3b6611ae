"""The revision report: every printed cell whose number changed since the previous publication.

The previous publication is the one readers saw before this one (``published``, or the
product's own folder, before the switch). A cell is reported when both publications print it
(same table, measure, series and period in ``bulletin_cells.csv``) and its printed number
differs; it is attributed to the revisions (``intermediate.int_observations__revisions``) of
its exhibit's source and product, by downloads after the one the previous publication used
for that source (its manifest's ``sources.<source>.download_date``), of the months the cell
is computed from: its period, the same period a year earlier for a growth rate, every year of
a span and the year before it. A column that moved (the year-to-date span grew a month) has
other keys: it is a new column, not a revision.

``revisions.csv`` holds a header only when nothing changed, and on the first publication.
"""

from __future__ import annotations

import calendar
import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from . import files
from .draft import period_zh
from .layout import CELLS_CSV, LAYOUTS, MANIFEST, REVISIONS_COLUMNS, SPAN_HEADERS, month_zh
from .marts import Exhibit, Product, revisions

# How the draft names a source.
SOURCE_ZH = {
    "customs": "財政部關務署海關進出口統計",
    "gta": "Global Trade Atlas",
    "itc": "ITC Trade Map",
    "moea": "經濟部統計處工業產銷存動態調查",
}
# How the draft names a measure that no block of the exhibit's table labels.
MEASURE_ZH = {"value": "金額", "yoy_pct": "年增率(%)", "share_pct": "占比(%)"}

_YEAR = re.compile(r"^(\d{4})$")
_YEAR_TO_DATE = re.compile(r"^(\d{4})-(\d{2})\.\.(\d{2})$")
_SPAN = re.compile(r"^(\d{4})\.\.(\d{4})$")


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


def period_range(period: str) -> tuple[date, date]:
    """The first and last day a period code covers (a span: its years and the year before)."""
    if m := _YEAR.match(period):
        return date(int(m[1]), 1, 1), date(int(m[1]), 12, 31)
    if m := _YEAR_TO_DATE.match(period):
        year = int(m[1])
        return date(year, int(m[2]), 1), _month_end(year, int(m[3]))
    if m := _SPAN.match(period):
        return date(int(m[1]) - 1, 1, 1), date(int(m[2]), 12, 31)
    raise ValueError(f"unknown period code {period!r}")


def depends_on(measure: str, period: str) -> list[tuple[date, date]]:
    """The stretches of time a cell is computed from: its period, and for a growth rate the
    same period a year earlier."""
    start, end = period_range(period)
    ranges = [(start, end)]
    if measure == "yoy_pct" and not _SPAN.match(period):
        ranges.append((date(start.year - 1, start.month, 1), _month_end(end.year - 1, end.month)))
    return ranges


def _download_date(manifest: dict, source: str) -> date | None:
    value = ((manifest.get("sources") or {}).get(source) or {}).get("download_date")
    return date.fromisoformat(value) if value else None


def revision_rows(
    con: duckdb.DuckDBPyConnection,
    product: Product,
    exhibits: Sequence[Exhibit],
    cells_csv: Path,
    previous: Previous | None,
) -> list[dict[str, str]]:
    """The rows of revisions.csv: the new publication's cells (``cells_csv``, as written) whose
    printed number differs from the previous publication's, in the new file's order."""
    if previous is None:
        return []
    sources = {e.code: e.source for e in exhibits}
    found: dict[str, list] = {}
    rows = []
    for key, new in read_cells(cells_csv).items():
        old = previous.cells.get(key)
        if old is None or old["value"] == new["value"]:
            continue
        table, measure, series, period = key
        source = sources.get(table, "")
        if source and source not in found:
            found[source] = revisions(con, product, source, _download_date(previous.manifest, source))
        ranges = depends_on(measure, period)
        moved = [
            r for r in found.get(source, []) if any(start <= r.period_start <= end for start, end in ranges)
        ]
        rows.append(
            {
                "table": table,
                "measure": measure,
                "series": series,
                "series_zh": new["series_zh"],
                "period": period,
                "old_value": old["value"],
                "new_value": new["value"],
                "decimals": new["decimals"],
                "source": source,
                "revised_months": ";".join(sorted({r.period for r in moved})),
                "old_download_date": str(min(r.old_download_date for r in moved)) if moved else "",
                "new_download_date": str(max(r.new_download_date for r in moved)) if moved else "",
            }
        )
    return rows


def write_revisions(path: Path, rows: Sequence[dict[str, str]]) -> None:
    """revisions.csv: UTF-8, a header row, LF line ends (a header only when nothing changed)."""
    files.write_csv(path, REVISIONS_COLUMNS, ([row[c] for c in REVISIONS_COLUMNS] for row in rows))


def _measure_zh(table: str, measure: str) -> str:
    layout = LAYOUTS.get(table)
    label = next((b.label for b in layout.blocks if b.measure == measure), None) if layout else None
    if label:
        return label
    if measure in SPAN_HEADERS:
        return SPAN_HEADERS[measure].split()[-1]
    return MEASURE_ZH.get(measure, measure)


def revisions_markdown(
    rows: Sequence[dict[str, str]], previous: Previous | None, titles: dict[str, str]
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
    for row in rows:
        old, new = row["old_value"], row["new_value"]
        table = row["table"]
        where = "｜".join((titles.get(table, table), row["series_zh"], _measure_zh(table, row["measure"])))
        line = f"- {where}｜{period_zh(row['period'])}：由 {old} 修正為 {new}"
        if row["revised_months"]:
            months = "、".join(month_zh(m) for m in row["revised_months"].split(";"))
            line += (
                f"（{SOURCE_ZH.get(row['source'], row['source'])} {row['new_download_date']} 下載之資料"
                f"修正 {months}，前期採 {row['old_download_date']} 下載）"
            )
        else:
            line += "（非來源資料修正所致）"
        lines.append(line)
    return "\n".join(lines) + "\n"

"""bulletin.xlsx: one sheet per exhibit, laid out as the bulletin prints it.

A table sheet reads like the bulletin: the title (表1 我國伺服器出口統計), a header row of
periods (2017年 … 2024年 1-9月, and for Table 3 2018至2023年 平均成長率(%)), one block a
measure (出口值(億美元) / 年增率(%) / 出口國家占比(%)) with a row per series under the
bulletin's label, then the source line and the note. Numbers are numbers, shown with the
cell's printed decimals by the number format ('0', '0.0', '0.00'). A column holding a
preliminary month has a mark in its header (2024年 1-9月*) explained under the table
(*含初步值：2024年9月). Figure 1's sheet holds its data in the same layout and a bar chart of it.

After the exhibits: the mirror check (鏡像比對: Taiwan's exports to the US against the US's
imports from Taiwan, both in 億美元, the gap and the gap in percent) and the drafted text
(草稿, a paragraph a row).

Every sheet prints on pages one A4 landscape page wide (scaled to fit the width, as many
pages tall as it needs), its title and header rows frozen and repeated on every page. A
column is as wide as its widest header, label or number (:func:`text_width` counts a CJK
character twice, by its East Asian Width), so a header never wraps over its border; the
title, source line and notes span the table's columns and wrap inside them, and the draft's
paragraphs wrap in one wide column, each row as tall as its wrapped lines
(:func:`line_count`).

:func:`table_grid` lays an exhibit out as plain rows (testable without openpyxl);
:func:`build_workbook` renders the grids; :func:`save_workbook` writes the file with a fixed
date in its properties and zip entries, so the same marts give the same bytes.
"""

from __future__ import annotations

import io
import math
import os
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.marker import DataPoint
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.xml.functions import tostring

from .layout import (
    DRAFT_SHEET,
    LAYOUTS,
    MIRROR_SHEET,
    NOT_APPLICABLE,
    PRELIMINARY_MARK,
    ExhibitLayout,
    Period,
    format_value,
    number_format,
    period_header,
    preliminary_note,
)
from .marts import Cell, Exhibit

CORE_PROPERTIES = "docProps/core.xml"
CREATOR = "server-bulletin pipeline"

BAR_COLOUR = "4472C4"
YEAR_TO_DATE_COLOUR = "ED7D31"


@dataclass(frozen=True)
class GridCell:
    """A cell of a sheet: text, or a number with the decimals it prints with."""

    value: str | float | None
    role: str  # title, header, block, label, number, text, source, note
    decimals: int | None = None


@dataclass(frozen=True)
class Grid:
    rows: list[list[GridCell]]
    header_row: int  # 0-based index of the period header row
    columns: list[Period]  # the periods of the number columns, in order
    block_rows: dict[str, int]  # measure -> 0-based index of its block's label row
    series_rows: dict[tuple[str, str], int]  # (measure, series) -> 0-based row index


def _ordered(items: dict[str, int]) -> list[str]:
    return [k for k, _ in sorted(items.items(), key=lambda kv: (kv[1], kv[0]))]


def table_grid(
    layout: ExhibitLayout, title: str, cells: Sequence[Cell], preliminary_months: Sequence[date] = ()
) -> Grid:
    """An exhibit laid out as rows: title, header, blocks, source line, note and, when a
    column holds a preliminary month, the footnote naming the months (``preliminary_months``).

    The columns and rows come from the cells: periods of the printed blocks in period order,
    then the span measure's periods; series in their rank order. A column whose printed cells
    are preliminary has the mark in its header.
    """
    block_measures = [b.measure for b in layout.blocks]
    printed = [c for c in cells if c.measure in block_measures]
    typed = {c.period: c.when for c in cells}
    periods = [typed[p] for p in _ordered({c.period: c.period_order for c in printed})]
    spans = [
        typed[p] for p in _ordered({c.period: c.period_order for c in cells if c.measure == layout.span_measure})
    ]
    by_key = {(c.measure, c.series, c.period): c for c in cells}
    series_zh = {c.series: c.series_zh for c in cells}
    shown = set(block_measures) | {layout.span_measure}
    marked = {c.period for c in cells if c.is_preliminary and c.measure in shown}

    def head(period: Period, measure: str | None = None) -> GridCell:
        mark = PRELIMINARY_MARK if period.code in marked else ""
        return GridCell(period_header(period, measure) + mark, "header")

    rows: list[list[GridCell]] = [[GridCell(title, "title")]]
    header = [GridCell(None, "header")]
    header += [head(p) for p in periods]
    header += [head(p, layout.span_measure) for p in spans]
    rows.append(header)
    width = len(header)

    block_rows: dict[str, int] = {}
    series_rows: dict[tuple[str, str], int] = {}
    for block in layout.blocks:
        in_block = [c for c in cells if c.measure == block.measure]
        if not in_block:
            continue
        block_rows[block.measure] = len(rows)
        rows.append([GridCell(block.label, "block")] + [GridCell(None, "block")] * (width - 1))
        with_span = block.measure == layout.span_block
        for series in _ordered({c.series: c.series_rank for c in in_block}):
            series_rows[(block.measure, series)] = len(rows)
            row = [GridCell(series_zh[series], "label")]
            for period in periods:
                cell = by_key.get((block.measure, series, period.code))
                row.append(
                    GridCell(cell.value, "number", cell.decimals) if cell else GridCell(None, "number")
                )
            for period in spans:
                cell = by_key.get((layout.span_measure, series, period.code)) if with_span else None
                row.append(
                    GridCell(cell.value, "number", cell.decimals)
                    if cell
                    else GridCell(NOT_APPLICABLE, "text")
                )
            rows.append(row)

    rows.append([])
    rows.append([GridCell(layout.source, "source")])
    if layout.note:
        rows.append([GridCell(layout.note, "note")])
    if marked:
        rows.append([GridCell(preliminary_note(list(preliminary_months)), "note")])
    return Grid(rows, 1, periods + spans, block_rows, series_rows)


@dataclass(frozen=True)
class MirrorTable:
    """The mirror check as the workbook prints it: the rows of fct_mirror_tw_us_server_trade,
    each with its period typed (``when``: :func:`marts.mirror_rows`)."""

    title: str
    rows: Sequence[dict]
    preliminary_months: Sequence[date] = ()
    hs_code: str = "847150"


MIRROR_DIVISOR = 100_000_000  # US$ -> 億美元
# Two lines each: what, then whose statistics (the column is as wide as the longer line).
MIRROR_HEADERS = (
    "期間",
    "我國對美國出口(億美元)\n我國海關統計",
    "美國自我國進口(億美元)\n美國進口統計(GTA)",
    "差額(億美元)\n美方減我方",
    "差額占我方出口(%)",
)
MIRROR_SOURCE = "資料來源：財政部關務署「海關進出口統計」；Global Trade Atlas"
MIRROR_NOTE = (
    "說明：同一貿易之兩方統計不盡相同：進口以 CIF、出口以 FOB 計價，貨物運送跨月，經第三地轉運者"
    "歸屬不同，兩國海關亦可能歸入不同稅則號列；惟差距逾我方數值25%者，宜先查明下載檔、稅則號列與單位。"
)


def mirror_grid(mirror: MirrorTable) -> list[list[GridCell]]:
    """The mirror sheet as rows: a row a period (years, then the common year-to-date span),
    both values in 億美元 (two decimals shown, unrounded underneath), the gap and the gap in
    percent; or, without rows, a line saying why there is nothing to compare."""
    rows: list[list[GridCell]] = [[GridCell(mirror.title, "title")]]
    if not mirror.rows:
        rows.append(
            [
                GridCell(
                    f"本產品（HS {mirror.hs_code}）之我國海關出口或美國進口(GTA)下載無資料，無從比對。",
                    "note",
                )
            ]
        )
        return rows
    rows.append([GridCell(h, "header") for h in MIRROR_HEADERS])
    marked = False
    for row in mirror.rows:
        mark = PRELIMINARY_MARK if row["is_preliminary"] else ""
        marked = marked or bool(mark)
        out = [GridCell(period_header(row["when"]) + mark, "label")]
        for column in ("tw_reported_exports_usd", "us_reported_imports_usd", "gap_usd"):
            out.append(GridCell(row[column] / MIRROR_DIVISOR, "number", 2))
        pct = row["gap_pct"]
        out.append(GridCell(pct, "number", 1) if pct is not None else GridCell(NOT_APPLICABLE, "text"))
        rows.append(out)
    rows.append([])
    rows.append([GridCell(MIRROR_SOURCE, "source")])
    rows.append([GridCell(MIRROR_NOTE, "note")])
    if marked:
        rows.append([GridCell(preliminary_note(list(mirror.preliminary_months)), "note")])
    return rows


def draft_paragraphs(markdown: str) -> list[GridCell]:
    """The draft as paragraphs, its markdown marks removed: the title, headings, items."""
    out = []
    for line in markdown.splitlines():
        if not line.strip():
            continue
        role = "title" if line.startswith("# ") else "heading" if line.startswith("#") else "paragraph"
        out.append(GridCell(line.lstrip("#").strip().replace("**", ""), role))
    return out


# How the workbook prints: widths in Excel's column units (the width of a digit of the
# default 11 pt font), heights in points.
BASE_SIZE = 11  # pt: the default font's
UNITS_PER_CHARACTER = 1.1  # a half-width character at 11 pt, bold included; a CJK one takes two
CELL_PADDING = 2  # units: the margins inside a cell
MIN_NUMBER_WIDTH = 10  # a number column is never narrower (the bulletin's even columns)
# The draft's one column: narrower than an A4 landscape page at full size, as LibreOffice never
# scales a sheet of one column to fit (its text would run off the page).
DRAFT_WIDTH = 90
LINE_HEIGHT = 1.5  # a line's height in points per point of font size (CJK fonts are tall)
ROW_PADDING = 3  # pt above and below the lines of a row whose height is set
WRAP_SLACK = 0.9  # a wrapped line holds a little less than the width: words move whole

_THIN = Side(style="thin")
_WRAP_TOP = Alignment(horizontal="left", vertical="top", wrap_text=True)
_STYLES = {
    "title": dict(font=Font(bold=True, size=12), alignment=_WRAP_TOP),
    "header": dict(
        font=Font(bold=True),
        alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
        border=Border(top=_THIN, bottom=_THIN),
    ),
    "block": dict(font=Font(bold=True)),
    "label": dict(alignment=Alignment(horizontal="left")),
    "number": dict(alignment=Alignment(horizontal="right")),
    "text": dict(alignment=Alignment(horizontal="right")),
    "source": dict(font=Font(size=9), alignment=_WRAP_TOP),
    "note": dict(font=Font(size=9), alignment=_WRAP_TOP),
    "heading": dict(font=Font(bold=True), alignment=_WRAP_TOP),
    "paragraph": dict(alignment=_WRAP_TOP),
}
# A row of one such cell spans the sheet's columns (merged) and wraps inside them.
SPANNING_ROLES = ("title", "source", "note", "heading", "paragraph")


def text_width(text: str) -> int:
    """The width of a line of text in half-width characters: a wide or fullwidth character
    (CJK, fullwidth punctuation) counts two, as does an ambiguous one (a CJK font draws it wide)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 1 for ch in text)


def _font_of(role: str) -> Font:
    return _STYLES.get(role, {}).get("font") or Font()


def text_units(text: str, role: str = "label") -> float:
    """The column units the widest line of ``text`` takes in a cell of ``role``'s font."""
    size = _font_of(role).size or BASE_SIZE
    widest = max((text_width(line) for line in text.split("\n")), default=0)
    return widest * UNITS_PER_CHARACTER * size / BASE_SIZE


def cell_text(cell: GridCell) -> str:
    """A cell's text as it prints: a number with its decimals."""
    if cell.value is None:
        return ""
    if cell.role == "number" and cell.decimals is not None and isinstance(cell.value, int | float):
        return format_value(cell.value, cell.decimals)
    return str(cell.value)


def line_count(text: str, width: float, role: str = "paragraph") -> int:
    """The lines ``text`` takes wrapped in a cell ``width`` units wide (its explicit lines, each
    wrapped; a little more than the exact count, never fewer lines)."""
    room = max(width - CELL_PADDING, 1) * WRAP_SLACK
    return sum(max(1, math.ceil(text_units(line, role) / room)) for line in text.split("\n"))


def row_height(lines: int, role: str = "label") -> float:
    """The height in points of a row of ``lines`` lines in ``role``'s font."""
    size = _font_of(role).size or BASE_SIZE
    return round(lines * size * LINE_HEIGHT + ROW_PADDING, 1)


def _spans(row: Sequence[GridCell]) -> bool:
    return len(row) == 1 and row[0].role in SPANNING_ROLES


def column_widths(rows: Sequence[Sequence[GridCell]], min_widths: Sequence[float] = ()) -> list[float]:
    """Each column's width: its widest cell (headers, labels, numbers; a spanning row aside)
    plus the cell's margins, at least ``min_widths`` (a column each)."""
    count = max((len(row) for row in rows if not _spans(row)), default=1)
    widths = [float(min_widths[c]) if c < len(min_widths) else 0.0 for c in range(count)]
    for row in rows:
        if _spans(row):
            continue
        for c, cell in enumerate(row):
            text = cell_text(cell)
            if text:
                widths[c] = max(widths[c], text_units(text, cell.role) + CELL_PADDING)
    return [round(w, 1) for w in widths]


def render_rows(ws, rows: Sequence[Sequence[GridCell]], widths: Sequence[float]) -> None:
    """Write rows of cells into a worksheet, styled by role, numbers with their number format;
    columns ``widths`` wide. A row of one title, source, note or paragraph spans the columns
    (merged when there are several) and is as tall as its wrapped lines; a header row with
    lines of its own (a line break) as tall as they are."""
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    for r, row in enumerate(rows, start=1):
        for c, cell in enumerate(row, start=1):
            if cell.value is None and cell.role not in ("header", "block"):
                continue
            target = ws.cell(row=r, column=c, value=cell.value)
            for attr, style in _STYLES.get(cell.role, {}).items():
                setattr(target, attr, style)
            if cell.role == "number" and cell.decimals is not None:
                target.number_format = number_format(cell.decimals)
        if _spans(row):
            cell = row[0]
            if len(widths) > 1:
                ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(widths))
            lines = line_count(cell_text(cell), sum(widths), cell.role)
            ws.row_dimensions[r].height = row_height(lines, cell.role)
        else:
            lines = max((cell_text(cell).count("\n") + 1 for cell in row if cell.role == "header"), default=1)
            if lines > 1:
                ws.row_dimensions[r].height = row_height(lines, "header")


def set_print(ws, frozen_rows: int, frozen_columns: int = 0) -> None:
    """Print on pages one A4 landscape page wide, as many tall as needed; the first
    ``frozen_rows`` rows (title, header) frozen on screen and repeated on every page, and the
    first ``frozen_columns`` columns (the labels) frozen."""
    ws.freeze_panes = ws.cell(row=frozen_rows + 1, column=frozen_columns + 1)
    ws.print_title_rows = f"1:{frozen_rows}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True


def render_grid(ws, grid: Grid) -> None:
    """Write a grid into a worksheet, numbers with their number format, set up to print."""
    minimum = [0] + [MIN_NUMBER_WIDTH] * len(grid.columns)
    render_rows(ws, grid.rows, column_widths(grid.rows, minimum))
    set_print(ws, frozen_rows=grid.header_row + 1, frozen_columns=1)


def add_figure_chart(ws, grid: Grid, title: str, value_label: str) -> None:
    """Figure 1's bars from its value row, the year-to-date bar in its own colour, labelled."""
    value_row = grid.series_rows[next(k for k in grid.series_rows if k[0] == "value")] + 1
    header = grid.header_row + 1
    last_col = len(grid.columns) + 1
    chart = BarChart()
    chart.type = "col"
    chart.title = title
    chart.y_axis.title = value_label
    chart.legend = None
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.majorGridlines = None
    chart.add_data(
        Reference(ws, min_col=1, max_col=last_col, min_row=value_row), from_rows=True, titles_from_data=True
    )
    series = chart.series[0]
    # the period headers are text: a string reference, so every application shows them as such
    categories = Reference(ws, min_col=2, max_col=last_col, min_row=header)
    series.cat = AxDataSource(strRef=StrRef(f=str(categories)))
    series.graphicalProperties.solidFill = BAR_COLOUR
    series.graphicalProperties.line.solidFill = BAR_COLOUR
    if grid.columns and grid.columns[-1].is_year_to_date:
        point = DataPoint(idx=len(grid.columns) - 1)
        point.graphicalProperties.solidFill = YEAR_TO_DATE_COLOUR
        point.graphicalProperties.line.solidFill = YEAR_TO_DATE_COLOUR
        series.dPt.append(point)
    series.dLbls = DataLabelList()
    series.dLbls.showVal = True
    for flag in ("showSerName", "showCatName", "showLegendKey", "showPercent"):
        setattr(series.dLbls, flag, False)
    chart.width = 20
    chart.height = 10
    ws.add_chart(chart, f"A{len(grid.rows) + 2}")


def render_mirror(ws, mirror: MirrorTable) -> None:
    rows = mirror_grid(mirror)
    if mirror.rows:
        render_rows(ws, rows, column_widths(rows, [0] + [MIN_NUMBER_WIDTH] * (len(MIRROR_HEADERS) - 1)))
        set_print(ws, frozen_rows=2, frozen_columns=1)
    else:
        render_rows(ws, rows, [DRAFT_WIDTH])
        set_print(ws, frozen_rows=1)


def render_draft(ws, markdown: str) -> None:
    """The draft a paragraph a row, in one wide column, each wrapped and as tall as its lines."""
    render_rows(ws, [[cell] for cell in draft_paragraphs(markdown)], [DRAFT_WIDTH])
    set_print(ws, frozen_rows=1)


def build_workbook(
    exhibits: Sequence[Exhibit],
    cells: dict[str, Sequence[Cell]],
    *,
    layouts: dict[str, ExhibitLayout] | None = None,
    preliminary: dict[str, Sequence[date]] | None = None,
    mirror: MirrorTable | None = None,
    draft: str | None = None,
) -> Workbook:
    """One sheet per exhibit, in the bulletin's order; then the mirror check and the draft
    (when given). ``layouts``: the exhibits' layouts (LAYOUTS by default); ``preliminary``:
    each exhibit's preliminary months (their first days), for the footnote."""
    layouts = layouts or LAYOUTS
    preliminary = preliminary or {}
    wb = Workbook()
    wb.remove(wb.active)
    for exhibit in exhibits:
        layout = layouts[exhibit.code]
        ws = wb.create_sheet(layout.sheet)
        grid = table_grid(layout, exhibit.title_zh, cells[exhibit.code], preliminary.get(exhibit.code, ()))
        render_grid(ws, grid)
        if layout.is_figure:
            add_figure_chart(ws, grid, exhibit.title_zh, layout.blocks[0].label)
    if mirror is not None:
        render_mirror(wb.create_sheet(MIRROR_SHEET), mirror)
    if draft is not None:
        render_draft(wb.create_sheet(DRAFT_SHEET), draft)
    return wb


def save_workbook(wb: Workbook, path: Path, stamp: datetime) -> None:
    """Save with ``stamp`` as the created and modified time and as every zip entry's date.

    openpyxl sets the modified time to now while saving and zips with the clock: the
    workbook is saved to memory, its core properties are written again with the stamp, and
    every entry is re-zipped, in openpyxl's order, with a fixed date and attributes.
    """
    stamp = stamp.replace(tzinfo=None, microsecond=0)
    wb.properties.creator = CREATOR
    wb.properties.lastModifiedBy = CREATOR
    wb.properties.created = stamp
    buffer = io.BytesIO()
    wb.save(buffer)
    wb.properties.modified = stamp
    core = tostring(wb.properties.to_tree())
    # A zip entry's date holds the years 1980 to 2107 only: a stamp outside is clamped, never a crash.
    date_time = min(max(stamp, datetime(1980, 1, 1)), datetime(2107, 12, 31)).timetuple()[:6]
    with zipfile.ZipFile(buffer) as source, path.open("wb") as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                data = core if info.filename == CORE_PROPERTIES else source.read(info.filename)
                entry = zipfile.ZipInfo(info.filename, date_time=date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.create_system = 3
                entry.external_attr = 0o644 << 16
                target.writestr(entry, data)
        f.flush()
        os.fsync(f.fileno())


def write_workbook(
    path: Path,
    exhibits: Sequence[Exhibit],
    cells: dict[str, Sequence[Cell]],
    stamp: datetime,
    **sheets,
) -> None:
    """The workbook; ``sheets``: :func:`build_workbook`'s keywords (layouts, preliminary,
    mirror, draft)."""
    save_workbook(build_workbook(exhibits, cells, **sheets), path, stamp)

"""MOEA survey downloads in the layouts the survey's query system exports, written from the shipped flat workbook.

The shipped workbook (``raw/moea/<date>/InquireAdvance.xlsx``) is the flat sheet with plain labels
and numeric cells. These writers lay the same numbers out as

- :func:`write_flat`: the flat sheet with spaced labels (``生產值 (千元)``), some in CJK
  compatibility ideographs, and numbers as text with thousands separators (``1,040``);
- :func:`write_crosstab`: the cross-tab of the survey's query system (see the docstring of
  ``orchestration/ingest/moea.py``): a title, two header rows (products labelled with a 7-digit
  code, merged over their measure columns, or the measures over the products), the ROC year
  only on a year's first month row, the month in the next column, notes under the table;
- :func:`write_crosstab_html`: the same cross-tab as an HTML page's table.

``edits`` put a given text (``-``, ``*``, ``-5``) in the cell of one (period label, product,
measure). Every writer returns where each value went: (period label, product, measure) ->
cell (``E12``; ``R12C5`` in the HTML table). Nothing here uses ``orchestration.ingest``.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from .ingest_helpers import RAW, data_files

MEASURES = ("生產量", "生產值(千元)", "銷售量", "銷售值(千元)")
# Labels as the query system writes them: a space before the unit, and one label in a CJK
# compatibility ideograph (U+F97E is 量; NFKC makes it U+91CF).
SPACED = {
    "生產量": "生產\uf97e",
    "生產值(千元)": "生產值 (千元)",
    "銷售量": "銷售量",
    "銷售值(千元)": "銷售值 （千元）",
}
# The 7-digit product codes written in the cross-tab's labels. Invented: the shipped workbook
# has no codes, and the pipeline matches products by name.
PRODUCT_CODES = {
    "伺服器": "2720010",
    "筆記型電腦": "2711010",
    "桌上型電腦": "2712010",
    "工業電腦": "2719010",
    "主機板": "2691010",
}
# How a product's name is written: 伺服器 with its last character in a compatibility ideograph.
WRITTEN_NAME = {"伺服器": "伺服\ufa38"}
ROC = re.compile(r"^(\d{2,3})年(\d{1,2})月$")

Key = tuple[str, str, str]  # (period label, product, measure)


@dataclass(frozen=True)
class Shipped:
    """The shipped flat workbook, read with openpyxl: rows of (period label, product, unit, values by measure)."""

    header: tuple
    rows: tuple[tuple[str, str, str, dict[str, float]], ...]

    def values(self) -> dict[Key, float]:
        return {(p, n, m): v for p, n, _u, vals in self.rows for m, v in vals.items()}

    def units(self) -> dict[str, str]:
        return {n: u for _p, n, u, _v in self.rows}

    def products(self) -> list[str]:
        return list(dict.fromkeys(n for _p, n, _u, _v in self.rows))

    def periods(self) -> list[str]:
        return list(dict.fromkeys(p for p, _n, _u, _v in self.rows))


@functools.cache
def shipped(path: Path | None = None) -> Shipped:
    (default,) = data_files("moea", RAW)
    workbook = openpyxl.load_workbook(path or default, read_only=True)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    header = rows[0]
    assert header == ("統計期", "產品名稱", "單位", *MEASURES), header
    out = []
    for row in rows[1:]:
        if all(c is None for c in row):
            continue
        out.append((row[0], row[1], row[2], {m: float(v) for m, v in zip(MEASURES, row[3:7], strict=True)}))
    return Shipped(header, tuple(out))


def _number_text(value: float, separators: bool) -> str | float:
    if not separators:
        return value
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def write_flat(
    target: Path,
    *,
    spaced: bool = True,
    separators: bool = True,
    edits: Mapping[Key, object] | None = None,
    compat_names: bool = True,
) -> dict[Key, str]:
    """The flat sheet: spaced labels, numbers as text with separators, ``edits`` in their cells."""
    data = shipped()
    edits = dict(edits or {})
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "工業產銷存動態調查"
    labels = [SPACED[m] if spaced else m for m in MEASURES]
    sheet.append(["統計期", "產品名稱" if not spaced else "產品 名稱", "單位", *labels])
    where: dict[Key, str] = {}
    for number, (period, name, unit, values) in enumerate(data.rows, start=2):
        written = WRITTEN_NAME.get(name, name) if compat_names else name
        cells: list[object] = [period, written, unit]
        for column, measure in enumerate(MEASURES, start=4):
            key = (period, name, measure)
            cells.append(edits.pop(key) if key in edits else _number_text(values[measure], separators))
            where[key] = f"{get_column_letter(column)}{number}"
        sheet.append(cells)
    assert not edits, f"edits of cells not in the workbook: {edits}"
    target.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(target)
    return where


@dataclass(frozen=True)
class CrossTab:
    """How :func:`write_crosstab` lays the table out."""

    measures_on_top: bool = False  # the measures in the upper header row, the products under them
    unit_in: str = "product"  # "product": (code)name (unit); "measure": 生產量 (台); "none"
    month_style: str = "月"  # "月": 1月; "int": the number 1
    year_style: str = "年"  # "年": 113年; "int": the number 113
    merge_years: bool = False  # the year cell merged down over the year's months
    merge_header: bool = True  # the upper header labels merged over their columns
    separators: bool = True
    title_rows: int = 2
    notes: bool = True
    # product -> the measures it has (the others are left out of the table)
    subset: Mapping[str, Sequence[str]] | None = None


def crosstab_grid(layout: CrossTab, edits: Mapping[Key, object] | None = None) -> tuple[list[list], list, dict]:
    """The cross-tab as rows of cells (1-based rows), its merged ranges, and where each value went."""
    data = shipped()
    edits = dict(edits or {})
    values, units = data.values(), data.units()
    products = data.products()
    subset = layout.subset or {}
    columns: list[tuple[str, str]] = []  # (product, measure) of columns C, D, ...
    if layout.measures_on_top:
        assert layout.unit_in != "measure", "a measure over several products cannot carry one product's unit"
        for measure in MEASURES:
            columns += [(p, measure) for p in products if measure in subset.get(p, MEASURES)]
    else:
        for product in products:
            columns += [(product, m) for m in MEASURES if m in subset.get(product, MEASURES)]

    def product_label(product: str) -> str:
        name = WRITTEN_NAME.get(product, product)
        label = f"({PRODUCT_CODES[product]}){name}"
        return f"{label} ({units[product]})" if layout.unit_in == "product" else label

    def measure_label(product: str, measure: str) -> str:
        label = SPACED[measure]
        if layout.unit_in == "measure" and measure in ("生產量", "銷售量"):
            label = f"{label} ({units[product]})"
        return label

    rows: list[list] = []
    merged: list[str] = []
    for t in range(layout.title_rows):
        rows.append(["工業產銷存動態調查 產品統計" if t == 0 else "資料期間：105年1月至113年7月"])
    top = len(rows) + 1
    upper: list[object] = ["年", "月"]
    lower: list[object] = [None, None]
    merged += [f"A{top}:A{top + 1}", f"B{top}:B{top + 1}"]
    previous = None
    span_start = 3
    for index, (product, measure) in enumerate(columns, start=3):
        head = measure if layout.measures_on_top else product
        if head != previous:
            if previous is not None and layout.merge_header and index - 1 > span_start:
                merged.append(f"{get_column_letter(span_start)}{top}:{get_column_letter(index - 1)}{top}")
            upper.append(SPACED[measure] if layout.measures_on_top else product_label(product))
            previous, span_start = head, index
        else:
            upper.append(None)
        lower.append(product_label(product) if layout.measures_on_top else measure_label(product, measure))
    last = len(columns) + 2
    if layout.merge_header and last > span_start:
        merged.append(f"{get_column_letter(span_start)}{top}:{get_column_letter(last)}{top}")
    rows += [upper, lower]
    where: dict[Key, str] = {}
    year_of_row: list[tuple[str, int]] = []
    for period in data.periods():
        m = ROC.match(period)
        year, month = m[1], int(m[2])
        number = len(rows) + 1
        first_of_year = not year_of_row or year_of_row[-1][0] != year
        year_cell = (f"{year}年" if layout.year_style == "年" else int(year)) if first_of_year else None
        month_cell = f"{month}月" if layout.month_style == "月" else month
        cells: list[object] = [year_cell, month_cell]
        for column, (product, measure) in enumerate(columns, start=3):
            key = (period, product, measure)
            cells.append(edits.pop(key) if key in edits else _number_text(values[key], layout.separators))
            where[key] = f"{get_column_letter(column)}{number}"
        rows.append(cells)
        year_of_row.append((year, number))
    if layout.merge_years:
        spans: dict[str, list[int]] = {}
        for year, number in year_of_row:
            spans.setdefault(year, []).append(number)
        merged += [f"A{n[0]}:A{n[-1]}" for n in spans.values() if len(n) > 1]
    if layout.notes:
        rows.append([])
        rows.append(["註：「-」表示無數值；「*」表示不陳示數值以保護個別資料。"])
        rows.append(["資料來源：經濟部統計處工業產銷存動態調查。"])
    assert not edits, f"edits of cells not in the table: {edits}"
    return rows, merged, where


def write_crosstab(
    target: Path, layout: CrossTab | None = None, edits: Mapping[Key, object] | None = None
) -> dict[Key, str]:
    """The cross-tab as an .xlsx workbook (merged cells where the layout merges)."""
    rows, merged, where = crosstab_grid(layout or CrossTab(), edits)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "產品統計"
    for row in rows:
        sheet.append(row)
    for cells in merged:
        sheet.merge_cells(cells)
    target.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(target)
    return where


def write_crosstab_html(
    target: Path, layout: CrossTab | None = None, edits: Mapping[Key, object] | None = None
) -> dict[Key, str]:
    """The cross-tab as the result table of an HTML page (colspan/rowspan for merged cells).

    The title rows and notes are paragraphs outside the table, so the table's rows are the
    header (rows 1-2) and the months; cells are named ``R<row>C<column>`` of the table.
    """
    layout = layout or CrossTab()
    rows, merged, where = crosstab_grid(CrossTab(**{**layout.__dict__, "title_rows": 0, "notes": False}), edits)
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    covered: set[tuple[int, int]] = set()
    for ref in merged:
        first, last = ref.split(":")
        r1, c1 = openpyxl.utils.cell.coordinate_to_tuple(first)
        r2, c2 = openpyxl.utils.cell.coordinate_to_tuple(last)
        spans[(r1, c1)] = (r2 - r1 + 1, c2 - c1 + 1)
        covered |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)} - {(r1, c1)}
    lines = [
        '<!DOCTYPE html>\r\n<html><head><meta charset="utf-8" /><title>工業產銷存動態調查</title></head><body>',
        "<p>工業產銷存動態調查 產品統計</p>",
        '<table id="ContentPlaceHolder1_tabResult" border="1">',
    ]
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row, start=1):
            if (r, c) in covered:
                continue
            down, across = spans.get((r, c), (1, 1))
            attrs = (f' rowspan="{down}"' if down > 1 else "") + (f' colspan="{across}"' if across > 1 else "")
            tag = "th" if r <= 2 else "td"
            text = "" if value is None else html.escape(str(value))
            cells.append(f"<{tag}{attrs}>\r\n    {text}\r\n  </{tag}>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</table><p>註：「-」表示無數值；「*」表示不陳示數值以保護個別資料。</p></body></html>")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\r\n".join(lines), encoding="utf-8")
    return {key: _r1c1(cell) for key, cell in where.items()}


def _r1c1(cell: str) -> str:
    row, column = openpyxl.utils.cell.coordinate_to_tuple(cell)
    return f"R{row}C{column}"

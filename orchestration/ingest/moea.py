"""MOEA Industrial Production, Sales and Inventory Survey (工業產銷存動態調查), query export.

What a file is comes from its bytes (:func:`sniff.sniff`), never from its name: a real .xlsx
workbook is read (its first sheet); an HTML page is read from its first table of a layout
below (what an "Excel" button of an ASP.NET query system may give instead of a workbook);
anything else (a zip archive that is no workbook, a cut-off download, text, an empty file ...)
is refused with a message saying what the file looks like and what to download instead.

Two layouts are read, told apart by their header, wherever it is in the first rows (rows
above it are the export's title and query lines, and are skipped):

**Flat sheet** (the documented export): a header row 統計期, 產品名稱, 單位, 生產量, 生產值(千元),
銷售量, 銷售值(千元), in this order, then one row per ROC month (text, ``113年7月``) and product.
A product name may carry the survey's 7-digit product code as a prefix (``(2433020)銅箔``).

**Cross-tab** (what the survey's query system shows; designed from what code that parses
its pages and exports tells, since no real export of it was found):

- Two header rows. One holds the products, labelled with their 7-digit product code as a
  prefix (``(2433020)銅箔``), perhaps followed by the quantity unit after a space
  (``(2433020)銅箔 (公噸)``); the other holds the measures, one per column: 生產量, 生產值 (千元),
  銷售量, 銷售值 (千元), a quantity measure perhaps with the unit (``生產量 (台)``). Either row
  may be the upper one. The upper row's label spans (a merged cell, or a label followed by
  empty cells) every column up to the next label; the lower row has one label per column.
  A product may have any subset of the four measures, in any order. Columns A and B of the
  header rows (the year and month columns' headings) are not read.
- Then one row per month: the ROC year in column A only on each year's first month row
  (``113年``, or ``113``; blank, or merged, below it), the month in column B (``1月`` or ``1``),
  the values under their product and measure. Months of a year go up; a month that is not
  after the one above it needs its year in column A.
- ``period_label`` is then written as the flat sheet has it (``113年1月``); ``unit`` is the
  product's quantity unit when the header gives it (from the product's label, else from a
  quantity measure's), else empty.

Both layouts:

- Header labels are compared after Unicode NFKC normalisation (some labels are written in
  CJK compatibility ideographs, or with full-width brackets) and with every whitespace
  removed: ``生產值 (千元)`` is ``生產值(千元)``. Product names and period labels are
  normalised the same way; the measure keeps the survey's name without the space.
- Values are numbers, or text: ``1,040`` (thousands separators, which must group by three),
  ``1040.5``; ``-`` is no value (a month with no production): the row is kept with a null
  value and ``value_status`` 'no value'; ``*`` is a value the survey suppresses to protect a
  respondent: kept with a null value and ``value_status`` 'suppressed' (the dbt test
  ``assert_no_suppressed_value_in_a_printed_series`` fails when the bulletin would use one).
  An empty cell is no row. A negative number, or any other text, is refused.
- Every row keeps its sheet row (``source_row``) and its cell (``source_cell``, ``E12``; for an
  HTML page ``R12C5``, the table's row and column); ``product_code`` is the 7-digit code
  where the file gives one.
- Rows after the table whose only content is text in column A (notes, the legend of ``-``
  and ``*``, the source) end the table; data rows after them are refused.
- Every message names the file, the row or cell, and what is there.

Bounded: a workbook is read in openpyxl's read-only (streaming) mode. Before anything is
read, a workbook whose parts are absurdly large, or whose sheet declares more than
``MAX_CELLS`` cells, is refused; while reading, the same budget holds whatever the sheet
declared (a missing or wrong dimension neither truncates the sheet nor lets it grow
without bound). An HTML page over ``MAX_HTML_BYTES`` is refused.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import duckdb
import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from . import sniff as sniffing
from .checks import check_header, ends_after_download
from .files import DownloadFile
from .number_check import is_negative, negative_message, not_a_number_message, number
from .rows import LINEAGE, load_rows
from .spec import SourceSpec

SPEC = SourceSpec(
    source="moea",
    table="moea_production",
    # Any extension: what the file is comes from its bytes.
    file_patterns=("InquireAdvance*",),
    description="an .xlsx workbook (the MOEA survey export)",
    asset_description=(
        "MOEA production survey exports (工業產銷存動態調查): production and sales by product and month."
    ),
    key=("product_name", "measure", "period_month"),
    value_column="value",
    period_column="period_month",
    row_label="row",
    signatures=(b"PK\x03\x04",),
    # The kinds of file (sniff.sniff) this parser reads.
    reads=(sniffing.XLSX, sniffing.HTML),
)
# For readers of PARSERS[source].TABLE; the spec says it.
TABLE = SPEC.table
MEASURES = ("生產量", "生產值(千元)", "銷售量", "銷售值(千元)")
QUANTITY_MEASURES = ("生產量", "銷售量")
HEADER = ("統計期", "產品名稱", "單位", *MEASURES)
COLUMNS = (
    ("period_label", "VARCHAR"),
    ("period_month", "DATE"),
    ("product_code", "VARCHAR"),
    ("product_name", "VARCHAR"),
    ("unit", "VARCHAR"),
    ("measure", "VARCHAR"),
    ("value", "DOUBLE"),
    ("value_status", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("download_date", "DATE"),
    ("source_row", "BIGINT"),
    ("source_cell", "VARCHAR"),
)
NO_VALUE = "no value"
SUPPRESSED = "suppressed"

# A sheet (or HTML table) of more cells than this is refused: the survey's exports are a few
# thousand cells; a million is far beyond any real query.
MAX_CELLS = 1_000_000
# Any part of the workbook (the sheet's XML, the shared strings) larger than this, unpacked.
MAX_PART_BYTES = 256 << 20
MAX_HTML_BYTES = 64 << 20
# The header is looked for in this many first rows.
HEADER_SEARCH_ROWS = 30

ROC_MONTH = re.compile(r"^([0-9]{2,3})年([0-9]{1,2})月$")
ROC_YEAR = re.compile(r"^([0-9]{2,3})年?$")
MONTH = re.compile(r"^([0-9]{1,2})月?$")
# A product label: the 7-digit code in brackets, the name, perhaps " (unit)" after a space.
PRODUCT_LABEL = re.compile(r"^\(([0-9]{7})\)\s*(.*?)\s*$")
UNIT_SUFFIX = re.compile(r"^(.*?\S)\s+\(([^()]+)\)$")
QUANTITY_WITH_UNIT = re.compile(r"^(生產量|銷售量)\(([^()]+)\)$")
DASHES = {"-", "\u2013", "\u2014", "\u2212"}
DOWNLOAD_AGAIN = (
    "download the query's result again from the survey's query system (工業產銷存動態調查) "
    "with its Excel button, as an .xlsx workbook"
)


def normalize(text: str) -> str:
    """NFKC, and every whitespace removed: how labels, names and values are compared."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _shown(value: object) -> str:
    """A cell's content as a message quotes it."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _label(value: object) -> str | None:
    """A cell as a label: normalised text, None when empty."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = normalize(str(value))
    return text or None


# ---------------------------------------------------------------- the grid a file is read into


@dataclass(frozen=True)
class Grid:
    """A table as rows of cell values; row ``n`` (1-based, as messages name it) is ``rows[n - 1]``.

    ``cell(row, column)`` names a cell (both 1-based): ``E12`` in a sheet, ``R12C5`` in an
    HTML table. ``what`` says where the table is, for messages ("the sheet", "the page's table").
    """

    rows: list[tuple]
    cell: Callable[[int, int], str]
    what: str

    def value(self, row: int, column: int) -> object:
        cells = self.rows[row - 1] if 0 < row <= len(self.rows) else ()
        return cells[column - 1] if 0 < column <= len(cells) else None

    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


def _sheet_cell(row: int, column: int) -> str:
    return f"{get_column_letter(column)}{row}"


def _html_cell(row: int, column: int) -> str:
    return f"R{row}C{column}"


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_workbook(file: DownloadFile) -> Grid:
    """The first sheet of a workbook, streamed, within the cell budget."""
    try:
        with zipfile.ZipFile(file.path) as archive:
            big = [i for i in archive.infolist() if i.file_size > MAX_PART_BYTES]
    except (zipfile.BadZipFile, OSError) as exc:
        raise file.error(None, f"the file is not an .xlsx workbook ({exc}); {DOWNLOAD_AGAIN}") from exc
    if big:
        raise file.error(
            None,
            f"the workbook's part {big[0].filename} unpacks to {big[0].file_size:,} bytes, far more than "
            f"any survey export (at most {MAX_PART_BYTES:,} read); this is not the survey's export: "
            + DOWNLOAD_AGAIN,
        )
    try:
        workbook = openpyxl.load_workbook(file.path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, OSError, KeyError, ValueError, TypeError) as exc:
        raise file.error(
            None, f"the file is not an .xlsx workbook openpyxl can read ({exc}); {DOWNLOAD_AGAIN}"
        ) from exc
    try:
        if not workbook.worksheets:
            raise file.error(None, "the workbook has no sheet; " + DOWNLOAD_AGAIN)
        sheet = workbook.worksheets[0]
        rows, columns = sheet.max_row, sheet.max_column
        if rows is not None and columns is not None and rows * columns > MAX_CELLS:
            raise file.error(
                None,
                f"the sheet {sheet.title!r} declares {rows:,} rows by {columns:,} columns "
                f"({sheet.calculate_dimension()}, {rows * columns:,} cells), more than the {MAX_CELLS:,} cells "
                "read from one export: this is not the survey's query result; " + DOWNLOAD_AGAIN,
            )
        # The declared dimension bounds nothing (it may be missing, or wrong and too small, which
        # would cut rows off): read every row, counting cells against the budget.
        sheet.reset_dimensions()
        grid: list[tuple] = []
        cells = 0
        for row in sheet.iter_rows(values_only=True):
            cells += max(len(row), 1)
            if cells > MAX_CELLS:
                raise file.error(
                    f"row {len(grid) + 1}",
                    f"the sheet {sheet.title!r} holds more than {MAX_CELLS:,} cells by this row: "
                    "this is not the survey's query result; " + DOWNLOAD_AGAIN,
                )
            grid.append(tuple(row))
    finally:
        workbook.close()
    return Grid(grid, _sheet_cell, f"the sheet {sheet.title!r}")


def _html_tables(file: DownloadFile) -> list[Grid]:
    """Every table of an HTML page as a grid (spans expanded: a spanned cell is empty past its first)."""
    import lxml.html

    size = file.path.stat().st_size
    if size > MAX_HTML_BYTES:
        raise file.error(
            None,
            f"the file is an HTML page of {size:,} bytes, more than the {MAX_HTML_BYTES:,} read from one "
            "export: this is not the survey's query result; " + DOWNLOAD_AGAIN,
        )
    data = file.path.read_bytes()
    try:
        data.decode("utf-8")
        encoding: str | None = "utf-8"
    except UnicodeDecodeError:
        # the page's own <meta charset>, else Big5, as Taiwanese pages without one are
        encoding = None if re.search(rb"<meta[^>]+charset", data[:4096], re.IGNORECASE) else "cp950"
    try:
        document = lxml.html.fromstring(data, parser=lxml.html.HTMLParser(encoding=encoding))
    except (ValueError, lxml.etree.ParserError) as exc:
        raise file.error(None, f"the file is an HTML page that cannot be read ({exc}); {DOWNLOAD_AGAIN}") from exc
    grids = []
    for table in document.iter("table"):
        rows = [tr for tr in table.iter("tr") if next(tr.iterancestors("table"), None) is table]
        grid: list[list] = []
        pending: dict[tuple[int, int], None] = {}  # cells taken by a rowspan from above
        cells = 0
        for r, tr in enumerate(rows):
            line: list = []
            c = 0
            for td in tr:
                if not isinstance(td.tag, str) or td.tag.lower() not in ("td", "th"):
                    continue
                while (r, c) in pending:
                    line.append(None)
                    c += 1
                text = " ".join(td.text_content().split()) or None
                span = _span(td.get("colspan"))
                down = _span(td.get("rowspan"))
                line.append(text)
                line.extend([None] * (span - 1))
                for dr in range(1, down):
                    for dc in range(span):
                        pending[(r + dr, c + dc)] = None
                c += span
            while (r, c) in pending:
                line.append(None)
                c += 1
            cells += max(len(line), 1)
            if cells > MAX_CELLS:
                raise file.error(
                    f"table row {r + 1}",
                    f"the page's table holds more than {MAX_CELLS:,} cells by this row: this is not the "
                    "survey's query result; " + DOWNLOAD_AGAIN,
                )
            grid.append(line)
        if grid:
            grids.append(Grid([tuple(g) for g in grid], _html_cell, "the page's table"))
    return grids


def _span(value: str | None) -> int:
    try:
        return min(max(int(value or 1), 1), 1000)
    except ValueError:
        return 1


# ---------------------------------------------------------------- layouts


@dataclass(frozen=True)
class Layout:
    kind: str  # "flat" or "crosstab"
    header_row: int  # the (first) header row
    product_row: int = 0  # cross-tab: the header row of the products
    measure_row: int = 0  # cross-tab: the header row of the measures


def _find_layout(grid: Grid) -> Layout | None:
    flat_labels = set(HEADER)

    def has_products(n: int) -> bool:
        labels = [_label(v) for v in grid.rows[n - 1][2:]] if n <= len(grid.rows) else []
        return any(label and PRODUCT_LABEL.match(label) for label in labels)

    for n in range(1, min(len(grid.rows), HEADER_SEARCH_ROWS) + 1):
        labels = [_label(v) for v in grid.rows[n - 1]]
        # the flat header (with a column or two renamed: its check says which); a row of the
        # measures over the cross-tab's products is not one
        if len(flat_labels.intersection(labels)) >= 3 and not has_products(n) and not has_products(n + 1):
            return Layout("flat", n)
        if has_products(n):
            below = [_measure(_label(v))[0] for v in grid.rows[n]] if n < len(grid.rows) else []
            above = [_measure(_label(v))[0] for v in grid.rows[n - 2]] if n > 1 else []
            if any(below[2:]):
                return Layout("crosstab", n, product_row=n, measure_row=n + 1)
            if any(above[2:]):
                return Layout("crosstab", n - 1, product_row=n, measure_row=n - 1)
            return Layout("crosstab", n, product_row=n, measure_row=n + 1)
    return None


def _measure(label: str | None) -> tuple[str | None, str | None]:
    """(measure, unit) of a measure label; (None, None) when it is none of the four."""
    if label is None:
        return None, None
    if label in MEASURES:
        return label, None
    m = QUANTITY_WITH_UNIT.match(label)
    if m:
        return m[1], m[2]
    return None, None


@dataclass
class Rows:
    """The long form being built, column by column."""

    period_label: list
    period_month: list
    product_code: list
    product_name: list
    unit: list
    measure: list
    value: list
    value_status: list
    source_row: list
    source_cell: list

    @classmethod
    def empty(cls) -> Rows:
        return cls(*([] for _ in range(10)))

    def add(self, period: tuple[str, dt.date], product: tuple[str | None, str, str | None], measure: str,
            value: tuple[float | None, str | None], row: int, cell: str) -> None:
        self.period_label.append(period[0])
        self.period_month.append(period[1])
        self.product_code.append(product[0])
        self.product_name.append(product[1])
        self.unit.append(product[2])
        self.measure.append(measure)
        self.value.append(value[0])
        self.value_status.append(value[1])
        self.source_row.append(row)
        self.source_cell.append(cell)


class _Reader:
    """What both layouts share: values, periods, notes after the table, the messages."""

    def __init__(self, file: DownloadFile, grid: Grid) -> None:
        self.file = file
        self.grid = grid
        self.out = Rows.empty()
        self.note_row: int | None = None

    def fail(self, row: int, what: str) -> NoReturn:
        raise self.file.error(f"row {row}", what)

    def period(self, row: int, label: str, cells: str) -> dt.date:
        """The month a ROC label names, checked against the download's date."""
        m = ROC_MONTH.match(label)
        if not m or not 1 <= int(m[2]) <= 12:
            self.fail(row, f'統計期 "{label}" is not a ROC month such as 113年7月 (cell {cells})')
        month = dt.date(int(m[1]) + 1911, int(m[2]), 1)
        following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        if following > self.file.download_date:
            self.fail(row, ends_after_download(f'統計期 "{label}"', self.file.download_date))
        return month

    def value(self, row: int, column: int, measure: str, whose: str) -> tuple[float | None, str | None] | None:
        """The value of one cell: (number, None), (None, status), or None for an empty cell."""
        raw = self.grid.value(row, column)
        cell = self.grid.cell(row, column)
        if _is_empty(raw):
            return None
        where, detail = f"in {measure}", f" (cell {cell}: {whose})"
        if isinstance(raw, bool) or isinstance(raw, dt.date | dt.time | dt.timedelta):
            self.fail(row, not_a_number_message(f"{raw}", where, detail))
        if isinstance(raw, int | float):
            if not math.isfinite(raw):
                self.fail(row, not_a_number_message(f"{raw}", where, detail))
            if raw < 0:
                self.fail(row, negative_message(_shown(raw), where, detail))
            return float(raw), None
        text = normalize(str(raw))
        if text in DASHES:
            return None, NO_VALUE
        if text == "*":
            return None, SUPPRESSED
        value = number(text)
        if value is not None:
            return value, None
        if is_negative(text, DASHES):
            self.fail(row, negative_message(_shown(raw), where, detail))
        self.fail(
            row,
            not_a_number_message(
                _shown(raw),
                where,
                f' (cell {cell}: {whose}; a value is a number, "-" for no value or "*" for a suppressed value)',
            ),
        )

    def is_note(self, row: int, first: int) -> bool:
        """A row after the table that is only text in its first column (a note, the legend, the source)."""
        cells = self.grid.rows[row - 1]
        text = cells[first - 1] if len(cells) >= first else None
        others = [v for i, v in enumerate(cells, start=1) if i != first and not _is_empty(v)]
        return isinstance(text, str) and not others and not re.match(r"^[0-9]", normalize(text))

    def after_notes(self, row: int) -> None:
        if self.note_row is not None:
            self.fail(
                row,
                f"a data row after the note in row {self.note_row} "
                f'("{_shown(self.grid.value(self.note_row, 1))[:40]}"): the table ends at its notes; '
                "the file is not one export, download it again",
            )


def _product(text: str) -> tuple[str | None, str, str | None]:
    """(code, name, unit) of a product label: ``(2433020)銅箔 (公噸)`` -> 2433020, 銅箔, 公噸."""
    text = unicodedata.normalize("NFKC", text).strip()
    code = None
    m = PRODUCT_LABEL.match(text)
    if m:
        code, text = m[1], m[2]
    unit = None
    u = UNIT_SUFFIX.match(text)
    if u and code is not None:
        text, unit = u[1], normalize(u[2])
    return code, normalize(text), unit


def _read_flat(file: DownloadFile, grid: Grid, layout: Layout) -> Rows:
    reader = _Reader(file, grid)
    h = layout.header_row
    header = [(c, _label(v)) for c, v in enumerate(grid.rows[h - 1], start=1)]
    header = [(c, label) for c, label in header if label is not None]
    check_header(file, [label for _, label in header], HEADER, line=h, where_label="row")
    columns = dict(zip(HEADER, (c for c, _ in header), strict=True))
    period_col = columns["統計期"]
    seen_data = False
    for n in range(h + 1, len(grid.rows) + 1):
        cells = grid.rows[n - 1]
        if all(_is_empty(v) for v in cells):
            continue
        raw_period = grid.value(n, period_col)
        label = _label(raw_period) or ""
        if seen_data and not ROC_MONTH.match(label) and reader.is_note(n, period_col):
            reader.note_row = reader.note_row or n
            continue
        reader.after_notes(n)
        seen_data = True
        month = reader.period(n, label, grid.cell(n, period_col))
        raw_product = grid.value(n, columns["產品名稱"])
        if _is_empty(raw_product):
            reader.fail(n, f"產品名稱 (product) is empty ({grid.cell(n, columns['產品名稱'])})")
        code, name, _ = _product(_shown(raw_product))
        unit = _label(grid.value(n, columns["單位"]))
        whose = f"{name}, {label}"
        for measure in MEASURES:
            c = columns[measure]
            value = reader.value(n, c, measure, whose)
            if value is not None:
                reader.out.add((label, month), (code, name, unit), measure, value, n, grid.cell(n, c))
    if not seen_data:
        reader.fail(h + 1, "the sheet has no data rows after the header: the export came out empty; download it again")
    return reader.out


def _read_crosstab(file: DownloadFile, grid: Grid, layout: Layout) -> Rows:
    reader = _Reader(file, grid)
    top = layout.header_row
    p_row, m_row = layout.product_row, layout.measure_row
    if m_row > len(grid.rows) or not any(_measure(_label(v))[0] for v in grid.rows[m_row - 1][2:]):
        where = "below" if m_row > p_row else "above"
        reader.fail(
            p_row,
            "the products' header (labels such as (2433020)銅箔) has no row of measures "
            f"(生產量, 生產值 (千元), 銷售量, 銷售值 (千元)) {where} it, as the survey's cross-tab has; "
            "the header is not this source's layout",
        )
    width = max(len(grid.rows[top - 1]), len(grid.rows[top]))
    # product (code, name, unit, header cell) and measure (name, header cell) of each data column
    columns: dict[int, tuple[tuple[str | None, str, str | None], str, str]] = {}
    spanning: tuple[str, int] | None = None  # the upper row's label and its column
    units: dict[str, str] = {}  # each product's quantity unit, where the header gives it
    for c in range(3, width + 1):
        upper = grid.value(top, c)
        lower = grid.value(top + 1, c)
        if not _is_empty(upper):
            spanning = (_shown(upper), c)
        if _is_empty(lower):
            if not _is_empty(upper):
                reader.fail(
                    top + 1,
                    f'"{_shown(upper)}" ({grid.cell(top, c)}) has no '
                    f"{'measure' if top == p_row else 'product'} under it ({grid.cell(top + 1, c)} is empty)",
                )
            continue
        if spanning is None:
            reader.fail(
                top,
                f'"{_shown(lower)}" ({grid.cell(top + 1, c)}) has no '
                f"{'product' if top == p_row else 'measure'} above it ({grid.cell(top, c)} is empty)",
            )
        upper_text, upper_col = spanning
        product_text, product_cell = (
            (upper_text, grid.cell(top, upper_col)) if top == p_row else (_shown(lower), grid.cell(top + 1, c))
        )
        measure_text, measure_cell = (
            (_shown(lower), grid.cell(top + 1, c)) if top == p_row else (upper_text, grid.cell(top, upper_col))
        )
        code, name, unit = _product(product_text)
        if code is None:
            reader.fail(
                p_row,
                f'product "{product_text}" ({product_cell}) has no 7-digit product code before its name, '
                "as every product of the survey's cross-tab has, e.g. (2433020)銅箔",
            )
        if not name:
            reader.fail(p_row, f'product "{product_text}" ({product_cell}) has a code but no name')
        measure, measure_unit = _measure(_label(measure_text))
        if measure is None:
            reader.fail(
                m_row,
                f'"{measure_text}" ({measure_cell}) is not a measure this pipeline reads '
                f"({', '.join(MEASURES)}); query those measures only",
            )
        unit = unit or measure_unit
        if unit and name not in units:
            units[name] = unit
        columns[c] = ((code, name, None), measure, product_cell)
    if not columns:
        reader.fail(p_row, "the cross-tab's header has no product and measure columns")
    seen: dict[tuple[str, str], int] = {}
    for c, ((_code, name, _), measure, _cell) in columns.items():
        if (name, measure) in seen:
            first = seen[(name, measure)]
            reader.fail(
                m_row,
                f"{name}'s {measure} has two columns ({grid.cell(m_row, first)} and {grid.cell(m_row, c)}); "
                "the export is damaged, download it again",
            )
        seen[(name, measure)] = c
    year: int | None = None
    last_month: int | None = None
    seen_data = False
    for n in range(top + 2, len(grid.rows) + 1):
        cells = grid.rows[n - 1]
        if all(_is_empty(v) for v in cells):
            continue
        year_label, month_label = _label(grid.value(n, 1)), _label(grid.value(n, 2))
        if seen_data and month_label is None and reader.is_note(n, 1) and not ROC_YEAR.match(year_label or ""):
            reader.note_row = reader.note_row or n
            continue
        reader.after_notes(n)
        seen_data = True
        if year_label is not None:
            y = ROC_YEAR.match(year_label)
            if not y:
                reader.fail(
                    n, f'the year "{_shown(grid.value(n, 1))}" ({grid.cell(n, 1)}) is not a ROC year such as 113年'
                )
            year, last_month = int(y[1]), None
        m = MONTH.match(month_label or "")
        if not m or not 1 <= int(m[1]) <= 12:
            shown = _shown(grid.value(n, 2)) if month_label else ""
            reader.fail(n, f'the month "{shown}" ({grid.cell(n, 2)}) is not a month such as 1月 or 1')
        month = int(m[1])
        if year is None:
            reader.fail(
                n,
                f'month "{month_label}" ({grid.cell(n, 2)}) has no year: the first month row of a year holds '
                f"the ROC year (113年) in column A, and {grid.cell(n, 1)} is empty",
            )
        if last_month is not None and month <= last_month:
            reader.fail(
                n,
                f'month "{month_label}" ({grid.cell(n, 2)}) does not follow month {last_month} of {year}年 '
                f"above it, and {grid.cell(n, 1)} holds no new year: the year column is missing a year",
            )
        last_month = month
        label = f"{year}年{month}月"
        period = (label, reader.period(n, label, f"{grid.cell(n, 1)}/{grid.cell(n, 2)}"))
        for c in range(3, len(cells) + 1):
            if c not in columns and not _is_empty(cells[c - 1]):
                reader.fail(
                    n,
                    f'value "{_shown(cells[c - 1])}" ({grid.cell(n, c)}) is under no product and measure of the '
                    "header; the export is damaged, download it again",
                )
        for c, ((code, name, _), measure, _cell) in columns.items():
            value = reader.value(n, c, measure, f"{name}, {label}")
            if value is not None:
                reader.out.add(period, (code, name, units.get(name)), measure, value, n, grid.cell(n, c))
    if not seen_data:
        reader.fail(
            top + 2, "the sheet has no data rows after the header: the export came out empty; download it again"
        )
    return reader.out


def _no_layout(file: DownloadFile, grid: Grid) -> Exception:
    first = next((n for n, r in enumerate(grid.rows, start=1) if any(not _is_empty(v) for v in r)), None)
    if first is None:
        return file.error(None, f"{grid.what} is empty; " + DOWNLOAD_AGAIN)
    shown = ", ".join(_shown(v) for v in grid.rows[first - 1] if not _is_empty(v))
    return file.error(
        f"row {first}",
        f"the header is not this source's layout: {grid.what} has neither the flat sheet's header "
        f"({', '.join(HEADER)}) nor the cross-tab's products with their codes (e.g. (2433020)銅箔) over "
        f"measure columns in its first {HEADER_SEARCH_ROWS} rows; row {first} holds: {shown[:200]}",
    )


def _read_grid(file: DownloadFile, grid: Grid) -> Rows | None:
    layout = _find_layout(grid)
    if layout is None:
        return None
    if layout.kind == "flat":
        return _read_flat(file, grid, layout)
    return _read_crosstab(file, grid, layout)


def read(file: DownloadFile) -> Rows:
    """The long form of one survey download, whatever its layout; IngestError when it is none."""
    what = sniffing.sniff(file.path)
    if what.kind == sniffing.EMPTY:
        raise file.error(None, "the file is empty (0 bytes); download it again")
    if what.kind == sniffing.XLSX:
        grid = _read_workbook(file)
        rows = _read_grid(file, grid)
        if rows is None:
            raise _no_layout(file, grid)
        return rows
    if what.kind == sniffing.HTML:
        grids = _html_tables(file)
        for grid in grids:
            rows = _read_grid(file, grid)
            if rows is not None:
                return rows
        texts = [_shown(v) for g in grids for r in g.rows for v in r if not _is_empty(v)]
        holds = f"; its tables begin: {', '.join(texts[:6])[:120]}" if texts else ""
        raise file.error(
            None,
            f"the file is an HTML page, not an .xlsx workbook, and none of its {len(grids)} table(s) has the "
            f"survey's flat header ({', '.join(HEADER)}) or its cross-tab of products with their codes "
            f"(perhaps the system's error or login page{holds}); " + DOWNLOAD_AGAIN,
        )
    hint = (
        "open it in Excel and save it as an Excel Workbook (.xlsx), or "
        if what.kind == sniffing.XLS_BINARY
        else ""
    )
    raise file.error(None, f"the file is not an .xlsx workbook: it is {what.describe()}; {hint}{DOWNLOAD_AGAIN}")


def parse(con: duckdb.DuckDBPyConnection, file: DownloadFile, workdir: Path, into: str) -> None:
    """Parse one survey download into the temporary table ``into``, one row per month, product and measure."""
    rows = read(file)
    if not rows.source_row:
        raise file.error(
            None,
            "the table's data rows hold no value (every cell is empty): the export came out empty; "
            "download it again",
        )
    values = {name: getattr(rows, name) for name, _ in COLUMNS if name not in LINEAGE}
    load_rows(con, into, file, COLUMNS, values)


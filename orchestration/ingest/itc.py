"""ITC Trade Map: the list of exporters of one product, yearly time series (one column per year).

What the file is decides how it is read, never its name's extension (:func:`sniff.sniff`):

- the text export: tab-separated, UTF-8 with or without a byte-order mark (or UTF-16,
  Excel's "Unicode text"), exporter names in double quotes, a trailing tab on every line
  (an empty last column), header ``Exporters``, ``Exported value in <year>`` …;
- the page Trade Map's "Excel" button gives: an XHTML page named ``.xls``, with a title table
  (``Product: <code> <label>``), a legend, ``Unit : US Dollar thousand`` and the data table
  ``id="ctl00_PageContent_MyGridView1"`` (``<th>Exporters</th>``, one ``<th>`` per year; name
  cells padded with line breaks and spaces; an empty value ``<td></td>``);
- that page saved by Excel as a workbook (.xlsx): the same lines, one per sheet row.

The ``World`` row is the world total. An empty cell, or a lone ``-``, is no value. The product
is named by the file name (``…_product_(<description>).<ext>``, a browser's `` (1)`` after it is
no part of it) and, in the page and the workbook, by the ``Product:`` line, which gives its HS
code too; when both name it they must agree. The other views of the list (monthly, quarterly,
the single-year indicators, the list of importers) are refused with the download to make instead.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from . import html_table, sniff
from .checks import RowCheck, check_complete_last_line, ends_after_download_sql, first_bad_row
from .csv_reader import csv_columns, read_csv_relation, read_first_line
from .encoding import sniff_text_encoding
from .files import DownloadFile
from .number_check import has_value_sql, value_checks, value_text_sql
from .spec import SourceSpec

SPEC = SourceSpec(
    source="itc",
    table="itc_exporters",
    # Any extension: the text export (.txt), the "Excel" page (.xls), a workbook (.xlsx) …
    file_patterns=("Trade_Map_-_*",),
    description="an ITC Trade Map list of exporters",
    asset_description="ITC Trade Map exports: exporters of HS 847150 by year.",
    key=("product_description", "exporter_name", "period_year"),
    value_column="value_usd_thousand",
    period_column="period_year",
    signatures=(b"\xef\xbb\xbfExporters\t", b"Exporters\t"),
    # A zip that is a workbook is one of these, so a check that takes every zip for the MOEA
    # workbook must ask this first.
    reads=(sniff.TEXT, sniff.UTF16_TEXT, sniff.HTML, sniff.XLSX),
)
# For readers of PARSERS[source].TABLE; the spec says it.
TABLE = SPEC.table

GRID_ID = "ctl00_PageContent_MyGridView1"
# The largest page or workbook read: a list of every exporter over twenty years is ~150 KB.
MAX_PAGE_BYTES = 16 << 20
MAX_SHEET_BYTES = 64 << 20  # the workbook's content, unpacked
MAX_TEXT_BYTES = 64 << 20  # a UTF-16 text export, decoded in memory
MAX_ROWS = 100_000

EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
# A browser's suffix for a second download of one name: "x (1).xls" (Chrome), "x(1).xls" (Firefox).
DUPLICATE = re.compile(r" ?\([0-9]{1,3}\)$")
PRODUCT_IN_NAME = re.compile(r"_product_(?:in_[0-9]{4}_)?\((?P<product>.+)\)$")
PRODUCT_LINE = re.compile(r"^Product\s*:\s*(?:(?P<code>[0-9]{2,6})\s+)?(?P<label>\S.*)$")
UNIT_LINE = re.compile(r"^Unit\s*:\s*(?P<unit>.*)$")
UNIT = "US Dollar thousand"
YEAR_COLUMN = re.compile(r"^Exported value in (?P<year>[0-9]{4})$")

YEARLY = "download the yearly time series (Trade Map: Yearly time series)"
# The other views of the list, by a column they have: what the file is and what to download.
OTHER_VIEWS = (
    (
        re.compile(r"^(Importers$|Imported value in |Value imported in |Quantity imported in )", re.I),
        "a Trade Map list of importers",
        "download the list of exporters for the selected product, yearly time series "
        "(Trade Map: Exporters, Yearly time series)",
    ),
    (
        re.compile(
            r"^(Value exported in [0-9]{4}|Trade balance in |Quantity exported in |Unit value \(|"
            r"Share in world exports|Annual growth in |Select your indicators)",
            re.I,
        ),
        "Trade Map's single-year indicators view",
        YEARLY,
    ),
    (re.compile(r"^Exported value in [0-9]{4}-M[0-9]{2}$", re.I), "a Trade Map monthly list", YEARLY),
    (re.compile(r"^Exported value in [0-9]{4}-Q[1-4]$", re.I), "a Trade Map quarterly list", YEARLY),
)


@dataclass(frozen=True)
class Grid:
    """The exporters table of a page or workbook, as text: header, then (row, cells) per exporter."""

    header: list[str]
    header_where: str
    header_window: list[str]  # every cell of the header rows, to tell the view
    rows: list[tuple[int, list[str]]]
    page_lines: list[str]  # the text around the table: title, product, unit lines
    row_label: str  # what source_row counts: "line" of the page, "row" of the sheet


def parse(con: duckdb.DuckDBPyConnection, file: DownloadFile, workdir: Path, into: str) -> None:
    """Parse one Trade Map download into the temporary table ``into``, one row per exporter and year."""
    what = sniff.sniff(file.path)
    if what.kind == sniff.EMPTY:
        raise file.error(None, "the file is empty (0 bytes); download it again")
    if what.kind == sniff.UTF16_TEXT:
        text_file, what = _utf8_copy(file, what, workdir)
    else:
        text_file = file
    if what.kind == sniff.TEXT:
        _read_text(con, file, text_file, into)
        return
    if what.kind == sniff.HTML:
        grid = _page_grid(file, text_file.path)
    elif what.kind == sniff.XLSX:
        grid = _sheet_grid(file)
    else:
        raise file.error(
            None,
            f"this is {what.describe()}, not a layout Trade Map exports: download the list of exporters "
            "again, as text (tab-separated) or with its Excel button",
        )
    _load_grid(con, file, grid, into)


# ---------------------------------------------------------------- what the file says it is


def name_product(name: str) -> str | None:
    """The product the file name names (``…_product_(<description>).<ext>``), or None."""
    stem = EXTENSION.sub("", name)
    stem = DUPLICATE.sub("", stem)
    found = PRODUCT_IN_NAME.search(stem)
    return found["product"] if found else None


def _comparable(text: str) -> str:
    """A product label as a file name keeps it: case, punctuation and spacing aside."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def same_product(named: str, code: str | None, label: str) -> bool:
    """Whether a file name's product (sanitised, perhaps cut short) is the page's ``code label``."""
    short = _comparable(named)
    if not short:
        return False
    whole = [_comparable(label)] + ([_comparable(f"{code} {label}"), _comparable(code)] if code else [])
    return any(w == short or w.startswith(short + " ") or (w.startswith(short) and len(short) >= 40) for w in whole)


def _product(file: DownloadFile, lines: Sequence[str] | None) -> tuple[str, str | None]:
    """(product_description, product_code) from the file name and the page's Product line.

    ``lines``: the text around the table of a page or workbook; None for the text export,
    which names the product only in its file name.
    """
    named = name_product(file.path.name)
    if lines is None and named is None:
        raise file.error(
            None,
            "the file name does not name the product, and a text export names it nowhere else: expected "
            "'Trade_Map_-_List_of_exporters_for_the_selected_product_(<description>).txt' as Trade Map names it",
        )
    line = next((m for m in (PRODUCT_LINE.match(t) for t in lines or ()) if m), None)
    if line is None:
        if named is None:
            raise file.error(
                None,
                "neither the file name nor the file names the product: expected a name "
                "'Trade_Map_-_List_of_exporters_for_the_selected_product_(<description>).<ext>' "
                "or a 'Product: <code> <label>' line above the table",
            )
        return named, None
    code, label = line["code"], line["label"].strip()
    if named is not None and not same_product(named, code, label):
        raise file.error(
            None,
            f'the file name names the product "{named}" but the file says "Product: '
            f'{(code + " ") if code else ""}{label}": they are not the same product; '
            "rename the file, or download the list of the product meant",
        )
    return (named if named is not None else label), code


def _check_unit(file: DownloadFile, lines: Sequence[str]) -> None:
    unit = next((m["unit"].strip() for m in (UNIT_LINE.match(t) for t in lines) if m), None)
    if unit is not None and _comparable(unit) != _comparable(UNIT):
        raise file.error(
            None, f'the values are in "{unit}", not in {UNIT}: download the list with values in {UNIT}'
        )


def _years(file: DownloadFile, header: Sequence[str], where: str, window: Sequence[str]) -> list[int]:
    """The years of the header's value columns; refuses every other view of the list."""
    # The columns that tell most first ("Select your indicators" only heads the indicators).
    window = sorted(window, key=lambda c: c.casefold().startswith("select your"))
    for pattern, view, instead in OTHER_VIEWS:
        column = next((c for c in window if pattern.match(c)), None)
        if column is not None:
            shown = f'column "{column}"' if column != header[0] else f'first column "{column}"'
            raise file.error(
                where,
                f"this is {view}, not the yearly time series of exporters: {instead} instead "
                f'({shown} is not "Exported value in <year>")',
            )
    if not header or header[0] != "Exporters" or len(header) < 2:
        raise file.error(
            where,
            "the header is not this source's layout: expected 'Exporters' then "
            "'Exported value in <year>' columns",
        )
    years = [YEAR_COLUMN.match(h) for h in header[1:]]
    bad = next((h for h, y in zip(header[1:], years, strict=True) if y is None), None)
    if bad is not None:
        raise file.error(where, f'column "{bad}" is not "Exported value in <year>"')
    year_values = [int(y["year"]) for y in years]
    if len(set(year_values)) != len(year_values):
        twice = sorted({y for y in year_values if year_values.count(y) > 1})
        raise file.error(where, f"the year column(s) {', '.join(map(str, twice))} appear more than once")
    gaps = sorted(set(range(min(year_values), max(year_values) + 1)) - set(year_values))
    if gaps:
        raise file.error(
            where,
            f"the year column(s) {', '.join(map(str, gaps))} are missing: export every year of the range",
        )
    return year_values


# ---------------------------------------------------------------- the text export


def _utf8_copy(file: DownloadFile, what: sniff.Sniffed, workdir: Path) -> tuple[DownloadFile, sniff.Sniffed]:
    """A UTF-16 file ("Unicode text") as UTF-8 in ``workdir``, lines kept; and what it is then."""
    size = file.path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise file.error(None, f"the file is UTF-16 text of {size:,} bytes: far too large for a Trade Map list")
    data = file.path.read_bytes()
    encoding = what.bom or "utf-16-le"
    for mark in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if data.startswith(mark):
            data = data[len(mark) :]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(encoding, "replace").count("\n") + 1
        raise file.error(
            f"line {line}", f"the file is UTF-16 text, damaged here ({exc.reason}); download it again"
        ) from exc
    copy = workdir / (file.path.stem + ".utf8" + file.path.suffix)
    copy.write_bytes(text.encode("utf-8"))
    copied = dataclasses.replace(file, path=copy)
    return copied, sniff.sniff(copy)


def _read_text(con: duckdb.DuckDBPyConnection, file: DownloadFile, text_file: DownloadFile, into: str) -> None:
    """The tab-separated text export, read by DuckDB's reader (which names a damaged line)."""
    sniff_text_encoding(text_file, ("utf-8",))
    header = csv_columns(read_first_line(text_file.path), "\t")
    trailing = bool(header) and len(header) > 1 and header[-1] == ""
    if trailing:
        header = header[:-1]
    years = _years(file, header, "line 1", header)
    description, code = _product(file, None)
    check_complete_last_line(text_file)
    year_columns = [f"y{y}" for y in years]
    columns = ["exporter_name", *year_columns] + (["trailing_field"] if trailing else [])
    read_csv_relation(con, text_file, text_file.path, columns, "\t", f"{into}_text")
    if not trailing:
        con.execute(f"ALTER TABLE {into}_text ADD COLUMN trailing_field VARCHAR")
    _long_form(con, file, into, years, description, code, "line")


# ---------------------------------------------------------------- the page and the workbook


def _is_list_header(text: str) -> bool:
    return text.casefold() in ("exporters", "importers")


def _page_grid(file: DownloadFile, path: Path) -> Grid:
    try:
        page = html_table.read_page(path, max_bytes=MAX_PAGE_BYTES)
    except html_table.HtmlTableError as exc:
        raise file.error(exc.where, f"this is an HTML page that cannot be read: {exc.what}") from exc
    table = page.find(id=GRID_ID, first_cell=_is_list_header)
    if table is None or not any(r.cells and _is_list_header(r.cells[0]) for r in table.rows[:5]):
        cut = "" if page.complete else " (and it ends before </html>: perhaps cut off)"
        raise file.error(
            None,
            "this is an HTML page without Trade Map's exporters table (no table "
            f"id=\"{GRID_ID}\" with an 'Exporters' column){cut}: perhaps an error or sign-in page; "
            "download the list of exporters again",
        )
    if not page.complete:
        raise file.error(
            None, "the HTML page ends before </html>: the download was cut off; download it again"
        )
    start = next(i for i, r in enumerate(table.rows) if r.cells and _is_list_header(r.cells[0]))
    # Header rows: the one that starts with Exporters and those after it of <th> labels (no
    # numbers) or starting the same (a rowspan), as the indicators view has.
    end = start + 1
    while end < len(table.rows) and (
        (any(table.rows[end].header) and _all_text(table.rows[end].cells))
        or (table.rows[end].cells and _is_list_header(table.rows[end].cells[0]))
    ):
        end += 1
    header_rows = table.rows[start:end]
    header = _trim(list(header_rows[-1].cells))
    rows = [(r.line or 0, list(r.cells)) for r in table.rows[end:] if not r.is_empty]
    return Grid(
        header=header,
        header_where=f"line {header_rows[0].line}",
        header_window=[c for r in header_rows for c in r.cells],
        rows=rows,
        page_lines=page.texts_outside(table),
        row_label="line",
    )


def _trim(cells: list[str]) -> list[str]:
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return html_table.normalise(str(value))


def _sheet_grid(file: DownloadFile) -> Grid:
    try:
        with zipfile.ZipFile(file.path) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise file.error(None, f"the workbook cannot be opened ({exc}); download it again") from exc
    if unpacked > MAX_SHEET_BYTES:
        raise file.error(
            None,
            f"the workbook unpacks to {unpacked:,} bytes, more than the {MAX_SHEET_BYTES:,} a Trade Map "
            "list is read up to: it is not one",
        )
    try:
        workbook = openpyxl.load_workbook(file.path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise file.error(None, f"the workbook cannot be opened ({exc}); download it again") from exc
    try:
        sheet = workbook.worksheets[0]
        above: list[str] = []
        header: list[str] | None = None
        header_row = 0
        window: list[str] = []
        rows: list[tuple[int, list[str]]] = []
        number = 0
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS:
                raise file.error(
                    f"row {number}", f"the sheet has more than {MAX_ROWS:,} rows: it is no Trade Map list"
                )
            cells = [_cell_text(v) for v in row]
            if header is None:
                if cells and _is_list_header(cells[0]):
                    header, header_row = cells, number
                    window = list(cells)
                else:
                    above.extend(c for c in cells if c)
                continue
            if not any(cells):
                continue
            if (
                number == header_row + 1
                and (cells[0] == "" or _is_list_header(cells[0]))
                and _all_text(cells)
            ):
                # A second header row, under a merged "Exporters" cell (the indicators view).
                window.extend(cells)
                header = cells
                continue
            rows.append((number, cells))
    finally:
        workbook.close()
    if header is None:
        raise file.error(
            None,
            "this is an .xlsx workbook without Trade Map's exporters table (no row starting "
            "'Exporters' in its first sheet): download the list of exporters again",
        )
    header = _trim(header)
    if header and header[0] == "":
        header[0] = "Exporters"
    return Grid(header, f"row {header_row}", window, rows, above, "row")


def _all_text(cells: Sequence[str]) -> bool:
    """A row of labels, not of values (no cell after the first is a number)."""
    return not any(re.fullmatch(r"-?[0-9][0-9,.]*", c) for c in cells[1:] if c)


def _load_grid(con: duckdb.DuckDBPyConnection, file: DownloadFile, grid: Grid, into: str) -> None:
    """The page's or workbook's table into ``{into}_text``, as the text export's reader gives it."""
    years = _years(file, grid.header, grid.header_where, grid.header_window)
    description, code = _product(file, grid.page_lines)
    _check_unit(file, grid.page_lines)
    width = len(grid.header)
    records = []
    for number, cells in grid.rows:
        if len(cells) < width and grid.row_label == "line":
            raise file.error(
                f"line {number}", f"the row has {len(cells)} cells, expected {width} (Exporters and each year)"
            )
        extra = [c for c in cells[width:] if c]
        records.append([cells[0], *cells[1:width], *([""] * (width - len(cells))), extra[0] if extra else None, number])
    if not records:
        raise file.error(grid.header_where, "the table has no rows after its header: the export came out empty")
    year_columns = [f"y{y}" for y in years]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {into}_text (exporter_name VARCHAR, "
        + ", ".join(f"{c} VARCHAR" for c in year_columns)
        + ", trailing_field VARCHAR, source_row BIGINT)"
    )
    con.executemany(
        f"INSERT INTO {into}_text VALUES ({', '.join(['?'] * (len(year_columns) + 3))})", records
    )
    _long_form(con, file, into, years, description, code, grid.row_label)


# ---------------------------------------------------------------- every layout: checks, long form


def _long_form(
    con: duckdb.DuckDBPyConnection,
    file: DownloadFile,
    into: str,
    years: Sequence[int],
    description: str,
    code: str | None,
    row_label: str,
) -> None:
    """``{into}_text`` (a name, a text per year) into ``into``: one checked row per exporter and year."""
    year_columns = [f"y{y}" for y in years]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        WITH long AS (
            UNPIVOT {into}_text ON {", ".join(year_columns)} INTO NAME col VALUE value_text
        )
        SELECT
            ? AS product_description,
            ?::VARCHAR AS product_code,
            trim(exporter_name) AS exporter_name,
            'Exported value in ' || substr(col, 2) AS period_label,
            substr(col, 2)::INTEGER AS period_year,
            -- Thousands separators (1,234) are the number's, not the data's.
            {value_text_sql("value_text")} AS value_text,
            trailing_field,
            ? AS source_file, ?::DATE AS download_date, source_row
        FROM long
        -- An empty cell, or a lone '-', is no value.
        WHERE {has_value_sql("value_text")}
        """,
        [description, code, file.rel_path, file.download_date],
    )
    first_bad_row(
        con,
        into,
        file,
        [
            RowCheck("coalesce(trailing_field, '') <> ''", "'a value stands after the last year column'"),
            RowCheck("coalesce(exporter_name, '') = ''", "'Exporters (the exporter name) is empty'"),
            *value_checks("value_text", "'for ' || period_label", any_minus=True),
            RowCheck(
                "make_date(period_year + 1, 1, 1) > download_date",
                ends_after_download_sql("'year ' || period_year"),
            ),
        ],
        where_label=row_label,
    )
    if con.execute(f"SELECT count(*) FROM {into} WHERE exporter_name = 'World'").fetchall()[0][0] == 0:
        raise file.error(None, "has no 'World' row: the world total is needed for the shares")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        SELECT product_description, product_code, exporter_name, period_label, period_year,
               value_text::DOUBLE AS value_usd_thousand, source_file, download_date, source_row
        FROM {into}
        """
    )
    con.execute(f"DROP TABLE {into}_text")

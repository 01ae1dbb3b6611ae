"""Trade Map downloads made for the tests: the "Excel" page (XHTML named .xls) and the workbook Excel saves.

The page copies the structure of the real one in ``../shared/real-downloads/itc/`` (the monthly
list Trade Map's "Excel" button gave): a ``<META>`` charset, CRLF line ends and no final one, a
title table with ``Product: <code> <label>``, a legend table, ``Unit : US Dollar thousand``,
then the data table ``id="ctl00_PageContent_MyGridView1"`` with ``<th>Exporters</th>`` and one
``<th>`` per period, name cells padded with a line break and spaces, an empty value
``<td></td>``, and cells of mirror data with ``title=`` and ``style=`` attributes.
The workbook holds what Excel keeps of that page: the title, product, legend and unit lines,
then the table, values as numbers.

Nothing here uses ``orchestration.ingest``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from html import escape
from pathlib import Path

import openpyxl

LABEL_847150 = (
    "Processing units other than those of subheading 8471.41 or 8471.49, whether or not containing in "
    "the same housing one or two of the following types of unit: storage units, input units, output units"
)
PRODUCT_847150 = f"Product: 847150 {LABEL_847150}"
# 2025 spellings of two names the shipped text export spells the older way.
SPELLINGS_2025 = {"Taipei, Chinese": "Chinese Taipei", "Turkey": "Türkiye"}

Row = tuple[str, list[str]]  # exporter, one text per period ("" = empty)


def read_text_export(path: Path) -> tuple[list[str], list[Row]]:
    """The column names (without Exporters) and rows of a Trade Map text export, read with csv."""
    data = path.read_bytes()
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t"))
    header = rows[0]
    assert header[0] == "Exporters" and header[-1] == "", header
    periods = header[1:-1]
    body = []
    for row in rows[1:]:
        assert row[-1] == "" and len(row) == len(header), row
        body.append((row[0], row[1:-1]))
    return periods, body


def in_2025_spellings(rows: Sequence[Row]) -> list[Row]:
    return [(SPELLINGS_2025.get(name, name), cells) for name, cells in rows]


def text_export(periods: Sequence[str], rows: Sequence[Row]) -> bytes:
    """A Trade Map text export (UTF-8 with BOM, LF, quoted names, a trailing tab)."""
    lines = ["Exporters\t" + "\t".join(periods) + "\t"]
    lines += [f'"{name}"\t' + "\t".join(cells) + "\t" for name, cells in rows]
    return b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8")


HEAD = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd"><html xmlns="http://www.w3.org/1999/xhtml">'
    '<head><title></title><META http-equiv="Content-Type" content="text/html; charset=utf-8" /></head><body>'
)
SPACER = "<table><tr><td> </td></tr></table>"


def page(
    periods: Sequence[str],
    rows: Sequence[Row],
    *,
    product_line: str | None = PRODUCT_847150,
    title: str = "List of exporters for the selected product",
    first_column: str = "Exporters",
    unit: str = "US Dollar thousand",
    mirror_rows: Sequence[str] = (),
) -> bytes:
    """Trade Map's "Excel" page of a list (UTF-8, CRLF, no final line break).

    The cells of the exporters in ``mirror_rows`` carry the ``title=``/``style=`` of mirror data.
    """
    nl = "\r\n"
    out = [HEAD, '<table align="center"><tr><td colspan="6"><center><b>', escape(title), "  </b></center></td></tr>"]
    if product_line is not None:
        out += ['<tr><td colspan="6"><center>   ', escape(product_line), "</center></td></tr>"]
    out += ["</table>", SPACER, '<table id="ctl00_PageContent_GridLegendTable" class="table_legend" border="0">', nl]
    out += ["\t<tr>", nl, "\t\t<td>Sources: Calculations based on ITC statistics.</td>", nl, "\t</tr>"]
    for _ in range(3):
        out += ["<tr>", nl, "\t\t<td></td>", nl, "\t</tr>"]
    out += [nl, "</table>", SPACER, '<table id="ctl00_PageContent_GridLabelUnitTable" border="0">', nl]
    out += ["\t<tr>", nl, '\t\t<td><span id="ctl00_PageContent_Label_Unit" class="Comment">Unit : ']
    out += [escape(unit), "</span></td>", nl, "\t</tr>", nl, "</table>", SPACER, "<div>", nl]
    out += [
        '\t<table cellspacing="0" cellpadding="4" rules="all" border="1" id="ctl00_PageContent_MyGridView1" '
        'style="color:#002B54;border-color:#002B54;width:100%;border-collapse:collapse;">',
        nl,
        '\t\t<tr style="color:White;background-color:#5D7B9D;font-size:80%;font-weight:bold;">',
        nl,
        "\t\t\t",
        f'<th scope="col">{escape(first_column)}</th>',
        "".join(f'<th scope="col">{escape(p)}</th>' for p in periods),
        nl,
        "\t\t</tr>",
    ]
    for i, (name, cells) in enumerate(rows):
        colour = "#F7F6F3" if i % 2 == 0 else "White"
        out += [f'<tr align="right" style="background-color:{colour};font-size:80%;">', nl]
        out += ['\t\t\t<td align="left" style="width:30%;">', nl, " " * 28, escape(name), nl, " " * 32, "</td>"]
        for cell in cells:
            if name in mirror_rows and cell:
                out.append(f'<td title="Mirror data" style="color:OrangeRed;">{escape(cell)}</td>')
            else:
                out.append(f"<td>{escape(cell)}</td>")
        out += [nl, "\t\t</tr>"]
    out += [nl, "\t</table>", nl, "</div></body></html>"]
    return "".join(out).encode("utf-8")


def workbook(
    path: Path,
    periods: Sequence[str],
    rows: Sequence[Row],
    *,
    product_line: str | None = PRODUCT_847150,
    title: str = "List of exporters for the selected product",
) -> None:
    """The page as Excel saves it (.xlsx): its lines one per row, the values as numbers."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Trade_Map_-_List_of_exporters_f"
    width = len(periods) + 1
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=min(6, width))
    if product_line is not None:
        sheet.append([product_line])
        sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=min(6, width))
    sheet.append([])
    sheet.append(["Sources: Calculations based on ITC statistics."])
    for _ in range(3):
        sheet.append([])
    sheet.append([])
    sheet.append(["Unit : US Dollar thousand"])
    sheet.append([])
    sheet.append(["Exporters", *periods])
    for name, cells in rows:
        sheet.append([name, *(_number(c) for c in cells)])
    book.save(path)


def _number(cell: str) -> int | float | str | None:
    if cell == "":
        return None
    try:
        return int(cell)
    except ValueError:
        try:
            return float(cell)
        except ValueError:
            return cell

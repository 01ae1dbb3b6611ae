"""The bulletin as one document: what ``bulletin.html`` and ``bulletin.pdf`` both lay out.

No. 459 reads, in this order: the issue line and title, the numbered highlights, Figure 1,
Tables 1-3 (each with its 資料來源 and 說明 lines) and, in a publication, the revisions since
the previous one. :func:`build_document` assembles that from what the publication already made:

- the words from the draft (``bulletin_draft.md``, :func:`.draft.draft_markdown` and
  :func:`.revisions.revisions_markdown`): its title line, numbered highlights, the line on
  the exhibits left out and its ``## 修正說明`` section, parsed, never reworded;
- each table from :func:`.workbook.table_grid` (the workbook's own layout: blocks, period
  headers with the preliminary mark, 資料來源, 說明 and the preliminary footnote), each
  number printed by :func:`.workbook.cell_text` (:func:`.layout.format_value`), each number
  cell keyed by its cell's measure, series and period;
- Figure 1 from :func:`.chart.draw_figure1` (the PNG's own drawing, the project's font) saved
  as SVG with its text as text (``svg.fonttype: none``), so its labels stay Chinese, selectable
  and searchable; the value axis is left unlabelled (the bars carry their values: every number
  in the document is a printed cell).

The issue line is the one thing not in the draft: the product's HS code and the date of the
latest download the edition uses (``dim_bulletin_product``'s ``data_date``, the date the
workbook is stamped with).
"""

from __future__ import annotations

import io
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import matplotlib

from . import chart
from .layout import ExhibitLayout
from .marts import Cell, Exhibit, Product
from .workbook import Grid, cell_text, table_grid

# The draft's title line: "# 產業經濟統計簡訊（草稿）：伺服器產銷與貿易概況".
TITLE_SEPARATOR = "："
REVISIONS_HEADING = "## "
LANG = "zh-Hant-TW"

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
# matplotlib names the SVG's clip paths from a hash salted with this (the same ids every run).
SVG_HASH_SALT = "bulletin-figure"


@dataclass(frozen=True)
class Run:
    """A stretch of a paragraph's text, bold or not (the draft's ``**…**``)."""

    text: str
    bold: bool = False


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of the draft: a numbered highlight (``number``), a list item, a heading or text."""

    kind: str  # highlight, item, heading, text
    runs: tuple[Run, ...]
    number: int | None = None

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True)
class TableCell:
    """A cell of a table as printed. ``key``: its printed cell's (measure, series, period)."""

    text: str
    role: str  # label, number, text (the '-' of a span column without a number)
    key: tuple[str, str, str] | None = None


@dataclass(frozen=True)
class TableRow:
    kind: str  # block (its label spans the table), series
    cells: tuple[TableCell, ...]


@dataclass(frozen=True)
class Table:
    """An exhibit's table as printed: title, header (the first column's is empty), rows, then
    the lines under it (資料來源, 說明, the preliminary footnote), in that order."""

    exhibit: str
    title: str
    header: tuple[str, ...]
    periods: tuple[str, ...]  # each number column's period code
    rows: tuple[TableRow, ...]
    notes: tuple[tuple[str, str], ...]  # (role: source or note, text)


@dataclass(frozen=True)
class Figure:
    """Figure 1: its title, source line and its drawing as SVG (text as text)."""

    exhibit: str
    title: str
    source: str
    svg: str


@dataclass(frozen=True)
class Document:
    masthead: str  # 產業經濟統計簡訊（草稿）
    title: str  # 伺服器產銷與貿易概況
    issue_line: str  # HS 847150　資料截至2024年10月14日
    highlights: tuple[Paragraph, ...]
    left_out: tuple[Paragraph, ...]  # the draft's line on the exhibits left out
    exhibits: tuple[Figure | Table, ...]  # in the bulletin's order
    revisions: tuple[Paragraph, ...]  # the heading 修正說明 and its lines
    hs_code: str

    @property
    def full_title(self) -> str:
        return f"{self.masthead}{TITLE_SEPARATOR}{self.title}" if self.masthead else self.title

    def text(self) -> str:
        """Every word of the document, for the fonts' subsets."""
        parts = [self.masthead, self.title, self.issue_line]
        for p in (*self.highlights, *self.left_out, *self.revisions):
            parts.append(p.text)
        for e in self.exhibits:
            if isinstance(e, Figure):
                parts += [e.title, e.source, e.svg]
            else:
                parts += [e.title, *e.header, *(c.text for r in e.rows for c in r.cells)]
                parts += [text for _, text in e.notes]
        return "".join(parts)


# --------------------------------------------------------------------------- the draft's words

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_NUMBERED = re.compile(r"^(\d+)\.\s+(.*)$")


def runs(text: str) -> tuple[Run, ...]:
    """A line of the draft as runs: ``**…**`` bold, the rest plain (marks removed)."""
    out: list[Run] = []
    at = 0
    for m in _BOLD.finditer(text):
        if m.start() > at:
            out.append(Run(text[at : m.start()]))
        out.append(Run(m.group(1), bold=True))
        at = m.end()
    if at < len(text):
        out.append(Run(text[at:]))
    return tuple(out)


def parse_draft(markdown: str) -> tuple[str, list[Paragraph], list[Paragraph], list[Paragraph]]:
    """The draft as its title line, its numbered highlights, the paragraphs after them (the
    exhibits left out) and the revision section (from its ``## `` heading on)."""
    title = ""
    highlights: list[Paragraph] = []
    after: list[Paragraph] = []
    revisions: list[Paragraph] = []
    in_revisions = False
    for line in markdown.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("# "):
            title = line[2:].strip()
            continue
        if line.startswith(REVISIONS_HEADING):
            in_revisions = True
            revisions.append(Paragraph("heading", runs(line[len(REVISIONS_HEADING) :].strip())))
            continue
        if in_revisions:
            kind, text = ("item", line[2:]) if line.startswith("- ") else ("text", line)
            revisions.append(Paragraph(kind, runs(text)))
            continue
        numbered = _NUMBERED.match(line)
        if numbered and not after:
            highlights.append(Paragraph("highlight", runs(numbered.group(2)), int(numbered.group(1))))
        else:
            after.append(Paragraph("text", runs(line)))
    return title, highlights, after, revisions


def issue_line(product: Product) -> str:
    """The line under the title: the product's HS code and the data's date."""
    line = f"HS {product.hs_code}"
    if product.data_date is not None:
        d = product.data_date
        line += f"　資料截至{d.year}年{d.month}月{d.day}日"
    return line


# --------------------------------------------------------------------------- the tables


def table_from_grid(exhibit: Exhibit, layout: ExhibitLayout, grid: Grid) -> Table:
    """An exhibit's workbook grid as a table: the header, the block rows and the series rows
    (every number keyed by its cell), the source and note lines."""
    by_row = {index: key for key, index in grid.series_rows.items()}
    header = tuple(cell_text(c) for c in grid.rows[grid.header_row])
    rows: list[TableRow] = []
    notes: list[tuple[str, str]] = []
    for index, row in enumerate(grid.rows):
        if index <= grid.header_row or not row:
            continue
        roles = {c.role for c in row}
        if index in by_row:
            measure, series = by_row[index]
            cells = [TableCell(cell_text(row[0]), "label")]
            for period, grid_cell in zip(grid.columns, row[1:], strict=True):
                printed = measure
                if period.is_span:
                    printed = layout.span_measure if measure == layout.span_block else None
                key = (printed, series, period.code) if grid_cell.role == "number" and printed else None
                cells.append(TableCell(cell_text(grid_cell), grid_cell.role, key))
            rows.append(TableRow("series", tuple(cells)))
        elif "block" in roles:
            rows.append(TableRow("block", (TableCell(cell_text(row[0]), "block"),)))
        elif roles & {"source", "note"}:
            notes.append((row[0].role, cell_text(row[0])))
    return Table(
        exhibit=exhibit.code,
        title=exhibit.title_zh,
        header=header,
        periods=tuple(p.code for p in grid.columns),
        rows=tuple(rows),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- Figure 1


def figure_svg(exhibit: Exhibit, cells: Sequence[Cell], layout: ExhibitLayout) -> str:
    """Figure 1 as SVG: chart.py's drawing, its text kept as text in the project's font family
    (the page and the PDF bring the font), the value axis unlabelled; no date, no software
    name, no XML declaration; scalable (its viewBox, no fixed size)."""
    with warnings.catch_warnings():
        # figure1.png's drawing already warned about a glyph the font lacks
        warnings.simplefilter("ignore", chart.MissingGlyphWarning)
        fig, _ = chart.draw_figure1(exhibit, cells, layout=layout)
    family = chart.register_font()
    ax = fig.axes[0]
    ax.tick_params(axis="y", left=False, labelleft=False)
    ax.spines["left"].set_visible(False)
    ax.grid(False)
    buffer = io.BytesIO()
    with matplotlib.rc_context(
        {
            "font.family": [family],
            "axes.unicode_minus": False,
            "text.parse_math": False,
            "svg.fonttype": "none",
            "svg.hashsalt": SVG_HASH_SALT,
        }
    ):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, facecolor="white")
    return clean_svg(buffer.getvalue())


def clean_svg(data: bytes) -> str:
    """matplotlib's SVG as an element to put in a page: no metadata, width and height by the
    page (its viewBox kept), the title as its accessible name."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(data)
    for parent in root.iter():
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}metadata":
                parent.remove(child)
    for name in ("width", "height"):
        root.attrib.pop(name, None)
    root.set("role", "img")
    return ET.tostring(root, encoding="unicode")


# --------------------------------------------------------------------------- the document


def build_document(
    product: Product,
    exhibits: Sequence[Exhibit],
    cells: dict[str, Sequence[Cell]],
    layouts: dict[str, ExhibitLayout],
    preliminary: dict[str, Sequence[date]],
    draft: str,
) -> Document:
    """The document of a publication: ``exhibits`` (those with rows, in the bulletin's order),
    their cells and layouts (the product's), each exhibit's preliminary months and the draft
    (highlights and revision section) as written to bulletin_draft.md."""
    title_line, highlights, left_out, revisions = parse_draft(draft)
    masthead, _, title = title_line.partition(TITLE_SEPARATOR)
    if not title:
        masthead, title = "", title_line
    parts: list[Figure | Table] = []
    for exhibit in exhibits:
        layout = layouts[exhibit.code]
        if layout.is_figure:
            svg = figure_svg(exhibit, cells[exhibit.code], layout)
            parts.append(Figure(exhibit.code, exhibit.title_zh, layout.source, svg))
            continue
        grid = table_grid(layout, exhibit.title_zh, cells[exhibit.code], preliminary.get(exhibit.code, ()))
        parts.append(table_from_grid(exhibit, layout, grid))
    return Document(
        masthead=masthead,
        title=title,
        issue_line=issue_line(product),
        highlights=tuple(highlights),
        left_out=tuple(left_out),
        exhibits=tuple(parts),
        revisions=tuple(revisions),
        hs_code=product.hs_code,
    )

"""bulletin.pdf: the bulletin on A4, laid out like No. 459, made with fpdf2 (pure Python).

The same document as bulletin.html (:mod:`.bulletin_document`), in the same order: the
masthead, title and issue line, the numbered highlights, Figure 1 (its SVG drawn as PDF
vectors by fpdf2, its labels as text), Tables 1-3 with their 資料來源 and 說明 lines and the
preliminary footnote, and the revision section. Every word is set in the project's font
(``fonts/``: Noto Sans CJK TC subset, TrueType), embedded as a subset of the glyphs used with
its ToUnicode map, so the Chinese text is selectable and searchable; no font of the machine is
read. An exhibit is kept on one page (a new page starts when it would not fit).

The same document gives the same bytes: the creation date is the one given, the data's (the
workbook's stamp: the latest download the edition uses), and fpdf2 derives the file's /ID from
its content and that date.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

from . import chart
from .bulletin_document import Document, Figure, Paragraph, Run, Table

PDF = "bulletin.pdf"
FONT = chart.FONT_FAMILY
CREATOR = "server-bulletin pipeline"

# A4 portrait, in mm.
MARGIN_X = 18.0
MARGIN_TOP = 16.0
MARGIN_BOTTOM = 16.0
NAVY = (31, 56, 100)
GREY = (85, 85, 85)
BLACK = (29, 29, 29)

BODY_SIZE = 10.5  # pt
BODY_LINE = 6.0  # mm
NUMBER_WIDTH = 6.5  # mm: a highlight's number
TABLE_SIZE = 8.0
TABLE_LINE = 4.2
HEADER_LINE = 3.8
BLOCK_LINE = 4.8
NOTE_SIZE = 7.5
NOTE_LINE = 3.7
TITLE_LINE = 6.0
LABEL_PADDING = 3.0  # mm beside the widest label
NUMBER_MARGIN = 2.2  # mm right of a number
EXHIBIT_GAP = 6.0  # mm between exhibits
ITEM_MARK = "•"  # a revision line's mark (a bullet, as the page's list; the font has it)

# Line breaking (the bulletin's): a line may break between two Chinese characters or at a
# space, never inside a number or a Latin word (4,267, 2018-2023, 3.3%, HS code) nor between a
# number and the character after it (2023年, 4,267億); a closing mark never starts a line and an
# opening one never ends one.
_NO_LINE_START = set("，。、；：！？）」』〉》%)]},.:;!?")
_NO_LINE_END = set("（「『〈《([{")
_WORD = re.compile(r"[\x21-\x7e]+|\s+|.", re.DOTALL)

Piece = tuple[str, bool]  # text, bold


def _atoms(runs: Iterable[Run]) -> list[list[Piece]]:
    """The text as units no line breaks inside (a space is a unit of its own)."""
    atoms: list[list[Piece]] = []
    glue_next = False
    for run in runs:
        for m in _WORD.finditer(run.text):
            token = m.group(0)
            if token.isspace():
                atoms.append([(" ", run.bold)])
                glue_next = False
                continue
            after = atoms[-1][-1][0] if atoms else " "
            glue = glue_next or (
                not after.isspace() and (token[0] in _NO_LINE_START or (after[-1].isdigit() and not token.isascii()))
            )
            if glue and atoms:
                atoms[-1].append((token, run.bold))
            else:
                atoms.append([(token, run.bold)])
            glue_next = token[-1] in _NO_LINE_END
    return atoms


def _set(pdf: FPDF, bold: bool, size: float) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)


def _width(pdf: FPDF, pieces: Iterable[Piece], size: float) -> float:
    total = 0.0
    for text, bold in pieces:
        _set(pdf, bold, size)
        total += pdf.get_string_width(text)
    return total


def wrap(pdf: FPDF, runs: Iterable[Run], width: float, size: float) -> list[list[Piece]]:
    """The runs in lines no wider than ``width`` (mm) at ``size`` pt (an atom wider than the
    line stands on a line of its own)."""
    lines: list[list[Piece]] = []
    line: list[Piece] = []
    used = 0.0
    for atom in _atoms(runs):
        space = atom[0][0].isspace()
        if space and not line:
            continue
        w = _width(pdf, atom, size)
        if line and used + w > width and not space:
            while line and line[-1][0].isspace():
                used -= _width(pdf, [line.pop()], size)
            lines.append(line)
            line, used = [], 0.0
        if space and used + w > width:
            continue
        line += atom
        used += w
    while line and line[-1][0].isspace():
        line.pop()
    if line:
        lines.append(line)
    return lines


def write_lines(
    pdf: FPDF, runs: Iterable[Run], x: float, width: float, size: float, line_height: float, align: str = "L"
) -> int:
    """The runs wrapped in ``width`` from ``x`` at the current line; a new page when a line
    would not fit. Returns the number of lines."""
    lines = wrap(pdf, runs, width, size)
    for line in lines:
        if pdf.will_page_break(line_height):
            pdf.add_page()
        y = pdf.get_y()
        offset = 0.0
        if align == "C":
            offset = (width - _width(pdf, line, size)) / 2
        pdf.set_xy(x + offset, y)
        for text, bold in _merge(line):
            _set(pdf, bold, size)
            pdf.cell(pdf.get_string_width(text), line_height, text, new_x="RIGHT", new_y="TOP")
        pdf.set_xy(x, y + line_height)
    return len(lines)


def _merge(pieces: Iterable[Piece]) -> list[Piece]:
    """Neighbouring pieces of the same weight as one (one text object a stretch)."""
    out: list[Piece] = []
    for text, bold in pieces:
        if out and out[-1][1] == bold:
            out[-1] = (out[-1][0] + text, bold)
        else:
            out.append((text, bold))
    return out


class _Pdf(FPDF):
    @property
    def width(self) -> float:
        return self.w - self.l_margin - self.r_margin


def _new_pdf(document: Document, stamp: datetime) -> _Pdf:
    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN_X, MARGIN_TOP, MARGIN_X)
    pdf.set_auto_page_break(auto=True, margin=MARGIN_BOTTOM)
    pdf.add_font(FONT, "", str(chart.FONT_FILES["normal"]))
    pdf.add_font(FONT, "B", str(chart.FONT_FILES["bold"]))
    pdf.set_creation_date(stamp.replace(tzinfo=UTC, microsecond=0))
    pdf.set_title(document.full_title)
    pdf.set_subject(document.issue_line)
    pdf.set_author(document.masthead or document.title)
    pdf.set_creator(CREATOR)
    pdf.set_lang("zh-TW")
    pdf.set_display_mode(zoom="fullwidth", layout="continuous")
    pdf.set_text_color(*BLACK)
    return pdf


def _header(pdf: _Pdf, document: Document) -> None:
    left = pdf.l_margin
    if document.masthead:
        pdf.set_text_color(*NAVY)
        write_lines(pdf, [Run(document.masthead, bold=True)], left, pdf.width, 11, 6)
    pdf.set_text_color(*BLACK)
    write_lines(pdf, [Run(document.title, bold=True)], left, pdf.width, 16, 8.5)
    pdf.set_text_color(*GREY)
    write_lines(pdf, [Run(document.issue_line)], left, pdf.width, 9, 5.5)
    pdf.set_draw_color(*NAVY)
    pdf.set_line_width(0.8)
    y = pdf.get_y() + 1.5
    pdf.line(left, y, left + pdf.width, y)
    pdf.set_y(y + 4)
    pdf.set_text_color(*BLACK)


def _highlights(pdf: _Pdf, document: Document) -> None:
    left = pdf.l_margin
    for p in document.highlights:
        if pdf.will_page_break(BODY_LINE * 2):
            pdf.add_page()
        y = pdf.get_y()
        _set(pdf, True, BODY_SIZE)
        pdf.set_xy(left, y)
        pdf.cell(NUMBER_WIDTH, BODY_LINE, f"{p.number}.", new_x="RIGHT", new_y="TOP")
        pdf.set_xy(left + NUMBER_WIDTH, y)
        write_lines(pdf, p.runs, left + NUMBER_WIDTH, pdf.width - NUMBER_WIDTH, BODY_SIZE, BODY_LINE)
        pdf.ln(1.5)
    pdf.set_text_color(*GREY)
    for p in document.left_out:
        write_lines(pdf, p.runs, left, pdf.width, 9, 5)
    pdf.set_text_color(*BLACK)


def _figure(pdf: _Pdf, figure: Figure) -> None:
    width = pdf.width
    view = figure.svg.split('viewBox="', 1)[1].split('"', 1)[0].split()
    height = width * float(view[3]) / float(view[2])
    if pdf.will_page_break(height + EXHIBIT_GAP):
        pdf.add_page()
    else:
        pdf.ln(EXHIBIT_GAP)
    y = pdf.get_y()
    pdf.image(io.BytesIO(figure.svg.encode("utf-8")), x=pdf.l_margin, y=y, w=width, h=height)
    pdf.set_y(y + height)


def _header_parts(text: str) -> list[Run]:
    """A column header's lines: its parts at spaces ("2024年", "1-9月*"), as printed."""
    return [Run(part, bold=True) for part in text.split(" ") if part]


def _table_widths(pdf: _Pdf, table: Table) -> list[float]:
    """The label column as wide as its widest label; each number column as wide as its widest
    header line or number, and what is left shared equally."""
    labels = [r.cells[0].text for r in table.rows if r.kind == "series"]
    label = max((_width(pdf, [(t, False)], TABLE_SIZE) for t in labels), default=10) + 2 * LABEL_PADDING
    need = []
    for i, header in enumerate(table.header[1:], start=1):
        widest = max((_width(pdf, [(r.text, True)], TABLE_SIZE) for r in _header_parts(header)), default=0)
        for row in table.rows:
            if row.kind == "series":
                widest = max(widest, _width(pdf, [(row.cells[i].text, False)], TABLE_SIZE))
        need.append(widest + 2 * NUMBER_MARGIN)
    extra = max(pdf.width - label - sum(need), 0) / max(len(need), 1)
    return [label] + [w + extra for w in need]


def _header_height(table: Table) -> float:
    return max(len(_header_parts(h)) for h in table.header[1:]) * HEADER_LINE + 2


def _notes_height(pdf: _Pdf, table: Table) -> float:
    lines = sum(len(wrap(pdf, [Run(text)], pdf.width, NOTE_SIZE)) for _, text in table.notes)
    return lines * NOTE_LINE + 1.8


def _table_height(pdf: _Pdf, table: Table) -> float:
    rows = sum(BLOCK_LINE if r.kind == "block" else TABLE_LINE for r in table.rows)
    return TITLE_LINE + _header_height(table) + rows + _notes_height(pdf, table)


def _table(pdf: _Pdf, table: Table) -> None:
    widths = _table_widths(pdf, table)
    if pdf.will_page_break(_table_height(pdf, table) + EXHIBIT_GAP):
        pdf.add_page()
    else:
        pdf.ln(EXHIBIT_GAP)
    left, right = pdf.l_margin, pdf.l_margin + pdf.width
    write_lines(pdf, [Run(table.title, bold=True)], left, pdf.width, 10.5, TITLE_LINE)

    header_height = _header_height(table)
    top = pdf.get_y()
    pdf.set_draw_color(*BLACK)
    pdf.set_line_width(0.45)
    pdf.line(left, top, right, top)
    x = left + widths[0]
    for header, width in zip(table.header[1:], widths[1:], strict=True):
        parts = _header_parts(header)
        # the lines at the bottom of the header row, centred
        pdf.set_xy(x, top + header_height - 1 - len(parts) * HEADER_LINE)
        for part in parts:
            write_lines(pdf, [part], x, width, TABLE_SIZE, HEADER_LINE, align="C")
        x += width
    y = top + header_height
    pdf.set_line_width(0.25)
    pdf.line(left, y, right, y)
    pdf.set_xy(left, y)

    margin = pdf.c_margin
    for row in table.rows:
        if row.kind == "block":
            write_lines(pdf, [Run(row.cells[0].text, bold=True)], left, pdf.width, TABLE_SIZE, BLOCK_LINE)
            continue
        y = pdf.get_y()
        label, *numbers = row.cells
        _set(pdf, False, TABLE_SIZE)
        pdf.set_xy(left + LABEL_PADDING, y)
        pdf.cell(widths[0] - LABEL_PADDING, TABLE_LINE, label.text, new_x="RIGHT", new_y="TOP")
        pdf.c_margin = NUMBER_MARGIN
        for cell, width in zip(numbers, widths[1:], strict=True):
            align = "C" if cell.role == "text" else "R"
            pdf.cell(width, TABLE_LINE, cell.text, align=align, new_x="RIGHT", new_y="TOP")
        pdf.c_margin = margin
        pdf.set_xy(left, y + TABLE_LINE)
    bottom = pdf.get_y() + 0.6
    pdf.set_line_width(0.45)
    pdf.line(left, bottom, right, bottom)
    pdf.set_xy(left, bottom + 1.2)
    for _, text in table.notes:
        write_lines(pdf, [Run(text)], left, pdf.width, NOTE_SIZE, NOTE_LINE)


def _revisions(pdf: _Pdf, paragraphs: Iterable[Paragraph]) -> None:
    left = pdf.l_margin
    for p in paragraphs:
        if p.kind == "heading":
            if pdf.will_page_break(BODY_LINE * 3 + EXHIBIT_GAP):
                pdf.add_page()
            else:
                pdf.ln(EXHIBIT_GAP)
            write_lines(pdf, [Run(p.text, bold=True)], left, pdf.width, 11, 7)
            continue
        if p.kind == "item":
            if pdf.will_page_break(5.5):
                pdf.add_page()
            y = pdf.get_y()
            _set(pdf, False, 9.5)
            pdf.set_xy(left, y)
            pdf.cell(4, 5.5, ITEM_MARK, new_x="RIGHT", new_y="TOP")
            pdf.set_xy(left + 4, y)
            write_lines(pdf, p.runs, left + 4, pdf.width - 4, 9.5, 5.5)
        else:
            write_lines(pdf, p.runs, left, pdf.width, 9.5, 5.5)


def render_pdf(document: Document, stamp: datetime) -> bytes:
    """The PDF's bytes, created at ``stamp`` (UTC)."""
    pdf = _new_pdf(document, stamp)
    pdf.add_page()
    _header(pdf, document)
    _highlights(pdf, document)
    for exhibit in document.exhibits:
        if isinstance(exhibit, Figure):
            _figure(pdf, exhibit)
        else:
            _table(pdf, exhibit)
    _revisions(pdf, document.revisions)
    return bytes(pdf.output())


def write_pdf(path: Path, document: Document, stamp: datetime) -> None:
    data = render_pdf(document, stamp)
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())

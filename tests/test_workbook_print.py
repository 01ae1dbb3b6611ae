"""bulletin.xlsx as it prints: every sheet on pages one A4 landscape page wide, no header
wider than its column, the draft's paragraphs wrapped in rows as tall as their lines, the
title and header rows frozen and repeated on every page.

The fast tests build the workbook from cells in memory (the bulletin's printed cells, a
figure, a mirror check and the bulletin's own long paragraphs as the draft) and read the
properties back from the saved file. The slow one prints the pipeline's own workbook with
LibreOffice (``soffice --headless --convert-to pdf``) and reads the PDF: pages A4 landscape,
one page per sheet, every character inside its page, every cell's text printed, each header
on one line. It skips, saying so, where ``soffice`` is not installed (``.ci/run`` installs
LibreOffice in CI).
"""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
import subprocess
import unicodedata
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from orchestration.publish import layout, workbook
from orchestration.publish.layout import LAYOUTS, PRELIMINARY_MARK
from orchestration.publish.marts import Cell, Exhibit

from .pipeline import PRINTED_CELLS, PROJECT_ROOT

BULLETIN_TEXT = Path(__file__).parent / "data" / "bulletin-459.txt"
SHEETS = ["圖1", "表1", "表2", "表3", layout.MIRROR_SHEET, layout.DRAFT_SHEET]
A4_LANDSCAPE = (841.89, 595.28)  # points
FROZEN = {"圖1": "B3", "表1": "B3", "表2": "B3", "表3": "B3", layout.MIRROR_SHEET: "B3", layout.DRAFT_SHEET: "A2"}


# ---------------------------------------------------------------- the workbook from cells in memory


def typed(code: str) -> tuple[str, date, date]:
    """A period code of the printed cells typed (the test's own reading: 2017, 2024-01..09, 2018..2023)."""
    if m := re.fullmatch(r"(\d{4})-(\d{2})\.\.(\d{2})", code):
        year, first, last = (int(g) for g in m.groups())
        return "ytd", date(year, first, 1), date(year, last, 28)
    if m := re.fullmatch(r"(\d{4})\.\.(\d{4})", code):
        return "span", date(int(m[1]), 1, 1), date(int(m[2]), 12, 31)
    return "year", date(int(code), 1, 1), date(int(code), 12, 31)


def cell(table, measure, series, series_zh, period, value, decimals, rank, preliminary=False) -> Cell:
    kind, start, end = typed(period)
    order = {"year": 0, "ytd": 1, "span": 2}[kind] * 10_000 + start.year
    return Cell(
        table, measure, series, series_zh, period, value, decimals, value, "", preliminary,
        rank, 0, order, kind, start, end,
    )  # fmt: skip


def memory_cells() -> dict[str, list[Cell]]:
    """Tables 1-3 as the bulletin printed them (its published_tables.csv), Table 1's year to
    date preliminary; Figure 1's production values and growth."""
    cells: dict[str, list[Cell]] = {code: [] for code in LAYOUTS}
    ranks: dict[tuple[str, str], int] = {}
    with PRINTED_CELLS.open(encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            if r["printed_in"] != "table":
                continue
            rank = ranks.setdefault((r["table"], r["series"]), len(ranks))
            preliminary = r["table"] == "table1_tw_server_exports_by_destination" and ".." in r["period"]
            cells[r["table"]].append(
                cell(r["table"], r["measure"], r["series"], r["series_zh"], r["period"],
                     float(r["value"]), int(r["decimals"]), rank, preliminary)
            )  # fmt: skip
    figure = "figure1_tw_server_production"
    periods = [*(str(y) for y in range(2017, 2024)), "2024-01..07"]
    values = [182, 303, 942, 1255, 1213, 1940, 4131, 4267]
    growth = [37.2, 66.5, 210.9, 33.2, -3.3, 59.9, 112.9, 153.9]
    for period, value, yoy in zip(periods, values, growth, strict=True):
        cells[figure].append(cell(figure, "value", "total", "伺服器產值", period, value, 0, 0))
        cells[figure].append(cell(figure, "yoy_pct", "total", "伺服器產值", period, yoy, 1, 0))
    return cells


def memory_mirror() -> workbook.MirrorTable:
    rows = []
    for n, period in enumerate([*(str(y) for y in range(2017, 2024)), "2024-01..08"]):
        tw, us = 4.6e7 * 2.2**n, 4.5e8 * 1.6**n
        rows.append(
            {"when": layout.Period(period, *typed(period)), "is_preliminary": period.startswith("2024"),
             "tw_reported_exports_usd": tw, "us_reported_imports_usd": us, "gap_usd": us - tw,
             "gap_pct": 100 * (us - tw) / tw}
        )  # fmt: skip
    title = "鏡像比對：我國對美國伺服器出口與美國自我國伺服器進口（HS 847150）"
    return workbook.MirrorTable(title, rows, [date(2024, 8, 1)])


def memory_draft() -> str:
    """The bulletin's own highlights, 200 to 400 characters each, as the draft."""
    text = BULLETIN_TEXT.read_text(encoding="utf-8")
    items = [line for line in text.splitlines() if re.match(r"\d\. ", line)]
    assert len(items) == 4 and all(len(i) > 200 for i in items)
    title = "# 產業經濟統計簡訊（草稿）：伺服器產銷與貿易概況"
    return "\n".join([title, "", *items, "", "## 修正說明", "", "本期為首次發布。"]) + "\n"


@pytest.fixture(scope="module")
def memory_book(tmp_path_factory) -> Path:
    cells = memory_cells()
    definitions = layout.EXHIBIT_DEFINITIONS
    exhibits = [Exhibit(c, d.order, d.title_zh, d.source, d.mart) for c, d in definitions.items()]
    path = tmp_path_factory.mktemp("workbook") / "bulletin.xlsx"
    workbook.write_workbook(
        path, exhibits, cells, datetime(2024, 10, 14),
        preliminary={"table1_tw_server_exports_by_destination": [date(2024, 9, 1)]},
        mirror=memory_mirror(), draft=memory_draft(),
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def book(memory_book):
    return openpyxl.load_workbook(memory_book)


# ---------------------------------------------------------------- widths, as this test reckons them


def half_widths(text: str) -> int:
    """A line's width in half-width characters: CJK (wide, fullwidth, ambiguous) counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def printed_text(c) -> str:
    """A cell's text as it prints: a number in its number format ('0', '0.0', '0.00')."""
    if isinstance(c.value, int | float):
        decimals = len(c.number_format.partition(".")[2])
        return f"{c.value:.{decimals}f}"
    return str(c.value)


def needed_width(c) -> float:
    """The column units a cell's widest line needs (a column unit holds a digit; a CJK
    character two; bold a tenth more; scaled by the font's size), and a unit of margin."""
    size = c.font.size or 11
    widest = max(half_widths(line) for line in printed_text(c).split("\n"))
    return widest * (1.1 if c.font.bold else 1.0) * size / 11 + 1


def column_width(ws, column: int) -> float:
    return ws.column_dimensions[openpyxl.utils.get_column_letter(column)].width


def merged_width(ws, c) -> float:
    """The width of a cell, or of the merged range it heads."""
    for merged in ws.merged_cells.ranges:
        if merged.min_row == c.row and merged.min_col == c.column:
            return sum(column_width(ws, k) for k in range(merged.min_col, merged.max_col + 1))
    return column_width(ws, c.column)


def needed_height(c, width: float) -> float:
    """Points a wrapped cell needs: its lines (each explicit line wrapped at the width) at
    1.2 times the font's size."""
    size = c.font.size or 11
    room = width - 1
    lines = sum(max(1, math.ceil(half_widths(line) * size / 11 / room)) for line in printed_text(c).split("\n"))
    return lines * size * 1.2


# ---------------------------------------------------------------- fast: the workbook's print properties


def test_every_sheet_prints_on_pages_one_a4_landscape_page_wide(book):
    assert book.sheetnames == SHEETS
    for ws in book:
        setup = ws.page_setup
        assert setup.orientation == "landscape", ws.title
        assert int(setup.paperSize) == int(ws.PAPERSIZE_A4) == 9, ws.title
        assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True, ws.title


def test_title_and_header_rows_are_frozen_and_repeated_on_every_page(book):
    for ws in book:
        assert ws.freeze_panes == FROZEN[ws.title], ws.title
        rows = int(FROZEN[ws.title][1:]) - 1
        assert ws.print_title_rows.replace("$", "") == f"1:{rows}", ws.title


def test_no_header_label_or_number_is_wider_than_its_column(book):
    checked = 0
    for ws in book:
        if ws.title == layout.DRAFT_SHEET:
            continue
        for row in ws.iter_rows():
            for c in row:
                if c.value is None or c.coordinate in ws.merged_cells:
                    continue
                assert needed_width(c) <= column_width(ws, c.column), (ws.title, c.coordinate, c.value)
                checked += 1
    assert checked > 400
    # the header that used to wrap over its border
    header = next(c for c in book["表1"][2] if c.value and c.value.endswith(PRELIMINARY_MARK))
    assert header.value == "2024年 1-9月*" and header.border.bottom.style == "thin"


def test_header_rows_are_as_tall_as_their_lines(book):
    for ws in book:
        if ws.title == layout.DRAFT_SHEET:
            continue
        header = [c for c in ws[2] if c.value is not None]
        assert header and all(c.font.bold for c in header), ws.title
        lines = max(str(c.value).count("\n") + 1 for c in header)
        height = ws.row_dimensions[2].height
        if lines > 1:  # the mirror's headers: what, then whose statistics
            assert height is not None and height >= lines * 11 * 1.2, ws.title
    mirror = [c.value for c in book[layout.MIRROR_SHEET][2]]
    assert sum("\n" in v for v in mirror) == 3


def test_titles_sources_and_notes_span_the_table_and_wrap_in_rows_as_tall_as_their_lines(book):
    spans = 0
    for ws in book:
        if ws.title == layout.DRAFT_SHEET:
            continue
        table_width = sum(column_width(ws, k) for k in range(1, ws.max_column + 1))
        for row in ws.iter_rows(min_col=1, max_col=1):
            c = row[0]
            if c.row == 2 or not isinstance(c.value, str) or not (c.row == 1 or c.font.size == 9):
                continue
            width = merged_width(ws, c)
            assert width == pytest.approx(table_width), (ws.title, c.coordinate)
            assert c.alignment.wrap_text, (ws.title, c.coordinate)
            height = ws.row_dimensions[c.row].height
            assert height is not None and height >= needed_height(c, width), (ws.title, c.coordinate, height)
            spans += 1
    assert spans >= 15
    # the mirror's note is longer than its table is wide: two lines at least
    note = next(c for c in book[layout.MIRROR_SHEET]["A"] if str(c.value).startswith("說明"))
    assert needed_height(note, merged_width(book[layout.MIRROR_SHEET], note)) >= 2 * 9 * 1.2


def test_the_draft_wraps_each_paragraph_in_one_wide_column_with_its_height(book):
    ws = book[layout.DRAFT_SHEET]
    width = column_width(ws, 1)
    # wide, yet narrower than an A4 landscape page at full size (one column is never scaled)
    assert 60 <= width <= 95
    assert ws.max_column == 1
    paragraphs = [c for (c,) in ws.iter_rows() if c.value]
    assert len(paragraphs) == 7
    for c in paragraphs:
        assert c.alignment.wrap_text and c.alignment.vertical == "top", c.coordinate
        height = ws.row_dimensions[c.row].height
        assert height is not None and height >= needed_height(c, width), (c.coordinate, height)
    # the bulletin's paragraphs take several lines each
    assert all(ws.row_dimensions[c.row].height >= 4 * 11 * 1.2 for c in paragraphs[1:5])


def test_the_workbook_is_byte_identical_on_a_rerun(memory_book, tmp_path):
    again = tmp_path / "again.xlsx"
    cells = memory_cells()
    exhibits = [Exhibit(c, d.order, d.title_zh, d.source, d.mart) for c, d in layout.EXHIBIT_DEFINITIONS.items()]
    workbook.write_workbook(
        again, exhibits, cells, datetime(2024, 10, 14),
        preliminary={"table1_tw_server_exports_by_destination": [date(2024, 9, 1)]},
        mirror=memory_mirror(), draft=memory_draft(),
    )  # fmt: skip
    assert again.read_bytes() == memory_book.read_bytes()


# ---------------------------------------------------------------- slow: printed by LibreOffice

SOFFICE = shutil.which("soffice")
needs_soffice = pytest.mark.skipif(
    SOFFICE is None,
    reason="soffice not installed: LibreOffice prints the workbook to PDF for this test "
    "(apt-get install libreoffice-calc-nogui; .ci/run does so in CI)",
)


def project_font_dirs() -> list[Path]:
    """The folders of the fonts the project ships (its CJK font covers every character it prints)."""
    return sorted({p.parent for p in (PROJECT_ROOT / "orchestration").rglob("*.ttf")})


def has_cjk_font(env: dict[str, str]) -> bool:
    if project_font_dirs():
        return True
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    found = subprocess.run([fc_list, ":lang=zh", "family"], env=env, capture_output=True, text=True)
    return bool(found.stdout.strip())


def print_to_pdf(xlsx: Path, workdir: Path) -> tuple[Path, bool]:
    """The workbook printed by LibreOffice: its own profile (so a running LibreOffice does not
    swallow the job) and fontconfig (the system's fonts and the project's). And whether it had
    a CJK font."""
    conf = workdir / "fonts.conf"
    dirs = "".join(f"  <dir>{d}</dir>\n" for d in project_font_dirs())
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"{dirs}  <cachedir>{workdir / 'fontcache'}</cachedir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    env = dict(os.environ, FONTCONFIG_FILE=str(conf), HOME=str(workdir))
    done = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={(workdir / 'profile').as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(workdir), str(xlsx)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    pdf = workdir / (xlsx.stem + ".pdf")
    assert done.returncode == 0 and pdf.exists(), f"soffice failed:\n{done.stdout}\n{done.stderr}"
    return pdf, has_cjk_font(env)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def printed(shipped_run, tmp_path_factory):
    """The pipeline's workbook as LibreOffice prints it: per page its size, rotation, text,
    its lines, and the characters outside the page."""
    import pypdfium2 as pdfium  # a dev dependency: only this test needs it
    xlsx = shipped_run.publish_dir / layout.WORKBOOK
    pdf_path, cjk = print_to_pdf(xlsx, tmp_path_factory.mktemp("print"))
    pdf = pdfium.PdfDocument(str(pdf_path))
    pages = []
    for page in pdf:
        width, height = page.get_size()
        text = page.get_textpage()
        boxes = [text.get_charbox(i) for i in range(text.count_chars())]
        outside = [b for b in boxes if b[0] < 0 or b[1] < 0 or b[2] > width or b[3] > height]
        content = text.get_text_range()
        pages.append(
            {"size": (width, height), "rotation": page.get_rotation(), "text": content,
             "lines": [squeeze(line) for line in content.splitlines()], "outside": outside, "chars": len(boxes)}
        )  # fmt: skip
    return {"pages": pages, "cjk": cjk, "book": openpyxl.load_workbook(xlsx)}


@needs_soffice
def test_libreoffice_prints_each_sheet_on_one_a4_landscape_page(printed):
    book, pages = printed["book"], printed["pages"]
    assert book.sheetnames == SHEETS
    # every sheet here is short: one page wide and one page tall, so a page a sheet
    assert len(pages) == len(book.sheetnames), [p["text"][:40] for p in pages]
    for page in pages:
        assert page["size"] == pytest.approx(A4_LANDSCAPE, abs=1), page["size"]
        assert page["rotation"] == 0
        assert page["chars"] > 50
        assert not page["outside"], f"{len(page['outside'])} characters off the page: {page['text'][:80]}"


@needs_soffice
def test_libreoffice_prints_every_cell_whole_and_each_header_on_one_line(printed):
    if not printed["cjk"]:
        pytest.skip("no CJK font for LibreOffice: the Chinese text cannot be read back from the PDF")
    book, pages = printed["book"], printed["pages"]
    assert len(pages) == len(book.sheetnames)
    checked = 0
    for ws, page in zip(book, pages, strict=True):
        text = squeeze(page["text"])
        assert squeeze(ws["A1"].value) in text, (ws.title, "title not on its page")
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                # all of it printed: not cut by the row's height, the column or the page
                assert squeeze(printed_text(c)) in text, (ws.title, c.coordinate, c.value)
                checked += 1
        if ws.title != layout.DRAFT_SHEET:
            for c in ws[2]:
                for line in str(c.value or "").split("\n"):
                    # a header line prints on one line: it does not wrap over the border
                    assert any(squeeze(line) in printed_line for printed_line in page["lines"]), (ws.title, line)
    assert checked > 400

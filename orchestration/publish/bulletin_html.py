"""bulletin.html: the bulletin as one self-contained web page, laid out like No. 459.

One file, nothing fetched: the styles inline, Figure 1 as inline SVG with its text as text,
and the project's font (``fonts/``, Noto Sans CJK TC subset, SIL Open Font License) embedded as
``@font-face`` data: a subset of its Regular and Bold to the characters the page uses (WOFF,
made with fontTools; name records kept, so its copyright and licence notices travel with it).
The page draws every word with it, so the Chinese reads the same on a machine or phone with no
CJK font. A Content-Security-Policy allows nothing but inline styles and data fonts, so a
reference to anything outside the page could not load unnoticed.

Each table is a ``<table>`` as printed (blocks, the year-to-date column and its preliminary
mark, the span column), every number cell carrying its cell's keys (``data-measure``,
``data-series``, ``data-period``) as in bulletin_cells.csv. On a phone the text wraps, the
figure scales and a table scrolls sideways in its own box, its labels kept in view; printed, the
page is A4 (print styles: smaller type, no scrolling boxes, an exhibit kept on one page).

The same document gives the same bytes: nothing here reads a clock or draws a random number.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

from . import chart, files
from .bulletin_document import LANG, Document, Figure, Paragraph, Run, Table

HTML = "bulletin.html"
FONT_FAMILY = chart.FONT_FAMILY
FONT_WEIGHTS = {"normal": 400, "bold": 700}
# Characters every page can need beyond its text (digits, signs, the list's markers).
ALWAYS = "0123456789.,-+%()*：；、 "

CSP = "default-src 'none'; style-src 'unsafe-inline'; font-src data:; img-src data:"

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: #f4f4f2; color: #1d1d1d;
  font-family: 'FONT', sans-serif; font-size: 16px; line-height: 1.75; }
main { max-width: 52rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; background: #fff; }
header { border-bottom: 3px solid #1f3864; margin-bottom: 1.25rem; padding-bottom: .5rem; }
.masthead { margin: 0; font-size: .95rem; font-weight: 700; color: #1f3864; letter-spacing: .05em; }
.issue { margin: .1rem 0 0; font-size: .85rem; color: #555; }
h1 { margin: .4rem 0 0; font-size: 1.45rem; line-height: 1.4; }
h2 { margin: 0 0 .4rem; font-size: 1.05rem; line-height: 1.4; }
ol.highlights { margin: 0 0 1.5rem; padding-left: 1.6rem; }
ol.highlights li { margin: 0 0 .8rem; }
ol.highlights li::marker { font-weight: 700; }
p.left-out { color: #555; font-size: .9rem; }
.exhibit { margin: 1.75rem 0; }
figure.exhibit { margin-left: 0; margin-right: 0; }
figure.exhibit svg { display: block; width: 100%; height: auto; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; font-size: .9rem; line-height: 1.4; width: 100%;
  font-variant-numeric: tabular-nums; }
thead th { border-top: 1.5px solid #1d1d1d; border-bottom: 1px solid #1d1d1d; padding: .35rem .4rem;
  font-weight: 700; text-align: center; vertical-align: bottom; min-width: 4.2em; }
thead th.period { white-space: pre; }
tbody th, tbody td { padding: .2rem .4rem; border: 0; }
tbody tr.block th { text-align: left; font-weight: 700; padding-top: .45rem; background: #f3f5f9; }
tbody th[scope=row] { text-align: left; font-weight: 400; white-space: nowrap; padding-left: 1em; }
tbody td { text-align: right; white-space: nowrap; }
tbody tr:last-child th, tbody tr:last-child td { border-bottom: 1.5px solid #1d1d1d; }
th.label, tbody th[scope=row] { position: sticky; left: 0; background: #fff; }
tbody tr.block th { position: sticky; left: 0; }
p.source, p.note { margin: .3rem 0 0; font-size: .82rem; color: #333; line-height: 1.55; }
section.revisions { border-top: 1px solid #ccc; margin-top: 2rem; padding-top: 1rem; }
section.revisions p, section.revisions li { font-size: .92rem; }
@media (max-width: 40rem) {
  body { font-size: 15px; background: #fff; }
  main { padding: 1rem .9rem 2rem; }
  h1 { font-size: 1.25rem; }
  table { font-size: .8rem; }
  thead th { min-width: 3.6em; }
}
@page { size: A4; margin: 14mm 15mm 14mm 15mm; }
@media print {
  body { background: #fff; font-size: 10pt; line-height: 1.6; }
  main { max-width: none; margin: 0; padding: 0; }
  header { margin-bottom: 4mm; }
  h1 { font-size: 15pt; }
  h2 { font-size: 10.5pt; break-after: avoid; }
  ol.highlights li { break-inside: avoid; }
  .exhibit { margin: 5mm 0; break-inside: avoid; }
  .scroll { overflow: visible; }
  table { font-size: 8pt; }
  thead th { min-width: 0; padding: 1mm .8mm; }
  tbody th, tbody td { padding: .45mm .8mm; }
  th.label, tbody th[scope=row], tbody tr.block th { position: static; }
  tbody tr.block th { background: none; }
  p.source, p.note { font-size: 7.5pt; }
  figure.exhibit svg { max-height: 110mm; }
}
"""


def _subset_font(path: Path, text: str) -> bytes:
    """The font file cut to the glyphs of ``text``, as WOFF (the same bytes every time)."""
    options = subset.Options()
    options.flavor = "woff"
    options.name_IDs = ["*"]  # the copyright, trademark and licence notices stay with the font
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.layout_features = ["kern"]
    font = TTFont(str(path), recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text) | set(ALWAYS))))
    subsetter.subset(font)
    font.flavor = "woff"
    buffer = io.BytesIO()
    font.save(buffer, reorderTables=True)
    return buffer.getvalue()


def font_faces(text: str) -> str:
    """``@font-face`` rules for the project's font, Regular and Bold, cut to ``text``."""
    rules = []
    for weight, path in chart.FONT_FILES.items():
        data = base64.b64encode(_subset_font(path, text)).decode("ascii")
        rules.append(
            f"@font-face {{ font-family: '{FONT_FAMILY}'; font-style: normal; "
            f"font-weight: {FONT_WEIGHTS[weight]}; font-display: block; "
            f"src: url(data:font/woff;base64,{data}) format('woff'); }}"
        )
    return "\n".join(rules)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _runs(runs: Iterable[Run]) -> str:
    return "".join(f"<strong>{_e(r.text)}</strong>" if r.bold else _e(r.text) for r in runs)


def _paragraphs(paragraphs: Iterable[Paragraph]) -> list[str]:
    """Headings, paragraphs and list items (consecutive items in one list)."""
    out: list[str] = []
    in_list = False
    for p in paragraphs:
        if p.kind == "item" and not in_list:
            out.append("<ul>")
            in_list = True
        if p.kind != "item" and in_list:
            out.append("</ul>")
            in_list = False
        if p.kind == "heading":
            out.append(f"<h2>{_runs(p.runs)}</h2>")
        elif p.kind == "item":
            out.append(f"<li>{_runs(p.runs)}</li>")
        else:
            out.append(f"<p>{_runs(p.runs)}</p>")
    if in_list:
        out.append("</ul>")
    return out


def _figure(figure: Figure) -> list[str]:
    svg = figure.svg.replace("<svg ", f'<svg aria-label="{_e(figure.title)}" ', 1)
    return [f'<figure class="exhibit figure" id="{_e(figure.exhibit)}">', svg, "</figure>"]


def _header_text(text: str) -> str:
    # "2024年 1-9月*" on two lines, as in the printed narrow columns
    return _e(text).replace(" ", "\n", 1)


def _table(table: Table) -> list[str]:
    width = len(table.header)
    out = [
        f'<section class="exhibit table" id="{_e(table.exhibit)}" aria-labelledby="{_e(table.exhibit)}-title">',
        f'<h2 id="{_e(table.exhibit)}-title">{_e(table.title)}</h2>',
        '<div class="scroll">',
        f'<table data-exhibit="{_e(table.exhibit)}">',
        "<thead><tr>",
        '<th class="label" scope="col"></th>',
    ]
    for text, period in zip(table.header[1:], table.periods, strict=True):
        out.append(f'<th class="period" scope="col" data-period="{_e(period)}">{_header_text(text)}</th>')
    out.append("</tr></thead>")
    out.append("<tbody>")
    for row in table.rows:
        if row.kind == "block":
            out.append(f'<tr class="block"><th colspan="{width}" scope="rowgroup">{_e(row.cells[0].text)}</th></tr>')
            continue
        label, *numbers = row.cells
        line = [f'<tr><th scope="row">{_e(label.text)}</th>']
        for cell in numbers:
            if cell.key is None:
                line.append(f'<td class="{_e(cell.role)}">{_e(cell.text)}</td>')
                continue
            measure, series, period = cell.key
            line.append(
                f'<td data-measure="{_e(measure)}" data-series="{_e(series)}" '
                f'data-period="{_e(period)}">{_e(cell.text)}</td>'
            )
        line.append("</tr>")
        out.append("".join(line))
    out.append("</tbody></table></div>")
    for role, text in table.notes:
        out.append(f'<p class="{_e(role)}">{_e(text)}</p>')
    out.append("</section>")
    return out


def render_html(document: Document) -> str:
    """The page's text."""
    body: list[str] = ["<main>", "<header>"]
    if document.masthead:
        body.append(f'<p class="masthead">{_e(document.masthead)}</p>')
    body.append(f"<h1>{_e(document.title)}</h1>")
    body.append(f'<p class="issue">{_e(document.issue_line)}</p>')
    body.append("</header>")
    if document.highlights:
        body.append('<ol class="highlights">')
        for p in document.highlights:
            body.append(f'<li value="{p.number}">{_runs(p.runs)}</li>')
        body.append("</ol>")
    for p in document.left_out:
        body.append(f'<p class="left-out">{_runs(p.runs)}</p>')
    for exhibit in document.exhibits:
        body += _figure(exhibit) if isinstance(exhibit, Figure) else _table(exhibit)
    if document.revisions:
        body.append('<section class="revisions">')
        body += _paragraphs(document.revisions)
        body.append("</section>")
    body.append("</main>")
    markup = "\n".join(body)
    style = STYLE.replace("FONT", FONT_FAMILY)
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{LANG}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(document.full_title)}</title>",
        "<style>",
        font_faces(document.full_title + document.text() + markup),
        style.strip(),
        "</style>",
        "</head>",
        "<body>",
    ]
    return "\n".join(head) + "\n" + markup + "\n</body>\n</html>\n"


def write_html(path: Path, document: Document) -> None:
    files.write_text(path, render_html(document))

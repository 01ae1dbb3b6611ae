"""bulletin.html and bulletin.pdf: the bulletin laid out like No. 459, every number a cell's.

Fast tests build the document from cells in memory (the bulletin's printed cells) and check the
parts that decide the layout: the draft parsed into its sections, lines that never break inside
a number, a product without Figure 1. The slow ones read the shipped run's publication:

- the PDF, rendered with pypdfium2: two to four A4 pages with text on each, every font embedded,
  the Chinese searchable, and every printed number of the four exhibits in its text as printed;
- the page, read as HTML: nothing it loads from outside, its tables' cells equal to
  bulletin_cells.csv;
- both: every number in their text is a printed cell, a period of the cells, a rank or an
  exhibit's number, or one of the few numbers of the issue line and the customs note
  (:func:`stray_numbers`);
- the page in headless Chromium, over the DevTools protocol: a screenshot, no console error, no
  request leaving the page, the tables' cells read from the DOM equal to the cells file, every
  glyph from the page's own font, no sideways scrolling of the page on a phone, and printed: A4,
  each table on one page. It skips, saying so, where Chromium is not installed (``.ci/run``
  installs Debian's ``chromium`` in CI).

tests/test_roll_forward.py checks that a later download moves the year-to-date column and its
numbers in both (with the helpers here).
"""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

import lxml.html
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image, ImageOps

from orchestration.publish import bulletin_document, bulletin_html, bulletin_pdf, layout
from orchestration.publish.bulletin_document import Run
from orchestration.publish.layout import LAYOUTS
from orchestration.publish.marts import Exhibit, Product

from .test_workbook_print import memory_cells, memory_draft

A4 = (595.28, 841.89)  # points
STAMP = datetime(2024, 10, 14)  # the workbook's and the PDF's date in the fast tests
TABLE1 = "table1_tw_server_exports_by_destination"
FIGURE1 = "figure1_tw_server_production"
# The numbers a page may print that are no cell's: the issue line's (the HS code, the data's
# date: read from the run) and the HS codes the customs note names.
NOTE_HS_CODES = frozenset(re.findall(r"\d{6}", layout.CUSTOMS_NOTE))


# ---------------------------------------------------------------- reading what was published


def read_cells(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def table_cells(cells: Iterable[dict[str, str]]) -> dict[tuple[str, str, str, str], str]:
    """The cells the tables print (printed_in table), by key, as bulletin_cells.csv prints them."""
    return {
        (c["table"], c["measure"], c["series"], c["period"]): c["value"] for c in cells if c["printed_in"] == "table"
    }


def html_tree(path: Path):
    return lxml.html.fromstring(path.read_bytes())


def html_text(path: Path) -> str:
    """The page's text as a reader sees it (styles left out), the figure's text included."""
    tree = html_tree(path)
    for style in tree.iter("style"):
        style.drop_tree()
    return " ".join(tree.itertext())


def html_table_cells(path: Path) -> dict[tuple[str, str, str, str], str]:
    """The tables' number cells, by their keys, as the page prints them."""
    out = {}
    for table in html_tree(path).iter("table"):
        for td in table.iter("td"):
            if "data-measure" in td.attrib:
                key = (table.get("data-exhibit"), td.get("data-measure"), td.get("data-series"), td.get("data-period"))
                assert key not in out, f"{key} twice"
                out[key] = td.text_content()
    return out


def pdf_pages(path: Path) -> list[str]:
    doc = pdfium.PdfDocument(path)
    try:
        return [page.get_textpage().get_text_range() for page in doc]
    finally:
        doc.close()


def pdf_text(path: Path) -> str:
    return "\n".join(pdf_pages(path))


# ---------------------------------------------------------------- every number a cell's

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
# Periods as the document writes them (layout.period_header, period_zh, month_zh), longest first.
_SPAN = re.compile(r"(\d{4})(?:至|-)(\d{4})年")
_YTD = re.compile(r"(\d{4})年\s*(\d{1,2})-(\d{1,2})月")
_MONTH = re.compile(r"(\d{4})年(\d{1,2})月")
_YEAR = re.compile(r"(\d{4})年")
_SPAN_LENGTH = re.compile(r"近(\d+)年")
_RANK = re.compile(r"(?:第|前)(\d+)")
_EXHIBIT_NUMBER = re.compile(r"[圖表](\d+)")
_HS = re.compile(r"HS(?: code)? (\d{6})")
_ORDINAL = re.compile(r"(?m)^\s*(\d+)\.\s")


def stray_numbers(text: str, cells: list[dict[str, str]], allowed: Iterable[str] = ()) -> list[str]:
    """The numbers of ``text`` that are none of: a printed cell's value (as printed, or its
    absolute value after 增/減; thousands separated or not), a period of the cells (a year, a
    year to date, a span and its length in years, a year-to-date's last month), a rank among
    the partners shown, an exhibit's number (圖1, 表2), a highlight's number, an HS code of the
    customs note, or one of ``allowed`` (exact strings, removed first: the issue line's date)."""
    for item in allowed:
        text = text.replace(item, " ")
    periods = {c["period"] for c in cells}
    years = {p for p in periods if p.isdigit()}
    spans = {p for p in periods if re.fullmatch(r"\d{4}\.\.\d{4}", p)}
    ytd = {p for p in periods if re.fullmatch(r"\d{4}-\d{2}\.\.\d{2}", p)}
    values = {c["value"].lstrip("-") for c in cells}
    shown = Counter(c["table"] for c in cells if c["measure"] == "share_pct" and c["period"] in years)
    ranks = max(shown.values(), default=0) // max(len(years), 1)
    exhibits = {d.number[1:] for d in layout.EXHIBIT_DEFINITIONS.values()}
    highlights = len(layout.EXHIBIT_DEFINITIONS)
    stray: list[str] = []

    def check(pattern: re.Pattern, ok) -> None:
        nonlocal text

        def replace(m: re.Match) -> str:
            if not ok(*m.groups()):
                stray.append(m.group(0))
            return " "

        text = pattern.sub(replace, text)

    check(_SPAN, lambda a, b: f"{a}..{b}" in spans)
    check(_YTD, lambda y, a, b: f"{y}-{int(a):02d}..{int(b):02d}" in ytd)
    check(_MONTH, lambda y, m: any(p.startswith(f"{y}-") and p.endswith(f"..{int(m):02d}") for p in ytd))
    check(_YEAR, lambda y: y in years)
    check(_SPAN_LENGTH, lambda n: any(int(s[6:]) - int(s[:4]) + 1 == int(n) for s in spans))
    check(_RANK, lambda n: 1 <= int(n) <= ranks)
    check(_EXHIBIT_NUMBER, lambda n: n in exhibits)
    check(_HS, lambda code: code in NOTE_HS_CODES)
    check(_ORDINAL, lambda n: 1 <= int(n) <= highlights)
    for m in NUMBER.finditer(text):
        if m.group(0).replace(",", "").lstrip("-") not in values:
            stray.append(m.group(0))
    return stray


def issue_date(data_date: date) -> str:
    """The issue line's date, as bulletin_document.issue_line writes it."""
    return f"{data_date.year}年{data_date.month}月{data_date.day}日"


def figure_labels(cells: list[dict[str, str]]) -> list[str]:
    """Figure 1's numbers as the chart prints them: values thousands separated, growth in brackets."""
    out = []
    for c in cells:
        if c["table"] == FIGURE1:
            text = f"{float(c['value']):,.{int(c['decimals'])}f}"
            out.append(f"({text})" if c["measure"] == "yoy_pct" else text)
    return out


def missing_printed_numbers(text: str, cells: list[dict[str, str]]) -> list[str]:
    """The printed numbers of the four exhibits that ``text`` lacks: each table's cells, as
    many times as the tables print them, and Figure 1's labels."""
    tokens = Counter(NUMBER.findall(text))
    wanted = Counter(table_cells(cells).values())
    missing = [f"{v} (x{n}, found {tokens[v]})" for v, n in wanted.items() if tokens[v] < n]
    return missing + [label for label in figure_labels(cells) if label not in text]


# ---------------------------------------------------------------- fast: the document from cells in memory


def memory_document(codes: Iterable[str] | None = None, hs_code: str = "847150") -> bulletin_document.Document:
    cells = memory_cells()
    definitions = layout.EXHIBIT_DEFINITIONS
    exhibits = [
        Exhibit(c, d.order, d.title_zh, d.source, d.mart)
        for c, d in definitions.items()
        if codes is None or c in codes
    ]
    product = Product(hs_code, "伺服器" if hs_code == "847150" else "電腦組件", None, date(2024, 10, 14))
    layouts = {c: layout.for_product(lo, hs_code, hs_code == "847150") for c, lo in LAYOUTS.items()}
    return bulletin_document.build_document(
        product, exhibits, cells, layouts, {TABLE1: [date(2024, 9, 1)]}, memory_draft()
    )


def test_the_draft_is_read_into_its_sections():
    title, highlights, after, revisions = bulletin_document.parse_draft(
        "# 產業經濟統計簡訊（草稿）：伺服器產銷與貿易概況\n\n1. **甲**：乙。\n2. 丙\n\n（本期未含：表2。）\n\n"
        "## 修正說明\n\n與前期發布相比，下列已刊數值因資料來源修正而變動（共1項）：\n\n- 表2｜由 1.0 修正為 2.0\n"
    )
    assert title == "產業經濟統計簡訊（草稿）：伺服器產銷與貿易概況"
    assert [(p.number, p.runs) for p in highlights] == [(1, (Run("甲", True), Run("：乙。"))), (2, (Run("丙"),))]
    assert [p.text for p in after] == ["（本期未含：表2。）"]
    assert [(p.kind, p.text) for p in revisions] == [
        ("heading", "修正說明"),
        ("text", "與前期發布相比，下列已刊數值因資料來源修正而變動（共1項）："),
        ("item", "表2｜由 1.0 修正為 2.0"),
    ]


def test_a_pdf_line_never_breaks_inside_a_number():
    pdf = bulletin_pdf._new_pdf(memory_document(), STAMP)
    text = "觀察近年出口概況，2023年出口值達100.5億美元，年增72.7%，近6年(2018-2023年)平均年增132.7%；" * 6
    for width in (40, 57, 63.3, 80, 121):
        lines = ["".join(t for t, _ in line) for line in bulletin_pdf.wrap(pdf, [Run(text)], width, 10.5)]
        assert "".join(lines) == text
        for a, b in zip(lines, lines[1:], strict=False):
            assert not (a[-1:].isascii() and a[-1:].strip() and b[:1].isascii() and b[:1].strip()), (a, b)
            assert b[0] not in "，。；：%)", b


def test_the_tables_keep_the_workbooks_layout_and_keys():
    document = memory_document()
    tables = [e for e in document.exhibits if isinstance(e, bulletin_document.Table)]
    assert [t.exhibit for t in tables] == [c for c in layout.EXHIBIT_DEFINITIONS if c != FIGURE1]
    table1 = tables[0]
    assert table1.header[-1] == "2024年 1-9月*"
    assert [n for n in table1.notes] == [
        ("source", LAYOUTS[TABLE1].source),
        ("note", layout.CUSTOMS_NOTE),
        ("note", "*含初步值：2024年9月"),
    ]
    table3 = tables[-1]
    assert table3.header[-1] == "2018至2023年 平均成長率(%)"
    spans = [r.cells[-1] for r in table3.rows if r.kind == "series"]
    assert {c.key[0] for c in spans if c.key} == {"avg_growth_pct"}
    assert {c.text for c in spans if not c.key} == {layout.NOT_APPLICABLE}


def test_a_product_without_figure_1_prints_what_it_has(tmp_path):
    document = memory_document([TABLE1], hs_code="847180")
    assert [e.exhibit for e in document.exhibits] == [TABLE1]
    page = bulletin_html.render_html(document)
    assert "<svg" not in page and "HS 847180" in page
    assert "說明：海關稅則編號 HS code 847180。" in page
    path = tmp_path / "bulletin.pdf"
    bulletin_pdf.write_pdf(path, document, STAMP)
    text = pdf_text(path)
    assert "HS code 847180" in text and "表1" in text and "表2" not in text


def test_the_same_document_gives_the_same_bytes():
    document = memory_document()
    assert bulletin_html.render_html(document) == bulletin_html.render_html(memory_document())
    assert bulletin_pdf.render_pdf(document, STAMP) == bulletin_pdf.render_pdf(memory_document(), STAMP)
    assert b"/CreationDate (D:20241014000000Z)" in bulletin_pdf.render_pdf(document, STAMP)


# ---------------------------------------------------------------- slow: the shipped run's publication


@pytest.fixture(scope="module")
def published(shipped_run) -> Path:
    return shipped_run.publish_dir


@pytest.fixture(scope="module")
def cells(published) -> list[dict[str, str]]:
    return read_cells(published / layout.CELLS_CSV)


@pytest.fixture(scope="module")
def allowed(shipped_run) -> list[str]:
    """The issue line's numbers: the data's date and the product's HS code."""
    ((hs_code, data_date),) = shipped_run.query(
        "select hs_code, data_date from marts.dim_bulletin_product where edition = 'current'"
    )
    return [issue_date(data_date), f"HS {hs_code}"]


def test_both_are_listed_in_the_manifest(published):
    manifest = json.loads((published / layout.MANIFEST).read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in manifest["files"]}
    for name in (bulletin_html.HTML, bulletin_pdf.PDF):
        assert listed[name]["bytes"] == (published / name).stat().st_size > 0


def test_the_pdf_is_two_to_four_a4_pages_with_text(published, tmp_path):
    doc = pdfium.PdfDocument(published / bulletin_pdf.PDF)
    assert 2 <= len(doc) <= 4
    for number, page in enumerate(doc, start=1):
        assert page.get_size() == pytest.approx(A4, abs=0.5), f"page {number}"
        assert len(page.get_textpage().get_text_range().strip()) > 100, f"page {number} has no text"
        image = page.render(scale=1).to_pil()
        image.save(tmp_path / f"page{number}.png")
        assert ImageOps.invert(image.convert("L")).getbbox() is not None, f"page {number} is blank"
        fonts = set()
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT], max_depth=8):
            font = pdfium_c.FPDFTextObj_GetFont(obj.raw)
            assert pdfium_c.FPDFFont_GetIsEmbedded(font) == 1
            name = (pdfium_c.c_char * 256)()
            pdfium_c.FPDFFont_GetBaseFontName(font, name, 256)
            fonts.add(name.value.decode())
        assert fonts and all("NotoSansCJKTCBulletin" in f for f in fonts), fonts
    first = doc[0].get_textpage()
    searcher = first.search("伺服器產值")
    assert searcher.get_next() is not None  # the Chinese is text, found by a search
    doc.close()


def test_the_pdf_holds_every_printed_number_and_no_other(published, cells, allowed):
    text = pdf_text(published / bulletin_pdf.PDF)
    assert not missing_printed_numbers(text, cells)
    assert not stray_numbers(text, cells, allowed)
    pages = pdf_pages(published / bulletin_pdf.PDF)
    for code in LAYOUTS:
        title = layout.EXHIBIT_DEFINITIONS[code].title_zh
        on = [n for n, page in enumerate(pages) if title in page]
        assert len(on) == 1, f"{title} on pages {on}"
        if not LAYOUTS[code].is_figure:  # a table and its source line on one page
            assert LAYOUTS[code].source in pages[on[0]]


def test_the_page_is_in_the_bulletins_order_and_holds_no_other_number(published, cells, allowed):
    text = html_text(published / bulletin_html.HTML)
    assert not missing_printed_numbers(text, cells)
    assert not stray_numbers(text, cells, allowed)
    draft = (published / layout.DRAFT).read_text(encoding="utf-8")
    title, highlights, _, revisions = bulletin_document.parse_draft(draft)
    squeezed = re.sub(r"\s+", "", text)
    order = [title.partition("：")[2], *(p.text for p in highlights)]
    order += [layout.EXHIBIT_DEFINITIONS[c].title_zh for c in layout.EXHIBIT_DEFINITIONS]
    order += [p.text for p in revisions]
    at = [squeezed.find(re.sub(r"\s+", "", part)) for part in order]
    assert -1 not in at and at == sorted(at), list(zip(order, at, strict=True))


def test_the_pages_tables_hold_the_cells_file(published, cells):
    assert html_table_cells(published / bulletin_html.HTML) == table_cells(cells)


def test_the_page_loads_nothing_from_outside(published):
    page = (published / bulletin_html.HTML).read_text(encoding="utf-8")
    tree = html_tree(published / bulletin_html.HTML)
    for element in tree.iter():
        for attr in ("src", "href", "xlink:href", "{http://www.w3.org/1999/xlink}href", "srcset", "data"):
            value = element.get(attr)
            assert value is None or value.startswith(("#", "data:")), (element.tag, attr, value)
    assert re.findall(r"url\((?!data:|#)", page) == []
    assert "@import" not in page
    assert page.count("@font-face") == 2 and f"font-family: '{bulletin_html.FONT_FAMILY}'" in page


# ---------------------------------------------------------------- slow: the page in headless Chromium

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not installed: this test opens bulletin.html in headless Chromium "
    "(apt-get install chromium; .ci/run does so in CI)",
)
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
DESKTOP = {"width": 1000, "height": 900, "deviceScaleFactor": 1, "mobile": False}


class DevTools:
    """Headless Chromium with one page, driven over the DevTools protocol (websocket-client):
    commands by id, every event kept."""

    def __init__(self, binary: str, profile: Path) -> None:
        import websocket  # websocket-client (dev dependency)

        profile.mkdir(parents=True, exist_ok=True)
        port_file = profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)  # a profile's earlier browser wrote one
        self.proc = subprocess.Popen(
            [
                binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}",
                "--remote-debugging-port=0", "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.ws = None
        try:
            deadline = time.monotonic() + 60
            while not (port_file.exists() and port_file.read_text().strip()):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("Chromium did not start (no DevToolsActivePort)")
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
                targets = json.load(answer)
            url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        except BaseException:
            self.close()
            raise
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((e for e in self.events if e.get("method") == event), None)
            if found:
                return found
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(event)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def problems_in(events: list[dict], page_url: str) -> list[str]:
    """Console errors, uncaught exceptions, error log entries and requests for anything but the page."""
    out = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            out.append(f"console {params['type']}: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            out.append(f"exception: {params['exceptionDetails']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            out.append(f"log {params['entry']['level']}: {params['entry'].get('text')} {params['entry'].get('url')}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if url != page_url and not url.startswith("data:"):
                out.append(f"request: {url}")
    return out


def load(browser: DevTools, url: str, metrics: dict) -> None:
    browser.send("Emulation.setDeviceMetricsOverride", **metrics)
    browser.events.clear()
    browser.send("Page.navigate", url=url)
    browser.wait_for("Page.loadEventFired")
    assert browser.evaluate("document.fonts.ready.then(() => document.fonts.status)") == "loaded"


def screenshot(browser: DevTools, path: Path) -> Image.Image:
    size = browser.send("Page.getLayoutMetrics")["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = browser.send("Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip)
    path.write_bytes(base64.b64decode(shot["data"]))
    return Image.open(path)


DOM_CELLS = """
Array.from(document.querySelectorAll('table[data-exhibit] td[data-measure]')).map(td => [
  td.closest('table').dataset.exhibit, td.dataset.measure, td.dataset.series, td.dataset.period,
  td.textContent])
"""


def fonts_of(browser: DevTools, selector: str) -> list[dict]:
    root = browser.send("DOM.getDocument", depth=-1, pierce=True)["root"]["nodeId"]
    node = browser.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
    assert node, selector
    return browser.send("CSS.getPlatformFontsForNode", nodeId=node)["fonts"]


@needs_chromium
def test_the_page_in_a_browser(published, cells, tmp_path):
    page = published / bulletin_html.HTML
    url = page.resolve().as_uri()
    browser = DevTools(CHROMIUM, tmp_path / "profile")
    try:
        for domain in ("Page", "Runtime", "Log", "Network", "DOM", "CSS"):
            browser.send(f"{domain}.enable")
        load(browser, url, DESKTOP)
        shot = screenshot(browser, tmp_path / "desktop.png")
        assert shot.width == DESKTOP["width"] and shot.height > 2000
        assert len(shot.convert("RGB").getcolors(1 << 20) or []) > 50  # drawn, not blank
        assert problems_in(browser.events, url) == []

        dom = {tuple(row[:4]): row[4] for row in browser.evaluate(DOM_CELLS)}
        assert dom == table_cells(cells)
        assert browser.evaluate("document.querySelectorAll('svg text').length") > 20

        # every glyph from the page's own font, not from one the machine has
        for selector in ("h1", "ol.highlights li", "table td", "thead th.period", "svg text", "p.note"):
            fonts = fonts_of(browser, selector)
            assert fonts and all(f["isCustomFont"] for f in fonts), (selector, fonts)
            assert {f["familyName"] for f in fonts} == {bulletin_html.FONT_FAMILY}, (selector, fonts)

        # a phone: the text wraps and the page does not scroll sideways (a table does, in its box)
        load(browser, url, PHONE)
        screenshot(browser, tmp_path / "phone.png")
        assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert browser.evaluate("document.querySelector('svg').getBoundingClientRect().width") <= PHONE["width"]
        assert problems_in(browser.events, url) == []

        # printed: A4 pages, each table and its source line on one page
        browser.send("Emulation.clearDeviceMetricsOverride")
        printed = browser.send("Page.printToPDF", preferCSSPageSize=True, printBackground=False)
        pdf = tmp_path / "printed.pdf"
        pdf.write_bytes(base64.b64decode(printed["data"]))
    finally:
        browser.close()
    doc = pdfium.PdfDocument(pdf)
    sizes = [page.get_size() for page in doc]
    texts = [re.sub(r"\s+", "", page.get_textpage().get_text_range()) for page in doc]
    doc.close()
    assert 2 <= len(sizes) <= 5 and all(s == pytest.approx(A4, abs=1) for s in sizes), sizes
    for code, lo in LAYOUTS.items():
        if lo.is_figure:
            continue
        title = re.sub(r"\s+", "", layout.EXHIBIT_DEFINITIONS[code].title_zh)
        on = [n for n, t in enumerate(texts) if title in t]
        assert len(on) == 1 and re.sub(r"\s+", "", lo.source) in texts[on[0]], (title, on)


def test_the_documents_dates_are_the_datas(published):
    """The PDF is stamped with the data's date (as the workbook), so a rerun has the same bytes."""
    data = (published / bulletin_pdf.PDF).read_bytes()
    stamp = re.search(rb"/CreationDate \(D:(\d{8})", data)
    assert stamp is not None
    manifest = json.loads((published / layout.MANIFEST).read_text(encoding="utf-8"))
    downloads = [s["download_date"] for s in manifest["sources"].values()]
    assert datetime.strptime(stamp.group(1).decode(), "%Y%m%d").date().isoformat() == max(downloads)

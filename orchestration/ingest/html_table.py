"""The tables of an HTML page as rows of cell texts: what several services' "Excel" buttons give.

Nothing here knows a source. A page is read whole (it is bounded: a page larger than
``max_bytes`` is refused before anything is allocated for it), decoded strictly in the
encoding it declares (byte-order mark, ``<meta charset>``, XML declaration; UTF-8 when it
declares none) and parsed with lxml's HTML parser, which also reads XHTML. Every table
becomes a :class:`Table` of :class:`Row`\\ s: the texts of its own cells (not those of a table
nested in it), whitespace normalised (line breaks, tabs, runs of spaces and no-break spaces
become one space; ``<br>`` is a space), with ``colspan``/``rowspan`` spread so that every row
has a cell per column. Each row keeps the line of the page its first cell starts on, for messages.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

# The largest page read (bytes): far above any table a person downloads (Trade Map's list of
# every exporter over twenty years is about 150 KB), far below what would strain memory
# (lxml's tree takes several times the page's size).
MAX_BYTES = 32 << 20
# A span larger than this is no table a person reads; the cells spread are bounded too.
MAX_SPAN = 1000
MAX_CELLS = 2_000_000

CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""", re.IGNORECASE)
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Elements whose text stands apart from the text around it (as a browser shows it).
BLOCKS = frozenset(
    "address article aside blockquote center dd div dl dt fieldset figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table ul".split()
)
END_OF_PAGE = re.compile(rb"</html\s*>\s*$", re.IGNORECASE)


class HtmlTableError(ValueError):
    """A page that cannot be read as tables. ``where`` is "line N" when known, else None."""

    def __init__(self, where: str | None, what: str) -> None:
        super().__init__(f"{where}: {what}" if where else what)
        self.where = where
        self.what = what


def normalise(text: str) -> str:
    """Whitespace of a cell's text as a reader sees it: runs of any whitespace are one space."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Row:
    """One ``<tr>``: its cell texts (spans spread), which of them are ``<th>``, and its line.

    ``line`` is the line of the page its first cell starts on (that of the ``<tr>`` when it has
    no cell of its own).
    """

    cells: tuple[str, ...]
    header: tuple[bool, ...]
    line: int | None

    @property
    def is_header(self) -> bool:
        """Every cell a ``<th>`` (a row of column names)."""
        return bool(self.header) and all(self.header)

    @property
    def is_empty(self) -> bool:
        return not any(self.cells)


@dataclass(frozen=True)
class Table:
    id: str | None
    line: int | None
    rows: tuple[Row, ...]

    def texts(self) -> list[str]:
        """Every non-empty cell text, row by row (a cell spread over columns once)."""
        out = []
        for row in self.rows:
            out.extend(c for i, c in enumerate(row.cells) if c and (i == 0 or row.cells[i - 1] != c))
        return out


@dataclass(frozen=True)
class Page:
    """The tables of a page in document order (nested tables after the one they are in)."""

    tables: tuple[Table, ...]
    encoding: str
    # Whether the page ends with ``</html>``: a page cut off in the middle parses all the same
    # (lxml recovers), only with rows missing.
    complete: bool

    def find(
        self, *, id: str | None = None, first_cell: str | Callable[[str], bool] | None = None
    ) -> Table | None:
        """The table with ``id``; else the first whose first cell, in one of its first rows, is ``first_cell``.

        ``first_cell`` is a text (compared after whitespace is normalised, ignoring case) or
        a test of the text.
        """
        if id is not None:
            for table in self.tables:
                if table.id == id:
                    return table
        if first_cell is None:
            return None
        if isinstance(first_cell, str):
            wanted = normalise(first_cell).casefold()

            def test(text: str) -> bool:
                return text.casefold() == wanted
        else:
            test = first_cell
        for table in self.tables:
            if any(r.cells and test(r.cells[0]) for r in table.rows[:5]):
                return table
        return None

    def texts_outside(self, table: Table | None) -> list[str]:
        """The cell texts of every table but ``table`` (titles, legends, unit lines …)."""
        return [t for other in self.tables if other is not table for t in other.texts()]


def declared_encoding(data: bytes) -> str:
    """The encoding a page declares: byte-order mark, ``<meta charset>``, XML declaration; else UTF-8."""
    for mark, encoding in BOMS:
        if data.startswith(mark):
            return encoding
    head = data[:4096]
    found = CHARSET.search(head) or XML_ENCODING.search(head)
    if found is None:
        return "utf-8"
    name = found[1].decode("ascii").lower()
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        raise HtmlTableError(None, f"the page declares the character set {name!r}, which is unknown") from exc


def read_page(path: Path, *, max_bytes: int = MAX_BYTES) -> Page:
    """Read the HTML page at ``path`` (at most ``max_bytes``) into its tables."""
    size = path.stat().st_size
    if size > max_bytes:
        raise HtmlTableError(
            None,
            f"the page is {size:,} bytes, more than the {max_bytes:,} an HTML table page is read up to: "
            "no table a person downloads is this large; look at what the file is",
        )
    with path.open("rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while being read
        raise HtmlTableError(None, f"the page is more than {max_bytes:,} bytes")
    return parse_page(data)


def parse_page(data: bytes) -> Page:
    """The tables of an HTML page given as its bytes."""
    if len(data) > MAX_BYTES:
        raise HtmlTableError(None, f"the page is {len(data):,} bytes, more than {MAX_BYTES:,}")
    encoding = declared_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise HtmlTableError(
            f"line {line}",
            f"byte(s) {data[exc.start:exc.end]!r} are not valid {encoding}, the character set the page "
            "declares; the download is damaged, download it again",
        ) from exc
    if encoding.startswith("utf-16"):
        # lxml reads bytes; give it the page as UTF-8, without its (now wrong) declarations.
        text = text.lstrip("\ufeff")
        data = text.encode("utf-8")
        encoding = "utf-8"
    elif data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    parser = etree.HTMLParser(encoding=encoding, remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except (etree.ParserError, ValueError) as exc:
        raise HtmlTableError(None, f"the page cannot be parsed as HTML ({exc})") from exc
    complete = bool(END_OF_PAGE.search(data[-256:]))
    if root is None:
        return Page((), encoding, complete)
    for br in root.iter("br"):
        br.tail = " " + (br.tail or "")
    budget = [MAX_CELLS]
    tables = tuple(_table(t, budget) for t in root.iter("table"))
    return Page(tables, encoding, complete)


def _own_rows(table: etree._Element) -> list[etree._Element]:
    return table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")


def _span(cell: etree._Element, name: str) -> int:
    value = (cell.get(name) or "1").strip()
    try:
        n = int(value)
    except ValueError:
        return 1
    return max(1, min(n, MAX_SPAN))


def _table(table: etree._Element, budget: list[int]) -> Table:
    rows: list[Row] = []
    # Cells a rowspan above carries down: column -> (text, is_th, rows still to cover).
    pending: dict[int, tuple[str, bool, int]] = {}
    for tr in _own_rows(table):
        placed: dict[int, tuple[str, bool]] = {}
        for column, (text, is_th, left) in list(pending.items()):
            placed[column] = (text, is_th)
            if left > 1:
                pending[column] = (text, is_th, left - 1)
            else:
                del pending[column]
        column = 0
        own_cells = tr.xpath("./td | ./th")
        line = own_cells[0].sourceline if own_cells else tr.sourceline
        for cell in own_cells:
            while column in placed:
                column += 1
            text = normalise("".join(_cell_text(cell)))
            is_th = cell.tag == "th"
            colspan, rowspan = _span(cell, "colspan"), _span(cell, "rowspan")
            for k in range(colspan):
                placed[column + k] = (text, is_th)
                if rowspan > 1:
                    pending[column + k] = (text, is_th, rowspan - 1)
            column += colspan
        width = max(placed) + 1 if placed else 0
        budget[0] -= width
        if budget[0] < 0:
            raise HtmlTableError(
                f"line {tr.sourceline}" if tr.sourceline else None,
                f"the page's tables have more than {MAX_CELLS:,} cells: no table a person downloads",
            )
        spread = [placed.get(i, ("", False)) for i in range(width)]
        rows.append(Row(tuple(t for t, _ in spread), tuple(h for _, h in spread), line))
    return Table(table.get("id"), table.sourceline, tuple(rows))


def _cell_text(cell: etree._Element) -> list[str]:
    """The text of a cell, without the text of tables nested in it."""
    parts = [cell.text or ""]
    for child in cell:
        if not isinstance(child.tag, str):  # comments, processing instructions
            parts.append(child.tail or "")
            continue
        block = child.tag in BLOCKS
        if block:
            parts.append(" ")
        if child.tag != "table":
            parts.extend(_cell_text(child))
        if block:
            parts.append(" ")
        parts.append(child.tail or "")
    return parts

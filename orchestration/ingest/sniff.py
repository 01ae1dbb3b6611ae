"""What a download is, judged from its bytes, never from its name.

Every source's parser asks :func:`sniff` first and then reads the layouts it knows for that
kind of file; anything else is refused with :meth:`Sniffed.describe`, which says in plain words
what the file looks like ("an HTML page", "a zip archive that is no workbook (it holds a.csv)").
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

# How much of a file the sniff reads.
HEAD = 1 << 16

BOMS = {
    b"\xef\xbb\xbf": "utf-8",
    b"\xff\xfe": "utf-16-le",
    b"\xfe\xff": "utf-16-be",
}

# The kinds a file can be.
EMPTY = "empty"
TEXT = "text"  # plain or delimited text, UTF-8 or Big5
UTF16_TEXT = "utf16-text"  # text saved as UTF-16 ("Unicode text" in Excel)
HTML = "html"  # an HTML or XHTML page (what several services' "Excel" buttons give)
XML = "xml"  # XML that is no HTML page (e.g. Excel 2003 XML spreadsheet)
XLSX = "xlsx"  # an Office Open XML workbook
ZIP = "zip"  # a zip archive that is no workbook
ZIP_CUT = "zip-cut"  # starts as a zip archive but its end is missing
XLS_BINARY = "xls-binary"  # an Excel 97-2003 workbook (OLE2 compound file)
PDF = "pdf"
BINARY = "binary"  # anything else with NUL bytes


@dataclass(frozen=True)
class Sniffed:
    """What a file is: its ``kind`` and, for text, its encoding guess and byte-order mark."""

    kind: str
    bom: str | None = None  # the encoding a byte-order mark declares
    members: tuple[str, ...] = field(default=())  # a zip archive's first member names

    def describe(self) -> str:
        """The file in plain words, for a message."""
        if self.kind == EMPTY:
            return "an empty file (0 bytes)"
        if self.kind == TEXT:
            return "a text file"
        if self.kind == UTF16_TEXT:
            return "a UTF-16 text file (Excel's 'Unicode text')"
        if self.kind == HTML:
            return "an HTML page"
        if self.kind == XML:
            return "an XML file that is no HTML page"
        if self.kind == XLSX:
            return "an .xlsx workbook"
        if self.kind == ZIP:
            shown = ", ".join(self.members[:3]) + (" …" if len(self.members) > 3 else "")
            return f"a zip archive that is no workbook (it holds {shown or 'nothing'})"
        if self.kind == ZIP_CUT:
            return "a zip archive whose end is missing (the download was cut off)"
        if self.kind == XLS_BINARY:
            return "an Excel 97-2003 binary workbook (.xls)"
        if self.kind == PDF:
            return "a PDF document"
        return "a binary file that is no table"


def sniff(path: Path) -> Sniffed:
    """What ``path`` is, from its first bytes (and, for a zip archive, its member list)."""
    with path.open("rb") as f:
        head = f.read(HEAD)
    if not head:
        return Sniffed(EMPTY)
    bom = next((enc for mark, enc in BOMS.items() if head.startswith(mark)), None)
    if bom in ("utf-16-le", "utf-16-be"):
        return Sniffed(UTF16_TEXT, bom)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = tuple(archive.namelist())
        except zipfile.BadZipFile:
            return Sniffed(ZIP_CUT)
        if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
            return Sniffed(XLSX, members=names)
        return Sniffed(ZIP, members=names)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return Sniffed(XLS_BINARY)
    if head.startswith(b"%PDF"):
        return Sniffed(PDF)
    text = head[len(b"\xef\xbb\xbf") :] if bom == "utf-8" else head
    if b"\x00" in text:
        # UTF-16 without a byte-order mark: every other byte of ASCII text is NUL.
        if text[1::2].count(0) > len(text) // 4 or text[0::2].count(0) > len(text) // 4:
            return Sniffed(UTF16_TEXT, "utf-16-le" if text[1:2] == b"\x00" else "utf-16-be")
        return Sniffed(BINARY, bom)
    start = text.lstrip(b" \t\r\n")[:512].lower()
    if start.startswith(b"<"):
        if b"<html" in text[:HEAD].lower() or start.startswith(b"<!doctype html") or b"<table" in text.lower():
            return Sniffed(HTML, bom)
        return Sniffed(XML, bom)
    return Sniffed(TEXT, bom)

"""The encoding of a text download: UTF-8 (with or without a byte-order mark) or Big5 (CP950).

Each source says which of the two it exports. :func:`sniff_text_encoding` decodes the whole
file strictly, so a bad byte anywhere is reported with its line (and, when the file is
neither encoding, how far each reads); :func:`quick_text_encoding` judges from the first
64 KB and leaves the rest to the reader that follows (DuckDB for UTF-8, the transcoder for Big5).
Empty, UTF-16 and cut-off files are refused first, from their first and last bytes.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from pathlib import Path

from .checks import check_complete_last_line
from .files import DownloadFile
from .scanning import CHUNK

# How much of a text file the quick encoding check reads.
HEAD = 1 << 16
ENCODING_NAMES = {"utf-8": "UTF-8", "cp950": "Big5 (CP950)"}


def encoding_names(allowed: Sequence[str]) -> str:
    """The encodings of ``allowed`` as a message names them: ``UTF-8 or Big5 (CP950)``."""
    return " or ".join(ENCODING_NAMES[e] for e in allowed)


def sniff_text_encoding(file: DownloadFile, allowed: Sequence[str]) -> str:
    """The encoding of a text download: ``utf-8`` (BOM or not) or ``cp950`` (Big5).

    ``allowed`` lists which of the two the source exports. The whole file is
    checked with a strict incremental decoder, so a bad byte anywhere is
    reported with its line.
    """
    with file.path.open("rb") as f:
        head = f.read(4096)
    if not head:
        raise file.error(None, "the file is empty (0 bytes); download it again")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head:
        raise file.error(
            "line 1",
            "the file is UTF-16 (or not text at all: it has NUL bytes); "
            f"export it again as {encoding_names(allowed)} from the source",
        )
    # A download cut off in the middle of a character is cut off, not in another encoding.
    check_complete_last_line(file)
    errors: list[tuple[int, str, str]] = []
    for encoding in allowed:
        bad = _first_decode_error(file.path, encoding)
        if bad is None:
            return encoding
        errors.append((bad[0], encoding, bad[1]))
    # The encoding that reads furthest is the file's own: its first bad byte is the damage.
    line, encoding, what = max(errors)
    if len(errors) > 1:
        others = "; ".join(
            f"as {ENCODING_NAMES[e]} it fails at line {n}" for n, e, _ in errors if e != encoding
        )
        what += (
            f": the file is neither {' nor '.join(ENCODING_NAMES[e] for e in allowed)} "
            f"(it reads as {ENCODING_NAMES[encoding]} up to this line; {others})"
        )
    raise file.error(f"line {line}", f"{what}; the download is damaged, download it again")


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _first_decode_error(path: Path, encoding: str) -> tuple[int, str] | None:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines_before = 0
    with path.open("rb") as f:
        while True:
            block = f.read(CHUNK)
            final = not block
            try:
                decoder.decode(block, final=final)
            except UnicodeDecodeError as exc:
                # exc.object is what the decoder held: bytes left over from the last block
                # (never a line break) followed by this block.
                data = exc.object
                line = lines_before + _line_of(data, max(exc.start, 0))
                return line, f"byte(s) {data[exc.start:exc.end]!r} are not valid {ENCODING_NAMES[encoding]}"
            if final:
                return None
            lines_before += block.count(b"\n")


def check_text_head(file: DownloadFile, allowed: Sequence[str]) -> bytes:
    """The cheap checks of a text download, from its first and last bytes; returns its head.

    Empty, UTF-16 (or not text) and cut-off files are refused with the messages of
    :func:`sniff_text_encoding`, without reading the whole file.
    """
    with file.path.open("rb") as f:
        head = f.read(HEAD)
    if not head:
        raise file.error(None, "the file is empty (0 bytes); download it again")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:4096]:
        raise file.error(
            "line 1",
            "the file is UTF-16 (or not text at all: it has NUL bytes); "
            f"export it again as {encoding_names(allowed)} from the source",
        )
    check_complete_last_line(file)
    return head


def quick_text_encoding(file: DownloadFile, allowed: Sequence[str]) -> tuple[str, bytes]:
    """The encoding of a text download, judged from its first 64 KB; and those bytes.

    A byte-order mark, or Chinese text in the head that is valid UTF-8, means UTF-8: the
    rest of the file is then validated by DuckDB's reader as it reads (an invalid byte
    stops it with its line; :func:`sniff_text_encoding` then names the fault). A head
    that is valid only as Big5 means Big5, validated as it is transcoded. A head of plain
    ASCII says nothing, and neither does a head that is neither: the whole file is
    checked as before.
    """
    head = check_text_head(file, allowed)
    if head.startswith(codecs.BOM_UTF8) and "utf-8" in allowed:
        return "utf-8", head
    cut = head[: head.rfind(b"\n") + 1] if len(head) == HEAD and b"\n" in head else head
    if cut.isascii():
        return sniff_text_encoding(file, allowed), head
    for encoding in allowed:
        try:
            codecs.getincrementaldecoder(encoding)("strict").decode(cut, final=False)
        except UnicodeDecodeError:
            continue
        return encoding, head
    return sniff_text_encoding(file, allowed), head

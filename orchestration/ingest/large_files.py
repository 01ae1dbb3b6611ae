"""The large-file path: a Big5 (CP950) download of gigabytes as UTF-8 parts DuckDB reads in parallel.

Only the customs export runs to millions of rows. Its UTF-8 form is read where it is (and
scanned beside the read, :mod:`.scanning`); a Big5 one is cut in parts at line ends, each
transcoded by glibc's ``iconv`` in a process of its own while this process hashes the file
and counts its lines (:func:`transcode_to_utf8`). glibc and Python's cp950 read a few hundred
codes differently: glibc gives them code points of the private use area (:data:`ICONV_ONLY`),
which the reader looks for in what it loaded (:func:`iconv_only_sql`); a file that holds one,
or any file the fast load does not take whole, is transcoded again by Python's codec
(:func:`transcode_with_python`), so the text (and an error's message) is always Python's.
"""
from __future__ import annotations

import codecs
import concurrent.futures
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .csv_reader import TextParts, utf8_parts
from .encoding import ENCODING_NAMES, sniff_text_encoding
from .files import DownloadFile
from .scanning import SLICE, FileScan, Scanner, blocks

# The parts a transcoded file is cut in (at a line end after this many bytes): each one goes
# through one iconv process, which holds it whole (in and out).
PART = 1 << 26


class TranscodeMismatch(Exception):
    """iconv would read the file differently from Python's CP950 codec, or not at all."""


# Where glibc's CP950 and Python's cp950 differ (kana and the user-defined area, lead bytes
# C6-C8: 408 codes, every one checked against both), glibc gives code points U+F6B1..U+F848 of
# the private use area, within U+F680..U+F87F (UTF-8 EF 9A..A1 ..). Every other code either
# codec reads, the other reads the same or refuses (iconv then fails, and Python's codec
# decides). A stray 0x80 byte, which glibc reads as U+0080 and Python refuses, is looked for
# in the input.
ICONV_ONLY = ("\uf680", "\uf87f")


def iconv_only_sql(text: str) -> str:
    """SQL: ``text`` holds a character that glibc's CP950 gives where Python's gives another."""
    low, high = (f"\\x{{{ord(c):X}}}" for c in ICONV_ONLY)
    return f"regexp_matches({text}, '[{low}-{high}]')"


def transcode_to_utf8(
    file: DownloadFile, encoding: str, workdir: Path, allowed: Sequence[str]
) -> tuple[TextParts, FileScan]:
    """A UTF-8 copy of a Big5 (CP950) download, in parts, with the scan (lines, hash) of the original.

    The file is cut in parts at line ends; each goes through ``iconv`` (glibc) into a file of
    its own, one process per core at once, while this thread hashes the file and counts its
    lines. The parts are then marked ``by_iconv``: the reader checks what it loaded for the
    codes glibc reads otherwise (:func:`iconv_only_sql`) and, if it finds one or the file is
    not clean, reads :func:`transcode_with_python`'s copy instead. A file with a 0x80 byte,
    or one that iconv refuses, is decoded by Python's codec straight away.
    """
    iconv = shutil.which("iconv") if encoding == "cp950" else None
    if iconv is not None:
        folder = Path(tempfile.mkdtemp(prefix="utf8-", dir=workdir))
        try:
            return _transcode_iconv(file, iconv, folder)
        except TranscodeMismatch:
            shutil.rmtree(folder, ignore_errors=True)
    return transcode_with_python(file, encoding, workdir, allowed)


def transcode_with_python(
    file: DownloadFile, encoding: str, workdir: Path, allowed: Sequence[str]
) -> tuple[TextParts, FileScan]:
    """A UTF-8 copy of a Big5 (CP950) download by Python's codec (one part), with its scan.

    Raises :class:`IngestError` naming the line and the bytes that are not Big5.
    """
    target = Path(tempfile.mkdtemp(prefix="utf8-", dir=workdir)) / "all.csv"
    return utf8_parts(target), _transcode_python(file, encoding, target, allowed)


def _iconv_part(iconv: str, source: Path, start: int, end: int, first_line: bytes, target: Path) -> None:
    """Bytes ``start:end`` of ``source`` through iconv into ``target``, after ``first_line``.

    The kernel feeds iconv from the page cache (sendfile), so the bytes never pass through
    Python. Refuses (TranscodeMismatch) a part iconv cannot read.
    """
    with target.open("wb") as out, tempfile.TemporaryFile() as errors, source.open("rb") as src:
        out.write(first_line)
        out.flush()
        proc = subprocess.Popen(
            [iconv, "-f", "CP950", "-t", "UTF-8"], stdin=subprocess.PIPE, stdout=out, stderr=errors
        )
        try:
            offset = start
            while offset < end:
                sent = os.sendfile(proc.stdin.fileno(), src.fileno(), offset, end - offset)
                if sent == 0:
                    break
                offset += sent
        except BrokenPipeError:  # iconv stopped at a byte it cannot read: its message says which
            pass
        finally:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        if proc.wait() != 0:
            errors.seek(0)
            raise TranscodeMismatch(errors.read().decode("utf-8", "replace").strip())


def _transcode_iconv(file: DownloadFile, iconv: str, folder: Path) -> tuple[TextParts, FileScan]:
    workers = max(1, min(os.cpu_count() or 1, 4))
    header: bytes | None = None
    paths: list[Path] = []
    first_lines: list[int] = []
    buffer = bytearray(SLICE)
    start = 0  # where the next part starts
    start_line = 1  # the line it starts with
    scanner = Scanner(file.path)
    with (
        concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="iconv") as pool,
        file.path.open("rb", buffering=0) as src,
    ):
        pending: list[concurrent.futures.Future[None]] = []

        def submit(end: int, line: int) -> None:
            nonlocal start, start_line
            target = folder / f"{len(paths):06d}.csv"
            # Part 0 starts with the header itself; the others with a copy of it, to be skipped.
            first = b"" if start == 0 else header
            pending.append(pool.submit(_iconv_part, iconv, file.path, start, end, first, target))
            paths.append(target)
            first_lines.append(2 if start == 0 else start_line)
            start, start_line = end, line

        try:
            while n := src.readinto(buffer):
                if buffer.find(b"\x80", 0, n) >= 0:
                    raise TranscodeMismatch("a 0x80 byte, which is not Big5")
                if header is None:
                    first_end = buffer.find(b"\n", 0, n) + 1
                    header = (
                        bytes(buffer[:first_end]).decode("cp950").encode("utf-8") if first_end else b"\r\n"
                    )
                last = buffer.rfind(b"\n", 0, n) + 1
                scanner.update(buffer, n)
                if last and scanner.size - n + last - start >= PART:
                    submit(scanner.size - n + last, scanner.lines + 1)
                if any(f.done() and f.exception() for f in pending):
                    break
            if start < scanner.size:
                submit(scanner.size, scanner.lines + 1)
            for future in pending:
                future.result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return TextParts(tuple(paths), tuple(first_lines), by_iconv=True), scanner.result()


def _transcode_python(file: DownloadFile, encoding: str, target: Path, allowed: Sequence[str]) -> FileScan:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    scanner = Scanner(file.path)
    try:
        with target.open("wb") as out:
            for block in blocks(file.path):
                out.write(decoder.decode(block).encode("utf-8"))
                scanner.update(block, len(block))
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        # The whole-file check names the line and the bytes (and says if it is another encoding).
        sniff_text_encoding(file, allowed)
        raise file.error(None, f"cannot be read as {ENCODING_NAMES[encoding]}: {exc}") from exc
    return scanner.result()

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
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from .csv_reader import TextParts, utf8_parts
from .encoding import ENCODING_NAMES, sniff_text_encoding
from .files import DownloadFile
from .scanning import SLICE, FileScan, Scanner, blocks

# The parts a transcoded file is cut in (at a line end after this many bytes): each one goes
# through one iconv process, which holds it whole (in and out).
PART = 1 << 26
# The first part is this large, the next twice as large, and so on up to PART.
FIRST_PART = 1 << 22


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

    By iconv when it can (:class:`IconvParts`, every part done), else by Python's codec.
    """
    parts = iconv_parts(file, encoding, workdir)
    if parts is not None:
        try:
            with parts:
                for _ in parts:
                    pass
            return parts.text, parts.scan()
        except TranscodeMismatch:
            pass
    return transcode_with_python(file, encoding, workdir, allowed)


def iconv_parts(file: DownloadFile, encoding: str, workdir: Path) -> IconvParts | None:
    """The download being transcoded by glibc's iconv (:class:`IconvParts`), or None without iconv."""
    iconv = shutil.which("iconv") if encoding == "cp950" else None
    if iconv is None:
        return None
    return IconvParts(file, iconv, Path(tempfile.mkdtemp(prefix="utf8-", dir=workdir)))


class IconvParts:
    """A Big5 (CP950) download transcoded to UTF-8 by glibc's ``iconv``, part by part, as it goes.

    A thread of its own reads the file in slices, hashes it and counts its lines (the
    :class:`FileScan`), and cuts it in parts of :data:`PART` bytes at line ends; each part goes
    through an ``iconv`` process of its own (one per core at once) into a file that starts with
    the header (the first part) or a copy of it. Iterating gives each part as soon as it is
    done, in order, as a :class:`TextParts` of one part (``by_iconv``), so the reader can load
    one part while the next are transcoded. Iterating raises :class:`TranscodeMismatch` where
    iconv cannot read a part or the file has a 0x80 byte: Python's codec is to read it then.
    Used as a context manager, which stops the work and removes the parts' folder on leaving.

    glibc's CP950 reads a few hundred codes otherwise than Python's (:data:`ICONV_ONLY`): the
    reader looks for them in what it loaded (:func:`iconv_only_sql`).
    """

    _END = object()

    def __init__(self, file: DownloadFile, iconv: str, folder: Path) -> None:
        self.file, self.iconv, self.folder = file, iconv, folder
        self.paths: list[Path] = []
        self.first_lines: list[int] = []
        self._queue: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        workers = max(1, min(os.cpu_count() or 1, 4))
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="iconv")
        self._scan: concurrent.futures.Future[FileScan] = concurrent.futures.Future()
        self._reader = threading.Thread(target=self._read, name="iconv-reader", daemon=True)
        self._reader.start()

    def __enter__(self) -> IconvParts:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._reader.join()
        self._pool.shutdown(wait=True, cancel_futures=True)
        _remove_in_background(self.folder)

    def __iter__(self) -> Iterator[TextParts]:
        while (item := self._queue.get()) is not self._END:
            if isinstance(item, BaseException):
                raise item
            future, path, first_line = item
            future.result()  # TranscodeMismatch where iconv refused the part
            self.paths.append(path)
            self.first_lines.append(first_line)
            yield TextParts((path,), (first_line,), by_iconv=True)

    @property
    def text(self) -> TextParts:
        """Every part given so far, in order."""
        return TextParts(tuple(self.paths), tuple(self.first_lines), by_iconv=True)

    def scan(self) -> FileScan:
        """The scan of the download (its lines, hash and samples), waiting for it."""
        return self._scan.result()

    def _read(self) -> None:
        try:
            self._cut_and_submit()
        except BaseException as exc:  # given to the reader of the parts, in their order
            if not self._scan.done():
                self._scan.set_exception(exc)
            self._queue.put(exc)
        self._queue.put(self._END)

    def _cut_and_submit(self) -> None:
        file = self.file
        header: bytes | None = None
        buffer = bytearray(SLICE)
        start, start_line, count = 0, 1, 0  # where the next part starts, its line, parts so far
        scanner = Scanner(file.path)

        def submit(end: int, line: int) -> None:
            nonlocal start, start_line, count
            target = self.folder / f"{count:06d}.csv"
            # Part 0 starts with the header itself; the others with a copy of it, to be skipped.
            first = b"" if start == 0 else header
            future = self._pool.submit(_iconv_part, self.iconv, file.path, start, end, first, target)
            self._queue.put((future, target, 2 if start == 0 else start_line))
            start, start_line, count = end, line, count + 1

        with file.path.open("rb", buffering=0) as src:
            while n := src.readinto(buffer):
                if self._stop.is_set():
                    raise TranscodeMismatch("stopped")
                if buffer.find(b"\x80", 0, n) >= 0:
                    raise TranscodeMismatch("a 0x80 byte, which is not Big5")
                if header is None:
                    first_end = buffer.find(b"\n", 0, n) + 1
                    header = (
                        bytes(buffer[:first_end]).decode("cp950").encode("utf-8") if first_end else b"\r\n"
                    )
                last = buffer.rfind(b"\n", 0, n) + 1
                scanner.update(buffer, n)
                # The first parts small, so that the reader starts soon; then PART.
                if last and scanner.size - n + last - start >= min(PART, FIRST_PART << count):
                    submit(scanner.size - n + last, scanner.lines + 1)
            if start < scanner.size:
                submit(scanner.size, scanner.lines + 1)
        self._scan.set_result(scanner.result())


def _remove_in_background(folder: Path) -> None:
    """Remove ``folder`` (gigabytes of parts: freeing their pages takes a while) beside the work
    that follows. It is first moved out of the loader's work folder, which is removed at once."""
    gone = Path(tempfile.mkdtemp(prefix="utf8-done-"))
    try:
        os.rename(folder, gone / folder.name)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
    # Not a daemon: the process waits for it before it exits, so nothing is left behind.
    threading.Thread(target=shutil.rmtree, args=(gone,), kwargs={"ignore_errors": True}).start()


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

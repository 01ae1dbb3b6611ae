"""One pass over a file's bytes: its line breaks, its content hash and a few sample lines.

A file is read in slices of :data:`SLICE` (1 MB) into one buffer, each hashed and its line
breaks counted while it is still in the processor's cache (reading in larger blocks costs a
third more: every byte then goes to memory and back once more). The hash is BLAKE3 (the
``blake3`` package, one thread; ``b3sum`` prints the same): 0.2 CPU-seconds for 1.3 GB here,
where SHA-256 took 0.8 even with the processor's SHA instructions, and a scan runs beside
DuckDB's read of the same file, which uses every core (:func:`scan_in_background`: DuckDB
releases the GIL while it reads, numpy while it counts). The loader records every file's hash;
the customs reader checks its rows against the lines sampled here.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import blake3
import numpy as np

# Small reads (decoding checks, line counts) go in chunks of this size.
CHUNK = 1 << 22
# Large files are hashed, counted and sampled in slices of this size, each while in the cache.
SLICE = 1 << 20
# Large files are transcoded in blocks of this size (cut at a line end).
BLOCK = 1 << 25
# Where the sample lines are taken: the first whole line after these fractions of the file.
SAMPLE_AT = (0.0, 0.25, 0.5, 0.75, 0.999)
# A sample line longer than this is not taken (no line of a download comes near it).
SAMPLE_MAX = 1 << 20


@dataclass(frozen=True)
class FileScan:
    """What one pass over a file's bytes tells: its line breaks and its content hash (BLAKE3,
    hexadecimal).

    ``samples``: a few whole lines taken on the way (line number, bytes without the line
    break), to check rows against (see customs.py).
    """

    lines: int
    blake3: str
    size: int
    samples: tuple[tuple[int, bytes], ...] = ()


class Scanner:
    """Hash, line breaks and sample lines of a file, fed its bytes in order (:meth:`update`).

    A sample is the line that starts after the first line break at or after a target offset;
    it is read from the file itself (``path``), so a line that runs past the slice in hand is
    taken whole.
    """

    def __init__(self, path: Path, size: int | None = None) -> None:
        self.path = path
        size = path.stat().st_size if size is None else size
        self.targets = sorted({max(1, int(size * f)) for f in SAMPLE_AT})
        self.samples: list[tuple[int, bytes]] = []
        self.digest = blake3.blake3(max_threads=1)
        self.lines = 0
        self.size = 0

    def update(self, buffer: bytes | bytearray | memoryview, n: int) -> None:
        """The next ``n`` bytes of the file: the first ``n`` of ``buffer``."""
        view = memoryview(buffer)
        for start in range(0, n, SLICE):
            end = min(start + SLICE, n)
            self.digest.update(view[start:end])
            if self.targets and self.targets[0] - 1 < self.size + end - start:
                self._sample(view[start:end], end - start)
            self.lines += count_line_breaks(view[start:end], end - start)
            self.size += end - start

    def _sample(self, piece: memoryview, n: int) -> None:
        data = bytes(piece)
        while self.targets and self.targets[0] - 1 < self.size + n:
            at = max(self.targets[0] - 1 - self.size, 0)
            found = data.find(b"\n", at, n)
            if found < 0:  # the line break after the target is in a later slice
                self.targets = sorted({max(t, self.size + n + 1) for t in self.targets})
                return
            self.targets.pop(0)
            line = self.lines + data.count(b"\n", 0, found + 1) + 1
            with self.path.open("rb", buffering=0) as f:
                text = os.pread(f.fileno(), SAMPLE_MAX, self.size + found + 1)
            stop = text.find(b"\n")
            if stop >= 0:
                self.samples.append((line, text[:stop].rstrip(b"\r")))

    def result(self) -> FileScan:
        return FileScan(self.lines, self.digest.hexdigest(), self.size, tuple(self.samples))


def blocks(path: Path, size: int = BLOCK) -> Iterator[bytes]:
    """The bytes of ``path`` in blocks of ``size``."""
    with path.open("rb", buffering=0) as f:
        while block := f.read(size):
            yield block


def count_lines(path: Path) -> int:
    """The number of line breaks in a file, counted block by block."""
    with path.open("rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(CHUNK), b""))


def count_line_breaks(buffer: bytes | bytearray | memoryview, n: int) -> int:
    """The line breaks (LF) in the first ``n`` bytes of ``buffer``.

    numpy compares 32 bytes an instruction and releases the GIL; ``bytes.count`` goes byte
    by byte, and on a file of gigabytes that is the larger part of a scan's time.
    """
    return int(np.count_nonzero(np.frombuffer(buffer, np.uint8, n) == 10))


def scan_file(path: Path, stop: threading.Event | None = None) -> FileScan:
    """Count the line breaks of a file and hash it (BLAKE3), in one pass.

    The file is read slice by slice into one buffer, never copied; see the module's docstring
    for why this runs well beside a DuckDB query in another thread.
    ``stop``, once set, ends the pass early (its result is then partial).
    """
    scanner = Scanner(path)
    buffer = bytearray(SLICE)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buffer):
            if stop is not None and stop.is_set():
                break
            scanner.update(buffer, n)
    return scanner.result()


def scan_in_background(
    path: Path, stop: threading.Event | None = None
) -> concurrent.futures.Future[FileScan]:
    """:func:`scan_file` in a thread of its own; ``.result()`` waits for it."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan")
    future = pool.submit(scan_file, path, stop)
    pool.shutdown(wait=False)
    return future

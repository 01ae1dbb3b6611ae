"""One pass over a file's bytes: its line breaks, its SHA-256 and a few sample lines.

Files are read in large blocks into one buffer; hashlib and numpy release the GIL on them,
so a scan runs well beside a DuckDB query in another thread (:func:`scan_in_background`).
The loader records every file's hash; the customs reader checks its rows against the lines
sampled here.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Small reads (decoding checks, line counts) go in chunks of this size.
CHUNK = 1 << 22
# Large files are read, hashed and transcoded in blocks of this size (cut at a line end).
BLOCK = 1 << 25
# Where the sample lines are taken: the first whole line after these fractions of the file.
SAMPLE_AT = (0.0, 0.25, 0.5, 0.75, 0.999)


@dataclass(frozen=True)
class FileScan:
    """What one pass over a file's bytes tells: its line breaks and its content hash.

    ``samples``: a few whole lines taken on the way (line number, bytes without the line
    break), to check rows against (see customs.py).
    """

    lines: int
    sha256: str
    size: int
    samples: tuple[tuple[int, bytes], ...] = ()


class Sampler:
    """Collects the sample lines of a file as its blocks go by (block, offset, lines before)."""

    def __init__(self, size: int) -> None:
        self.targets = sorted({max(1, int(size * f)) for f in SAMPLE_AT})
        self.samples: list[tuple[int, bytes]] = []

    def see(self, block: bytes | bytearray, n: int, offset: int, lines_before: int) -> None:
        while self.targets and self.targets[0] < offset + n:
            target = max(self.targets.pop(0) - offset, 0)
            # the line that starts after the line break at or after target - 1
            start = block.find(b"\n", max(target - 1, 0), n) + 1
            end = block.find(b"\n", start, n) if start else -1
            if start and end >= 0:
                line = bytes(block[start:end]).rstrip(b"\r")
                self.samples.append((lines_before + block.count(10, 0, start) + 1, line))


def blocks(path: Path, size: int = BLOCK) -> Iterator[bytes]:
    """The bytes of ``path`` in blocks of ``size``."""
    with path.open("rb", buffering=0) as f:
        while block := f.read(size):
            yield block


def count_lines(path: Path) -> int:
    """The number of line breaks in a file, counted block by block."""
    with path.open("rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(CHUNK), b""))


def count_line_breaks(buffer: bytes | bytearray, n: int) -> int:
    """The line breaks (LF) in the first ``n`` bytes of ``buffer``.

    numpy compares 32 bytes an instruction and releases the GIL; ``bytes.count`` goes byte
    by byte, and on a file of gigabytes that is the larger part of a scan's time.
    """
    return int(np.count_nonzero(np.frombuffer(buffer, np.uint8, n) == 10))


def scan_file(path: Path, stop: threading.Event | None = None) -> FileScan:
    """Count the line breaks of a file and hash it (SHA-256), in one pass of large blocks.

    hashlib and numpy release the GIL on large blocks, so this runs well beside a DuckDB
    query in another thread; the blocks are read into one buffer, never copied.
    ``stop``, once set, ends the pass early (its result is then partial).
    """
    digest = hashlib.sha256()
    lines = size = 0
    sampler = Sampler(path.stat().st_size)
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buffer):
            if stop is not None and stop.is_set():
                break
            digest.update(view[:n])
            sampler.see(buffer, n, size, lines)
            lines += count_line_breaks(buffer, n)
            size += n
    return FileScan(lines, digest.hexdigest(), size, tuple(sampler.samples))


def scan_in_background(
    path: Path, stop: threading.Event | None = None
) -> concurrent.futures.Future[FileScan]:
    """:func:`scan_file` in a thread of its own; ``.result()`` waits for it."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan")
    future = pool.submit(scan_file, path, stop)
    pool.shutdown(wait=False)
    return future

"""Inputs that would make a reader hold more than it should, or that look cut off when they are
not: each fails in seconds with the file and line named and what is really there."""

from __future__ import annotations

import time

import duckdb
import pytest

from orchestration.ingest.checks import MAX_LINE_BYTES
from orchestration.ingest.files import IngestError
from orchestration.ingest.loader import load_source

from .ingest_helpers import copy_source, customs_file, data_files, rel

LONG = b"x" * (MAX_LINE_BYTES * 8)


def _refused(source, raw) -> str:
    started = time.monotonic()
    with pytest.raises(IngestError) as failure:
        load_source(duckdb.connect(), source, raw)
    assert time.monotonic() - started < 30
    return str(failure.value)


@pytest.mark.parametrize(
    ("source", "encoding", "at"),
    [("customs", "utf-8-bom", 10), ("customs", "big5", 10), ("gta", None, 3), ("gta", None, 12), ("itc", None, 4)],
)
def test_a_line_far_too_long_is_named(tmp_path, source, encoding, at):
    only = customs_file(encoding).name if encoding else None
    raw, folder = copy_source(tmp_path, source, only=only)
    (path,) = [folder / only] if only else data_files(source, raw)
    data = path.read_bytes()
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    lines = data.split(newline)
    lines.insert(at, LONG)
    path.write_bytes(newline.join(lines))
    message = _refused(source, raw)
    assert message.startswith(f"{rel(path, raw)} line {at + 1}: the line is longer than 1 MB"), message


def test_a_trailing_ctrl_z_is_named_not_cut_off(tmp_path):
    name = customs_file("utf-8-bom").name
    raw, folder = copy_source(tmp_path, "customs", only=name)
    path = folder / name
    path.write_bytes(path.read_bytes() + b"\x1a")
    message = _refused("customs", raw)
    assert "ends with a Ctrl-Z (byte 0x1A)" in message and "cut off" not in message, message

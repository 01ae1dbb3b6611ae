"""Shared by the ingestion tests: where the shipped downloads are, and how to copy and edit them.

Nothing here uses ``orchestration.ingest``: the tests read the files on their own
(``csv``, ``openpyxl``) so that what they expect does not come from the code under test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

RAW = Path(__file__).parents[1] / "raw"
# The sources with a shipped download; the API sources (their downloads come from the fetch
# job, none shipped) after them, in the registry's order.
SOURCES = ("customs", "gta", "itc", "moea")
API_SOURCES = ("census", "comtrade")
TABLES = {
    "customs": "raw.customs_trade",
    "gta": "raw.gta_us_imports",
    "itc": "raw.itc_exporters",
    "moea": "raw.moea_production",
    "census": "raw.census_us_imports",
    "comtrade": "raw.comtrade_exporters",
}
BOM = b"\xef\xbb\xbf"


def download_folder(source: str, raw: Path = RAW) -> Path:
    """The one download folder (``<source>/<YYYY-MM-DD>``) of a source."""
    folders = sorted(p for p in (raw / source).iterdir() if p.is_dir())
    assert len(folders) == 1, f"expected one shipped download of {source}, found {folders}"
    return folders[0]


def data_files(source: str, raw: Path = RAW) -> list[Path]:
    suffix = {"customs": ".csv", "gta": ".csv", "itc": ".txt", "moea": ".xlsx"}[source]
    return sorted(p for p in download_folder(source, raw).iterdir() if p.suffix == suffix)


def rel(path: Path, raw: Path) -> str:
    """A file's path under a raw folder, as the loader's lineage and messages name it."""
    return path.relative_to(raw).as_posix()


def customs_file(encoding: str, raw: Path = RAW) -> Path:
    """The shipped customs file in ``"big5"`` or ``"utf-8-bom"``."""
    files = data_files("customs", raw)
    with_bom = [p for p in files if p.read_bytes().startswith(BOM)]
    without = [p for p in files if not p.read_bytes().startswith(BOM)]
    assert len(with_bom) == 1 and len(without) == 1, files
    return with_bom[0] if encoding == "utf-8-bom" else without[0]


def decode_customs(path: Path) -> str:
    """The text of a customs download, decoded without the code under test."""
    data = path.read_bytes()
    if data.startswith(BOM):
        return data[len(BOM) :].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp950")


def copy_source(tmp_path: Path, source: str, only: str | None = None) -> tuple[Path, Path]:
    """Copy one shipped download into ``tmp_path/raw``; return (raw folder, download folder).

    ``only`` names the one file of the download to copy (the others are left out).
    """
    raw = tmp_path / "raw"
    ignore = None if only is None else (lambda folder, names: [n for n in names if n != only and "." in n])
    shutil.copytree(RAW / source, raw / source, ignore=ignore)
    return raw, download_folder(source, raw)


def edit_lines(path: Path, edit, encoding: str | None = None) -> None:
    """Rewrite a text download line by line, keeping its encoding, BOM and line ends.

    ``edit`` gets the list of lines (without line ends, line 1 at index 0) and
    changes it in place.
    """
    data = path.read_bytes()
    bom = BOM if data.startswith(BOM) else b""
    if encoding is None:
        try:
            data[len(bom) :].decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "cp950"
    text = data[len(bom) :].decode(encoding)
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    assert lines[-1] == "", "a shipped download ends with a line break"
    body = lines[:-1]
    edit(body)
    path.write_bytes(bom + (newline.join(body) + newline).encode(encoding))


def fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """The row count and an order-free hash of every row of a table: equal when the contents are."""
    return con.execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {table} t").fetchall()[0]

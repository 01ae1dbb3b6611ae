"""The plain files of a publication: CSV, Parquet, the manifest, and checking a folder against it.

Each writer writes one file from values already read from the warehouse (or, for Parquet,
through DuckDB's ``COPY``), in a fixed order and with no time or random id in it, so the
same marts give the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from .layout import CELLS_COLUMNS, MANIFEST, format_value, printed_in_table
from .marts import mart_query

MANIFEST_VERSION = 1


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_rows(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterable[list[str]]:
    """Rows as text: ``value`` with its ``decimals`` (4267, 5.7, 0.01, 100.0), other numbers in full."""
    value_at = columns.index("value") if "value" in columns else None
    decimals_at = columns.index("decimals") if "decimals" in columns else None
    for row in rows:
        out = [_text(v) for v in row]
        if value_at is not None and decimals_at is not None and row[value_at] is not None:
            out[value_at] = format_value(row[value_at], int(row[decimals_at]))
        yield out


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """UTF-8, a header row, LF line ends (as the bulletin's published_tables.csv)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(csv_rows(columns, rows))
        f.flush()
        os.fsync(f.fileno())


def write_text(path: Path, text: str) -> None:
    """A text file: UTF-8, LF line ends, synced."""
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def cells_rows(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterable[tuple]:
    """fct_bulletin_cells rows in the columns of published_tables.csv (``printed_in`` added:
    ``table`` where the exhibit's table prints the cell, else ``text``)."""
    at = {c: i for i, c in enumerate(columns)}
    for row in rows:
        values = {c: row[i] for c, i in at.items()}
        values["printed_in"] = "table" if printed_in_table(values["table"], values["measure"]) else "text"
        yield tuple(values[c] for c in CELLS_COLUMNS)


def write_cells_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    write_csv(path, CELLS_COLUMNS, cells_rows(columns, rows))


def write_parquet(con: duckdb.DuckDBPyConnection, mart: str, path: Path) -> None:
    """A mart as Parquet through DuckDB's COPY, rows in the published order (one thread, so
    the row groups, and the bytes, are the same every time)."""
    target = str(path).replace("'", "''")
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    con.execute("set threads = 1")
    try:
        con.execute(f"copy ({mart_query(mart)}) to '{target}' (format parquet, compression zstd)")
    finally:
        con.execute(f"set threads = {int(threads)}")
    with path.open("rb") as f:
        os.fsync(f.fileno())


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def publication_files(folder: Path) -> list[Path]:
    """The files of a publication: regular files, the manifest and links aside."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink() and p.name != MANIFEST)


def file_entries(folder: Path) -> list[dict]:
    return [
        {"path": p.name, "bytes": p.stat().st_size, "sha256": sha256(p)} for p in publication_files(folder)
    ]


def build_manifest(
    folder: Path,
    *,
    tables: dict[str, dict],
    sources: dict[str, dict],
    preliminary: dict[str, list[str]],
    run: dict,
    product: dict | None = None,
    exhibits_left_out: list[dict] | None = None,
    revisions: dict | None = None,
    preliminary_months: dict[str, list[str]] | None = None,
) -> dict:
    """The manifest of a complete publication folder. Only ``run`` changes from run to run.

    ``product``: the product published (hs_code, product_zh); ``exhibits_left_out``: the
    exhibits without rows for it, why, and the files not written; ``revisions``: the
    revision report's rows and the publication compared with."""
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "run": run,
        "product": product,
        "files": file_entries(folder),
        "tables": tables,
        "exhibits_left_out": exhibits_left_out or [],
        "sources": sources,
        "preliminary": {
            "source_months": {s: v.get("preliminary_months", []) for s, v in sources.items()},
            "exhibit_periods": preliminary,
            "exhibit_months": preliminary_months or {},
        },
        "revisions": revisions,
    }
    return {k: v for k, v in manifest.items() if v is not None}


def manifest_exhibits(manifest: dict) -> list[str]:
    """The exhibits a publication holds, by its manifest."""
    return [t["exhibit"] for t in manifest.get("tables", {}).values() if "exhibit" in t]


def write_manifest(folder: Path, manifest: dict) -> Path:
    path = folder / MANIFEST
    with path.open("w", encoding="utf-8", newline="\n") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    return path


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def content_digest(manifest: dict) -> str:
    """A digest of what a publication holds (file names and hashes), the run aside."""
    listing = "\n".join(f"{f['path']} {f['sha256']}" for f in manifest["files"])
    return hashlib.sha256(listing.encode()).hexdigest()


def verify_folder(folder: Path) -> list[str]:
    """What is wrong with a publication folder against its manifest (empty: nothing)."""
    if not (folder / MANIFEST).is_file():
        return [f"{MANIFEST} is missing in {folder}"]
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError) as exc:
        return [f"{MANIFEST} cannot be read: {exc}"]
    problems = []
    listed = set()
    for entry in manifest.get("files", []):
        path = folder / entry["path"]
        listed.add(entry["path"])
        if not path.is_file():
            problems.append(f"{entry['path']}: missing")
            continue
        size = path.stat().st_size
        if size == 0:
            problems.append(f"{entry['path']}: empty")
        if size != entry["bytes"]:
            problems.append(f"{entry['path']}: {size} bytes, the manifest says {entry['bytes']}")
        elif sha256(path) != entry["sha256"]:
            problems.append(f"{entry['path']}: its SHA-256 differs from the manifest's")
    for path in publication_files(folder):
        if path.name not in listed:
            problems.append(f"{path.name}: not in the manifest")
    if not listed:
        problems.append("the manifest lists no files")
    return problems

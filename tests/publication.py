"""Comparing two publications: their files' hashes, their manifests, their data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from orchestration.publish import layout


def file_hashes(folder: Path) -> dict[str, str]:
    """Every regular file of a folder (links aside) and its SHA-256."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.is_symlink()
    }


def data_hashes(folder: Path) -> dict[str, str]:
    """The hashes of the data files: all but the manifest (whose run part differs)."""
    return {k: v for k, v in file_hashes(folder).items() if k != layout.MANIFEST}


def without_run(manifest: dict) -> dict:
    return {k: v for k, v in manifest.items() if k != "run"}


def differences_beyond_float_noise(a: Path, b: Path, name: str) -> list[str]:
    """What differs between two versions of a CSV or Parquet file, value_exact's rounding noise
    (a relative 1e-12) aside."""
    with duckdb.connect() as mem:
        reader = "read_parquet" if name.endswith(".parquet") else "read_csv"
        options = "" if name.endswith(".parquet") else ", all_varchar = true"
        columns = [
            d[0] for d in mem.execute(f"describe select * from {reader}('{a / name}'{options})").fetchall()
        ]
        left, right = (
            mem.execute(f"select * from {reader}('{folder / name}'{options})").fetchall() for folder in (a, b)
        )
    if len(left) != len(right):
        return [f"{name}: {len(left)} rows against {len(right)}"]
    problems = []
    for n, (x, y) in enumerate(zip(left, right, strict=True)):
        for column, u, v in zip(columns, x, y, strict=True):
            if u == v:
                continue
            if column == "value_exact" and float(u) == pytest.approx(float(v), rel=1e-12):
                continue
            problems.append(f"{name} row {n} {column}: {u!r} against {v!r}")
    return problems

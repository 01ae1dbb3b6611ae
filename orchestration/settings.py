"""Where the pipeline reads and writes: one place for every path the project uses.

Each setting comes from an environment variable, relative to the project root or
absolute, so dbt's profile, Dagster's resources and the tests all agree.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

SOURCES = ("customs", "gta", "itc", "moea")


def _path_from_env(name: str, default: str) -> Path:
    value = os.environ.get(name) or default
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def raw_dir() -> Path:
    """The folder of source downloads: ``<source>/<YYYY-MM-DD>/<file>``."""
    return _path_from_env("BULLETIN_RAW_DIR", "raw")


def warehouse_path() -> Path:
    """The DuckDB file that ingestion and dbt write."""
    return _path_from_env("BULLETIN_WAREHOUSE", "warehouse/bulletin.duckdb")


def publish_dir() -> Path:
    """Where the publish asset writes the bulletin's files."""
    return _path_from_env("BULLETIN_PUBLISH_DIR", "published")

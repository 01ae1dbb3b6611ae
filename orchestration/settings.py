"""Where the pipeline reads and writes: one place for every path the project uses.

Each setting comes from an environment variable, relative to the project root or
absolute, so dbt's profile, Dagster's resources and the tests all agree.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# SOURCES, the sources in the order they are loaded, comes from the registry of source specs
# (orchestration/ingest/sources.py): see __getattr__ at the end.


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


# The product the bulletin is about by default: HS 847150, servers (dbt_project.yml's hs_code).
DEFAULT_HS_CODE = "847150"


def hs_code() -> str:
    """The product of a run (``BULLETIN_HS_CODE``, six digits; default 847150, servers).

    The dbt asset passes it to dbt as the ``hs_code`` var and the publish asset publishes the
    product's own folder; a run's config (``hs_code``) overrides it for that run."""
    return check_hs_code(os.environ.get("BULLETIN_HS_CODE") or DEFAULT_HS_CODE)


def check_hs_code(value: str) -> str:
    """``value`` as an HS code of six digits, else a ValueError saying what is expected."""
    code = str(value).strip()
    if not re.fullmatch(r"[0-9]{6}", code):
        raise ValueError(f"HS code {value!r} is not six digits (e.g. 847150 servers, 847180)")
    return code


def __getattr__(name: str) -> object:
    """``SOURCES``: the sources, in the order they are loaded, as the registry of source specs
    (``orchestration/ingest/sources.py``) lists them; read when first asked for, so that the
    settings do not import the parsers."""
    if name == "SOURCES":
        from .ingest.sources import SPECS

        return tuple(SPECS)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

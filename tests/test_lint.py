"""The code stays lint-clean: ruff for Python, sqlfluff (dbt templater, DuckDB dialect) for SQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .pipeline import PROJECT_ROOT

BIN = Path(sys.executable).parent


def test_ruff():
    proc = subprocess.run(
        [str(BIN / "ruff"), "check", "orchestration", "tests", "benchmarks"],
        cwd=PROJECT_ROOT, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@pytest.mark.slow  # compiles the dbt project: a minute
def test_sqlfluff():
    proc = subprocess.run(
        [str(BIN / "sqlfluff"), "lint", "models", "tests", "--nocolor"],
        cwd=PROJECT_ROOT / "dbt_project", capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]

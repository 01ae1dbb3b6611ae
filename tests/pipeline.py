"""Run the whole pipeline as a user does, against a raw folder, warehouse and publish folder of a test's own."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_RAW = PROJECT_ROOT / "raw"
PRINTED_CELLS = PROJECT_ROOT / "dbt_project" / "seeds" / "bulletin_459_printed_cells.csv"


@dataclass(frozen=True)
class PipelineRun:
    raw_dir: Path
    warehouse: Path
    publish_dir: Path
    returncode: int
    stdout: str
    stderr: str

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def cells(self) -> dict[tuple[str, str, str, str], tuple[float, int]]:
        rows = self.query(
            'select "table", measure, series, period, value, decimals from marts.fct_bulletin_cells'
        )
        return {tuple(r[:4]): (r[4], r[5]) for r in rows}


def pipeline_env(raw_dir: Path, warehouse: Path, publish_dir: Path, dagster_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BULLETIN_RAW_DIR=str(raw_dir),
        BULLETIN_WAREHOUSE=str(warehouse),
        BULLETIN_PUBLISH_DIR=str(publish_dir),
        DAGSTER_HOME=str(dagster_home),
        DO_NOT_TRACK="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


# `make test-fast` sets this: a test that runs the whole pipeline (or Dagster's webserver) is a
# slow one, and must say so with @pytest.mark.slow; the fast suite then leaves it out.
FAST_ONLY = "BULLETIN_FAST_TESTS"


def refuse_in_fast_tests(what: str) -> None:
    if os.environ.get(FAST_ONLY):
        import pytest

        pytest.fail(f"{what} in the fast suite: mark the test @pytest.mark.slow")


def run_pipeline(workdir: Path, raw_dir: Path, *, warehouse: Path | None = None) -> PipelineRun:
    """`python -m orchestration.cli run` (what `make run` calls) in a folder of the test's own."""
    refuse_in_fast_tests("a full pipeline run")
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse = warehouse or workdir / "warehouse" / "bulletin.duckdb"
    publish_dir = workdir / "published"
    dagster_home = workdir / "dagster_home"
    dagster_home.mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=PROJECT_ROOT,
        env=pipeline_env(raw_dir, warehouse, publish_dir, dagster_home),
        capture_output=True,
        text=True,
        timeout=900,
    )
    return PipelineRun(raw_dir, warehouse, publish_dir, proc.returncode, proc.stdout, proc.stderr)


def copy_shipped_raw(target: Path) -> Path:
    shutil.copytree(SHIPPED_RAW, target)
    return target


def printed_cells() -> dict[tuple[str, str, str, str], tuple[float, int]]:
    """The bulletin's printed cells (the project's own copy of published_tables.csv)."""
    with PRINTED_CELLS.open(encoding="utf-8-sig", newline="") as f:
        return {
            (r["table"], r["measure"], r["series"], r["period"]): (float(r["value"]), int(r["decimals"]))
            for r in csv.DictReader(f)
        }


def compare_cells(got: dict, expected: dict) -> list[str]:
    """compare_cells.py's semantics: every expected cell present, same number, same decimals."""
    bad = []
    for key, (value, decimals) in expected.items():
        if key not in got:
            bad.append(f"missing  {'/'.join(key)}  expected {value}")
        elif abs(got[key][0] - value) > 1e-9:
            bad.append(f"differs  {'/'.join(key)}  got {got[key][0]}  expected {value}")
        elif got[key][1] != decimals:
            bad.append(f"decimals {'/'.join(key)}  got {got[key][1]}  expected {decimals}")
    return bad

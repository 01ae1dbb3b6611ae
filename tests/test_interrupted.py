"""A run killed with SIGKILL halfway leaves the warehouse usable; the next run succeeds and
publishes the same files as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.publish.files import read_manifest

from .pipeline import PROJECT_ROOT, SHIPPED_RAW, pipeline_env, refuse_in_fast_tests, run_pipeline

# Every test here reads what full pipeline runs made (make test runs them; make test-fast does not).
pytestmark = pytest.mark.slow


def _published_hashes(publish_dir: Path) -> dict[str, str]:
    """Every published file's hash, as its manifest lists it (the manifest itself aside)."""
    manifest = read_manifest(publish_dir)
    return {f["path"]: f["sha256"] for f in manifest["files"]}


def kill_a_run_inside_dbt(env: dict[str, str]) -> None:
    """Start `python -m orchestration.cli run` and SIGKILL it, children and all, inside dbt."""
    refuse_in_fast_tests("a pipeline run")
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=PROJECT_ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    # wait until the run is inside dbt (a dbt process of this session exists), then kill it all
    deadline = time.monotonic() + 240
    killed_in_dbt = False
    while time.monotonic() < deadline and proc.poll() is None:
        children = subprocess.run(
            ["pgrep", "-s", str(proc.pid), "-f", "dbt build"], capture_output=True, text=True
        ).stdout.split()
        if children:
            time.sleep(3)
            killed_in_dbt = True
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert killed_in_dbt, "the run ended before dbt started: nothing was interrupted"


def run_statuses(home: Path) -> list[str]:
    """The status of every run the instance in ``home`` recorded, oldest first."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return [r.status.value for r in reversed(instance.get_runs())]


def test_sigkill_halfway_then_rerun(shipped_run, tmp_path):
    work = tmp_path / "killed"
    work.mkdir()
    warehouse = work / "warehouse" / "bulletin.duckdb"
    home = work / "dagster_home"
    home.mkdir()
    env = pipeline_env(SHIPPED_RAW, warehouse, work / "published", home)
    kill_a_run_inside_dbt(env)
    # The killed run could not record its end.
    assert run_statuses(home) == ["STARTED"]

    if warehouse.exists():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            con.execute("select 1").fetchall()

    rerun = run_pipeline(work, SHIPPED_RAW, warehouse=warehouse)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    # The next run found the dead one and marked it failed (a queue of one would wait for it).
    assert run_statuses(home) == ["FAILURE", "SUCCESS"]
    assert "had died (its process is gone): marked failed" in rerun.stdout
    assert _published_hashes(rerun.publish_dir) == _published_hashes(shipped_run.publish_dir)
    leftovers = [p.name for p in warehouse.parent.iterdir() if ".run-" in p.name]
    assert leftovers == [], f"working copies left behind: {leftovers}"

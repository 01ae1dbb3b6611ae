"""A run killed with SIGKILL halfway leaves the warehouse usable; the next run succeeds and
publishes the same files as an uninterrupted run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.publish import files
from orchestration.publish.files import read_manifest

from .pipeline import (
    PROJECT_ROOT,
    SHIPPED_RAW,
    pipeline_env,
    refuse_in_fast_tests,
    run_pipeline,
    start_cli,
    wait_cli,
)
from .publication import data_hashes, differences_beyond_float_noise, without_run

# Every test here reads what full pipeline runs made (make test runs them; make test-fast does not).
pytestmark = pytest.mark.slow


def _published_hashes(publish_dir: Path) -> dict[str, str]:
    """Every published file's hash, as its manifest lists it (the manifest itself aside)."""
    manifest = read_manifest(publish_dir)
    return {f["path"]: f["sha256"] for f in manifest["files"]}


def kill_a_run_inside_dbt(env: dict[str, str]) -> None:
    """Start `python -m orchestration.cli run` and SIGKILL it, children and all, inside dbt."""
    refuse_in_fast_tests("a pipeline run")
    pid = start_cli(["run"], PROJECT_ROOT, env, Path(env["DAGSTER_HOME"]) / "killed-run")
    # wait until the run is inside dbt (a dbt process of this session exists), then kill it all
    deadline = time.monotonic() + 240
    killed_in_dbt = False
    try:
        while time.monotonic() < deadline and _alive(pid):
            children = subprocess.run(
                ["pgrep", "-s", str(pid), "-f", "dbt build"], capture_output=True, text=True
            ).stdout.split()
            if children:
                time.sleep(3)
                killed_in_dbt = True
                break
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    finally:
        wait_cli(pid, timeout=30)
    assert killed_in_dbt, "the run ended before dbt started: nothing was interrupted"


def _alive(pid: int) -> bool:
    """Whether the process has not ended (a child of the fork server, not yet reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def run_statuses(home: Path) -> list[str]:
    """The status of every run the instance in ``home`` recorded, oldest first."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return [r.status.value for r in reversed(instance.get_runs())]


@pytest.fixture(scope="module")
def killed_then_rerun(tmp_path_factory):
    """A run SIGKILLed inside dbt, and the run after it, in one folder (with its own warehouse)."""
    work = tmp_path_factory.mktemp("killed")
    warehouse = work / "warehouse" / "bulletin.duckdb"
    home = work / "dagster_home"
    home.mkdir()
    env = pipeline_env(SHIPPED_RAW, warehouse, work / "published", home)
    kill_a_run_inside_dbt(env)
    # The killed run could not record its end.
    statuses_after_kill = run_statuses(home)
    opened = None
    if warehouse.exists():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            opened = con.execute("select 1").fetchall()
    rerun = run_pipeline(work, SHIPPED_RAW, warehouse=warehouse)
    return statuses_after_kill, opened, rerun, home, warehouse


def test_sigkill_halfway_then_rerun(shipped_run, killed_then_rerun):
    statuses_after_kill, opened, rerun, home, warehouse = killed_then_rerun
    assert statuses_after_kill == ["STARTED"]
    assert opened in (None, [(1,)])
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    # The next run found the dead one and marked it failed (a queue of one would wait for it).
    assert run_statuses(home) == ["FAILURE", "SUCCESS"]
    assert "had died (its process is gone): marked failed" in rerun.stdout
    assert _published_hashes(rerun.publish_dir) == _published_hashes(shipped_run.publish_dir)
    leftovers = [p.name for p in warehouse.parent.iterdir() if ".run-" in p.name]
    assert leftovers == [], f"working copies left behind: {leftovers}"


def test_a_second_pipeline_run_gives_identical_files(shipped_run, killed_then_rerun):
    """The run after the killed one is a second run of the shipped data from nothing: its files
    are the shared run's, byte for byte, and its manifest differs only in its run record."""
    published = shipped_run.publish_dir
    run = killed_then_rerun[2]
    assert run.returncode == 0, run.stderr[-3000:]
    again = run.publish_dir
    assert files.read_manifest(again)["run"] != files.read_manifest(published)["run"]
    differing = sorted(k for k, v in data_hashes(again).items() if data_hashes(published).get(k) != v)
    # the dbt models sum in a fixed order, so not even value_exact's last bits may differ
    problems = [p for name in differing for p in differences_beyond_float_noise(published, again, name)]
    assert not differing, f"{differing} differ: {problems or 'only in the last bits of value_exact'}"
    assert without_run(files.read_manifest(again)) == without_run(files.read_manifest(published))

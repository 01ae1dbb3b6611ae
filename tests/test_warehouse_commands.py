"""The warehouse outside a normal run: dbt on its own under the lock, a damaged file and the
one command that rebuilds it, and the project run from a folder whose path has a space and
Chinese characters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.warehouse import locked

from .pipeline import (
    PROJECT_ROOT,
    SHIPPED_RAW,
    PipelineRun,
    compare_cells,
    pipeline_env,
    printed_cells,
    refuse_in_fast_tests,
    run_cli,
    run_pipeline,
)


def _cli(args: list[str], env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess:
    """`python -m orchestration.cli <args>`, in a process of its own (tests/pipeline.run_cli)."""
    refuse_in_fast_tests(f"orchestration.cli {args[0]}")
    logs = Path(env["DAGSTER_HOME"]) / "logs"
    code, stdout, stderr = run_cli(args, PROJECT_ROOT, env, logs, timeout=timeout)
    return subprocess.CompletedProcess(args, code, stdout, stderr)


@pytest.mark.slow
def test_dbt_on_its_own_waits_for_the_warehouse_lock(tmp_path):
    warehouse = tmp_path / "warehouse" / "bulletin.duckdb"
    env = pipeline_env(SHIPPED_RAW, warehouse, tmp_path / "published", tmp_path / "home")
    env["BULLETIN_LOCK_TIMEOUT"] = "1"
    with locked(warehouse, "a run of the test's own"):
        done = _cli(["dbt", "test"], env, timeout=120)
    assert done.returncode != 0
    assert "is being written by another run (" in done.stderr + done.stdout
    assert "a run of the test's own" in done.stderr + done.stdout


@pytest.mark.slow
def test_a_damaged_warehouse_names_itself_and_rebuild_builds_it_again(tmp_path):
    warehouse = tmp_path / "warehouse" / "bulletin.duckdb"
    warehouse.parent.mkdir(parents=True)
    warehouse.write_bytes(b"\x00not a duckdb file" * 1000)
    home = tmp_path / "home"
    home.mkdir()
    failed = run_pipeline(tmp_path, SHIPPED_RAW, warehouse=warehouse)
    assert failed.returncode != 0
    last = failed.stderr.strip().splitlines()[-1]
    assert f"the warehouse {warehouse} cannot be opened" in last, failed.stderr[-2000:]
    assert "make rebuild" in last and ".run-" not in last

    env = pipeline_env(SHIPPED_RAW, warehouse, tmp_path / "published", tmp_path / "dagster_home")
    rebuilt = _cli(["rebuild"], env)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    aside = [p.name for p in warehouse.parent.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1, "the damaged file is put aside, never deleted"
    # and it is a warehouse again, built from every download: the bulletin's cells
    rebuilt_run = PipelineRun(SHIPPED_RAW, warehouse, tmp_path / "published", rebuilt.returncode, "", "")
    assert compare_cells(rebuilt_run.cells(), printed_cells()) == []


@pytest.mark.slow
def test_make_run_from_a_folder_with_a_space_and_chinese_characters(tmp_path):
    """`make run` in `a b/專案` succeeds and writes nothing outside the project folder."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed here")
    outer = tmp_path / "a b"
    project = outer / "專案"
    outer.mkdir()
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(project)], check=True)
    # The installed environment stands in for `make install` (it installs the same pins); `-o`
    # keeps make from installing into it again (that would point its editable install here).
    (project / ".venv").symlink_to(Path(sys.executable).parents[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BULLETIN_", "DAGSTER_", "DBT_"))}
    env["BULLETIN_LOCK_TIMEOUT"] = "600"
    done = subprocess.run(
        ["make", "-o", ".venv/.installed", "run"], cwd=project, env=env, capture_output=True, text=True,
        timeout=1200,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert sorted(p.name for p in outer.iterdir()) == ["專案"], "make wrote outside the project folder"
    assert (project / "published" / "bulletin_cells.csv").exists()
    assert (project / ".dagster_home" / "dagster.yaml").exists()

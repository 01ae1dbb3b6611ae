"""The dbt project as Dagster sees it: one DbtProject, its manifest, and how dbt is called."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from .settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# `dagster dev` re-parses the project so edits show at once; `make run` parses it only
# when a dbt file changed (the Makefile's manifest target), and the run reuses it.
dbt_project.prepare_if_dev()


def dbt_executable() -> str:
    """The venv's own dbt, beside this interpreter; else whatever is on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())


def dbt_vars(overrides: Mapping[str, object] | None = None) -> dict[str, object]:
    """dbt vars for a run: only those set, so dbt_project.yml keeps the defaults."""
    return {k: v for k, v in (overrides or {}).items() if v not in (None, "")}


def dbt_build_args(vars_: Mapping[str, object] | None = None) -> list[str]:
    """The arguments of the `dbt build` a materialization runs."""
    args = ["build"]
    if vars_:
        args += ["--vars", json.dumps(dict(vars_), ensure_ascii=False, sort_keys=True)]
    return args


@contextlib.contextmanager
def warehouse_env(path: Path) -> Iterator[None]:
    """Point dbt's profile (BULLETIN_WAREHOUSE) at ``path`` for the dbt commands in the block.

    dbt runs as a subprocess that inherits this process's environment; steps run one at a
    time in one process, so the change is seen by that dbt command alone.
    """
    before = os.environ.get("BULLETIN_WAREHOUSE")
    os.environ["BULLETIN_WAREHOUSE"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("BULLETIN_WAREHOUSE", None)
        else:
            os.environ["BULLETIN_WAREHOUSE"] = before

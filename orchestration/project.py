"""The dbt project as Dagster sees it: one DbtProject, its manifest, and how dbt is called."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping
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

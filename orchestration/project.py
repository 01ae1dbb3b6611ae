"""The dbt project: one DbtProject, and its manifest, parsed again when a dbt file changed.

How the dbt asset calls dbt (arguments, environment, target folders, the dbt resource) is in
orchestration/assets/dbt_invocation.py, beside the asset.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from dagster_dbt import DbtProject

from .settings import DBT_PROJECT_DIR, warehouse_path

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# What a manifest is parsed from: when none of these changed since target/manifest.json was
# written, the manifest is current and nobody parses again (the Makefile's manifest target agrees).
DBT_SOURCE_DIRS = ("models", "seeds", "macros", "tests", "snapshots", "analyses")
DBT_SOURCE_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")


def dbt_target_root(project: DbtProject = dbt_project) -> Path:
    """The dbt project's target folder: its manifest and parse, each dbt command's own folder,
    the cached parses and the warehouse links."""
    return Path(project.project_dir) / project.target_path


def dbt_link_slots(project: DbtProject = dbt_project) -> Path:
    """Where the names dbt knows warehouses by live: in the dbt project's target folder, so that
    every warehouse of this checkout (the tests make one per run) shares dbt's parses."""
    return dbt_target_root(project) / "warehouse-links"


def stable_dbt_path_for(live: Path, slot: int, project: DbtProject = dbt_project) -> Path:
    """The name dbt knows a run's working copy of ``live`` by: ``<slot>/<warehouse name>``, the
    same every run that takes the slot (the first free one: almost always 0). dbt's profile holds
    the path, and dbt parses everything again when its profile changes."""
    return dbt_link_slots(project) / str(slot) / live.name


# A dbt to run instead of the venv's (a path): the tests set it to their dbt fork server's client
# (tests/cli_forkserver.py), which runs this venv's dbt without importing it again every command.
DBT_EXECUTABLE_SETTING = "BULLETIN_DBT_EXECUTABLE"


def dbt_executable() -> str:
    """``BULLETIN_DBT_EXECUTABLE`` when set; else the venv's own dbt, beside this interpreter;
    else whatever is on PATH."""
    if os.environ.get(DBT_EXECUTABLE_SETTING):
        return os.environ[DBT_EXECUTABLE_SETTING]
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def dbt_sources(project_dir: Path) -> Iterator[Path]:
    """Every file a parse reads, and every folder that holds them: a folder's time changes when
    a file in it is added, removed or renamed (``mv`` keeps the file's own time)."""
    for name in DBT_SOURCE_FILES:
        if (project_dir / name).exists():
            yield project_dir / name
    for folder in DBT_SOURCE_DIRS:
        root = project_dir / folder
        if root.is_dir():
            yield root
            yield from root.rglob("*")


def manifest_is_current(project: DbtProject) -> bool:
    """True when target/manifest.json exists and no dbt file or folder changed since it was written."""
    try:
        built = project.manifest_path.stat().st_mtime
    except FileNotFoundError:
        return False
    return all(path.stat().st_mtime <= built for path in dbt_sources(project.project_dir))


def prepare_manifest(project: DbtProject, force: bool = False) -> None:
    """Parse the dbt project when its manifest is missing or older than a dbt file or folder
    (or always, with ``force``: `make` has decided so).

    The dbt asset calls it before it reads the manifest, so every process that loads the
    definitions (`make`, `dagster dev`, a run's process, a test) builds its assets from a
    manifest of the dbt files as they are: a model added or renamed since the last parse is
    never missing from it. It stands in for dagster-dbt's ``prepare_if_dev``, which parses only
    under ``dagster dev``, and there on every load, in the code server and again in every
    run's process (each parse ~10 s). One process parses at a time (a lock beside the
    manifest); the others then find it current.

    dbt parses with the profile of a run's `dbt build` (the warehouse under its name in the
    first link slot), so the first build after it reuses this parse (the dbt asset starts from
    target/partial_parse.msgpack when it has none of its own): a full parse less, 2 CPU-s, in a
    fresh checkout's first run.
    """
    if manifest_is_current(project) and not force:
        return
    target = project.manifest_path.parent
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest_is_current(project) and not force:
            return
        env = {
            **os.environ,
            "DBT_PROFILES_DIR": str(project.profiles_dir),
            "BULLETIN_WAREHOUSE": str(stable_dbt_path_for(warehouse_path(), 0, project)),
        }
        env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        proc = subprocess.run(
            [dbt_executable(), "parse", "--quiet"],
            cwd=project.project_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        project.manifest_path.touch()


if __name__ == "__main__":
    # `make`'s manifest target: it parses when a dbt file is newer than the manifest.
    prepare_manifest(dbt_project, force=True)

"""The dbt project as Dagster sees it: one DbtProject, its manifest, and how dbt is called."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from .settings import DBT_PROJECT_DIR

# What a manifest is parsed from: when none of these is newer than target/manifest.json,
# the manifest is current and nobody parses again (the Makefile's manifest target agrees).
DBT_SOURCE_DIRS = ("models", "seeds", "macros", "tests", "snapshots", "analyses")
DBT_SOURCE_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")


def dbt_executable() -> str:
    """The venv's own dbt, beside this interpreter; else whatever is on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def dbt_source_files(project_dir: Path) -> Iterator[Path]:
    for name in DBT_SOURCE_FILES:
        if (project_dir / name).exists():
            yield project_dir / name
    for folder in DBT_SOURCE_DIRS:
        for path in (project_dir / folder).rglob("*"):
            if path.is_file():
                yield path


def manifest_is_current(project: DbtProject) -> bool:
    """True when target/manifest.json exists and no dbt file changed since it was written."""
    try:
        built = project.manifest_path.stat().st_mtime
    except FileNotFoundError:
        return False
    return all(path.stat().st_mtime <= built for path in dbt_source_files(project.project_dir))


def ensure_manifest(project: DbtProject) -> None:
    """Parse the dbt project only when its manifest is missing or older than a dbt file.

    Replaces dagster-dbt's ``prepare_if_dev``, which re-parses on every load under
    ``dagster dev``, in the code server and again in every run's process (each parse ~10 s).
    One process parses at a time (a lock beside the manifest); the others then find it current.
    """
    if manifest_is_current(project):
        return
    target = project.manifest_path.parent
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest_is_current(project):
            return
        env = {**os.environ, "DBT_PROFILES_DIR": str(project.profiles_dir)}
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


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# The manifest is parsed when a dbt file changed since the last parse, in whichever process
# loads the code first (`make`, `dagster dev`, a run, a test); everyone else reuses it.
ensure_manifest(dbt_project)


class BulletinDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without the two things it does before every dbt command that we don't need.

    - ``dbt --version`` (5-6 s: dbt also asks PyPI for the latest release) to learn the
      version of dbt it runs. The dbt it runs is this venv's, so the installed dbt-core
      package says the same without a process.
    - a dbt adapter opened in this process (~5 s: imports dbt, loads every macro), which
      dagster-dbt only uses for ``fetch_row_counts``/``fetch_column_metadata``. With DuckDB
      these cannot read while dbt writes; the dbt asset reads the warehouse itself after
      ``dbt build`` instead.

    Both override private parts of dagster-dbt (pinned in pyproject.toml);
    tests/test_orchestration.py fails if an upgrade stops calling them.
    """

    @cached_property
    def _cli_version(self) -> Version:
        if Path(os.path.abspath(self.dbt_executable)).parent == Path(os.path.abspath(sys.executable)).parent:
            return Version(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]):
        return None


def dbt_resource() -> DbtCliResource:
    return BulletinDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())


def dbt_vars(overrides: Mapping[str, object] | None = None) -> dict[str, object]:
    """dbt vars for a run: only those set, so dbt_project.yml keeps the defaults."""
    return {k: v for k, v in (overrides or {}).items() if v not in (None, "")}


def dbt_build_args(vars_: Mapping[str, object] | None = None) -> list[str]:
    """The arguments of the `dbt build` a materialization runs.

    --full-refresh reloads seeds whose columns changed (dbt would otherwise truncate and
    COPY into the old table); the project has no incremental models, so it costs nothing else.
    """
    args = ["build", "--full-refresh"]
    if vars_:
        args += ["--vars", json.dumps(dict(vars_), ensure_ascii=False, sort_keys=True)]
    return args


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@contextlib.contextmanager
def stable_dbt_path(live: Path, working_copy: Path) -> Iterator[Path]:
    """The run's working copy under a name that is the same every run: ``.<warehouse>.dbt``.

    dbt re-parses the whole project (~10 s) when its profile changes, and the profile holds
    the DuckDB path; the working copy is named by run, so dbt gets this symlink instead, and
    every run after the first reuses the parse. Made and removed under the warehouse lock
    (the caller holds it). DuckDB resolves the link: the file it locks, the catalog name and
    the write-ahead log are the working copy's own (tests/test_orchestration.py checks this).
    """
    link = live.with_name(f".{live.name}.dbt")
    _remove(link)
    os.symlink(working_copy.name, link)
    try:
        yield link
    finally:
        _remove(link)


# dbt target folders (for their logs and run_results.json) and cached parses kept: the newest.
KEEP_TARGET_FOLDERS = 20


@contextlib.contextmanager
def dbt_target_path(context, dbt_path: Path, args: Sequence[str]) -> Iterator[Path]:
    """A fresh target folder for one dbt command, seeded with the partial parse of the last
    command that ran with the same profile and vars, and saving its own for the next one.

    dagster-dbt would seed it with target/partial_parse.msgpack, written by whichever
    `dbt parse` ran last, with whatever profile it had: usually not the run's, so dbt
    re-parsed everything. The cache is keyed by what dbt checks (warehouse path, vars).
    """
    target_root = dbt_project.project_dir / dbt_project.target_path
    key = hashlib.sha1(json.dumps([str(dbt_path), list(args)]).encode()).hexdigest()[:16]
    cached = target_root / "partial_parse" / f"{key}.msgpack"
    target = target_root / f"{context.op.name}-{context.run_id[:8]}-{uuid.uuid4().hex[:7]}"
    target.mkdir(parents=True)
    if cached.exists():
        shutil.copyfile(cached, target / "partial_parse.msgpack")
    try:
        yield target
    finally:
        written = target / "partial_parse.msgpack"
        if written.exists():
            cached.parent.mkdir(exist_ok=True)
            tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
            shutil.copyfile(written, tmp)
            os.replace(tmp, cached)
        _prune(target_root.glob(f"{context.op.name}-*"))
        _prune(cached.parent.glob("*.msgpack"))


def _prune(paths: Iterator[Path], keep: int = KEEP_TARGET_FOLDERS) -> None:
    """Remove all but the ``keep`` newest of ``paths`` (tests make a warehouse, and so a
    target folder and a cached parse, per run)."""
    by_age = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            by_age.append((path.stat().st_mtime, path))
    for _, old in sorted(by_age, reverse=True)[keep:]:
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            _remove(old)


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

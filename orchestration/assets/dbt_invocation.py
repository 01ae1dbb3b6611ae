"""How the dbt asset calls dbt: its arguments, its environment, the name it gives the run's
working copy, its target folder and the partial parse it starts from, and the dbt resource.

The arguments and names are small pure functions; the two context managers make and remove
the files a dbt command needs (a link, a target folder) around it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import itertools
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliInvocation, DbtCliResource
from filelock import FileLock, Timeout
from packaging.version import Version

from ..project import (
    DBT_EXECUTABLE_SETTING,
    dbt_executable,
    dbt_link_slots,
    dbt_project,
    dbt_target_root,
    stable_dbt_path_for,
)

# dbt target folders (for their logs and run_results.json) and cached parses kept: the newest.
KEEP_TARGET_FOLDERS = 20


# --- the command ---------------------------------------------------------------------------


def dbt_vars(overrides: Mapping[str, object] | None = None) -> dict[str, object]:
    """dbt vars for a run: only those set, so dbt_project.yml keeps the defaults."""
    return {k: v for k, v in (overrides or {}).items() if v not in (None, "")}


def dbt_build_args(vars_: Mapping[str, object] | None = None) -> list[str]:
    """The arguments of the `dbt build` a materialization runs.

    No --full-refresh: the models over the observations are incremental and process only the
    downloads added, changed or removed since the last build (dbt_project/macros/
    incremental_downloads.sql). Seeds are loaded anew every build all the same (`+full_refresh:
    true` on seeds in dbt_project.yml), so a seed whose columns changed is created again. A full
    rebuild is `make rebuild` (a new warehouse from raw/) or `make dbt-build` (--full-refresh).
    dbt's unit tests check the models' SQL on fixed inputs, not the data: they run where the
    SQL changes (`make test-fast`, `make dbt-test`, CI), not in every refresh, as dbt advises
    ("exclude unit tests from production builds").
    """
    args = ["build", "--exclude-resource-type", "unit_test"]
    if vars_:
        args += ["--vars", json.dumps(dict(vars_), ensure_ascii=False, sort_keys=True)]
    return args


def dbt_env(dbt_path: Path) -> dict[str, str]:
    """What dbt's profile (dbt_project/profiles.yml) reads the warehouse from: the run's copy."""
    return {"BULLETIN_WAREHOUSE": str(dbt_path)}


def target_folder_name(step: str, run_id: str, unique: str) -> str:
    """A dbt command's own target folder: by step and run, as dagster-dbt names them."""
    return f"{step}-{run_id[:8]}-{unique}"


def partial_parse_key(dbt_path: Path, args: Sequence[str]) -> str:
    """What dbt checks before it reuses a parse: the profile (the warehouse's path) and the vars."""
    return hashlib.sha1(json.dumps([str(dbt_path), list(args)]).encode()).hexdigest()[:16]


# --- the files around it -------------------------------------------------------------------


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@contextlib.contextmanager
def stable_dbt_path(live: Path, working_copy: Path) -> Iterator[Path]:
    """The run's working copy under a name that is the same every run: a link in a slot.

    dbt re-parses the whole project (seconds) when its profile changes, and the profile holds
    the DuckDB path; the working copy is named by run, so dbt gets this symlink instead, and
    every run after the first reuses the parse, whichever warehouse it builds. A slot is held
    (a file lock) from the link's making to its removal, so two runs at once, on two
    warehouses, take two slots. DuckDB resolves the link: the file it locks, the catalog name
    and the write-ahead log are the working copy's own (tests/test_orchestration.py checks this).
    """
    slots = dbt_link_slots()
    slots.mkdir(parents=True, exist_ok=True)
    for slot in itertools.count():
        lock = FileLock(slots / f"{slot}.lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            continue
        try:
            link = stable_dbt_path_for(live, slot)
            link.parent.mkdir(exist_ok=True)
            _remove(link)
            os.symlink(working_copy.resolve(), link)
            try:
                yield link
            finally:
                _remove(link)
        finally:
            lock.release()
        return


@contextlib.contextmanager
def dbt_target_path(step: str, run_id: str, dbt_path: Path, args: Sequence[str]) -> Iterator[Path]:
    """A fresh target folder for one dbt command, seeded with the partial parse of the last
    command that ran with the same profile and vars, and saving its own for the next one.

    dagster-dbt would seed it with target/partial_parse.msgpack, written by whichever
    `dbt parse` ran last, with whatever profile it had: often not the run's, so dbt re-parsed
    everything. The cache is keyed by what dbt checks (warehouse path, vars); before the first
    command of a profile and vars has saved one, it starts from target/partial_parse.msgpack,
    which prepare_manifest parses with the profile of the first link slot.
    """
    target_root = dbt_target_root(dbt_project)
    cached = target_root / "partial_parse" / f"{partial_parse_key(dbt_path, args)}.msgpack"
    target = target_root / target_folder_name(step, run_id, uuid.uuid4().hex[:7])
    target.mkdir(parents=True)
    if cached.exists():
        shutil.copyfile(cached, target / "partial_parse.msgpack")
    elif (target_root / "partial_parse.msgpack").exists():
        # none yet for this profile and vars: the parse prepare_manifest made, with the profile of
        # the first link slot (dbt reuses it only if its profile and vars are the run's)
        shutil.copyfile(target_root / "partial_parse.msgpack", target / "partial_parse.msgpack")
    try:
        yield target
    finally:
        written = target / "partial_parse.msgpack"
        if written.exists():
            cached.parent.mkdir(exist_ok=True)
            tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
            shutil.copyfile(written, tmp)
            os.replace(tmp, cached)
        _prune(target_root.glob(f"{step}-*"))
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


# --- the resource --------------------------------------------------------------------------


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class BulletinDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, with an environment for the dbt command, and without the two
    things it does before every dbt command that we don't need.

    - ``dbt --version`` (5-6 s: dbt also asks PyPI for the latest release) to learn the
      version of dbt it runs. The dbt it runs is this venv's (the one beside this interpreter,
      or the one ``BULLETIN_DBT_EXECUTABLE`` names: the tests' dbt fork server runs this venv's
      dbt), so the installed dbt-core package says the same without a process.
    - a dbt adapter opened in this process (~5 s: imports dbt, loads every macro), which
      dagster-dbt only uses for ``fetch_row_counts``/``fetch_column_metadata``. With DuckDB
      these cannot read while dbt writes; the dbt asset reads the warehouse itself after
      ``dbt build`` instead.

    Both override private parts of dagster-dbt (pinned in pyproject.toml): it has no public
    setting for either (dagster-dbt 0.29: ``DbtCliResource.cli`` always asks the executable
    for its version and always opens an adapter for dbt-core). Drop them when it gets one;
    until then tests/test_orchestration.py fails if an upgrade stops calling them.
    """

    @cached_property
    def _cli_version(self) -> Version:
        beside = Path(os.path.abspath(self.dbt_executable)).parent == Path(os.path.abspath(sys.executable)).parent
        if beside or self.dbt_executable == os.environ.get(DBT_EXECUTABLE_SETTING):
            return Version(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]):
        return None

    def cli(self, args: Sequence[str], *, env: Mapping[str, str] | None = None, **kwargs) -> DbtCliInvocation:
        """``DbtCliResource.cli``, the dbt process started with ``env`` on top of this one's.

        dagster-dbt (0.29) has no argument for it: ``cli`` gives dbt a copy of ``os.environ``
        taken when it starts the process, which it does before it returns. So ``env`` is in
        ``os.environ`` for the duration of this call only (steps run one at a time, in one
        thread), and this process's environment is as it was once dbt has started.
        """
        if not env:
            return super().cli(args, **kwargs)
        with _environment(env):
            return super().cli(args, **kwargs)


def dbt_resource() -> BulletinDbtCliResource:
    return BulletinDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())

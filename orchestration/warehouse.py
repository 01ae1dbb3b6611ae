"""The warehouse, written so that a failed run changes nothing.

A run never writes the live DuckDB file. Its first writing step copies the live file to a
working copy beside it (``.<name>.run-<run id>``) under an exclusive lock; every writing step
of the run works on that copy; the last one (or the publish asset, which runs last) swaps it
in with one ``os.replace``. A step that fails, a check that fails (dbt tests run inside the
dbt step) or a killed process leaves the live file as it was; the orphaned copy is removed by
the next run.

The lock (``flock`` on ``<warehouse>.lock``) is held from the first writing step to the swap,
so two runs, whoever starts them, never write at once: the second waits (up to
``BULLETIN_LOCK_TIMEOUT`` seconds, default 1800) and then fails with a message naming the
holder. The kernel drops the lock when the holding process ends, killed or not.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

# Steps of the run that write the warehouse: the working copy is swapped in after the last one.
# Locks are held per process (one run a process with the in-process executor).
_held_locks: dict[str, int] = {}


class WarehouseLockTimeout(RuntimeError):
    pass


# DuckDB's memory for a run's steps: its buffer manager spills to disk beyond this, so a run's
# memory stays under 2 GB whatever the input (dbt's profile sets the same limit).
MEMORY = {"memory_limit": "1500MB"}

# The one command that builds a damaged warehouse again (every download is in raw/).
REBUILD_COMMAND = "make rebuild"


class WarehouseDamaged(RuntimeError):
    """The live warehouse file cannot be opened."""


def check_opens(live: Path) -> None:
    """Open the live warehouse once (under the lock), or say it is damaged and how to rebuild it.

    Opening it also replays a write-ahead log (``<file>.wal``) that a killed DuckDB process
    left beside it, so a copy of the file holds everything that was committed.
    """
    if not live.exists():
        return
    try:
        duckdb.connect(str(live)).close()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseDamaged(
            f"the warehouse {live} cannot be opened ({first}): it is damaged. Nothing is lost: "
            f"every download is in the raw folder; `{REBUILD_COMMAND}` puts the damaged file aside "
            "and builds the warehouse again from them"
        ) from exc


def working_copy_from(live: Path, copy: Path) -> None:
    """``copy`` made from the live warehouse (an empty database when there is none), atomically."""
    check_opens(live)
    tmp = copy.with_name(copy.name + ".tmp")
    if live.exists():
        shutil.copyfile(live, tmp)
    else:
        live.parent.mkdir(parents=True, exist_ok=True)
        duckdb.connect(str(tmp)).close()
    os.replace(tmp, copy)


def remove_with_wal(path: Path) -> None:
    """A DuckDB file and the write-ahead log beside it, if any."""
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def working_copy_path(warehouse: Path, run_id: str) -> Path:
    return warehouse.with_name(f".{warehouse.name}.run-{run_id}")


def acquire_lock(warehouse: Path, holder: str, timeout: float | None = None) -> int:
    """An exclusive lock on the warehouse, held until :func:`release_lock` or the process ends."""
    key = str(warehouse)
    if key in _held_locks:
        return _held_locks[key]
    timeout = float(os.environ.get("BULLETIN_LOCK_TIMEOUT", "1800")) if timeout is None else timeout
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                other = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
                os.close(fd)
                raise WarehouseLockTimeout(
                    f"the warehouse {warehouse} is being written by another run ({other or 'unknown'}); "
                    f"waited {timeout:.0f}s. Let it finish, then run again."
                ) from None
            time.sleep(0.5)
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"holder": holder, "pid": os.getpid()}).encode(), 0)
    _held_locks[key] = fd
    return fd


def release_lock(warehouse: Path) -> None:
    fd = _held_locks.pop(str(warehouse), None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def locked(warehouse: Path, holder: str, timeout: float | None = None) -> Iterator[None]:
    """The lock for a block of code (outside Dagster: tools, benchmarks, `make dbt-build`)."""
    already = str(warehouse) in _held_locks
    acquire_lock(warehouse, holder, timeout)
    try:
        yield
    finally:
        if not already:
            release_lock(warehouse)


def _remove_orphans(warehouse: Path, keep: Path) -> None:
    for orphan in warehouse.parent.glob(f".{warehouse.name}.run-*"):
        if orphan != keep and not orphan.name.endswith(".wal"):
            remove_with_wal(orphan)


def _planned_steps(context: dg.AssetExecutionContext) -> list[str]:
    run = context.run
    snapshot = context.instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    return list(snapshot.step_keys_to_execute)


def _finished_steps(context: dg.AssetExecutionContext) -> set[str]:
    records = context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
    return {r.step_key for r in records if r.step_key}


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse, seen through the current run's working copy."""

    path: str
    # Step keys (op names) of the assets that write the warehouse or publish from it.
    writing_steps: list[str] = []

    @property
    def live(self) -> Path:
        return Path(self.path)

    def working_copy(self, context: dg.AssetExecutionContext) -> Path:
        """This run's copy of the warehouse, made (under the lock) on first use."""
        live = self.live
        copy = working_copy_path(live, context.run_id)
        if str(live) not in _held_locks:
            acquire_lock(live, f"run {context.run_id}")
        if not copy.exists():
            _remove_orphans(live, keep=copy)
            try:
                working_copy_from(live, copy)
            except WarehouseDamaged as exc:
                release_lock(live)
                raise dg.Failure(description=str(exc), allow_retries=False) from exc
        return copy

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """At the run's end: a working copy still there was never swapped in (a step failed, or
        a check stopped the run): remove it and let the lock go, so a failed run leaves the
        warehouse folder exactly as it found it."""
        run = context.dagster_run
        if run is None:
            return
        live = self.live
        copy = working_copy_path(live, run.run_id)
        if copy.exists():
            remove_with_wal(copy)
            copy.with_name(copy.name + ".tmp").unlink(missing_ok=True)
        release_lock(live)

    @contextlib.contextmanager
    def connect(self, context: dg.AssetExecutionContext, read_only: bool = False):
        con = duckdb.connect(str(self.working_copy(context)), read_only=read_only, config=MEMORY)
        try:
            yield con
        finally:
            con.close()

    def finish_step(self, context: dg.AssetExecutionContext) -> bool:
        """After a writing step succeeded: swap the working copy in if no writing step is left.

        Returns True when this call made the run's changes live.
        """
        planned = [s for s in _planned_steps(context) if s in self.writing_steps]
        done = _finished_steps(context) | {context.op.name}
        remaining = [s for s in planned if s not in done]
        if remaining:
            return False
        self.commit(context)
        return True

    def commit(self, context: dg.AssetExecutionContext) -> None:
        """Make this run's working copy the live warehouse (one rename) and release the lock."""
        live = self.live
        copy = working_copy_path(live, context.run_id)
        if copy.exists():
            with open(copy, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(copy, live)
            context.log.info(f"warehouse updated: {live}")
        release_lock(live)

"""The warehouse, written so that a failed run changes nothing.

A run never writes the live DuckDB file. Which steps write is declared once, on their asset
(``op_tags=WRITES_WAREHOUSE``); such a step writes inside a block::

    with warehouse.writing(context) as con:   # dbt, from its own process: writing_file()
        ...

The run's first block copies the live file to a working copy beside it
(``.<name>.run-<run id>``) under an exclusive lock; every block of the run works on that
copy, and a block that ends without an error has committed its work to it. The copy replaces
the live file with one ``os.replace``, once, after the run's last writing step: the publish
asset, which runs after every other writing step, swaps it in before it switches the
published files (:meth:`Warehouse.commit`); a run that publishes nothing has it swapped in at
its end (:meth:`Warehouse.teardown_after_execution`), when none of its steps failed
(:func:`watch_failures` records a failed step) and the run was not cancelled. A step that fails,
a check that fails (dbt tests run inside the dbt step) or a cancelled run leaves the live file
as it was, and the run's copy is removed at its end; a killed process's copy is removed by the
next run.

The lock (``filelock``'s native ``flock`` on ``<warehouse>.lock``) is held from the first writing step to the swap,
so two runs, whoever starts them, never write at once: the second waits (up to
``BULLETIN_LOCK_TIMEOUT`` seconds, default 1800) and then fails with a message naming the
holder. The kernel drops the lock when the holding process ends, killed or not.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import duckdb
import filelock

# The op tag that declares a step writes the warehouse: ``@dg.asset(op_tags=WRITES_WAREHOUSE)``.
WRITES_WAREHOUSE_TAG = "bulletin/writes-warehouse"
WRITES_WAREHOUSE = {WRITES_WAREHOUSE_TAG: "true"}

# Locks are held per process (one run a process with the in-process executor).
_held_locks: dict[str, filelock.FileLock] = {}
# Runs of this process in which a writing step failed: their working copy is never swapped in.
_failed_runs: set[str] = set()


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


def _note_holder(holder: str) -> Callable[[int], None]:
    """What a waiting run reads in the lock file: who holds the lock (written once it is taken)."""

    def note(fd: int) -> None:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"holder": holder, "pid": os.getpid()}).encode(), 0)

    return note


def acquire_lock(warehouse: Path, holder: str, timeout: float | None = None) -> None:
    """An exclusive lock on the warehouse, held until :func:`release_lock` or the process ends.

    ``filelock``'s native lock (``flock`` on ``<warehouse>.lock``) tries every half second until
    ``timeout`` (``BULLETIN_LOCK_TIMEOUT``, default 1800 s; 0 tries once); the file stays in place,
    and the holder's name is written into it once the lock is taken."""
    key = str(warehouse)
    if key in _held_locks:
        return
    timeout = float(os.environ.get("BULLETIN_LOCK_TIMEOUT", "1800")) if timeout is None else timeout
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(
        path,
        thread_local=False,  # held by the process: a run's steps and its teardown share it
        poll_interval=0.5,
        preserve_lock_file=True,  # never a soft lock: the kernel drops it when the process dies
        on_acquired=_note_holder(holder),
    )
    try:
        lock.acquire(timeout=max(timeout, 0.0))
    except filelock.Timeout:
        other = path.read_text(encoding="utf-8", errors="replace").strip() if path.exists() else ""
        raise WarehouseLockTimeout(
            f"the warehouse {warehouse} is being written by another run ({other or 'unknown'}); "
            f"waited {timeout:.0f}s. Let it finish, then run again."
        ) from None
    _held_locks[key] = lock


def release_lock(warehouse: Path) -> None:
    lock = _held_locks.pop(str(warehouse), None)
    if lock is not None:
        lock.release(force=True)


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


def discard(copy: Path) -> None:
    """A working copy that will never be swapped in, with its write-ahead log and temporary file."""
    remove_with_wal(copy)
    copy.with_name(copy.name + ".tmp").unlink(missing_ok=True)


def swap_in(copy: Path, live: Path) -> None:
    """The working copy becomes the live warehouse, in one rename (flushed to disk first)."""
    with open(copy, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(copy, live)


def writes_warehouse(asset: dg.AssetsDefinition) -> bool:
    """Whether the asset's step declares that it writes the warehouse (``op_tags=WRITES_WAREHOUSE``)."""
    return asset.op.tags.get(WRITES_WAREHOUSE_TAG) == "true"


@dg.failure_hook
def record_failed_step(context: dg.HookContext) -> None:
    """A step of the run failed (in a writing block, after it in Dagster's own handling of its
    output, or in a step that does not write): nothing the run wrote is made live."""
    _failed_runs.add(context.run_id)  # HookContext.run_id: public, not deprecated


def watch_failures(assets: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The assets, each with the hook that records a failure of its step."""
    return [a.with_hooks({record_failed_step}) for a in assets]


def _require_declared(context: dg.AssetExecutionContext) -> None:
    op = context.op_def
    if op.tags.get(WRITES_WAREHOUSE_TAG) != "true":
        raise dg.DagsterInvariantViolationError(
            f"{op.name} writes the warehouse but its asset does not say so: "
            "declare it with op_tags=WRITES_WAREHOUSE (orchestration/warehouse.py)"
        )


def _still_running(context: dg.InitResourceContext, run: dg.DagsterRun) -> bool:
    """False when the run is being cancelled (its steps may have been stopped halfway)."""
    record = context.instance.get_run_by_id(run.run_id) if context.instance is not None else None
    return record is not None and record.status == dg.DagsterRunStatus.STARTED


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse, seen through the current run's working copy."""

    path: str

    @property
    def live(self) -> Path:
        return Path(self.path)

    def working_copy(self, context: dg.AssetExecutionContext) -> Path:
        """This run's copy of the warehouse, made (under the lock) on first use."""
        live = self.live
        run_id = context.run.run_id
        copy = working_copy_path(live, run_id)
        if str(live) not in _held_locks:
            acquire_lock(live, f"run {run_id}")
        if not copy.exists():
            _remove_orphans(live, keep=copy)
            try:
                working_copy_from(live, copy)
            except WarehouseDamaged as exc:
                release_lock(live)
                raise dg.Failure(description=str(exc), allow_retries=False) from exc
        return copy

    @contextlib.contextmanager
    def writing(
        self, context: dg.AssetExecutionContext, read_only: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the run's working copy for a step that writes (its asset declares
        ``op_tags=WRITES_WAREHOUSE``). When the block ends without an error, the step's work is
        committed to the working copy (the connection is closed: DuckDB checkpoints); when it
        raises, the run's working copy will not be swapped in."""
        with self.writing_file(context) as copy:
            con = duckdb.connect(str(copy), read_only=read_only, config=MEMORY)
            try:
                yield con
            finally:
                con.close()

    @contextlib.contextmanager
    def writing_file(self, context: dg.AssetExecutionContext) -> Iterator[Path]:
        """:meth:`writing` for a writer in another process (dbt): the working copy's path, and no
        connection open in this one (DuckDB lets one process write a file)."""
        _require_declared(context)
        copy = self.working_copy(context)
        try:
            yield copy
        except BaseException:
            _failed_runs.add(context.run.run_id)
            raise

    @contextlib.contextmanager
    def connect(self, context: dg.AssetExecutionContext, read_only: bool = False):
        """A connection to the run's working copy, for reading what the run wrote."""
        con = duckdb.connect(str(self.working_copy(context)), read_only=read_only, config=MEMORY)
        try:
            yield con
        finally:
            con.close()

    def commit(self, context: dg.AssetExecutionContext) -> None:
        """Make this run's working copy the live warehouse (one rename) and release the lock.

        Called by the publish asset, the run's last writing step, before it switches the
        published files; a run that publishes nothing is committed at its end instead."""
        _require_declared(context)
        run_id = context.run.run_id
        if run_id in _failed_runs:
            raise dg.Failure(description="a step of this run failed: nothing it wrote is made live")
        live = self.live
        copy = working_copy_path(live, run_id)
        if copy.exists():
            swap_in(copy, live)
            context.log.info(f"warehouse updated: {live}")
        release_lock(live)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """At the run's end. A working copy still there was not swapped in by the publish asset:
        if every step succeeded and the run was not cancelled (a run that publishes
        nothing, e.g. of the ingestion assets alone), it is swapped in now; otherwise (a step
        failed, a check stopped the run) it is removed, so a failed run leaves the warehouse
        folder exactly as it found it. The lock is let go either way."""
        run = context.run
        if run is None:
            return
        live = self.live
        copy = working_copy_path(live, run.run_id)
        try:
            if copy.exists():
                if run.run_id not in _failed_runs and _still_running(context, run):
                    swap_in(copy, live)
                    context.log.info(f"warehouse updated: {live}")
                else:
                    discard(copy)
        finally:
            _failed_runs.discard(run.run_id)
            release_lock(live)

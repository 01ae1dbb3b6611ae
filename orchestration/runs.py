"""Runs whose process died: marked failed, so the one-at-a-time queue moves on.

A run killed with ``kill -9`` (or by the out-of-memory killer) cannot record its own end: it
stays STARTED in the Dagster instance, and with one run at a time (``dagster.yaml``) every
later run from the UI, the schedule or the sensor waits behind it for ever. Dagster's run
monitoring cannot see it either: the default run launcher offers no health check of its run
workers. So :func:`fail_dead_runs` looks for itself, on this machine: a run in progress whose
process (``bulletin/pid`` tag of ``make run``'s runs, else the pid the run worker announced in
its first engine event) no longer exists is reported failed. It is called when ``make run``
starts and on every tick of the new-download sensor (once a minute while the daemon runs).
The warehouse lock of a dead process is released by the kernel, and its working copy is
removed by the next run (``warehouse.py``).
"""

from __future__ import annotations

import os
import socket

import dagster as dg

PID_TAG = "bulletin/pid"
HOST_TAG = "bulletin/host"
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def process_tags() -> dict[str, str]:
    """Tags that let a later run tell whether this process still runs."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_pid(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int | None:
    """The pid of the process that runs ``run``, if this machine can know it."""
    if run.tags.get(HOST_TAG) not in (None, socket.gethostname()):
        return None  # another machine's run: not ours to judge
    if PID_TAG in run.tags:
        return int(run.tags[PID_TAG])
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=5
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        metadata = event.event_specific_data.metadata if event and event.event_specific_data else {}
        pid = metadata.get("pid") if metadata else None
        if pid is not None:
            return int(pid.value)
    return None


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every run in progress whose process has died; the run ids marked."""
    marked = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        pid = _run_pid(instance, run)
        if pid is None or _alive(pid):
            continue
        instance.report_run_failed(
            run,
            message=f"the run's process (pid {pid}) is gone: it was killed or crashed; "
            "marked failed so that later runs can start. Nothing it wrote was made live.",
        )
        marked.append(run.run_id)
    return marked

"""`python -m orchestration.cli run`: the whole refresh from the shell (what `make run` calls).

Runs the refresh job in this process, recorded in the Dagster instance (so the run shows in
the UI), and on failure prints what went wrong, in plain words, as its last lines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import uuid

import dagster as dg


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """One line a failed step: the step and the error's own message, no stack trace."""
    messages = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data
        text = None
        if data.user_failure_data is not None and data.user_failure_data.description:
            text = data.user_failure_data.description
        elif data.error is not None:
            error = data.error
            while error.cause is not None and error.cls_name in ("DagsterExecutionStepExecutionError",):
                error = error.cause
            text = error.message.strip()
        messages.append(f"{event.step_key}: {text}")
    return messages


def unmapped_notes(result: dg.ExecuteInProcessResult) -> list[str]:
    """One note a partner name no seed maps, from the publication's metadata (its manifest)."""
    from .publish.unmapped import note_line

    lines = []
    for materialization in result.asset_materializations_for_node("published_bulletin"):
        names = materialization.metadata.get("unmapped_names")
        lines += [note_line(entry) for entry in (getattr(names, "value", names) or [])]
    return lines


def run() -> int:
    from .definitions import defs
    from .runs import fail_dead_runs, process_tags

    job = defs.resolve_job_def("refresh_bulletin")
    with dg.DagsterInstance.get() as instance:
        for run_id in fail_dead_runs(instance):
            print(f"run {run_id} had died (its process is gone): marked failed.")
        result = job.execute_in_process(instance=instance, raise_on_error=False, tags=process_tags())
    if result.success:
        print(f"refresh_bulletin succeeded (run {result.run_id}).")
        for line in unmapped_notes(result):
            print(line)
        return 0
    print("\nrefresh_bulletin FAILED; nothing after the failed step was built.", file=sys.stderr)
    for line in failure_messages(result) or ["the run failed; see the Dagster UI for its log"]:
        print(f"  {line}", file=sys.stderr)
    return 1


def dbt(args: list[str]) -> int:
    """dbt on its own (`make dbt-build`, `make dbt-test`), under the warehouse lock as every run.

    ``dbt build`` (or run, seed, snapshot) works on a copy of the warehouse that replaces the
    live file only when dbt succeeded; every other command (``dbt test``, ``dbt ls`` …) works on
    a copy that is thrown away. Either way a killed dbt leaves the live file as it was.
    """
    from .project import dbt_executable
    from .settings import DBT_PROJECT_DIR, warehouse_path
    from .warehouse import WarehouseDamaged, locked, remove_with_wal, working_copy_from

    live = warehouse_path()
    writes = bool(args) and args[0] in ("build", "run", "seed", "snapshot")
    copy = live.with_name(f".{live.name}.run-dbt-{uuid.uuid4().hex[:12]}")
    with locked(live, f"dbt {' '.join(args)} (pid {os.getpid()})"):
        try:
            working_copy_from(live, copy)
        except WarehouseDamaged as exc:
            print(f"dbt {' '.join(args)}: {exc}", file=sys.stderr)
            return 1
        try:
            env = {**os.environ, "BULLETIN_WAREHOUSE": str(copy), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
            code = subprocess.run([dbt_executable(), *args], cwd=DBT_PROJECT_DIR, env=env).returncode
            if code == 0 and writes:
                os.replace(copy, live)
                print(f"warehouse updated: {live}")
            elif writes:
                print(f"dbt failed: the warehouse {live} is as it was.", file=sys.stderr)
            return code
        finally:
            remove_with_wal(copy)


def rebuild() -> int:
    """Put the live warehouse aside (never deleted) and build it again from every download."""
    from .settings import warehouse_path
    from .warehouse import locked

    live = warehouse_path()
    with locked(live, f"rebuild (pid {os.getpid()})"):
        if live.exists():
            stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
            aside = live.with_name(f"{live.name}.damaged-{stamp}")
            os.replace(live, aside)
            wal = live.with_name(live.name + ".wal")
            if wal.exists():
                os.replace(wal, aside.with_name(aside.name + ".wal"))
            print(f"the warehouse was put aside as {aside}; building it again from the raw folder.")
    return run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="ingest, build and publish everything")
    commands.add_parser(
        "rebuild", help="put the warehouse aside and build it again from every download in the raw folder"
    )
    dbt_parser = commands.add_parser("dbt", help="dbt on its own, under the warehouse lock (e.g. dbt build)")
    dbt_parser.add_argument("dbt_args", nargs=argparse.REMAINDER, help="dbt's own arguments")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run()
    if args.command == "rebuild":
        return rebuild()
    if args.command == "dbt":
        return dbt(args.dbt_args)
    return 2


if __name__ == "__main__":
    sys.exit(main())

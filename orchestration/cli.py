"""`python -m orchestration.cli run`: the whole refresh from the shell (what `make run` calls).

Runs the refresh job in this process, recorded in the Dagster instance (so the run shows in
the UI), and on failure prints what went wrong, in plain words, as its last lines.
"""

from __future__ import annotations

import argparse
import sys

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


def run() -> int:
    from .definitions import defs

    job = defs.resolve_job_def("refresh_bulletin")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    if result.success:
        print(f"refresh_bulletin succeeded (run {result.run_id}).")
        return 0
    print("\nrefresh_bulletin FAILED; nothing after the failed step was built.", file=sys.stderr)
    for line in failure_messages(result) or ["the run failed; see the Dagster UI for its log"]:
        print(f"  {line}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.cli")
    parser.add_argument("command", choices=["run"], help="run: ingest, build and publish everything")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run()
    return 2


if __name__ == "__main__":
    sys.exit(main())

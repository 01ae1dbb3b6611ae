"""`python -m orchestration.cli run`: the whole refresh from the shell (what `make run` calls).

Runs the refresh job in this process, recorded in the Dagster instance (so the run shows in
the UI), and on failure prints what went wrong, in plain words, as its last lines.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import subprocess
import sys
import time
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


def checks_not_passed(result: dg.ExecuteInProcessResult, descriptions: dict) -> list[str]:
    """One line an asset check of the run that warned or failed, with what it checks."""
    from .run_log import check_line

    lines = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            continue
        key = evaluation.asset_check_key
        lines.append(
            check_line(
                evaluation.asset_key.to_user_string(),
                evaluation.check_name,
                evaluation.severity.value,
                evaluation.description,
                descriptions.get(key),
                evaluation.metadata,
            )
        )
    return lines


def publication_summary(result: dg.ExecuteInProcessResult) -> list[str]:
    """Where the run published, from the publish asset's metadata."""
    from .publish.layout import MANIFEST
    from .run_log import publication_lines

    lines = []
    for materialization in result.asset_materializations_for_node("published_bulletin"):
        lines += publication_lines(materialization.metadata, MANIFEST)
    return lines


# --- the options ---------------------------------------------------------------------------


def run_options(args: argparse.Namespace) -> dict[str, object]:
    """The run parameters the command line sets, as the dbt asset's run config names them
    (``DbtRunConfig``: the fields the UI's launchpad shows); an option not given is left out,
    so its setting comes from where it does without the command line (BULLETIN_HS_CODE,
    dbt_project.yml's vars)."""
    from .exhibit_sources import source_choices

    given = {"hs_code": args.hs_code, "as_of_date": args.as_of, "first_year": args.first_year}
    given.update({var: getattr(args, var, None) for var in source_choices()})
    return {name: value for name, value in given.items() if value is not None}


def run_config(options: dict[str, object], verbose: bool, dbt_op: str) -> dict[str, object]:
    """The run config of a run from the command line: the dbt asset's (``dbt_op``) config, and
    Dagster's console logger (every event with ``--verbose``, else the lines of run_log.py)."""
    from .run_log import console_config

    config: dict[str, object] = dict(console_config(verbose))
    if options:
        config["ops"] = {dbt_op: {"config": dict(options)}}
    return config


def _hs_code(value: str) -> str:
    from .settings import check_hs_code

    try:
        return check_hs_code(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from None


def _year(value: str) -> int:
    if not value.isdigit() or len(value) != 4:
        raise argparse.ArgumentTypeError(f"{value!r} is not a year (e.g. 2017)")
    return int(value)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options of a run: each a field of the dbt asset's run config (see run_options)."""
    from .settings import DEFAULT_HS_CODE

    parser.add_argument(
        "--hs-code",
        type=_hs_code,
        metavar="CODE",
        help=f"the product, six digits (default: BULLETIN_HS_CODE, else {DEFAULT_HS_CODE}, servers); "
        "a product other than the default is published into <publish dir>/CODE/",
    )
    parser.add_argument(
        "--as-of",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the vintage cut-off: only downloads dated on or before this day count "
        "(default: dbt_project.yml's as_of_date, no limit)",
    )
    parser.add_argument(
        "--first-year",
        type=_year,
        metavar="YYYY",
        help="the first year of the bulletin's annual columns (default: dbt_project.yml's first_year)",
    )
    from .exhibit_sources import source_choices

    for choice in source_choices().values():

        def _source(value: str, choice=choice) -> str:
            try:
                return choice.check(value, choice.option)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None

        parser.add_argument(
            choice.option,
            dest=choice.var,
            type=_source,
            metavar="|".join(choice.choices),
            help=f"{'/'.join(choice.numbers)}'s source: {' or '.join(choice.choices)} "
            f"(default: {choice.env}, else {choice.default})",
        )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="print Dagster's whole event log and every line of dbt's (without it: a line a step, "
        "dbt's progress and the summary; the whole log is in the Dagster UI either way)",
    )


# --- the commands --------------------------------------------------------------------------


def fetch_outcomes(result: dg.ExecuteInProcessResult, nodes: dict[str, str]) -> list[tuple[str, bool, str]]:
    """What each fetch did, a line a source: (source, ok, text), from the run's events: the folder it
    wrote, "not released yet" (an observation), or the failure's message."""
    from .run_log import plain

    outcomes = []
    failures = dict(line.split(": ", 1) for line in failure_messages(result))
    for source, node in nodes.items():
        written = result.asset_materializations_for_node(node)
        observed = [
            e.asset_observation_data.asset_observation
            for e in result.events_for_node(node)
            if e.event_type_value == "ASSET_OBSERVATION"
        ]
        if written:
            meta = {k: plain(v) for k, v in written[-1].metadata.items()}
            text = (
                f"wrote {meta['folder']} ({len(meta['files'])} files, {meta['first_period']}..{meta['latest_period']}, "
                f"{meta['requests']} requests{', with a key' if meta['with_key'] else ''})"
            )
            outcomes.append((source, True, text))
        elif observed:
            outcomes.append((source, True, plain(observed[-1].metadata["message"])))
        else:
            outcomes.append((source, False, failures.get(node, "failed; see the Dagster UI for its log")))
    return outcomes


def fetch(options: dict[str, object] | None = None, verbose: bool = False) -> int:
    """The fetch job (`make fetch`): ask the APIs and write what is new as download folders."""
    from .assets.fetch import FETCH_JOB, fetch_assets
    from .definitions import defs
    from .run_log import console_config
    from .runs import process_tags

    job = defs.resolve_job_def(FETCH_JOB)
    nodes = {asset.key.path[-1]: asset.op.name for asset in fetch_assets}
    config: dict[str, object] = dict(console_config(verbose))
    if options:
        config["ops"] = {node: {"config": dict(options)} for node in nodes.values()}
    with dg.DagsterInstance.get() as instance:
        run_id = str(uuid.uuid4())
        print(f"{FETCH_JOB}: run {run_id}", flush=True)
        result = job.execute_in_process(
            run_config=config, instance=instance, run_id=run_id, raise_on_error=False, tags=process_tags()
        )
    outcomes = fetch_outcomes(result, nodes)
    for source, ok, text in outcomes:
        line = text if text.startswith(f"{source}: ") else f"{source}: {text}"
        print(f"  {line}", file=sys.stdout if ok else sys.stderr)
    if result.success:
        print(f"{FETCH_JOB} succeeded (run {result.run_id}); the new-download sensor, or make run, reads it.")
        return 0
    print(
        f"\n{FETCH_JOB} FAILED for {', '.join(s for s, ok, _ in outcomes if not ok)}: nothing was written for it; "
        "make run still refreshes from what is downloaded.",
        file=sys.stderr,
    )
    return 1


def run(options: dict[str, object] | None = None, verbose: bool = False) -> int:
    from .assets.dbt import bulletin_dbt_assets
    from .definitions import defs
    from .run_log import DbtProgress, ShortenedOutput, StepPrinter, Terminal, check_descriptions
    from .runs import fail_dead_runs, process_tags

    job = defs.resolve_job_def("refresh_bulletin")
    config = run_config(options or {}, verbose, bulletin_dbt_assets.op.name)
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        for run_id in fail_dead_runs(instance):
            print(f"run {run_id} had died (its process is gone): marked failed.")
        run_id = str(uuid.uuid4())
        given = ", ".join(f"{name}={value}" for name, value in (options or {}).items())
        print(f"refresh_bulletin: run {run_id}" + (f" ({given})" if given else ""), flush=True)
        terminal = Terminal()
        try:
            with (
                contextlib.nullcontext() if verbose else ShortenedOutput(terminal, DbtProgress().lines),
                StepPrinter(instance, run_id, terminal.write, warnings=not verbose),
            ):
                result = job.execute_in_process(
                    run_config=config, instance=instance, run_id=run_id, raise_on_error=False, tags=process_tags()
                )
        finally:
            terminal.close()
    seconds = time.monotonic() - started
    if result.success:
        print(f"refresh_bulletin succeeded in {seconds:.0f}s (run {result.run_id}).")
        for line in publication_summary(result):
            print(line)
        descriptions = check_descriptions([*(defs.assets or []), *(defs.asset_checks or [])])
        for line in checks_not_passed(result, descriptions):
            print(line)
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


def rebuild(options: dict[str, object] | None = None, verbose: bool = False) -> int:
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
    return run(options, verbose)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m orchestration.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser(
        "run", help="ingest, build and publish everything", description="Ingest, build and publish everything."
    )
    add_run_options(run_parser)
    rebuild_parser = commands.add_parser(
        "rebuild",
        help="put the warehouse aside and build it again from every download in the raw folder",
        description="Put the warehouse aside and build it again from every download in the raw folder.",
    )
    add_run_options(rebuild_parser)
    fetch_parser = commands.add_parser(
        "fetch",
        help="ask the APIs (US Census Bureau, UN Comtrade) and write what is new as download folders",
        description="Ask the APIs (US Census Bureau, UN Comtrade) for the product and write each answer as a "
        "new download folder, raw/<source>/<today>/ (make fetch). Base URLs: BULLETIN_CENSUS_API_URL, "
        "BULLETIN_COMTRADE_API_URL; keys (optional): CENSUS_API_KEY, COMTRADE_API_KEY.",
    )
    fetch_parser.add_argument(
        "--hs-code", type=_hs_code, metavar="CODE", help="the product (default: BULLETIN_HS_CODE, else 847150)"
    )
    fetch_parser.add_argument(
        "--first-year",
        type=_year,
        metavar="YYYY",
        help="the first year asked for (default: the year before dbt_project.yml's first_year)",
    )
    fetch_parser.add_argument("--verbose", action="store_true", help="print Dagster's whole event log")
    dbt_parser = commands.add_parser("dbt", help="dbt on its own, under the warehouse lock (e.g. dbt build)")
    dbt_parser.add_argument("dbt_args", nargs=argparse.REMAINDER, help="dbt's own arguments")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return run(run_options(args), args.verbose)
    if args.command == "rebuild":
        return rebuild(run_options(args), args.verbose)
    if args.command == "fetch":
        given = {"hs_code": args.hs_code, "first_year": args.first_year}
        return fetch({k: v for k, v in given.items() if v is not None}, args.verbose)
    if args.command == "dbt":
        return dbt(args.dbt_args)
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""The command line: its options, each the run config the UI would set, and a run a person can read."""

from __future__ import annotations

import re
import subprocess
import sys

import dagster as dg
import pytest

from orchestration import cli
from orchestration.run_log import (
    DbtProgress,
    Step,
    StepPrinter,
    check_line,
    console_config,
    describe_step,
    publication_lines,
    step_line,
)

from .pipeline import PROJECT_ROOT, PipelineRun

DBT_OP = "bulletin_dbt_assets"
# a step's line: status, seconds, the step's key, what it did
STEP_LINE = re.compile(r"^(ok|FAILED|skipped) +(\d+\.\ds)?  (\S+): (.+)$")


def _args(argv: list[str]):
    return cli.build_parser().parse_args(argv)


# --- the options ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "rebuild"])
def test_help_lists_the_options(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for option in ("--hs-code", "--as-of", "--first-year", "--verbose"):
        assert option in text, text
    assert "BULLETIN_HS_CODE" in text


def test_help_from_the_shell():
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert all(o in done.stdout for o in ("--hs-code", "--as-of", "--first-year", "--verbose"))


def test_each_option_is_a_field_of_the_dbt_assets_run_config():
    args = _args(["run", "--hs-code", "847180", "--as-of", "2024-10-14", "--first-year", "2018"])
    options = cli.run_options(args)
    assert options == {"hs_code": "847180", "as_of_date": "2024-10-14", "first_year": 2018}
    config = cli.run_config(options, args.verbose, DBT_OP)
    assert config["ops"] == {DBT_OP: {"config": options}}
    assert config["loggers"] == console_config(False)["loggers"]


def test_an_option_not_given_leaves_its_setting_where_it_is():
    """No option: no dbt config at all, so BULLETIN_HS_CODE and dbt_project.yml's vars decide."""
    args = _args(["run"])
    assert cli.run_options(args) == {}
    assert "ops" not in cli.run_config({}, False, DBT_OP)
    assert cli.run_options(_args(["rebuild", "--as-of", "2024-10-14"])) == {"as_of_date": "2024-10-14"}


def test_verbose_is_dagsters_console_logger_at_debug():
    assert cli.run_config({}, True, DBT_OP) == {"loggers": {"console": {"config": {"log_level": "DEBUG"}}}}
    assert cli.run_config({}, False, DBT_OP) == {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    assert _args(["run", "--verbose"]).verbose and not _args(["run"]).verbose


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--hs-code", "84715"],
        ["run", "--hs-code", "8471.50"],
        ["run", "--as-of", "2024-13-01"],
        ["run", "--as-of", "14/10/2024"],
        ["run", "--first-year", "17"],
        ["rebuild", "--first-year", "twenty"],
    ],
)
def test_a_wrong_value_is_refused_before_anything_runs(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        _args(argv)
    assert exit_.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_the_run_config_is_valid_for_the_job_and_the_dbt_asset_reads_it():
    """The config the options make is the job's own (op name, field names), as the UI's
    launchpad would give it: the dbt asset turns it into dbt vars as for a UI run."""
    from orchestration.assets.dbt import DbtRunConfig, bulletin_dbt_assets
    from orchestration.definitions import defs

    assert bulletin_dbt_assets.op.name == DBT_OP
    job = defs.resolve_job_def("refresh_bulletin")
    argv = ["run", "--hs-code", "847180", "--as-of", "2024-10-14", "--first-year", "2018"]
    for verbose in (False, True):
        options = cli.run_options(_args(argv))
        config = cli.run_config(options, verbose, DBT_OP)
        assert dg.validate_run_config(job, config)
        read = DbtRunConfig(**config["ops"][DBT_OP]["config"])
        assert (read.hs_code, read.as_of_date, read.first_year) == ("847180", "2024-10-14", 2018)


# --- the lines -----------------------------------------------------------------------------

DBT_LINES = [
    "Running with dbt=1.11.16",
    "Registered adapter: duckdb=1.11.1",
    "Unable to do partial parsing because profile has changed",
    "Found 33 models, 184 data tests, 12 seeds, 4 sources, 525 macros, 13 unit tests",
    "",
    "Concurrency: 1 threads (target='dev')",
    *[
        line
        for n in range(1, 9)
        for line in (
            f"{n} of 8 START sql table model intermediate.m{n} ........ [RUN]",
            f"{n} of 8 OK created sql table model intermediate.m{n} ... [\x1b[32mOK\x1b[0m in 0.1s]"
            if n != 5
            else f"{n} of 8 WARN 4 mirror_gap_within_x .. [\x1b[33mWARN 4\x1b[0m in 0.06s]",
        )
    ],
    "Finished running 8 table models in 0 hours 0 minutes and 1.00 seconds (1.00s).",
    "\x1b[33mCompleted with 1 warning:\x1b[0m",
    "Got 4 results, configured to warn if != 0",
    "  compiled code at /somewhere/target/compiled/x.sql",
    "Done. PASS=7 WARN=1 ERROR=0 SKIP=0 NO-OP=0 TOTAL=8",
]


def test_dbt_progress_is_a_line_a_quarter_and_whatever_did_not_pass():
    clock = iter(range(100))
    progress = DbtProgress(clock=lambda: next(clock))
    shown = [out for line in DBT_LINES for out in progress.lines(line)]
    assert shown == [
        "  dbt  Found 33 models, 184 data tests, 12 seeds, 4 sources, 525 macros, 13 unit tests",
        "  dbt  2 of 8 done (25%), 1s",
        "  dbt  4 of 8 done (50%), 2s",
        "  dbt  5 of 8 WARN 4 mirror_gap_within_x .. [WARN 4 in 0.06s]",
        "  dbt  6 of 8 done (75%), 3s",
        "  dbt  Completed with 1 warning:",
        "  dbt  Got 4 results, configured to warn if != 0",
        "  dbt  Done. PASS=7 WARN=1 ERROR=0 SKIP=0 NO-OP=0 TOTAL=8",
    ]


def test_dbt_errors_are_shown_as_dbt_words_them():
    progress = DbtProgress()
    lines = [
        "3 of 240 ERROR creating sql table model intermediate.x ... [\x1b[31mERROR\x1b[0m in 0.1s]",
        "4 of 240 FAIL 1 assert_something ... [\x1b[31mFAIL 1\x1b[0m in 0.1s]",
        "5 of 240 SKIP relation marts.y ... [\x1b[33mSKIP\x1b[0m]",
        "Database Error in model x (models/x.sql)",
        "  Binder Error: column z not found",
    ]
    shown = [out for line in lines for out in progress.lines(line)]
    assert shown == [
        "  dbt  3 of 240 ERROR creating sql table model intermediate.x ... [ERROR in 0.1s]",
        "  dbt  4 of 240 FAIL 1 assert_something ... [FAIL 1 in 0.1s]",
        "  dbt  Database Error in model x (models/x.sql)",
        "  dbt    Binder Error: column z not found",
    ]


def test_the_standard_output_of_the_run_and_its_children_goes_through_the_filter(tmp_path):
    """Descriptor 1 itself is shortened (dagster-dbt prints from this process, Dagster's copy
    of the compute log from a child); the step lines go around it, straight to the terminal."""
    script = (
        "import os, sys\n"
        "from orchestration.run_log import ShortenedOutput, Terminal\n"
        "t = Terminal()\n"
        "with ShortenedOutput(t, lambda line: [] if line == 'noise' else [line.upper()]):\n"
        "    print('from python', flush=True)\n"
        "    os.system('echo from a child; echo noise')\n"
        "    t.write('a step line')\n"
        "print('after')\n"
        "t.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()[:3]) == ["FROM A CHILD", "FROM PYTHON", "a step line"]
    assert done.stdout.splitlines()[3:] == ["after"]


def test_a_step_line_says_what_the_step_did():
    ingest = Step("raw__customs_trade")
    ingest.materializations.append(
        (
            "raw/customs_trade",
            {
                "dagster/row_count": 7412,
                "files": ["customs/2024-10-14/a.csv", "customs/2024-10-14/b.csv"],
                "downloads": 1,
                "latest_download_date": "2024-10-14",
                "latest_period": "2024-09-01",
                "ignored_files": [],
            },
        )
    )
    ingest.checks.append(("download_freshness", False, "WARN", "..."))
    assert step_line(ingest.key, 1.25, describe_step(ingest)) == (
        "ok        1.2s  raw__customs_trade: 7,412 rows from 2 files (1 download, newest 2024-10-14), "
        "latest period 2024-09-01; 1 check: 0 passed, 1 warned"
    )
    dbt = Step("bulletin_dbt_assets")
    dbt.materializations += [(f"m{n}", {}) for n in range(45)]
    dbt.checks += [("t", True, "ERROR", "")] * 183 + [("w", False, "WARN", "")]
    assert describe_step(dbt) == "45 tables, views and seeds built; 184 checks: 183 passed, 1 warned"
    publish = Step("published_bulletin")
    publish.materializations.append(
        (
            "published_bulletin",
            {"files": {"a.csv": 1, "b.csv": 2}, "dagster/row_count": 424, "product": {"hs_code": "847150"}},
        )
    )
    assert describe_step(publish) == "2 files, 424 cells, HS 847150"
    check = Step("published_bulletin_publication_matches_manifest")
    check.checks.append(("publication_matches_manifest", True, "ERROR", "Asset check 'x' on 'y' passed."))
    assert describe_step(check) == "Asset check 'x' on 'y' passed."
    assert STEP_LINE.match(step_line("s", None, "not run", status="skipped"))
    assert STEP_LINE.match(step_line("s", 3.0, "failed", status="FAILED"))


def test_a_check_that_did_not_pass_is_one_line():
    found = "customs.customs_trade: newest download 2024-10-14, 777 days old:\n stale"
    assert check_line("raw/customs_trade", "download_freshness", "WARN", found, "spec", {"age_days": 777}) == (
        "check warned: raw/customs_trade download_freshness: customs.customs_trade: newest download "
        "2024-10-14, 777 days old: stale"
    )
    metadata = {
        "Execution Duration": 0.01,
        "invocation_id": "7ae6",
        "status": "warn",
        "dagster_dbt/failed_row_count": 4,
        "results": {"a": 1},
    }
    assert check_line("marts/m", "gap", "ERROR", None, "The gap is small. (blocking)", metadata) == (
        "check FAILED: marts/m gap: The gap is small. (blocking) [failed_row_count=4]"
    )


def test_the_end_says_where_the_files_are():
    metadata = {
        "path": "/x/published",
        "version": "v1",
        "product": {"hs_code": "847150"},
        "sources": {"customs": {"latest_period": "2024-09", "download_date": "2024-10-14"}},
        "revised_cells": 0,
        "exhibits_left_out": {},
    }
    assert publication_lines(metadata, "manifest.json") == [
        "published HS 847150 at /x/published (version v1)",
        "  manifest: /x/published/manifest.json",
        "  sources: customs 2024-09 (downloaded 2024-10-14)",
        "  revised cells: 0",
    ]


# --- the shipped run -----------------------------------------------------------------------


def _run_records(shipped_run: PipelineRun, monkeypatch) -> list[dg.EventLogEntry]:
    monkeypatch.setenv("DAGSTER_HOME", str(shipped_run.warehouse.parent.parent / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        [run] = instance.get_runs()
        return [r.event_log_entry for r in instance.get_records_for_run(run.run_id).records]


def test_the_shipped_run_prints_a_line_a_step_and_ends_with_where_the_files_are(shipped_run, monkeypatch):
    lines = shipped_run.stdout.splitlines()
    assert len(lines) < 60, shipped_run.stdout
    entries = _run_records(shipped_run, monkeypatch)
    steps = [e.dagster_event.step_key for e in entries if e.dagster_event and e.dagster_event.is_step_success]
    assert len(steps) >= 7  # four downloads, dbt, publication, its check
    step_lines = {m.group(3): m for m in map(STEP_LINE.match, lines) if m}
    assert sorted(step_lines) == sorted(steps), shipped_run.stdout
    assert all(step_lines[s].group(1) == "ok" for s in steps)
    assert sum(1 for line in lines for s in steps if line.startswith("ok") and f"  {s}: " in line) == len(steps)
    for source in ("customs", "gta", "itc", "moea"):
        [key] = [s for s in steps if s.startswith(f"raw__{source}")]
        assert re.search(r"[\d,]+ rows from \d+ files?", step_lines[key].group(4))
    assert re.search(r"\d+ tables, views and seeds built; \d+ checks", step_lines["bulletin_dbt_assets"].group(4))
    assert re.search(r"\d+ files, [\d,]+ cells, HS 847150", step_lines["published_bulletin"].group(4))
    # dbt's progress, not its every line
    assert any(re.match(r"  dbt  \d+ of \d+ done \(\d+%\)", line) for line in lines)
    assert not any(" START " in line for line in lines)
    assert any(line.startswith("  dbt  Done. PASS=") for line in lines)
    # the end: the summary, where the files are, every check that did not pass
    end = lines[next(i for i, line in enumerate(lines) if line.startswith("refresh_bulletin succeeded")) :]
    publish_dir = shipped_run.publish_dir
    assert f"published HS 847150 at {publish_dir} (version " in end[1]
    assert end[2] == f"  manifest: {publish_dir / 'manifest.json'}"
    not_passed = [
        e.dagster_event.asset_check_evaluation_data
        for e in entries
        if e.dagster_event
        and e.dagster_event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        and not e.dagster_event.asset_check_evaluation_data.passed
    ]
    check_lines = [line for line in end if line.startswith("check ")]
    assert len(check_lines) == len(not_passed)
    for evaluation in not_passed:
        head = f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}: "
        assert sum(head in line for line in check_lines) == 1, (head, check_lines)
    assert all(line.startswith(("published ", "  ", "check ", "note: ")) for line in end[1:]), end


def test_the_whole_event_log_is_in_the_instance(shipped_run, monkeypatch):
    """What the terminal leaves out (Dagster's debug events, dbt's every line) is in the run's
    event log and compute log, which the UI shows."""
    entries = _run_records(shipped_run, monkeypatch)
    types = {e.dagster_event.event_type for e in entries if e.dagster_event}
    kinds = ("STEP_START", "STEP_OUTPUT", "ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION", "RUN_SUCCESS")
    assert {dg.DagsterEventType[kind] for kind in kinds} <= types
    assert not any("STEP_START" in line for line in shipped_run.stdout.splitlines() + shipped_run.stderr.splitlines())
    compute_logs = list((shipped_run.warehouse.parent.parent / "dagster_home").rglob("compute_logs/*.out"))
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in compute_logs)
    assert re.search(r"\d+ of \d+ START ", text), "dbt's every line is in the run's compute log"


def _log(message: str, level: int, step_key: str | None) -> dg.EventLogEntry:
    return dg.EventLogEntry(
        error_info=None, level=level, user_message=message, run_id="r", timestamp=0.0, step_key=step_key
    )


def test_a_step_not_run_and_a_logged_warning_are_a_line_each():
    written: list[str] = []
    printer = StepPrinter(instance=None, run_id="r", write=written.append, warnings=True)
    printer.handle(_log("Dependencies for step b failed: ['a']. Not executing.", 40, "b"))
    printer.handle(_log("Dependencies for step c were not executed: ['b', 'b']. Not executing.", 40, "c"))
    printer.handle(_log("x.csv: not a customs data file; ignored", 30, "raw__customs_trade"))
    printer.handle(_log("a debug line", 10, "raw__customs_trade"))
    assert written == [
        step_line("b", None, "not run (a step before it failed)", status="skipped"),
        step_line("c", None, "not run (a step before it failed)", status="skipped"),
        "warning: raw__customs_trade: x.csv: not a customs data file; ignored",
    ]
    assert all(STEP_LINE.match(line) for line in written[:2])

"""The Dagster side: definitions, descriptions, the schedule, the sensor, the warehouse lock,
blocking checks, and the dbt step's start-up costs that we removed.

The slow tests here run the real thing in subprocesses, as users do (`make run`'s command,
`dagster asset materialize`), each against a raw folder, warehouse and DAGSTER_HOME of its own.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from dagster._utils.schedules import cron_string_iterator

from orchestration import automation
from orchestration.assets.dbt import describe_test
from orchestration.assets.dbt_invocation import (
    BulletinDbtCliResource,
    dbt_build_args,
    dbt_env,
    dbt_resource,
    partial_parse_key,
    stable_dbt_path,
    target_folder_name,
)
from orchestration.assets.fetch import fetch_assets
from orchestration.assets.ingest import ingest_assets
from orchestration.definitions import defs
from orchestration.ingest.loader import PARSERS, load_source
from orchestration.project import dbt_project, manifest_is_current, prepare_manifest, stable_dbt_path_for
from orchestration.warehouse import (
    WRITES_WAREHOUSE,
    Warehouse,
    lock_path,
    record_failed_step,
    watch_failures,
    writes_warehouse,
)

from .pipeline import (
    PROJECT_ROOT,
    SHIPPED_RAW,
    cli_fork_server,
    copy_shipped_raw,
    dagster_client,
    pipeline_env,
    run_pipeline,
)

GROUPS = {"fetch", "ingest", "staging", "intermediate", "marts", "publish"}


# --- definitions -------------------------------------------------------------------------


def _asset_graph():
    return defs.resolve_asset_graph()


def test_definitions_load_with_the_job_schedule_and_sensor():
    job = defs.resolve_job_def("refresh_bulletin")
    assert job.executor_def is dg.in_process_executor
    assert defs.resolve_schedule_def("monthly_refresh").job_name == "refresh_bulletin"
    assert defs.resolve_sensor_def("new_download_sensor").job_name == "refresh_bulletin"


def test_dagster_definitions_validate_passes(tmp_path):
    env = pipeline_env(SHIPPED_RAW, tmp_path / "w.duckdb", tmp_path / "published", tmp_path)
    proc = subprocess.run(
        [dagster_client(), "definitions", "validate", "-m", "orchestration.definitions"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_the_dagster_fork_server_has_one_thread_and_imports_nothing_of_the_project():
    """The tests' `dagster` commands are forked from a server (tests/cli_forkserver.py): it must
    be safe to fork (one thread) and leave the project's code to load fresh in each command."""
    server, status = cli_fork_server("dagster")
    assert status == {"threads": 1, "orchestration_modules": []}
    assert "\nThreads:\t1\n" in Path(f"/proc/{server}/status").read_text()


def test_the_graph_reads_like_the_pipeline():
    graph = _asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups == GROUPS
    by_group = {
        g: {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).group_name == g}
        for g in groups
    }
    assert by_group["fetch"] == {"fetch/census", "fetch/comtrade"}  # the APIs, a job of their own
    assert "raw/customs_trade" in by_group["ingest"]
    assert "staging/stg_customs__trade" in by_group["staging"]
    assert "reference/partners" in by_group["staging"]  # seeds sit with staging
    assert "intermediate/int_bulletin__cells" in by_group["intermediate"]
    assert "marts/fct_bulletin_cells" in by_group["marts"]


def test_every_asset_and_check_says_what_it_is_in_a_line():
    graph = _asset_graph()
    for key in graph.get_all_asset_keys():
        description = (graph.get(key).description or "").strip()
        assert description, f"{key.to_user_string()} has no description"
        assert not description.startswith("dbt model "), f"{key.to_user_string()}: {description}"
        assert "```" not in description, f"{key.to_user_string()}: the SQL belongs in the repository"
    checks = list(graph.asset_check_keys)
    assert len(checks) > 40
    for check_key in checks:
        spec = graph.get_check_spec(check_key)
        assert (spec.description or "").strip(), f"{check_key.to_user_string()} has no description"
        assert "\n" not in spec.description.strip()


def test_error_severity_dbt_tests_are_blocking_checks():
    graph = _asset_graph()
    specs = {(k.asset_key.to_user_string(), k.name): graph.get_check_spec(k) for k in graph.asset_check_keys}
    reconciliation = specs[("intermediate/int_bulletin__cells", "assert_bulletin_459_reproduced")]
    assert reconciliation.blocking
    assert "bulletin No. 459" in reconciliation.description
    unmapped = [
        s
        for (a, n), s in specs.items()
        if a == "staging/stg_customs__trade" and n.startswith("every_name_mapped")
    ]
    assert len(unmapped) == 1 and unmapped[0].blocking
    assert "partner_names_customs" in unmapped[0].description


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (
            {"name": "t", "test_metadata": {"name": "not_null", "kwargs": {"column_name": "period"}}},
            "period is never empty. (blocking: a failure stops the build)",
        ),
        (
            {
                "name": "t",
                "config": {"severity": "warn"},
                "test_metadata": {
                    "name": "unique_combination",
                    "kwargs": {"combination_of_columns": ['"table"', "x"]},
                },
            },
            "one row per (table, x). (warning only)",
        ),
        (
            {
                "name": "assert_x",
                "raw_code": "-- A failure means bulletin No. 459 differs. More text.\nselect 1",
            },
            "Fails when bulletin No. 459 differs. (blocking: a failure stops the build)",
        ),
    ],
)
def test_check_descriptions(props, expected):
    assert describe_test(props) == expected


# --- start-up costs of the dbt step -------------------------------------------------------


def test_the_dbt_step_starts_dbt_without_dbt_version_or_an_adapter(monkeypatch):
    """dagster-dbt runs `dbt --version` (5-6 s) and opens a dbt adapter (~5 s) before every
    dbt command; ours does neither. If an upgrade of dagster-dbt renames what we override,
    this fails rather than silently paying the cost again."""
    import dagster_dbt.core.resource as dbt_resource_module

    source = inspect.getsource(dbt_resource_module.DbtCliResource.cli)
    assert "self._cli_version" in source and "self._initialize_dbt_core_adapter(" in source
    # dbt's environment is a copy of os.environ taken when cli() starts it, and cli() takes no
    # env of its own (BulletinDbtCliResource.cli; when it does, pass the env to it instead)
    assert "os.environ.copy()" in source
    assert "env" not in inspect.signature(dbt_resource_module.DbtCliResource.cli).parameters

    def no_process(*args, **kwargs):
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(dbt_resource_module, "check_output", no_process, raising=False)
    monkeypatch.setattr(subprocess, "check_output", no_process)
    resource = dbt_resource()
    assert isinstance(resource, BulletinDbtCliResource)
    import importlib.metadata

    assert str(resource._cli_version) == importlib.metadata.version("dbt-core")
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_a_current_manifest_is_not_parsed_again(monkeypatch):
    assert manifest_is_current(dbt_project)

    def no_parse(*args, **kwargs):
        raise AssertionError("dbt parse ran although the manifest is current")

    monkeypatch.setattr(subprocess, "run", no_parse)
    prepare_manifest(dbt_project)


def test_dbt_parses_with_the_profile_of_a_runs_build(monkeypatch, tmp_path):
    """The manifest's parse uses the name a run's `dbt build` knows the warehouse by (the first
    link slot), so the build can reuse it; and a build with no parse of its own yet starts
    from it (dbt reuses it only if its profile and vars match)."""
    import orchestration.assets.dbt_invocation as invocation

    project = SimpleNamespace(
        project_dir=tmp_path, profiles_dir=tmp_path, target_path=Path("target"),
        manifest_path=tmp_path / "target" / "manifest.json",
    )  # fmt: skip
    calls = []

    def parse(argv, **kwargs):
        calls.append((argv, kwargs["env"]["BULLETIN_WAREHOUSE"]))
        project.manifest_path.write_text("{}")
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(subprocess, "run", parse)
    monkeypatch.setenv("BULLETIN_WAREHOUSE", str(tmp_path / "live" / "wh.duckdb"))
    prepare_manifest(project, force=True)
    slot_0 = tmp_path / "target" / "warehouse-links" / "0" / "wh.duckdb"
    assert [(argv[1:], profile) for argv, profile in calls] == [(["parse", "--quiet"], str(slot_0))]
    assert stable_dbt_path_for(tmp_path / "live" / "wh.duckdb", 0, project) == slot_0

    monkeypatch.setattr(invocation, "dbt_project", project)
    (tmp_path / "target" / "partial_parse.msgpack").write_bytes(b"the manifest's parse")
    with invocation.dbt_target_path("step", "run-1-abcdef", slot_0, ["build"]) as target:
        assert (target / "partial_parse.msgpack").read_bytes() == b"the manifest's parse"
        (target / "partial_parse.msgpack").write_bytes(b"the build's own")
    with invocation.dbt_target_path("step", "run-2-abcdef", slot_0, ["build"]) as target:
        assert (target / "partial_parse.msgpack").read_bytes() == b"the build's own"


def test_the_definitions_prepare_the_manifest_before_they_read_it(monkeypatch):
    """Whoever loads the definitions (a run's process, `dagster dev`, a test) gets assets made
    from a manifest of the dbt files as they are, not only `make`."""
    import importlib

    import orchestration.assets.dbt as dbt_assets_module
    import orchestration.project as project_module

    prepared = []
    monkeypatch.setattr(project_module, "prepare_manifest", lambda project: prepared.append(project))
    importlib.reload(dbt_assets_module)
    assert prepared == [dbt_project]
    monkeypatch.undo()
    importlib.reload(dbt_assets_module)  # as the other tests import it (the manifest is current)


def _write_without_checkpoint(path: Path, sql: str) -> None:
    """Write through DuckDB and die without closing it: the write stays in the ``.wal`` file."""
    code = f"import duckdb, os; c = duckdb.connect({str(path)!r}); c.execute({sql!r}); os._exit(0)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dbt_sees_the_working_copy_under_one_name_and_duckdb_resolves_it(tmp_path):
    live = tmp_path / "bulletin.duckdb"
    copy = tmp_path / ".bulletin.duckdb.run-1"
    duckdb.connect(str(copy)).close()
    with stable_dbt_path(live, copy) as link:
        assert link.name == "bulletin.duckdb" and link.resolve() == copy.resolve()
        # the same name for any warehouse (the parse is shared); a second run at once gets another
        with stable_dbt_path(tmp_path / "other" / "bulletin.duckdb", copy) as other:
            assert other.name == link.name and other.parent != link.parent
        _write_without_checkpoint(link, "create table t as select 42 as x")
        # The write-ahead log belongs to the working copy, not to the link's name: whoever
        # opens the copy next (the marts' metadata, the swap) sees everything dbt wrote.
        assert copy.with_name(copy.name + ".wal").exists()
        assert not link.with_name(link.name + ".wal").exists()
        with duckdb.connect(str(link)) as con:
            assert con.execute("select current_database()").fetchone() == ("bulletin",)
    assert not os.path.lexists(link)
    with stable_dbt_path(tmp_path / "third" / "bulletin.duckdb", copy) as freed:
        assert freed.name == link.name and freed.parent.parent == link.parent.parent
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute("select x from t").fetchall() == [(42,)]


def test_the_dbt_command_is_built_from_small_pure_parts():
    # no --full-refresh: the incremental models process only the downloads that changed (issue 16)
    build = ["build", "--exclude-resource-type", "unit_test"]
    assert dbt_build_args() == build
    assert dbt_build_args({"hs_code": "847180"}) == [*build, "--vars", '{"hs_code": "847180"}']
    link = Path("/w/.bulletin.duckdb.dbt")
    assert dbt_env(link) == {"BULLETIN_WAREHOUSE": str(link)}
    assert target_folder_name("bulletin_dbt_assets", "0123456789abcdef", "abc1234") == (
        "bulletin_dbt_assets-01234567-abc1234"
    )
    key = partial_parse_key(link, ["build"])
    assert key == partial_parse_key(link, ["build"])
    assert key != partial_parse_key(link, ["build", "--vars", "{}"]) != partial_parse_key(Path("/x"), ["build"])


def test_dbt_gets_the_working_copy_in_its_environment_and_ours_stays_as_it_was(monkeypatch):
    from dagster_dbt import DbtCliResource

    seen = {}

    def started(self, args, **kwargs):  # dagster-dbt's cli, which starts dbt with os.environ
        seen["BULLETIN_WAREHOUSE"] = os.environ.get("BULLETIN_WAREHOUSE")
        seen["kwargs"] = kwargs
        return "invocation"

    monkeypatch.setattr(DbtCliResource, "cli", started)
    monkeypatch.setenv("BULLETIN_WAREHOUSE", "/live/bulletin.duckdb")
    link = Path("/live/.bulletin.duckdb.dbt")
    assert dbt_resource().cli(["build"], target_path=Path("/t"), env=dbt_env(link)) == "invocation"
    assert seen == {"BULLETIN_WAREHOUSE": str(link), "kwargs": {"target_path": Path("/t")}}
    assert os.environ["BULLETIN_WAREHOUSE"] == "/live/bulletin.duckdb"


def test_a_dbt_file_added_renamed_or_removed_since_the_parse_makes_the_manifest_stale(tmp_path):
    """A model missing from the manifest would fail the run (its dbt node unknown to Dagster):
    the manifest is parsed again first. `mv` keeps a file's time; its folder's changes."""
    project = SimpleNamespace(project_dir=tmp_path, manifest_path=tmp_path / "target" / "manifest.json")
    folder = tmp_path / "models" / "marts"
    folder.mkdir(parents=True)
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    (folder / "a.sql").write_text("select 1")
    (folder / "c.sql").write_text("select 3")

    def parsed_now():
        past = time.time() - 100
        for path in (tmp_path / "dbt_project.yml", *folder.iterdir(), folder, folder.parent):
            os.utime(path, (past, past))
        project.manifest_path.parent.mkdir(exist_ok=True)
        project.manifest_path.write_text("{}")
        os.utime(project.manifest_path, (past + 50, past + 50))  # parsed a while ago
        assert manifest_is_current(project)

    parsed_now()
    (folder / "a.sql").rename(folder / "b.sql")
    assert (folder / "b.sql").stat().st_mtime < project.manifest_path.stat().st_mtime
    assert not manifest_is_current(project)
    parsed_now()
    (folder / "c.sql").unlink()
    assert not manifest_is_current(project)
    parsed_now()
    (folder / "d.sql").write_text("select 4")
    assert not manifest_is_current(project)
    project.manifest_path.unlink()
    assert not manifest_is_current(project)


# --- schedule ------------------------------------------------------------------------------


def test_the_monthly_schedule_runs_on_the_15th_at_9_taipei_time():
    schedule = defs.resolve_schedule_def("monthly_refresh")
    assert schedule.cron_schedule == "0 9 15 * *"
    assert schedule.execution_timezone == "Asia/Taipei"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    taipei = ZoneInfo("Asia/Taipei")
    start = dt.datetime(2024, 10, 20, tzinfo=taipei).timestamp()
    ticks = cron_string_iterator(start, schedule.cron_schedule, schedule.execution_timezone)
    first, second = next(ticks), next(ticks)
    assert (first.year, first.month, first.day, first.hour) == (2024, 11, 15, 9)
    assert (second.month, second.day) == (12, 15)
    assert first.utcoffset() == dt.timedelta(hours=8)

    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2024, 11, 15, 9, tzinfo=taipei))
    data = schedule.evaluate_tick(context)
    assert len(data.run_requests) == 1
    request = data.run_requests[0]
    assert request.run_key == "monthly-2024-11"
    assert request.tags["bulletin/trigger"] == "schedule"


# --- sensor --------------------------------------------------------------------------------


def _download(raw: Path, source: str, day: str, age_seconds: float = 3600) -> Path:
    """A download folder with one file, last changed ``age_seconds`` ago."""
    folder = raw / source / day
    folder.mkdir(parents=True)
    path = folder / "data.csv"
    path.write_text("x\n")
    then = time.time() - age_seconds
    for p in (path, folder):
        os.utime(p, (then, then))
    return folder


def _tick(cursor: str | None):
    sensor = defs.resolve_sensor_def("new_download_sensor")
    # An instance of its own: each tick also looks for runs whose process died (none here).
    with dg.DagsterInstance.ephemeral() as instance:
        return sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, instance=instance))


def test_the_sensor_records_the_folders_there_at_first_and_runs_once_per_new_folder(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    for source, day in [
        ("customs", "2024-10-14"),
        ("gta", "2024-10-10"),
        ("itc", "2024-10-01"),
        ("moea", "2024-09-30"),
    ]:
        _download(raw, source, day)
    monkeypatch.setenv("BULLETIN_RAW_DIR", str(raw))
    sensor = defs.resolve_sensor_def("new_download_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING

    first = _tick(None)
    assert first.run_requests == [] and "recorded 4" in first.skip_message
    assert first.cursor

    nothing = _tick(first.cursor)
    assert nothing.run_requests == []

    _download(raw, "customs", "2024-11-12")
    new = _tick(nothing.cursor or first.cursor)
    assert len(new.run_requests) == 1
    request = new.run_requests[0]
    assert request.tags["bulletin/downloads"] == "customs/2024-11-12"
    assert request.tags["bulletin/trigger"] == "new-download"

    again = _tick(new.cursor)
    assert again.run_requests == [], "the same folder started a second run"

    # Folders that settle in one evaluation start one run together; other names are ignored.
    _download(raw, "gta", "2024-11-10")
    _download(raw, "moea", "2024-10-31")
    (raw / "gta" / "notes").mkdir()
    (raw / "gta" / "notes" / "readme.txt").write_text("x")
    both = _tick(again.cursor)
    assert len(both.run_requests) == 1
    assert both.run_requests[0].tags["bulletin/downloads"] == "gta/2024-11-10,moea/2024-10-31"
    assert _tick(both.cursor).run_requests == []


def test_the_sensor_waits_until_a_download_is_completely_copied(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    _download(raw, "customs", "2024-10-14")
    monkeypatch.setenv("BULLETIN_RAW_DIR", str(raw))
    cursor = _tick(None).cursor

    (raw / "gta" / "2024-11-10").mkdir(parents=True)  # empty: the copy has not started
    assert _tick(cursor).run_requests == []
    _download(raw, "itc", "2025-06-01", age_seconds=0)  # being written just now
    waiting = _tick(cursor)
    assert waiting.run_requests == [] and "still being written: itc/2025-06-01" in waiting.skip_message

    monkeypatch.setattr(automation, "SETTLE_SECONDS", 0)
    ready = _tick(waiting.cursor)
    assert [r.tags["bulletin/downloads"] for r in ready.run_requests] == ["itc/2025-06-01"]


# --- explicit writes -----------------------------------------------------------------------


def test_the_steps_that_write_are_declared_on_their_assets_and_publish_runs_after_them_all():
    graph = _asset_graph()
    writers = {a.op.name: a for a in defs.assets if writes_warehouse(a)}
    assert set(writers) == {*(a.op.name for a in ingest_assets), "bulletin_dbt_assets", "published_bulletin"}
    # a failed step, any step of the refresh, keeps the run's writes from being made live; the fetch
    # writes no warehouse (its own job): its failure never keeps a refresh from going live
    fetching = {a.op.name for a in fetch_assets}
    assert all(record_failed_step in a.hook_defs for a in defs.assets if a.op.name not in fetching)
    assert not any(record_failed_step in a.hook_defs or writes_warehouse(a) for a in fetch_assets)
    # the publish asset makes the run's writes live: every other writing step comes before it
    upstream = dg.AssetSelection.assets("published_bulletin").upstream().resolve(graph)
    for name, asset in writers.items():
        if name != "published_bulletin":
            assert set(asset.keys) & upstream, f"{name} writes the warehouse but may run after the publish asset"


def test_our_code_uses_no_deprecated_or_private_dagster_api():
    """`context.run_id`, `context.op` ... are deprecated in Dagster 1.13 (context.run.run_id,
    context.op_def); `dagster._…` modules are private."""
    deprecated = re.compile(
        r"context\.(run_id|op\b|op_handle|node_handle|op_config|dagster_run|run_tags|has_tag|get_tag|"
        r"run_config|get_op_execution_context|get_mapping_key|selected_output_names)|dagster\._"
    )
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{n}: {line.strip()}"
        for path in [*(PROJECT_ROOT / "orchestration").rglob("*.py"), PROJECT_ROOT / "orchestration" / "dagster.yaml"]
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if deprecated.search(line) and "HookContext.run_id: public" not in line
    ]
    assert found == []


def _writer(name: str, sql: str, *, fail: str | None = None, declared: bool = True, deps=()):
    """An asset that writes ``sql`` in the warehouse; ``fail``: "inside" its block, or "after"
    it (in Dagster's handling of its output)."""

    @dg.asset(
        name=name, deps=list(deps), op_tags=WRITES_WAREHOUSE if declared else None, required_resource_keys={"warehouse"}
    )
    def _asset(context):
        warehouse = context.resources.warehouse
        with warehouse.writing(context) as con:
            con.execute(sql)
            if fail == "inside":
                raise dg.Failure(description="a step fails")
        if fail == "after":
            return dg.Output(None, output_name="no_such_output")
        return None

    return _asset


def _committer(name: str, deps, seen: dict):
    """Like the publish asset: reads the run's copy, makes it live, then does what needs it live."""

    @dg.asset(name=name, deps=list(deps), op_tags=WRITES_WAREHOUSE, required_resource_keys={"warehouse"})
    def _asset(context):
        warehouse = context.resources.warehouse
        with warehouse.connect(context, read_only=True) as con:
            seen["read"] = con.execute("select count(*) from b").fetchone()[0]
        warehouse.commit(context)
        with duckdb.connect(str(warehouse.live), read_only=True) as con:
            seen["live"] = con.execute("select count(*) from b").fetchone()[0]

    return _asset


def _materialize_in_process(live: Path, assets) -> tuple[bool, list[str]]:
    with warnings.catch_warnings(record=True) as caught, dg.DagsterInstance.ephemeral() as instance:
        warnings.simplefilter("always")
        result = dg.materialize(
            watch_failures(assets),
            resources={"warehouse": Warehouse(path=str(live))},
            instance=instance,
            raise_on_error=False,
        )
    ours = str(PROJECT_ROOT / "orchestration")
    ours_warned = [
        f"{w.filename}:{w.lineno}: {w.message}"
        for w in caught
        if w.filename.startswith(ours) and issubclass(w.category, DeprecationWarning | FutureWarning)
    ]
    return result.success, ours_warned


def _folder(live: Path) -> dict[str, str]:
    """The warehouse folder, each file by content (the lock file aside: it names its last holder)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in live.parent.iterdir()
        if p.is_file() and p != lock_path(live)
    }


def _lock_is_free(live: Path) -> bool:
    fd = os.open(lock_path(live), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


@pytest.fixture
def live(tmp_path) -> Path:
    live = tmp_path / "warehouse" / "bulletin.duckdb"
    live.parent.mkdir()
    with duckdb.connect(str(live)) as con:
        con.execute("create table before as select 1 as x")
    return live


def test_a_run_that_publishes_nothing_makes_its_writes_live_at_its_end(live):
    a = _writer("a", "create table a as select 1 as x")
    b = _writer("b", "create table b as select * from a", deps=[a])
    success, warned = _materialize_in_process(live, [a, b])
    assert success and warned == []
    with duckdb.connect(str(live), read_only=True) as con:
        assert con.execute("select count(*) from a join b using (x) join before using (x)").fetchone() == (1,)
    assert sorted(_folder(live)) == ["bulletin.duckdb"] and _lock_is_free(live)


def test_the_last_writing_step_can_make_the_writes_live_itself(live):
    seen: dict = {}
    a = _writer("a", "create table a as select 1 as x")
    b = _writer("b", "create table b as select * from a", deps=[a])
    success, warned = _materialize_in_process(live, [a, b, _committer("publish", [b], seen)])
    assert success and warned == []
    assert seen == {"read": 1, "live": 1}
    assert sorted(_folder(live)) == ["bulletin.duckdb"] and _lock_is_free(live)


@pytest.mark.parametrize(
    "second",
    [
        _writer("b", "create table b as select * from a", fail="inside"),
        _writer("b", "create table b as select * from a", fail="after"),
        _writer("b", "create table b as select * from a", declared=False),
    ],
    ids=["fails-in-its-block", "fails-after-its-block", "writes-without-saying-so"],
)
def test_a_failed_run_leaves_the_warehouse_folder_exactly_as_it_found_it(live, second):
    a = _writer("a", "create table a as select 1 as x")
    before = _folder(live)
    seen: dict = {}
    success, warned = _materialize_in_process(live, [a, second, _committer("publish", [a, second.key], seen)])
    assert not success and warned == []
    assert seen == {}, "the publish step ran after a failed writing step"
    assert _folder(live) == before and _lock_is_free(live)


# --- the warehouse lock --------------------------------------------------------------------


def _materialize(workdir: Path, select: str, warehouse: Path, **env: str) -> subprocess.Popen:
    """`dagster asset materialize` of ``select``: a run outside any queue, like `make run`. The
    `dagster` is this worker's dagster fork server's client (tests/cli_forkserver.py), a process
    that passes its signals on and exits with the command's code, as the venv's `dagster` does."""
    home = workdir / f"home-{time.monotonic_ns()}"
    home.mkdir(parents=True)
    full_env = {**pipeline_env(SHIPPED_RAW, warehouse, workdir / "published", home), **env}
    log = (home / "out.log").open("w")
    return subprocess.Popen(
        [dagster_client(), "asset", "materialize", "-m", "orchestration.definitions", "--select", select],
        cwd=PROJECT_ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _log_of(workdir: Path) -> str:
    logs = sorted(workdir.glob("home-*/out.log"), key=lambda p: p.stat().st_mtime)
    return "\n".join(p.read_text(errors="replace") for p in logs)


@pytest.fixture
def lock_holder(tmp_path):
    """Another writer: a process that holds the warehouse lock until the test lets it go."""
    warehouse = tmp_path / "warehouse" / "bulletin.duckdb"
    code = (
        "import sys; from pathlib import Path; from orchestration.warehouse import locked\n"
        f"with locked(Path({str(warehouse)!r}), 'the test holder'):\n"
        "    print('held', flush=True); sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    try:
        yield warehouse, holder
    finally:
        if holder.poll() is None:
            holder.stdin.close()
            holder.wait(timeout=30)


@pytest.mark.slow
def test_a_second_writer_waits_for_the_lock_and_fails_with_a_clear_message_after_the_timeout(
    tmp_path, lock_holder
):
    warehouse, holder = lock_holder

    impatient = _materialize(
        tmp_path / "impatient", "raw/customs_trade", warehouse, BULLETIN_LOCK_TIMEOUT="2"
    )
    assert impatient.wait(timeout=300) != 0
    out = _log_of(tmp_path / "impatient")
    assert "is being written by another run" in out and "the test holder" in out and "waited 2s" in out, out[
        -3000:
    ]
    assert not warehouse.exists(), "the run wrote the warehouse without the lock"
    assert not list(warehouse.parent.glob(".bulletin.duckdb.run-*"))

    patient = _materialize(tmp_path / "patient", "raw/customs_trade", warehouse, BULLETIN_LOCK_TIMEOUT="600")
    deadline = time.monotonic() + 300
    while 'Started execution of step "raw__customs_trade"' not in _log_of(tmp_path / "patient"):
        assert patient.poll() is None, _log_of(tmp_path / "patient")[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.5)
    time.sleep(3)
    assert patient.poll() is None, "the second writer did not wait for the lock"
    assert not warehouse.exists()
    holder.stdin.close()  # the first writer finishes
    assert patient.wait(timeout=300) == 0, _log_of(tmp_path / "patient")[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.customs_trade").fetchone()[0] > 0


@pytest.mark.slow
def test_two_runs_started_together_both_succeed_one_after_the_other(tmp_path):
    warehouse = tmp_path / "warehouse" / "bulletin.duckdb"
    select = ",".join(f"raw/{parser.TABLE}" for parser in PARSERS.values())  # every source's
    runs = [_materialize(tmp_path / f"run{i}", select, warehouse) for i in (1, 2)]
    for i, run in enumerate(runs, start=1):
        assert run.wait(timeout=600) == 0, _log_of(tmp_path / f"run{i}")[-3000:]
    # The warehouse holds exactly what one load of the downloads gives, table by table.
    expected = duckdb.connect()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for source, parser in PARSERS.items():
            load_source(expected, source, SHIPPED_RAW)
            table = f"raw.{parser.TABLE}"
            count = f"select count(*), sum(hash(columns(*))) from {table}"
            assert con.execute(count).fetchall() == expected.execute(count).fetchall(), table
    expected.close()
    assert not list(warehouse.parent.glob(".bulletin.duckdb.run-*")), "a working copy was left behind"


# --- blocking checks -----------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp950"), "cp950"


def _unmapped_partner(raw: Path) -> str:
    """One customs row's country becomes 火星, a name no seed maps."""
    path = sorted((raw / "customs").glob("*/*.csv"))[0]
    text, encoding = _decode(path.read_bytes())
    assert ",美國," in text
    path.write_bytes(text.replace(",美國,", ",火星,", 1).encode(encoding))
    return "every_name_mapped_stg_customs__trade"


def _changed_gta_value(raw: Path) -> str:
    """Taiwan's August 2024 in the GTA download, 2 億美元 higher: a number No. 459 printed changes."""
    import csv
    import io

    path = next((raw / "gta").glob("*/*.csv"))
    text, encoding = _decode(path.read_bytes())
    lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
    header = next(csv.reader([lines[6]]))
    column = header.index("August 2024")
    row_index = next(i for i, line in enumerate(lines) if line.startswith(("Taiwan,", '"Taiwan"')))
    row = next(csv.reader([lines[row_index]]))
    row[column] = str(int(float(row[column])) + 200_000_000)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    lines[row_index] = out.getvalue()
    newline = "\r\n" if "\r\n" in text else "\n"
    path.write_bytes(newline.join(lines).encode(encoding))
    return "assert_bulletin_459_reproduced"


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file (by content) and link (by target) under a folder."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            rel = str(path.relative_to(folder))
            if path.is_symlink():
                found[rel] = "-> " + os.readlink(path)
            elif path.is_file():
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    "break_one_value", [_unmapped_partner, _changed_gta_value], ids=["unmapped-partner", "gta-value"]
)
def test_a_failing_check_blocks_everything_downstream_and_the_earlier_publication_stays(
    tmp_path, shipped_run, break_one_value
):
    # An earlier, good publication and warehouse (the shipped run's), then one broken value.
    warehouse = tmp_path / "warehouse" / "bulletin.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(shipped_run.warehouse, warehouse)
    published = tmp_path / "published"
    if shipped_run.publish_dir.exists():
        shutil.copytree(shipped_run.publish_dir, published, symlinks=True)
    else:
        published.mkdir()
        (published / "earlier.txt").write_text("the earlier publication")
    before_warehouse = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    before_published = _snapshot(published)
    raw = copy_shipped_raw(tmp_path / "raw")
    check_name = break_one_value(raw)

    run = run_pipeline(tmp_path, raw, warehouse=warehouse)

    assert run.returncode != 0, run.stdout[-2000:]
    assert check_name in run.stderr, run.stderr[-3000:]
    assert "nothing was published and the live warehouse is unchanged" in run.stderr
    if check_name.startswith("every_name_mapped"):
        assert "火星" in run.stderr, run.stderr[-3000:]
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before_warehouse
    assert _snapshot(published) == before_published
    assert not warehouse.with_name(f".{warehouse.name}.dbt").exists()

    with dg.DagsterInstance.local_temp(tempdir=str(tmp_path / "dagster_home")) as instance:
        [record] = instance.get_run_records()
        assert record.dagster_run.status == dg.DagsterRunStatus.FAILURE
        run_id = record.dagster_run.run_id
        checks = [
            r.event_log_entry.dagster_event.event_specific_data
            for r in instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ).records
        ]
        failed = [c for c in checks if not c.passed]
        assert any(c.check_name.startswith(check_name) for c in failed), [c.check_name for c in failed]
        materialized = {
            r.event_log_entry.dagster_event.asset_key.to_user_string()
            for r in instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ).records
        }
        downstream = {k for k in materialized if k.startswith("marts/") or k == "published_bulletin"}
        assert not downstream, f"materialized after a blocking check failed: {sorted(downstream)}"

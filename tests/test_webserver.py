"""The product as users run it: `dagster dev` (webserver, daemon, code server) on a free port.

The test starts `dagster dev` in a process group of its own, with the project's
orchestration/dagster.yaml in a temporary DAGSTER_HOME and a temporary warehouse and
publication; asks the GraphQL API for the asset graph and its checks; launches the refresh job
as the UI's button does (the run goes through the queue and the daemon launches it); waits for
it to succeed; reads the run's status and the checks' results; then stops exactly the
processes it started (its own process group).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .pipeline import PROJECT_ROOT, SHIPPED_RAW, pipeline_env, refuse_in_fast_tests
from .test_interrupted import kill_a_run_inside_dbt, run_statuses

READY_TIMEOUT = 180
RUN_TIMEOUT = 420

WORKSPACE = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name repositories { name } }
          ... on PythonError { message }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

ASSET_NODES = """
query {
  assetNodes {
    assetKey { path }
    groupName
    description
    assetChecksOrError {
      __typename
      ... on AssetChecks {
        checks { name description blocking executionForLatestMaterialization { status runId } }
      }
    }
  }
}
"""

SCHEDULES_AND_SENSORS = """
query ($selector: RepositorySelector!) {
  schedulesOrError(repositorySelector: $selector) {
    __typename
    ... on Schedules { results { name cronSchedule executionTimezone scheduleState { status } } }
  }
  sensorsOrError(repositorySelector: $selector) {
    __typename
    ... on Sensors { results { name sensorState { status } } }
  }
}
"""

LAUNCH = """
mutation ($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
  }
}
"""

RUN = """
query ($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId status jobName stats { ... on RunStatsSnapshot { stepsSucceeded stepsFailed } } }
  }
}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dagster:
    """A `dagster dev` of the test's own, and its GraphQL API."""

    def __init__(self, workdir: Path):
        refuse_in_fast_tests("dagster dev")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.home = home = workdir / "dagster_home"
        home.mkdir()
        shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
        self.warehouse = workdir / "warehouse" / "bulletin.duckdb"
        env = pipeline_env(SHIPPED_RAW, self.warehouse, workdir / "published", home)
        # A run killed inside dbt (kill -9) before the UI starts: it stays STARTED in the
        # instance, and the queue (one run at a time) must not wait for it for ever.
        kill_a_run_inside_dbt(env)
        assert run_statuses(home) == ["STARTED"]
        self.log = (workdir / "dagster-dev.log").open("w")
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "dagster"),
                "dev",
                "-m",
                "orchestration.definitions",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends it and its children only
        )
        self.pgid = os.getpgid(self.proc.pid)
        self.workdir = workdir

    def log_tail(self) -> str:
        self.log.flush()
        return (self.workdir / "dagster-dev.log").read_text(errors="replace")[-4000:]

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def wait_until_loaded(self) -> tuple[str, str]:
        """Poll until the webserver answers and the code location is loaded: its names."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"dagster dev exited:\n{self.log_tail()}"
            try:
                if requests.get(f"{self.url}/server_info", timeout=5).ok:
                    workspace = self.graphql(WORKSPACE)["workspaceOrError"]
                    entries = workspace.get("locationEntries", [])
                    for entry in entries:
                        location = entry["locationOrLoadError"] or {}
                        if location.get("__typename") == "PythonError":
                            pytest.fail(f"code location failed to load: {location['message']}")
                        if entry["loadStatus"] == "LOADED" and location.get("repositories"):
                            return location["name"], location["repositories"][0]["name"]
            except requests.RequestException:
                pass
            time.sleep(1)
        pytest.fail(f"dagster dev not ready after {READY_TIMEOUT}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM to the process group it started, then SIGKILL to whatever is left of it."""
        try:
            os.killpg(self.pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.killpg(self.pgid, 0)  # anything left in the group?
            except ProcessLookupError:
                break
            time.sleep(0.5)
        else:
            os.killpg(self.pgid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def dagster_dev(tmp_path):
    server = Dagster(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_dagster_dev_serves_the_graph_and_materializes_everything(dagster_dev):
    location, repository = dagster_dev.wait_until_loaded()
    selector = {"repositoryLocationName": location, "repositoryName": repository}

    # The graph reads like the pipeline, every asset and check says what it is.
    nodes = dagster_dev.graphql(ASSET_NODES)["assetNodes"]
    groups = {n["groupName"] for n in nodes}
    assert {"ingest", "staging", "intermediate", "marts", "publish"} <= groups
    assert all((n["description"] or "").strip() for n in nodes), [
        n["assetKey"]["path"] for n in nodes if not (n["description"] or "").strip()
    ]
    checks = {
        ("/".join(n["assetKey"]["path"]), c["name"]): c
        for n in nodes
        if n["assetChecksOrError"]["__typename"] == "AssetChecks"
        for c in n["assetChecksOrError"]["checks"]
    }
    assert len(checks) > 40
    assert all((c["description"] or "").strip() for c in checks.values())
    reconciliation = checks[("intermediate/int_bulletin__cells", "assert_bulletin_459_reproduced")]
    assert reconciliation["blocking"]
    unmapped = [c for (asset, name), c in checks.items() if name.startswith("every_name_mapped_stg_customs")]
    assert unmapped and unmapped[0]["blocking"]

    # The monthly schedule and the download sensor are on.
    automation = dagster_dev.graphql(SCHEDULES_AND_SENSORS, {"selector": selector})
    schedules = {s["name"]: s for s in automation["schedulesOrError"]["results"]}
    sensors = {s["name"]: s for s in automation["sensorsOrError"]["results"]}
    assert schedules["monthly_refresh"]["executionTimezone"] == "Asia/Taipei"
    assert schedules["monthly_refresh"]["scheduleState"]["status"] == "RUNNING"
    assert sensors["new_download_sensor"]["sensorState"]["status"] == "RUNNING"

    # Materialize everything, as the UI's button does: the run is queued, the daemon launches it.
    launched = dagster_dev.graphql(
        LAUNCH,
        {"params": {"selector": {**selector, "jobName": "refresh_bulletin"}, "runConfigData": {}}},
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    deadline = time.monotonic() + RUN_TIMEOUT
    status = None
    while time.monotonic() < deadline:
        run = dagster_dev.graphql(RUN, {"runId": run_id})["runOrError"]
        status = run["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(2)
    assert status == "SUCCESS", f"run {run_id} ended {status}:\n{dagster_dev.log_tail()}"
    # The run killed before was marked failed, so the queued one could start.
    assert run_statuses(dagster_dev.home) == ["FAILURE", "SUCCESS"]
    assert run["jobName"] == "refresh_bulletin"
    assert run["stats"]["stepsFailed"] == 0

    # Every check ran on the materialization this run made, and passed (warn-only ones may warn).
    nodes = dagster_dev.graphql(ASSET_NODES)["assetNodes"]
    results = {
        ("/".join(n["assetKey"]["path"]), c["name"]): (c["blocking"], c["executionForLatestMaterialization"])
        for n in nodes
        if n["assetChecksOrError"]["__typename"] == "AssetChecks"
        for c in n["assetChecksOrError"]["checks"]
    }
    not_run = [key for key, (_, run) in results.items() if not run or run["runId"] != run_id]
    assert not not_run, f"checks not evaluated on this run's materialization: {not_run}"
    failed = [
        key
        for key, (blocking, execution) in results.items()
        if execution["status"] != "SUCCEEDED" and (blocking or execution["status"] != "FAILED")
    ]
    assert not failed, f"checks that did not pass: {failed}"
    assert dagster_dev.warehouse.exists()

"""The tests' dbt fork server (tests/cli_forkserver.py): its client behaves as `dbt` does (exit
code, output, signals), several commands run at once, a killed client takes its dbt command
with it, and the server imports nothing of the project. On a tiny dbt project of the test's
own (a parse of a second): no pipeline run, but slow all the same (some twenty seconds of dbt
commands), and of use only to the tests that run dbt: not in `make test-fast`."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .pipeline import cli_fork_server, dbt_client

pytestmark = pytest.mark.slow

REAL_DBT = str(Path(sys.executable).parent / "dbt")

PROFILE = """
tiny:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('TINY_WAREHOUSE') }}"
      threads: 1
      settings:
        threads: 1
"""
# a model whose build takes minutes: a dbt command still running when the test acts
SLOW = "{{ config(materialized='table') }} select count(*) as n from range(1000000000000) where hash(range) = 0"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    project = tmp_path / "tiny"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text('name: tiny\nversion: "1.0"\nprofile: tiny\n')
    (project / "profiles.yml").write_text(PROFILE)
    (project / "models" / "one.sql").write_text("select 1 as one\n")
    (project / "models" / "slow.sql").write_text(SLOW)
    return project


def _env(project: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TINY_WAREHOUSE": str(project.parent / "tiny.duckdb"),
        "DBT_PROFILES_DIR": str(project),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def _dbt(dbt: str, project: Path, *args: str) -> subprocess.CompletedProcess:
    target = project.parent / f"target-{time.monotonic_ns()}"  # a full parse each: the same work
    return subprocess.run(
        [dbt, *args, "--target-path", str(target), "--log-path", str(target / "logs")],
        cwd=project, env=_env(project), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _without_times(text: str) -> str:
    return re.sub(r"\d\d:\d\d:\d\d", "hh:mm:ss", text)


def test_the_client_answers_as_dbt_does_for_a_passing_and_a_failing_command(tiny):
    passing = ("ls", "--quiet")
    done = _dbt(dbt_client(), tiny, *passing)  # what the real dbt prints
    assert (done.returncode, done.stdout, done.stderr) == (0, "tiny.one\ntiny.slow\n", ""), done.stdout
    (tiny / "models" / "broken.sql").write_text("select * from {{ ref('no_such_model') }}\n")
    real, forked = _dbt(REAL_DBT, tiny, *passing), _dbt(dbt_client(), tiny, *passing)
    assert real.returncode == forked.returncode == 2
    assert "depends on a node named 'no_such_model'" in real.stdout
    assert _without_times(forked.stdout) == _without_times(real.stdout)
    # a usage error: click's message names the program `dbt`, on stderr, as the real dbt's does
    forked = _dbt(dbt_client(), tiny, "ls", "--resource-type", "nonsense")
    assert (forked.returncode, forked.stdout) == (2, "")
    assert forked.stderr.startswith("Usage: dbt ls") and "Error: Invalid value for '--resource-types'" in forked.stderr


def test_two_commands_at_once(tiny):
    env = _env(tiny)
    procs = [
        subprocess.Popen(
            [dbt_client(), "ls", "--quiet", "--select", name, "--target-path", str(tiny.parent / f"t-{name}")],
            cwd=tiny, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in ("one", "slow")
    ]  # fmt: skip
    outs = [proc.communicate(timeout=300) for proc in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [out for out, _ in outs] == ["tiny.one\n", "tiny.slow\n"]


def _dbt_child(server: int, project: Path, timeout: float = 120) -> int:
    """The server's child that runs a dbt command in ``project`` (its working folder)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in subprocess.run(["pgrep", "-P", str(server)], capture_output=True, text=True).stdout.split():
            try:
                if os.readlink(f"/proc/{pid}/cwd") == str(project):
                    return int(pid)
            except OSError:
                continue
        time.sleep(0.1)
    raise AssertionError("no dbt command of the test's among the fork server's children")


def _gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)  # a zombie still answers: the server reaps it within a second
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _start_slow_build(project: Path) -> subprocess.Popen:
    target = project.parent / "t-slow"
    return subprocess.Popen(
        [dbt_client(), "run", "--select", "slow", "--target-path", str(target), "--log-path", str(target)],
        cwd=project, env=_env(project), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for_the_slow_query(project: Path, child: int, timeout: float = 120) -> None:
    """Until dbt has started the slow model and DuckDB works on its query (a second of CPU
    since): an interrupt before the query runs is not one dbt can cancel."""
    log = project.parent / "t-slow" / "dbt.log"
    deadline = time.monotonic() + timeout
    started = None
    while time.monotonic() < deadline:
        if started is None and log.exists() and "START sql table model main.slow" in log.read_text(errors="replace"):
            started = _cpu_seconds(child)
        if started is not None and _cpu_seconds(child) > started + 1:
            return
        time.sleep(0.2)
    raise AssertionError("dbt never started the slow model's query")


@contextlib.contextmanager
def _slow_build(project: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """The client of a dbt command that runs for ever, and its dbt child, busy on the query; the
    client killed at the end whatever happened (and so the child: no query left running)."""
    server, _ = cli_fork_server("dbt")
    client = _start_slow_build(project)
    try:
        child = _dbt_child(server, project)
        _wait_for_the_slow_query(project, child)
        yield client, child
    finally:
        if client.poll() is None:
            client.kill()
        client.communicate(timeout=30)


def test_a_client_killed_takes_its_dbt_command_with_it(tiny):
    with _slow_build(tiny) as (client, child):
        client.kill()
        client.communicate(timeout=30)
        assert _gone(child), f"dbt ({child}) still runs after its client was killed"


def test_sigint_to_the_client_interrupts_dbt(tiny):
    """As dagster-dbt stops dbt: SIGINT; dbt cancels its query and exits with an error. dbt may
    miss an interrupt that comes between two of its steps, so it is sent again (as a user presses
    Ctrl-C again) until dbt stops: each reaches dbt only through the client."""
    with _slow_build(tiny) as (client, child):
        out = ""
        for _ in range(6):
            client.send_signal(signal.SIGINT)
            try:
                out, _ = client.communicate(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
        assert client.returncode is not None and client.returncode != 0, "dbt did not stop on SIGINT"
        assert "Exited because of keyboard interrupt" in out, out[-3000:]
        assert _gone(child)


def test_the_server_has_one_thread_and_imports_nothing_of_the_project():
    server, status = cli_fork_server("dbt")
    assert status == {"threads": 1, "orchestration_modules": []}
    assert "\nThreads:\t1\n" in Path(f"/proc/{server}/status").read_text()  # none of DuckDB's either

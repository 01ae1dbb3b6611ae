"""Run the whole pipeline as a user does, against a raw folder, warehouse and publish folder of a test's own."""

from __future__ import annotations

import atexit
import contextlib
import csv
import json
import os
import pickle
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
from filelock import FileLock

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_RAW = PROJECT_ROOT / "raw"
T = TypeVar("T")
PRINTED_CELLS = PROJECT_ROOT / "dbt_project" / "seeds" / "bulletin_459_printed_cells.csv"


@dataclass(frozen=True)
class PipelineRun:
    raw_dir: Path
    warehouse: Path
    publish_dir: Path
    returncode: int
    stdout: str
    stderr: str

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def cells(self) -> dict[tuple[str, str, str, str], tuple[float, int]]:
        rows = self.query('select "table", measure, series, period, value, decimals from marts.fct_bulletin_cells')
        return {tuple(r[:4]): (r[4], r[5]) for r in rows}


# dbt's own log file (target/…/dbt.log, every query at debug level) is for a person looking into a
# run; no test reads it but the fork server's, which asks for it. Writing it costs each `dbt build`
# of the shipped data about 0.7 CPU-s of its 9 (dbt formats every event for it, at any level but
# none), and the tests run dbt some fifty times. What the run itself reads from dbt (its stdout
# events, run_results.json) is unchanged.
NO_DBT_LOG_FILE = {"DBT_LOG_LEVEL_FILE": "none"}


def pipeline_env(raw_dir: Path, warehouse: Path, publish_dir: Path, dagster_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        NO_DBT_LOG_FILE,
        BULLETIN_DBT_EXECUTABLE=dbt_client(),
        BULLETIN_RAW_DIR=str(raw_dir),
        BULLETIN_WAREHOUSE=str(warehouse),
        BULLETIN_PUBLISH_DIR=str(publish_dir),
        DAGSTER_HOME=str(dagster_home),
        DO_NOT_TRACK="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


# `make test-fast` sets this: a test that runs the whole pipeline (or Dagster's webserver) is a
# slow one, and must say so with @pytest.mark.slow; the fast suite then leaves it out.
FAST_ONLY = "BULLETIN_FAST_TESTS"


def refuse_in_fast_tests(what: str) -> None:
    if os.environ.get(FAST_ONLY):
        import pytest

        pytest.fail(f"{what} in the fast suite: mark the test @pytest.mark.slow")


def _stop(server: subprocess.Popen) -> None:
    """End a fork server: it ends when its input does; killed if it has not within 30 s."""
    server.stdin.close()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


class _ForkServer:
    """This worker's tests/forkserver.py: runs `python -m orchestration.cli …` as forked children
    of a process that imported the pipeline's libraries once (a third of each run's time)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def _started(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.forkserver"],
                cwd=PROJECT_ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
        return self.proc

    def _answer(self, proc: subprocess.Popen, timeout: float) -> dict:
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if ready else ""
        if not line:
            proc.kill()
            self.proc = None
            raise RuntimeError(f"the fork server gave no answer within {timeout:.0f} s")
        return json.loads(line)

    def start(self, argv: list[str], cwd: Path, env: dict[str, str], out: Path, err: Path) -> int:
        """Start a child (in a session of its own: its process group is its pid); its pid. The
        next call must be :meth:`wait` (one child at a time)."""
        proc = self._started()
        request = {"argv": argv, "cwd": str(cwd), "env": env, "stdout": str(out), "stderr": str(err)}
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        return self._answer(proc, 60)["pid"]

    def wait(self, pid: int, timeout: float) -> int:
        """The started child's return code (negative: the signal that ended it); killed if it has
        not ended within ``timeout`` seconds."""
        try:
            return self._answer(self.proc, timeout)["returncode"]
        except RuntimeError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            raise

    def close(self) -> None:
        """At the session's end: the server ends when its input does; wait for it (no orphan)."""
        if self.proc is not None and self.proc.poll() is None:
            _stop(self.proc)


_FORK_SERVER = _ForkServer()
atexit.register(_FORK_SERVER.close)


def start_cli(argv: list[str], cwd: Path, env: dict[str, str], logs: Path) -> int:
    """Start `python -m orchestration.cli <argv>` as run_cli does, without waiting: the pid of its
    process, which leads its own process group. Follow with :func:`wait_cli`."""
    logs.mkdir(parents=True, exist_ok=True)
    return _FORK_SERVER.start(argv, cwd, env, logs / "cli.stdout", logs / "cli.stderr")


def wait_cli(pid: int, timeout: float = 900) -> int:
    """The return code of the command :func:`start_cli` started (negative: the signal that ended it)."""
    return _FORK_SERVER.wait(pid, timeout)


class _CommandForkServer:
    """This worker's tests/cli_forkserver.py for one tool (dbt or dagster): every command of it the
    tests cause runs as a forked child of a process that imported the tool once (2.5 CPU-s of each
    `dbt` process, 4 of each `dagster` one), through the client script it writes (for dbt,
    ``BULLETIN_DBT_EXECUTABLE``), in a temporary folder of its own. Started when first asked for."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.proc: subprocess.Popen | None = None
        self.folder: Path | None = None
        self.status: dict = {}  # what the server says once it is ready (tests/cli_forkserver.py)

    def client(self) -> str:
        if self.proc is None or self.proc.poll() is not None:
            self.close()
            self.folder = Path(tempfile.mkdtemp(prefix=f"bulletin-{self.tool}-"))
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.cli_forkserver", self.tool, str(self.folder / "socket"),
                 str(self.folder / self.tool)],
                cwd=PROJECT_ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,  # a test that kills a run's process group leaves it be
            )  # fmt: skip
            ready, _, _ = select.select([self.proc.stdout], [], [], 120)
            line = self.proc.stdout.readline() if ready else ""
            if not line:
                self.close()
                raise RuntimeError(f"the {self.tool} fork server (tests/cli_forkserver.py) did not start")
            self.status = json.loads(line)
        return str(self.folder / self.tool)

    def close(self) -> None:
        """At the session's end: the server ends when its input does (and kills any child left)."""
        if self.proc is not None:
            _stop(self.proc)
            self.proc.stdout.close()
            self.proc = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


_CLI_FORK_SERVERS = {tool: _CommandForkServer(tool) for tool in ("dbt", "dagster")}
for _server in _CLI_FORK_SERVERS.values():
    atexit.register(_server.close)


def dbt_client() -> str:
    """The `dbt` every test runs (called as dbt is): this worker's dbt fork server's client."""
    return _CLI_FORK_SERVERS["dbt"].client()


def dagster_client() -> str:
    """The `dagster` the tests run (called as the venv's `dagster` is): this worker's dagster
    fork server's client."""
    return _CLI_FORK_SERVERS["dagster"].client()


def cli_fork_server(tool: str) -> tuple[int, dict]:
    """This worker's fork server of ``tool`` (started if need be): its pid, and what it said when
    ready."""
    server = _CLI_FORK_SERVERS[tool]
    server.client()
    return server.proc.pid, server.status


def loaded_warehouse(warehouse: Path, raw: Path = SHIPPED_RAW) -> Path:
    """``warehouse`` with every source of ``raw`` loaded, as ingestion leaves it (the raw schema)."""
    from orchestration.ingest.loader import load_source
    from orchestration.ingest.sources import SPECS

    with duckdb.connect(str(warehouse)) as con:
        for source in SPECS:
            load_source(con, source, raw)
    return warehouse


def run_dbt(args: list[str], project: Path, warehouse: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """`dbt <args>` (through this worker's dbt fork server) in the dbt project ``project``, its
    profile on ``warehouse``; what it printed is in the result."""
    env = {
        **os.environ,
        **NO_DBT_LOG_FILE,
        "BULLETIN_WAREHOUSE": str(warehouse),
        "DBT_PROFILES_DIR": str(project),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    return subprocess.run([dbt_client(), *args], cwd=project, env=env, capture_output=True, text=True, timeout=timeout)


def run_cli(argv: list[str], cwd: Path, env: dict[str, str], logs: Path, timeout: float = 900) -> tuple[int, str, str]:
    """`python -m orchestration.cli <argv>` in ``cwd`` with ``env``, in a process of its own (a
    child of this worker's fork server); its return code, stdout and stderr (also kept in ``logs``)."""
    code = wait_cli(start_cli(argv, cwd, env, logs), timeout)
    out, err = (_read(logs / f"cli.{stream}") for stream in ("stdout", "stderr"))
    return code, out, err


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def run_pipeline(workdir: Path, raw_dir: Path, *, warehouse: Path | None = None) -> PipelineRun:
    """`python -m orchestration.cli run` (what `make run` calls) in a folder of the test's own."""
    refuse_in_fast_tests("a full pipeline run")
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse = warehouse or workdir / "warehouse" / "bulletin.duckdb"
    publish_dir = workdir / "published"
    dagster_home = workdir / "dagster_home"
    dagster_home.mkdir(exist_ok=True)
    env = pipeline_env(raw_dir, warehouse, publish_dir, dagster_home)
    code, stdout, stderr = run_cli(["run"], PROJECT_ROOT, env, dagster_home / "logs")
    return PipelineRun(raw_dir, warehouse, publish_dir, code, stdout, stderr)


def made_once(tmp_path_factory, name: str, make: Callable[[Path], T]) -> T:
    """``make(folder)`` once a test session, whichever pytest-xdist worker asks first (under a
    file lock); the others get what it returned, kept as a pickle beside the folder it made."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, above each worker's own
    record = root / f"{name}.pickle"
    with FileLock(root / f"{name}.lock"):
        if record.exists():
            return pickle.loads(record.read_bytes())  # noqa: S301 - written by this session
        folder = root / name
        folder.mkdir(exist_ok=True)
        made = make(folder)
        record.write_bytes(pickle.dumps(made))
        return made


def copy_shipped_raw(target: Path) -> Path:
    shutil.copytree(SHIPPED_RAW, target)
    return target


def printed_cells() -> dict[tuple[str, str, str, str], tuple[float, int]]:
    """The bulletin's printed cells (the project's own copy of published_tables.csv)."""
    with PRINTED_CELLS.open(encoding="utf-8-sig", newline="") as f:
        return {
            (r["table"], r["measure"], r["series"], r["period"]): (float(r["value"]), int(r["decimals"]))
            for r in csv.DictReader(f)
        }


def compare_cells(got: dict, expected: dict) -> list[str]:
    """compare_cells.py's semantics: every expected cell present, same number, same decimals."""
    bad = []
    for key, (value, decimals) in expected.items():
        if key not in got:
            bad.append(f"missing  {'/'.join(key)}  expected {value}")
        elif abs(got[key][0] - value) > 1e-9:
            bad.append(f"differs  {'/'.join(key)}  got {got[key][0]}  expected {value}")
        elif got[key][1] != decimals:
            bad.append(f"decimals {'/'.join(key)}  got {got[key][1]}  expected {decimals}")
    return bad

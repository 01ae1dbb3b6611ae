"""A process that imports the pipeline's libraries once and forks a fresh child per pipeline run.

`python -m orchestration.cli run` spends about a third of its CPU importing dagster,
dagster-dbt (and with it dbt-core), pandas and matplotlib, before it does anything. The tests
run the pipeline some thirty times, so each pytest worker starts one of these servers; each
run is then a child forked from it, with the libraries already imported but none of the
project's own modules: the child sets the run's environment and working folder and runs
``orchestration.cli`` as ``python -m`` would, so the project's code (and the settings it reads
from the environment when imported) is loaded fresh, in a process of its own, every run.

Protocol: one JSON request a line on stdin (``argv``, ``cwd``, ``env``, ``stdout``, ``stderr``:
the files the child's output goes to); one JSON answer a line on stdout (``pid`` when the
child started, then ``returncode`` and ``cpu_seconds``, its and its children's, when it ended). One run at a time.
"""

from __future__ import annotations

import json
import os
import sys

# What orchestration imports from outside the project (tests/test_forkserver.py checks that
# this list still covers them). Never the project's own modules: those must load in the child.
PRELOAD = (
    "dagster",
    "dagster_dbt",
    "dagster_dbt.core.resource",
    "dbt.adapters.duckdb",
    "duckdb",
    "blake3",
    "pandas",
    "matplotlib",
    "matplotlib.figure",
    "matplotlib.font_manager",
    "matplotlib.backends.backend_agg",
    "openpyxl",
    "lxml.html",
    "pycountry",
    "sqlalchemy",
    "fpdf",
    # the fetch (orchestration/fetch/http.py)
    "requests",
    "urllib3.util.retry",
    # what those import only when a run gets to it: dagster-dbt's selection (dbt's graph, networkx),
    # Dagster's storage (alembic, upath), the console (rich); about a second of each run's CPU
    "dbt.graph.cli",
    "networkx",
    "alembic",
    "upath",
    "rich.console",
    "fontTools.subset",
)


def preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    # Dagster imports its storage's modules when it opens an instance: one opened and closed
    # here (in memory, no thread, no file) leaves them imported for every run.
    import dagster

    with dagster.DagsterInstance.ephemeral():
        pass


def child(request: dict) -> None:
    """In the forked child: become ``python -m orchestration.cli <argv>`` in the request's setting."""
    import runpy

    code = 1
    try:
        os.setsid()  # a session and process group of its own, as a run started from a shell has
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(out)
        os.close(err)
        nul = os.open(os.devnull, os.O_RDONLY)
        os.dup2(nul, 0)
        os.close(nul)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # as `python -m` sets it: the working folder first, so the project there is the one imported
        sys.path[0] = request["cwd"]
        sys.argv = ["orchestration.cli", *request["argv"]]
        try:
            runpy.run_module("orchestration.cli", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported as the run's own crash would be
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        flush_output()
        os._exit(code)


def flush_output() -> None:
    """What the child printed, written out (``os._exit`` would leave it in the buffers)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001, S110 - a stream already closed has nothing to write
            pass


def serve() -> None:
    preload()
    answer = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(request)
        print(json.dumps({"pid": pid}), file=answer, flush=True)
        _, status, usage = os.wait4(pid, 0)
        cpu = round(usage.ru_utime + usage.ru_stime, 2)
        done = {"returncode": os.waitstatus_to_exitcode(status), "cpu_seconds": cpu}
        print(json.dumps(done), file=answer, flush=True)


if __name__ == "__main__":
    serve()

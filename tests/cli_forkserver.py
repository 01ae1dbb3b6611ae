"""For the tests only: a process that imports a command-line tool (dbt, or dagster) once and
forks a child per command.

Each `dbt` process spends about 2.5 CPU-s importing dbt (building its classes) before it does
anything, each `dagster` process about 4 importing Dagster, dagster-dbt and what the project's
definitions import, and the tests cause dozens of dbt commands and a few `dagster` ones (the
lock tests' runs outside any queue). This server imports one tool (never the project's own
modules) and listens on a Unix socket; the client script it writes beside the socket is called
exactly like the tool (`dbt <args>`: the tests set ``BULLETIN_DBT_EXECUTABLE`` to it, see
orchestration/project.py; `dagster <args>`: tests/test_orchestration.py starts it) and has a
child of the server run the command:

- the client sends its arguments, working folder and environment (one JSON line) with its
  stdin, stdout and stderr (``socket.send_fds``);
- the server forks; the child takes the client's three files as its own, its folder and
  environment, and runs the tool's console-script entry point as its console script does; it
  sends the client its pid, then its exit code, on the connection;
- the client forwards SIGINT and SIGTERM to the child (dagster-dbt interrupts dbt with SIGINT)
  and exits with the child's code; when the client is gone (killed), the child kills itself.

The server has one thread (safe to fork), reaps its children itself (so their CPU time is
counted in the server's parent's, as the tool's process's would be) and ends when its stdin
does (the test session's end), killing any child left.

``python -m tests.cli_forkserver <tool> <socket> <client>``: listen on ``<socket>``, write the
client script to ``<client>``, then print one JSON line when it is ready: its threads and the
project's modules it imported (1 and none: tests/test_dbt_forkserver.py and
tests/test_orchestration.py check).
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import sys
import threading
from pathlib import Path

# What a dbt command imports before it runs (dbt.cli.main imports its tasks, and dbt its adapter,
# only when a command needs them). Never the project's own modules. A `dagster` command imports
# what a pipeline run does (tests/forkserver.py's preload).
DBT_PRELOAD = (
    "dbt.cli.main",
    "dbt.adapters.duckdb",
    "dbt.adapters.duckdb.impl",
    "dbt.adapters.duckdb.environments.local",
    "dbt.parser.manifest",
    "dbt.parser.sql",
    "dbt.parser.schema_yaml_readers",
    "dbt.compilation",
    "dbt.task.build",
    "dbt.task.list",
    "dbt.task.debug",
    "dbt_common.clients.agate_helper",
    "daff",
    "babel.dates",
    "google.protobuf.descriptor_pb2",
    "multiprocessing.dummy",
    "multiprocessing.pool",
    "duckdb",
    "sqlparse",
)

CLIENT = """#!/bin/sh
# {tool} <args>, run by the tests' fork server (tests/cli_forkserver.py). sh runs this file again
# with Python, for which the next line is only a string.
'exec' {python} '-IS' "$0" "$@"
import sys
sys.path.insert(0, {tests})
from cli_forkserver import client
client({tool!r}, {socket})
"""


def preload(tool: str) -> None:
    import importlib

    if tool == "dagster":
        from tests.forkserver import preload as pipeline_preload

        pipeline_preload()
    else:
        for name in DBT_PRELOAD:
            importlib.import_module(name)
    entry_point(tool)


def entry_point(tool: str):
    """What the tool's console script (`.venv/bin/<tool>`) calls."""
    from importlib.metadata import entry_points

    (found,) = entry_points(group="console_scripts", name=tool)
    return found.load()


def write_client(path: Path, tool: str, socket_path: Path) -> None:
    """The client script: a `<tool>` that has this server run the command."""
    text = CLIENT.format(
        python="'{}'".format(sys.executable.replace("'", "'\"'\"'")),  # a string to sh and Python
        tests=repr(str(Path(__file__).resolve().parent)),
        tool=tool,
        socket=repr(str(socket_path)),
    )
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


# --- the server ------------------------------------------------------------------------------


def serve(tool: str, socket_path: Path, client_path: Path) -> socket.socket | None:
    """Fork a child per connection until stdin ends; returns only in a child, its connection."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(socket_path))
    listener.listen(64)
    preload(tool)
    gc.freeze()  # what the tool's import made is never collected: no child's collection walks it
    write_client(client_path, tool, socket_path)
    project = sorted(m for m in sys.modules if m.split(".")[0] == "orchestration")
    print(json.dumps({"threads": threading.active_count(), "orchestration_modules": project}), flush=True)
    children: set[int] = set()
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [], 1.0)
        _reap(children)
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 4096):
            break  # the session ended
        if listener in ready:
            conn, _ = listener.accept()
            pid = os.fork()
            if pid == 0:
                listener.close()
                return conn
            conn.close()
            children.add(pid)
    for pid in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    socket_path.unlink(missing_ok=True)
    return None


def _reap(children: set[int]) -> None:
    while children:
        pid, _ = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        children.discard(pid)


# --- the child -------------------------------------------------------------------------------


def _request(conn: socket.socket) -> tuple[dict, list[int]]:
    """The client's three files (with a first byte), then its request, a JSON line."""
    _, fds, _, _ = socket.recv_fds(conn, 1, 3)
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(1 << 16)
        if not chunk:
            raise EOFError("the client left before its request was complete")
        data += chunk
    return json.loads(data), fds


def _die_with_client(conn: socket.socket, done: threading.Event) -> None:
    """The client never writes after its request: the connection's end means it is gone."""
    try:
        while conn.recv(1):
            pass
    except OSError:
        pass
    if not done.is_set():
        os.kill(os.getpid(), signal.SIGKILL)


def run_command(tool: str, conn: socket.socket) -> int:
    """In a forked child: `<tool> <argv>` in the client's folder, environment and files; its exit
    code (sent to the client too). The child then exits as the tool's own process would."""
    from tests.forkserver import flush_output  # here: the client, which imports this module, has no `tests`

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    done = threading.Event()
    code = 1
    try:
        request, fds = _request(conn)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdout.reconfigure(line_buffering=os.isatty(1))
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [tool, *request["argv"]]
        # as in the console script's process: click names the program from sys.argv[0] ("Usage:
        # dbt ls ..."), not from this module's (python -m tests.cli_forkserver)
        main = sys.modules["__main__"]
        main.__spec__, main.__package__ = None, None
        threading.Thread(target=_die_with_client, args=(conn, done), daemon=True).start()
        conn.sendall(f"{os.getpid()}\n".encode())
        try:
            # as the tool's console script: click exits with the command's code
            returned = entry_point(tool)()
            code = returned if isinstance(returned, int) else 0
        except SystemExit as exc:
            if isinstance(exc.code, int) or exc.code is None:
                code = exc.code or 0
            else:  # as Python reports sys.exit("message")
                print(exc.code, file=sys.stderr)
        except KeyboardInterrupt:
            code = 128 + signal.SIGINT
    except BaseException:  # noqa: BLE001 - reported as the tool's own crash would be
        import traceback

        traceback.print_exc()
    finally:
        flush_output()
        done.set()
        try:
            conn.sendall(f"{code}\n".encode())
        except OSError:
            pass
    return code


# --- the client ------------------------------------------------------------------------------


def client(tool: str, socket_path: str) -> None:
    """`<tool> <sys.argv[1:]>` through the server at ``socket_path``; exits with its code."""
    child: list[int] = []
    received: list[int] = []

    def forward(signum: int, frame: object) -> None:
        received.append(signum)
        if child:
            try:
                os.kill(child[0], signum)
            except ProcessLookupError:
                pass

    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:  # ignored: as the tool would ignore it
            signal.signal(signum, forward)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(socket_path)
    except OSError as exc:
        sys.exit(f"{tool} (tests/cli_forkserver.py): no {tool} fork server at {socket_path}: {exc}")
    request = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}
    socket.send_fds(sock, [b"R"], [0, 1, 2])
    sock.sendall(json.dumps(request).encode() + b"\n")
    answers = sock.makefile("rb")
    pid = answers.readline().strip()
    if pid:
        child.append(int(pid))
        for signum in received:  # before the command started
            os.kill(child[0], signum)
        code = answers.readline().strip()
        if code:
            sys.exit(int(code))
    if received:  # the tool died of the signal passed on: so does its caller's client
        signal.signal(received[-1], signal.SIG_DFL)
        os.kill(os.getpid(), received[-1])
    which = f"the {tool} process {pid.decode()}" if pid else f"the {tool} process (not started)"
    sys.exit(f"{tool} (tests/cli_forkserver.py): {which} ended without an exit code")


if __name__ == "__main__":
    connection = serve(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
    if connection is not None:  # in a forked child
        sys.exit(run_command(sys.argv[1], connection))

"""The test harness's fork server (tests/forkserver.py) preloads what the pipeline imports, and
nothing of the project's own, in a process with one thread (safe to fork)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from .forkserver import PRELOAD
from .pipeline import PROJECT_ROOT


def third_party_imports() -> set[str]:
    names = set()
    for path in (PROJECT_ROOT / "orchestration").rglob("*.py"):
        if "maintenance" in path.parts:
            continue  # runs in its own venv, never in a pipeline run
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("orchestration", "__future__")}


# Imported by the pipeline but cheap (or only on a path the tests seldom take): no need to preload.
CHEAP = {"packaging", "filelock", "yaml", "fontTools", "numpy"}


def test_the_fork_server_preloads_every_library_the_pipeline_imports():
    preloaded = {name.split(".")[0] for name in PRELOAD}
    missing = third_party_imports() - preloaded - CHEAP
    assert not missing, f"add to tests/forkserver.py PRELOAD (or to CHEAP here): {sorted(missing)}"


@pytest.mark.slow  # imports dagster and dbt: seconds
def test_the_fork_server_preloads_in_one_thread_and_imports_nothing_of_the_project():
    code = (
        "import sys, threading; from tests.forkserver import preload; preload(); "
        "print(threading.active_count(), sorted(m for m in sys.modules if m.split('.')[0] == 'orchestration'))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split(None, 1) == ["1", "[]\n"], out.stdout + out.stderr

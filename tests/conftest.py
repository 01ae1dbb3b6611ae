"""Shared fixtures: one full pipeline run on the shipped downloads per test session.

`make test` runs the suite in several pytest-xdist workers; the shipped run is still made once:
the first worker to ask makes it, under a file lock, and the others read what it recorded.
Tests only read it (or copy it), so sharing it between workers is as safe as between tests.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
from filelock import FileLock

from .pipeline import SHIPPED_RAW, PipelineRun, run_pipeline


def _shipped(workdir: Path) -> PipelineRun:
    run = run_pipeline(workdir, SHIPPED_RAW)
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> PipelineRun:
    """The whole pipeline on the shipped raw/, into a temporary warehouse (tens of seconds: run once)."""
    if worker_id == "master":  # not under xdist
        return _shipped(tmp_path_factory.mktemp("shipped"))
    shared = tmp_path_factory.getbasetemp().parent  # the same folder for every worker
    record = shared / "shipped_run.json"
    with FileLock(shared / "shipped_run.lock"):
        if record.exists():
            fields = json.loads(record.read_text(encoding="utf-8"))
            return PipelineRun(**{k: Path(v) if k in PATH_FIELDS else v for k, v in fields.items()})
        run = _shipped(shared / "shipped")
        record.write_text(json.dumps(asdict(run), default=str), encoding="utf-8")
        return run


PATH_FIELDS = ("raw_dir", "warehouse", "publish_dir")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that reads the shared pipeline run is a slow one (make test-fast leaves it out)."""
    for item in items:
        if "shipped_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)

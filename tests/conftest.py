"""Shared fixtures: one full pipeline run on the shipped downloads per test session.

`make test` runs the suite in several pytest-xdist workers, a test module to a worker
(``--dist loadscope``), so a module's own runs (module-scoped fixtures) are made once; the runs
several modules share are made once too, by whichever worker asks first (tests/pipeline.py's
``made_once``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .pipeline import SHIPPED_RAW, PipelineRun, made_once, run_pipeline


def _shipped(workdir: Path) -> PipelineRun:
    run = run_pipeline(workdir, SHIPPED_RAW)
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """The whole pipeline on the shipped raw/, into a temporary warehouse (tens of seconds: run once)."""
    return made_once(tmp_path_factory, "shipped", _shipped)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that reads the shared pipeline run is a slow one (make test-fast leaves it out)."""
    for item in items:
        if "shipped_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)

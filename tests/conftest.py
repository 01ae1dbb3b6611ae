"""Shared fixtures: one full pipeline run on the shipped downloads per test session."""

from __future__ import annotations

import pytest

from .pipeline import SHIPPED_RAW, PipelineRun, run_pipeline


@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """The whole pipeline on the shipped raw/, into a temporary warehouse (tens of seconds: run once)."""
    run = run_pipeline(tmp_path_factory.mktemp("shipped"), SHIPPED_RAW)
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that reads the shared pipeline run is a slow one (make test-fast leaves it out)."""
    for item in items:
        if "shipped_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)

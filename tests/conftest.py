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


# The modules that take longest, longest first (measured on 2 cores; the others follow in
# file order). `make test` hands modules to its workers in this order (pytest-xdist's
# --dist loadscope --no-loadscope-reorder): the long ones start first and the short ones fill
# the end, so neither worker waits idle for the other. The first two, one to each worker, make
# the runs the others share (test_plausibility the shipped run) or need none (test_warehouse_
# commands), so one worker never waits for a shared run the other is making; test_revisions,
# fourth, makes the scenario while the first worker is still busy. Only the order depends on
# this list: a module missing from it, or a name no longer a module, changes nothing else.
LONGEST_FIRST = (
    "test_plausibility",
    "test_warehouse_commands",
    "test_orchestration",
    "test_revisions",
    "test_incremental_models",
    "test_webserver",
    "test_interrupted",
    "test_moea_layouts",
    "test_itc_layouts",
    "test_partner_names",
    "test_publish",
    "test_lint",
    "test_roll_forward",
    "test_api_sources",
    "test_draft",
    "test_customs_fast_pass",
    "test_failed_runs_change_nothing",
    "test_dbt_unit",
    "test_dbt_forkserver",
    "test_dbt_contracts_and_freshness",
    "test_mart_constraints",
    "test_fetch",
)


def _module_rank(item: pytest.Item) -> int:
    name = item.path.stem
    return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that reads the shared pipeline run is a slow one (make test-fast leaves it out);
    the modules run longest first (``LONGEST_FIRST``), each module's tests in their own order."""
    for item in items:
        if "shipped_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
    items.sort(key=_module_rank)

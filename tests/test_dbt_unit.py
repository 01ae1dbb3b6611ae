"""dbt's unit tests (the `unit_tests:` of the model ymls: vintaging, revisions, the gates, periods,
cells), in the fast suite: the shipped downloads are loaded into a scratch warehouse, then every
seed and model is built empty (`dbt build --empty`, so each relation exists with its types) and
every unit test runs on its own fixtures. No full pipeline run."""

from __future__ import annotations

import re

from orchestration.settings import DBT_PROJECT_DIR

from .pipeline import loaded_warehouse, run_dbt


def test_every_dbt_unit_test_passes(tmp_path):
    warehouse = loaded_warehouse(tmp_path / "bulletin.duckdb")
    done = run_dbt(
        [
            "build", "--empty", "--target-path", str(tmp_path / "target"),
            "--log-path", str(tmp_path / "logs"),
            "--select", "resource_type:unit_test resource_type:model resource_type:seed",
        ],
        DBT_PROJECT_DIR, warehouse,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
    unit_tests = re.findall(r"START unit_test (\S+::\S+)", done.stdout)
    assert len(unit_tests) >= 13, done.stdout[-3000:]
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0", done.stdout), done.stdout[-3000:]

"""The marts' contracts enforce their keys and values when dbt builds them.

Every mart has an enforced contract (tests/test_dbt_contracts_and_freshness.py); its yml gives
the columns that may never be empty (``not_null``), the keys (``unique``, ``primary_key``) and
the values a column may take (``check``) as constraints, which DuckDB enforces when dbt fills
the table: a mart that breaks one is never created, the build fails naming the mart and the
rule, and nothing downstream (the publication) runs. These replace the dbt data tests that
checked the same on the built table, so a refresh runs some ninety fewer queries and Dagster
records ninety fewer check results.

The proof: a copy of the project where three marts break one rule each, built on the shipped
downloads; each fails with DuckDB's constraint error.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from .pipeline import loaded_warehouse, run_dbt
from .test_dbt_contracts_and_freshness import _copy_project, _manifest, _marts

BROKEN = {
    # a key twice: every cell of the bulletin a second time
    "fct_bulletin_cells": (
        "* from original union all select *",
        "PRIMARY KEY or UNIQUE constraint violation: duplicate key",
    ),
    # a column that may never be empty, empty
    "dim_bulletin_exhibits": ("* replace (cast(null as varchar) as title_zh)", "NOT NULL constraint failed"),
    # a value outside those the column may take
    "fct_bulletin_table1_exports_by_destination": ("* replace ('volume' as measure)", "CHECK constraint failed"),
}


def _wrap(project: Path, model: str, select: str) -> None:
    """The model's SQL as a CTE: ``with original as (<its SQL>) select <select> from original``."""
    path = project / "models" / "marts" / f"{model}.sql"
    path.write_text(
        f"with original as (\n{path.read_text(encoding='utf-8')}\n)\nselect {select} from original\n", encoding="utf-8"
    )


def test_no_mart_keeps_a_data_test_that_its_contract_could_enforce():
    """not_null, unique, accepted_values and unique_combination on a mart are constraints."""
    marts = {node["unique_id"] for node in _marts().values()}
    as_tests = sorted(
        node["name"]
        for node in _manifest()["nodes"].values()
        if node["resource_type"] == "test"
        and node.get("attached_node") in marts
        and (node.get("test_metadata") or {}).get("name")
        in ("not_null", "unique", "accepted_values", "unique_combination")
    )
    assert as_tests == []


@pytest.mark.slow  # a dbt build of three marts and everything they read: about ten seconds
def test_a_mart_that_breaks_a_constraint_is_not_built(tmp_path):
    project = _copy_project(tmp_path / "dbt_project")
    for model, (select, _) in BROKEN.items():
        _wrap(project, model, select)
    warehouse = loaded_warehouse(tmp_path / "bulletin.duckdb")
    selected = [f"+{model}" for model in BROKEN]
    done = run_dbt(
        ["build", "--select", *selected, "--exclude", "resource_type:test", "resource_type:unit_test"],
        project,
        warehouse,
    )
    out = done.stdout
    assert done.returncode != 0, out[-3000:]
    for model, (_, error) in BROKEN.items():
        assert f"ERROR creating sql table model marts.{model}" in out, out[-4000:]
        assert error in out.split(f"Failure in model {model} ")[1].split("Failure in model")[0], out[-4000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        built = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    assert not built & set(BROKEN), built

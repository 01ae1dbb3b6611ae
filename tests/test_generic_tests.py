"""The project's generic data test `unique_combination` (dbt_project/macros/tests), on tables of
its own: it fails for exactly the combinations that occur more than once.

It groups a 64-bit hash of each combination first and the columns themselves only where a hash
repeats (over the ten million rows of a full customs history that halves its cost), so the proof
is that it finds what grouping the columns finds: every repeated combination, with its count
(NULLs as equal, as GROUP BY has them), and nothing else. The macro's SQL is rendered by Jinja
as dbt renders it (a `{% test %}` block is a macro named `test_<name>`); no dbt run.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import jinja2
import pytest

from orchestration.settings import DBT_PROJECT_DIR

MACRO = DBT_PROJECT_DIR / "macros" / "tests" / "unique_combination.sql"
COLUMNS = ["download_date", "flow", "partner_name"]


def unique_combination_sql(model: str, columns: list[str]) -> str:
    text = MACRO.read_text(encoding="utf-8")
    text = re.sub(r"{%(-?)\s*test\s+", r"{%\1 macro test_", text)
    text = re.sub(r"{%(-?)\s*endtest\s*", r"{%\1 endmacro ", text)
    module = jinja2.Environment().from_string(text).module
    return str(module.test_unique_combination(model=model, combination_of_columns=columns))


def failures(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> list[tuple]:
    con.execute("CREATE OR REPLACE TABLE t (download_date DATE, flow VARCHAR, partner_name VARCHAR, value DOUBLE)")
    if rows:
        con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    return sorted(con.execute(unique_combination_sql("t", COLUMNS)).fetchall(), key=repr)


@pytest.fixture()
def con():
    with duckdb.connect() as con:
        yield con


def test_passes_a_table_whose_combinations_are_unique(con):
    rows = [("2024-10-14", "export", "美國", 1.0), ("2024-10-14", "export", "日本", 1.0),
            ("2024-11-12", "export", "美國", 1.0), ("2024-10-14", "import", "美國", 1.0)]  # fmt: skip
    assert failures(con, rows) == []
    assert failures(con, []) == []


def test_fails_for_each_repeated_combination_with_its_count(con):
    rows = [("2024-10-14", "export", "美國", 1.0), ("2024-10-14", "export", "美國", 2.0),
            ("2024-10-14", "export", "美國", 3.0), ("2024-10-14", "export", "日本", 1.0),
            ("2024-11-12", "import", None, 1.0), ("2024-11-12", "import", None, 1.0)]  # fmt: skip
    assert failures(con, rows) == sorted(
        [(dt.date(2024, 10, 14), "export", "美國", 3), (dt.date(2024, 11, 12), "import", None, 2)], key=repr
    )


def test_finds_what_grouping_the_columns_finds(con):
    """On 200,000 random rows with many repeats: the same failures as a plain GROUP BY."""
    con.execute(
        """CREATE OR REPLACE TABLE t AS
           SELECT DATE '2024-01-01' + (random() * 3)::INT AS download_date,
                  ['export', 'import', NULL][1 + (random() * 2.4)::INT] AS flow,
                  'partner ' || (random() * 400)::INT AS partner_name, random() AS value
           FROM range(200000)"""
    )
    by_hash = con.execute(unique_combination_sql("t", COLUMNS)).fetchall()
    by_columns = con.execute(
        "SELECT download_date, flow, partner_name, count(*) FROM t GROUP BY ALL HAVING count(*) > 1"
    ).fetchall()
    assert len(by_columns) > 1000
    assert sorted(by_hash, key=repr) == sorted(by_columns, key=repr)

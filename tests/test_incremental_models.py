"""The incremental dbt models: a warehouse built download by download holds what one built from
nothing holds.

The models over the observations (int_observations__unioned, __coverage, __vintaged, __revisions,
int_checks__lost_partners, int_checks__series) are dbt incremental models: a build processes only
the downloads added, changed or removed since the last one (macros/incremental_downloads.sql). One
warehouse is built step by step, as the downloads come:

1. the shipped downloads and the scenario's later MOEA download (2024-10-31, 2024's production a
   tenth), from nothing;
2. two later downloads added: customs (2024-11-12: a new month, 2024-10, and the month before no
   longer preliminary and revised) and the roll-forward test's GTA download (2024-11-10: September
   added, Taiwan's August revised, Thailand's August left out: revised to zero);
3. the GTA download changed in place (Taiwan's March revised as well), the MOEA and customs
   downloads removed.

After steps 2 and 3, every mart (fct_bulletin_cells among them) and every intermediate table is
compared with a warehouse built from nothing from the same files: identical rows. dbt is run
directly, as the dbt asset runs it (the loader, then `dbt build` with dbt_build_args(), no
--full-refresh), not the whole pipeline: five dbt builds, about two minutes.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from orchestration.assets.dbt_invocation import dbt_build_args
from orchestration.ingest.loader import load_source
from orchestration.ingest.sources import SPECS
from orchestration.settings import DBT_PROJECT_DIR

from .pipeline import NO_DBT_LOG_FILE, copy_shipped_raw, dbt_client
from .scenario import LATER_MOEA, revise_gta, scale_moea_2024
from .test_roll_forward import LATER as LATER_GTA
from .test_roll_forward import _later_gta_download

pytestmark = pytest.mark.slow

INCREMENTAL_MODELS = (
    "int_observations__unioned",
    "int_observations__coverage",
    "int_observations__vintaged",
    "int_observations__revisions",
    "int_checks__lost_partners",
    "int_checks__series",
)
LATER_CUSTOMS = "2024-11-12"
# The record of what each incremental model was built from: its own, not a table to compare.
STATE_TABLE = "incremental_downloads"
# When a build chose a row (int_observations__vintaged): the build's time, not data.
BUILD_TIME = "built_at"


def later_customs_download(raw: Path) -> None:
    """A customs download of 2024-11-12, from the shipped UTF-8 query: its preliminary month (113年9月)
    final and 1% higher, and the next month, 113年10月, preliminary, at 1.05 times September."""
    shipped = raw / "customs" / "2024-10-14" / "綜合查詢_20241014093544.csv"
    rows = list(csv.reader(io.StringIO(shipped.read_text(encoding="utf-8-sig"))))
    header, body = rows[0], rows[1:]
    period, value = header.index("日期"), header.index("美元(千元)")
    revised, added = [], []
    for row in body:
        if row[period] == "113年9月(初步值)":
            final, new = list(row), list(row)
            final[period], final[value] = "113年9月", str(round(int(row[value]) * 1.01))
            new[period], new[value] = "113年10月(初步值)", str(round(int(row[value]) * 1.05))
            revised.append(final)
            added.append(new)
        else:
            revised.append(row)
    assert added, "no preliminary month in the shipped customs download"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *revised, *added])
    target = raw / "customs" / LATER_CUSTOMS / "綜合查詢_20241112093000.csv"
    target.parent.mkdir(parents=True)
    target.write_text(out.getvalue(), encoding="utf-8-sig")


class Warehouses:
    """Warehouses built by dbt through one link, so every build reuses dbt's partial parse (the
    profile, which names the warehouse, stays the same). Each is a bulletin.duckdb of its own folder:
    DuckDB names the catalog after the file the link leads to, dbt after the link."""

    def __init__(self, work: Path):
        self.work = work
        self.link = work / "dbt" / "bulletin.duckdb"
        self.link.parent.mkdir()
        self.target = work / "dbt" / "target"

    def new(self, name: str) -> Path:
        folder = self.work / name
        folder.mkdir()
        return folder / "bulletin.duckdb"

    def build(self, raw: Path, warehouse: Path, args: list[str]) -> subprocess.CompletedProcess:
        with duckdb.connect(str(warehouse)) as con:
            for source in SPECS:
                load_source(con, source, raw)
        self.link.unlink(missing_ok=True)
        os.symlink(warehouse, self.link)
        env = {
            **os.environ,
            **NO_DBT_LOG_FILE,
            "BULLETIN_WAREHOUSE": str(self.link),
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        }
        try:
            return subprocess.run(
                [
                    dbt_client(), *args, "--target-path", str(self.target),
                    "--log-path", str(self.work / "dbt" / "logs"),
                ],
                cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900,
            )  # fmt: skip
        finally:
            self.link.unlink()

    def incremental(self, raw: Path, warehouse: Path) -> None:
        """The dbt asset's build (its tests too; the unit tests are test_dbt_unit's)."""
        done = self.build(raw, warehouse, dbt_build_args())
        assert done.returncode == 0, done.stdout[-4000:]

    def from_nothing(self, raw: Path, name: str) -> Path:
        """A warehouse built from nothing from ``raw``: its seeds and models (the tests are the
        incremental build's)."""
        warehouse = self.new(name)
        args = ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
        done = self.build(raw, warehouse, args)
        assert done.returncode == 0, done.stdout[-4000:]
        return warehouse

    def built_incrementally(self) -> dict[str, bool]:
        """Whether each incremental model's last build replaced partitions (its SQL as dbt ran it)."""
        run = self.target / "run" / "bulletin" / "models" / "intermediate"
        return {m: "delete from" in (run / f"{m}.sql").read_text().lower() for m in INCREMENTAL_MODELS}


def differences(built: Path, rebuilt: Path) -> list[str]:
    """Every table of marts and intermediate, as multisets of rows (the build time aside): what differs."""
    found = []
    with duckdb.connect() as con:
        con.execute(f"attach '{built}' as built (read_only)")
        con.execute(f"attach '{rebuilt}' as rebuilt (read_only)")

        def tables(db: str) -> set[tuple[str, str]]:
            return set(
                con.execute(
                    "select schema_name, table_name from duckdb_tables() where database_name = ? "
                    "and schema_name in ('marts', 'intermediate') and table_name <> ?",
                    [db, STATE_TABLE],
                ).fetchall()
            )

        both = tables("built")
        if both != tables("rebuilt"):
            found.append(f"tables differ: {sorted(both ^ tables('rebuilt'))}")
        for schema, table in sorted(both & tables("rebuilt")):
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from duckdb_columns() where database_name = 'rebuilt' "
                    "and schema_name = ? and table_name = ? and column_name <> ? order by column_index",
                    [schema, table, BUILD_TIME],
                ).fetchall()
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            a, b = f"built.{schema}.{table}", f"rebuilt.{schema}.{table}"
            only_built, only_rebuilt, rows = con.execute(
                f"select (select count(*) from (select {select} from {a} except all select {select} from {b})),"
                f" (select count(*) from (select {select} from {b} except all select {select} from {a})),"
                f" (select count(*) from {b})"
            ).fetchone()
            if only_built or only_rebuilt:
                found.append(
                    f"{schema}.{table}: {only_built} rows only built incrementally, {only_rebuilt} only "
                    f"rebuilt (of {rows})"
                )
        cells = con.execute("select count(*) from built.marts.fct_bulletin_cells").fetchone()[0]
        if not cells:
            found.append("marts.fct_bulletin_cells is empty")
    return found


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    """The warehouse built step by step, and one built from nothing after steps 2 and 3."""
    work = tmp_path_factory.mktemp("incremental_models")
    raw = copy_shipped_raw(work / "raw")
    dbt = Warehouses(work)
    warehouse = dbt.new("incremental")
    # 1. the shipped downloads and a later MOEA download, from nothing
    scale_moea_2024(next(raw.glob("moea/*/InquireAdvance*.xlsx")), raw / "moea" / LATER_MOEA / "InquireAdvance.xlsx")
    dbt.incremental(raw, warehouse)
    first = dbt.built_incrementally()

    # 2. two later downloads
    later_customs_download(raw)
    _later_gta_download(raw)
    dbt.incremental(raw, warehouse)
    second = dbt.built_incrementally()
    after_2 = dbt.new("after_2")
    shutil.copyfile(warehouse, after_2)
    rebuilt_2 = dbt.from_nothing(raw, "rebuilt_2")

    # 3. the GTA download changed in place, the MOEA and customs downloads removed
    later_gta = next((raw / "gta" / LATER_GTA).glob("GTA_*.csv"))
    revise_gta(later_gta, later_gta)
    shutil.rmtree(raw / "moea" / LATER_MOEA)
    shutil.rmtree(raw / "customs" / LATER_CUSTOMS)
    dbt.incremental(raw, warehouse)
    third = dbt.built_incrementally()
    rebuilt_3 = dbt.from_nothing(raw, "rebuilt_3")
    return {
        "how": (first, second, third),
        "after_2": (after_2, rebuilt_2),
        "after_3": (warehouse, rebuilt_3),
    }


def test_the_first_build_is_from_nothing_and_the_next_ones_incremental(steps):
    first, second, third = steps["how"]
    assert not any(first.values()), first
    assert all(second.values()), second
    assert all(third.values()), third


def test_added_downloads_give_what_a_rebuild_gives(steps):
    built, rebuilt = steps["after_2"]
    with duckdb.connect(str(built), read_only=True) as con:
        # the downloads did arrive: the new customs month, and GTA's revision to zero (Thailand)
        assert con.execute(
            "select count(*) from intermediate.int_observations__vintaged where edition = 'current' "
            "and source = 'customs' and period_start = '2024-10-01'"
        ).fetchone()[0]
        assert con.execute(
            "select revision_kind from intermediate.int_observations__revisions where source = 'gta' "
            "and partner_code = 'TH' and period_start = '2024-08-01'"
        ).fetchall() == [("revised to zero",)]
    assert not differences(built, rebuilt)


def test_changed_and_removed_downloads_give_what_a_rebuild_gives(steps):
    built, rebuilt = steps["after_3"]
    with duckdb.connect(str(built), read_only=True) as con:
        assert con.execute(
            "select count(*) from intermediate.int_observations__unioned where download_date in (?, ?)",
            [LATER_CUSTOMS, LATER_MOEA],
        ).fetchone()[0] == 0
        # the changed GTA download's revision of Taiwan's March is there
        assert con.execute(
            "select count(*) from intermediate.int_observations__revisions where source = 'gta' "
            "and partner_code = 'TW' and period_start = '2024-03-01'"
        ).fetchone()[0] == 1
    assert not differences(built, rebuilt)

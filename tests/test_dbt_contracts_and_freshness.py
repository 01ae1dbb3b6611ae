"""What dbt and Dagster users expect of the catalog: every mart an enforced contract with typed
columns (shown typed in Dagster), the publication as a dbt exposure of exactly the marts the
publish asset reads, each source's freshness (dbt's thresholds, checked on the ingestion
assets), and every asset's owner and code references.

Fast, except the contract's proof (a dbt build of changed marts in a copy of the project) and
the freshness checks of the shared pipeline run."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest
from dagster_dbt import get_asset_key_for_model

from orchestration.assets import catalog
from orchestration.assets.dbt import bulletin_dbt_assets
from orchestration.assets.ingest import FRESHNESS_CHECK, ingest_assets, run_as_of
from orchestration.definitions import defs
from orchestration.ingest.sources import SPECS
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

from .pipeline import dbt_client, loaded_warehouse, run_dbt

MARTS_FOLDER = ("models", "marts")


def _manifest():
    return catalog.manifest()


def _marts() -> dict[str, dict]:
    return {
        node["name"]: node
        for node in _manifest()["nodes"].values()
        if node["resource_type"] == "model" and Path(node["original_file_path"]).parts[:2] == MARTS_FOLDER
    }


def _graph():
    return defs.resolve_asset_graph()


# --- contracts ------------------------------------------------------------------------------


def test_every_mart_has_an_enforced_contract_with_a_type_on_every_column():
    marts = _marts()
    assert len(marts) >= 14, sorted(marts)
    for name, node in marts.items():
        assert node["config"]["contract"]["enforced"] is True, f"{name}: no enforced contract"
        assert node["contract"]["enforced"] is True, name
        assert node["columns"], f"{name}: no columns in its yml"
        untyped = [column for column, props in node["columns"].items() if not props.get("data_type")]
        assert untyped == [], f"{name}: columns without data_type: {untyped}"


def test_the_ui_shows_each_marts_columns_with_their_types():
    graph = _graph()
    for name, node in _marts().items():
        key = get_asset_key_for_model([bulletin_dbt_assets], name)
        schema = graph.get(key).metadata.get("dagster/column_schema")
        assert isinstance(schema, dg.TableSchema), f"{name}: no dagster/column_schema"
        shown = {column.name: column.type for column in schema.columns}
        assert shown == {column: props["data_type"] for column, props in node["columns"].items()}, name
        assert "?" not in shown.values(), name


def _copy_project(target: Path) -> Path:
    shutil.copytree(
        DBT_PROJECT_DIR, target, ignore=shutil.ignore_patterns("target", "logs", ".user.yml", "*.duckdb")
    )
    return target


def _wrap_model(project: Path, model: str, select: str) -> None:
    """The model's SQL, wrapped: ``select <select> from (<its SQL>)``."""
    path = next(project.glob(f"models/marts/{model}.sql"))
    path.write_text(f"select {select} from (\n{path.read_text(encoding='utf-8')}\n) as original\n", encoding="utf-8")


@pytest.mark.slow  # a dbt build of two marts and everything they read, empty: half a minute
def test_a_mart_whose_sql_changes_a_type_or_adds_a_column_fails_the_build(tmp_path):
    """The contract's proof: a copy of the project where one mart returns another type for a
    column and another an extra column; dbt build fails both, naming the contract."""
    project = _copy_project(tmp_path / "dbt_project")
    _wrap_model(project, "dim_bulletin_product", "* replace (cast(null as integer) as hs_code)")
    _wrap_model(project, "fct_bulletin_source_lineage", "*, 1 as column_not_in_the_contract")
    warehouse = loaded_warehouse(tmp_path / "bulletin.duckdb")
    done = run_dbt(
        [
            "build", "--empty",
            "--select", "+dim_bulletin_product", "+fct_bulletin_source_lineage",
            "--exclude", "resource_type:test", "resource_type:unit_test",
        ],
        project, warehouse,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode != 0, out[-3000:]
    failed = set(re.findall(r"ERROR creating sql table model marts\.(\w+)", out))
    assert failed == {"dim_bulletin_product", "fct_bulletin_source_lineage"}, out[-4000:]
    assert out.count("This model has an enforced contract that failed") == 2, out[-4000:]
    assert re.search(r"hs_code\s*\|\s*INTEGER\s*\|\s*VARCHAR", out), out[-4000:]
    assert "column_not_in_the_contract" in out, out[-4000:]


# --- the exposure ---------------------------------------------------------------------------


def test_the_exposure_depends_on_exactly_the_marts_the_publish_asset_reads():
    exposure = catalog.publication_exposure()
    depends_on = {
        get_asset_key_for_model([bulletin_dbt_assets], _manifest()["nodes"][unique_id]["name"])
        for unique_id in exposure["depends_on"]["nodes"]
    }
    reads = set(_graph().get(dg.AssetKey(catalog.PUBLICATION_EXPOSURE)).parent_keys)
    assert depends_on == reads
    assert all(key.path[0] == "marts" for key in reads)


def test_the_publication_is_one_asset_the_exposure_makes_no_other():
    keys = [key.to_user_string() for key in _graph().get_all_asset_keys()]
    assert [k for k in keys if catalog.PUBLICATION_EXPOSURE in k] == [catalog.PUBLICATION_EXPOSURE]
    assert len(_manifest()["exposures"]) == 1


@pytest.mark.slow  # dbt parses the project: ten seconds
def test_dbt_lists_the_exposure(tmp_path):
    env = {**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR), "BULLETIN_WAREHOUSE": str(tmp_path / "w.duckdb")}
    done = subprocess.run(
        [
            dbt_client(), "ls", "--quiet", "--resource-type", "exposure",
            "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
        ],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert done.stdout.split() == [f"exposure:bulletin.{catalog.PUBLICATION_EXPOSURE}"]


# --- freshness ------------------------------------------------------------------------------


def _ingest_keys() -> list[dg.AssetKey]:
    return [key for asset in ingest_assets for key in asset.keys]


def test_every_source_has_a_download_date_freshness_with_warn_before_error():
    sources = _manifest()["sources"].values()
    assert len(sources) == len(SPECS)
    for source in sources:
        config = source["config"]
        assert config["loaded_at_field"] == "cast(download_date as timestamp)", source["name"]
        freshness = config["freshness"]
        warn, error = freshness["warn_after"], freshness["error_after"]
        assert warn["period"] == error["period"] == "day", source["name"]
        assert 0 < warn["count"] < error["count"], source["name"]


def test_every_ingestion_asset_has_a_non_blocking_freshness_check_with_dbts_thresholds():
    graph = _graph()
    for key in _ingest_keys():
        freshness = catalog.source_freshness(key)
        spec = graph.get_check_spec(dg.AssetCheckKey(key, FRESHNESS_CHECK))
        assert spec.blocking is False
        assert freshness.thresholds() in spec.description
        source = _manifest()["sources"][f"source.bulletin.{freshness.source}"]
        assert freshness.warn_after_days == source["config"]["freshness"]["warn_after"]["count"]
        assert freshness.error_after_days == source["config"]["freshness"]["error_after"]["count"]


FRESHNESS = catalog.SourceFreshness(
    source="customs.customs_trade",
    relation='"raw"."customs_trade"',
    loaded_at_field="cast(download_date as timestamp)",
    warn_after_days=35,
    error_after_days=65,
)
NEWEST = dt.date(2024, 10, 14)


@pytest.mark.parametrize(
    ("as_of", "passed", "severity"),
    [
        (NEWEST, True, None),
        (NEWEST + dt.timedelta(days=35), True, None),
        (NEWEST + dt.timedelta(days=36), False, dg.AssetCheckSeverity.WARN),
        (NEWEST + dt.timedelta(days=65), False, dg.AssetCheckSeverity.WARN),
        (NEWEST + dt.timedelta(days=66), False, dg.AssetCheckSeverity.ERROR),
    ],
)
def test_the_freshness_check_warns_past_warn_after_and_errs_past_error_after(as_of, passed, severity):
    result = FRESHNESS.check(NEWEST, as_of, "today")
    assert result.passed is passed
    if severity is not None:
        assert result.severity == severity
    metadata = {k: getattr(v, "value", v) for k, v in result.metadata.items()}
    assert metadata["newest_download_date"] == "2024-10-14"
    assert metadata["age_days"] == (as_of - NEWEST).days
    assert metadata["as_of_date"] == as_of.isoformat()
    assert (metadata["warn_after_days"], metadata["error_after_days"]) == (35, 65)
    assert f"{(as_of - NEWEST).days} days old on {as_of}" in result.description


def test_no_download_by_the_as_of_date_is_an_error():
    result = FRESHNESS.check(None, dt.date(2024, 1, 1), "the run's as_of_date")
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert "no download dated on or before 2024-01-01" in result.description


def test_an_optional_source_needs_no_download_but_a_stale_one_is_stale_all_the_same():
    """The API sources (census, comtrade): none until the fetch job writes one."""
    none = FRESHNESS.check(None, dt.date(2024, 1, 1), "today", optional=True)
    assert none.passed and "an optional source, none needed" in none.description
    stale = FRESHNESS.check(NEWEST, NEWEST + dt.timedelta(days=100), "today", optional=True)
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.ERROR


def test_the_newest_download_is_the_newest_on_or_before_the_as_of_date():
    with duckdb.connect() as con:
        con.execute("create schema raw")
        con.execute("create table raw.customs_trade (download_date date)")
        con.execute("insert into raw.customs_trade values ('2024-09-10'), ('2024-10-14'), ('2024-11-12')")

        def newest(as_of):
            return con.execute(FRESHNESS.newest_sql(), {"as_of": as_of}).fetchone()[0]

        assert newest(dt.date(2024, 11, 12)) == dt.date(2024, 11, 12)
        assert newest(dt.date(2024, 11, 11)) == dt.date(2024, 10, 14)
        assert newest(dt.date(2024, 10, 14)) == dt.date(2024, 10, 14)
        assert newest(dt.date(2024, 1, 1)) is None


def test_the_as_of_date_is_the_runs_else_today():
    def context(run_config):
        return SimpleNamespace(run=SimpleNamespace(run_config=run_config))

    configured = {"ops": {bulletin_dbt_assets.op.name: {"config": {"as_of_date": "2024-10-14"}}}}
    assert run_as_of(context(configured)) == (dt.date(2024, 10, 14), "the run's as_of_date")
    assert run_as_of(context({})) == (dt.date.today(), "today")


def test_the_shipped_runs_freshness_checks_say_how_old_each_newest_download_is(shipped_run):
    """The shipped downloads are from 2024: on today's date each source is stale. The checks say
    so (WARN or ERROR by dbt's thresholds) and the run succeeded all the same."""
    dagster_home = shipped_run.warehouse.parent.parent / "dagster_home"
    with dg.DagsterInstance.local_temp(tempdir=str(dagster_home)) as instance:
        [record] = instance.get_run_records()
        assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        found = [
            r.event_log_entry.dagster_event.event_specific_data
            for r in instance.get_records_for_run(
                record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ).records
        ]
        evaluations = {e.asset_key: e for e in found if e.check_name == FRESHNESS_CHECK}
    assert set(evaluations) == set(_ingest_keys())
    for key, evaluation in evaluations.items():
        source = next(s for s, spec in SPECS.items() if key.path == ["raw", spec.table])
        metadata = {k: v.value for k, v in evaluation.metadata.items()}
        if SPECS[source].optional and not (shipped_run.raw_dir / source).exists():
            # an API source without a download yet: none is needed, the check passes saying so
            assert evaluation.passed and metadata["newest_download_date"] is None, source
            assert "an optional source, none needed" in evaluation.description
            continue
        newest = max(p.name for p in (shipped_run.raw_dir / source).iterdir() if p.is_dir())
        assert metadata["newest_download_date"] == newest
        as_of = dt.date.fromisoformat(metadata["as_of_date"])
        assert metadata["as_of"] == "today"
        age = (as_of - dt.date.fromisoformat(newest)).days
        assert metadata["age_days"] == age
        freshness = catalog.source_freshness(key)
        assert evaluation.passed is (age <= freshness.warn_after_days)
        if not evaluation.passed:
            stale = age > freshness.error_after_days
            assert evaluation.severity == (dg.AssetCheckSeverity.ERROR if stale else dg.AssetCheckSeverity.WARN)


# --- owners and code references -------------------------------------------------------------


def test_every_asset_has_the_bulletins_owner_and_a_code_reference_to_its_file():
    graph = _graph()
    owners = catalog.owners()
    assert owners == ["team:" + catalog.publication_exposure()["owner"]["name"]]
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert list(node.owners) == owners, name
        references = node.metadata.get("dagster/code_references")
        assert isinstance(references, dg.CodeReferencesMetadataValue), f"{name}: no code reference"
        paths = [Path(r.file_path) for r in references.code_references]
        assert paths, name
        for path in paths:
            assert path.is_file() and PROJECT_ROOT in path.parents, f"{name}: {path}"
        if key.path[0] in ("staging", "intermediate", "marts", "reference"):
            assert any(p.suffix in (".sql", ".csv") for p in paths), f"{name}: {paths}"
    for key in _ingest_keys():
        paths = [Path(r.file_path).name for r in graph.get(key).metadata["dagster/code_references"].code_references]
        assert "ingest.py" in paths and f"{key.path[1].split('_')[0]}.py" in paths, paths

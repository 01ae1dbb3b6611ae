"""Which source an exhibit uses is part of its definition: the seeds say what each exhibit can be
built from, a dbt var per exhibit chooses, and the run config (the UI), the environment and the
command line set it. Fast: no pipeline run."""

from __future__ import annotations

import re

import dagster as dg
import pytest

from orchestration import cli
from orchestration.assets.dbt import DbtRunConfig, bulletin_dbt_assets, source_vars
from orchestration.exhibit_sources import source_choices
from orchestration.settings import DBT_PROJECT_DIR

DBT_OP = bulletin_dbt_assets.op.name


def test_table2_is_gta_or_census_and_table3_itc_or_comtrade_from_the_seeds():
    choices = source_choices()
    assert set(choices) == {"us_imports_source", "exporters_source"}
    table2, table3 = choices["us_imports_source"], choices["exporters_source"]
    assert (table2.exhibits, table2.default, table2.choices) == (
        ("table2_us_server_imports_by_source",), "gta", ("gta", "census"),
    )
    assert (table3.exhibits, table3.default, table3.choices) == (
        ("table3_major_exporters",), "itc", ("itc", "comtrade"),
    )
    assert (table2.env, table3.env) == ("BULLETIN_US_IMPORTS_SOURCE", "BULLETIN_EXPORTERS_SOURCE")


def test_every_source_var_is_a_dbt_var_a_macro_case_and_a_run_config_field():
    macro = (DBT_PROJECT_DIR / "macros" / "exhibit_sources.sql").read_text(encoding="utf-8")
    listed = re.search(r"return\(\[(.*?)\]\)", macro).group(1)
    assert sorted(re.findall(r"'(\w+)'", listed)) == sorted(source_choices())
    project = (DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8")
    for var, choice in source_choices().items():
        assert re.search(rf"^  {var}: {choice.default}$", project, re.M), var
        assert var in DbtRunConfig.model_fields


def test_the_run_config_the_environment_or_the_default_chooses(monkeypatch):
    monkeypatch.delenv("BULLETIN_US_IMPORTS_SOURCE", raising=False)
    monkeypatch.delenv("BULLETIN_EXPORTERS_SOURCE", raising=False)
    # the exhibits' own sources: no var, the dbt command stays as it was
    assert source_vars(DbtRunConfig()) == {"us_imports_source": None, "exporters_source": None}
    assert source_vars(DbtRunConfig(us_imports_source="gta")) == {"us_imports_source": None, "exporters_source": None}
    monkeypatch.setenv("BULLETIN_EXPORTERS_SOURCE", "comtrade")
    assert source_vars(DbtRunConfig(us_imports_source="CENSUS")) == {
        "us_imports_source": "census", "exporters_source": "comtrade",
    }
    # the run config wins over the environment
    assert source_vars(DbtRunConfig(exporters_source="itc"))["exporters_source"] is None
    monkeypatch.setenv("BULLETIN_US_IMPORTS_SOURCE", "itc")
    with pytest.raises(ValueError, match=r"BULLETIN_US_IMPORTS_SOURCE='itc': 表2's source is gta or census"):
        source_vars(DbtRunConfig())
    with pytest.raises(ValueError, match=r"exporters_source='census': 表3's source is itc or comtrade"):
        source_vars(DbtRunConfig(us_imports_source="gta", exporters_source="census"))


def test_the_command_line_sets_them_as_the_dbt_assets_run_config():
    from orchestration.definitions import defs

    args = cli.build_parser().parse_args(["run", "--us-imports-source", "census", "--exporters-source", "comtrade"])
    options = cli.run_options(args)
    assert options == {"us_imports_source": "census", "exporters_source": "comtrade"}
    config = cli.run_config(options, False, DBT_OP)
    assert dg.validate_run_config(defs.resolve_job_def("refresh_bulletin"), config)
    read = DbtRunConfig(**config["ops"][DBT_OP]["config"])
    assert (read.us_imports_source, read.exporters_source) == ("census", "comtrade")
    assert cli.run_options(cli.build_parser().parse_args(["rebuild", "--exporters-source", "itc"])) == {
        "exporters_source": "itc"
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--us-imports-source", "itc"],
        ["run", "--exporters-source", "gta"],
        ["rebuild", "--us-imports-source", "x"],
    ],
)
def test_a_source_an_exhibit_cannot_be_built_from_is_refused_before_anything_runs(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument" in err and "source is" in err, err

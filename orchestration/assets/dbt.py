"""The dbt project as assets: seeds, staging, intermediate and marts; its tests as asset checks."""

import re
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtCliRuntimeError, DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from ..exhibit_sources import source_choices
from ..project import dbt_project, prepare_manifest
from ..settings import DEFAULT_HS_CODE, check_hs_code
from ..settings import hs_code as settings_hs_code
from ..warehouse import WRITES_WAREHOUSE, Warehouse
from .dbt_invocation import (
    BulletinDbtCliResource,
    dbt_build_args,
    dbt_env,
    dbt_target_path,
    dbt_vars,
    stable_dbt_path,
)
from .dbt_metadata import dbt_failure_summary, marts_metadata

LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


def _sql_comment(raw_code: str) -> str:
    """The comment block a SQL file opens with (``--`` lines or a ``{# #}`` block), as one paragraph."""
    lines = []
    for line in raw_code.lstrip().splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            lines.append(stripped.lstrip("-").strip())
        else:
            break
    if not lines:
        jinja = re.match(r"\s*\{#-?(.*?)-?#\}", raw_code, re.S)
        if jinja:
            lines = [part.strip() for part in jinja.group(1).splitlines()]
    return " ".join(part for part in lines if part)


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?(?<!No)(?<!e\.g)(?<!i\.e)\.)(?=\s+[A-Z(]|$)", text)
    return match.group(1) if match else text


def describe_test(props: Mapping[str, Any]) -> str:
    """One line saying what a dbt test checks, and whether a failure blocks the build."""
    meta = props.get("test_metadata") or {}
    name, kwargs = meta.get("name"), meta.get("kwargs") or {}
    column = (kwargs.get("column_name") or props.get("column_name") or "").strip('"')
    if props.get("description"):
        what = _first_sentence(props["description"])
    elif name == "not_null":
        what = f"{column} is never empty"
    elif name == "unique":
        what = f"{column} is unique"
    elif name == "not_negative":
        what = f"{column} is never negative"
    elif name == "accepted_values":
        what = f"{column} is one of: {', '.join(str(v) for v in kwargs.get('values', []))}"
    elif name == "unique_combination":
        cols = ", ".join(c.strip('"') for c in kwargs.get("combination_of_columns", []))
        what = f"one row per ({cols})"
    elif name == "every_name_mapped":
        what = (
            f"every {kwargs.get('name_column')} has a code in the {kwargs.get('seed')} seed "
            "(the failure names what to add)"
        )
    elif name == "relationships":
        what = f"every {column} is in {kwargs.get('to')}.{kwargs.get('field')}"
    elif name:
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k not in ("model", "column_name"))
        what = f"{name}({column}{', ' if column and args else ''}{args})"
    else:
        what = _first_sentence(_sql_comment(props.get("raw_code") or "")) or f"dbt test {props['name']}"
        what = re.sub(r"^A failure means\s+", "Fails when ", what)
    severity = (props.get("config") or {}).get("severity") or "error"
    tail = "blocking: a failure stops the build" if severity.lower() == "error" else "warning only"
    return f"{what.rstrip('.')}. ({tail})"


class BulletinTranslator(DagsterDbtTranslator):
    """Groups by the dbt folder (seeds join staging), so the graph reads like the pipeline;
    every asset and check gets a description that says what it is in a line."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "staging"
        fqn = dbt_resource_props.get("fqn", [])
        return next((LAYER_GROUPS[part] for part in fqn if part in LAYER_GROUPS), "staging")

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        # The model's own description, else the comment its SQL opens with; the SQL itself is
        # in the repository (and in the asset's "code" link), not repeated here.
        text = (dbt_resource_props.get("description") or "").strip()
        if not text:
            text = _sql_comment(dbt_resource_props.get("raw_code") or "")
        kind = dbt_resource_props["resource_type"]
        return " ".join(text.split()) or f"dbt {kind} {dbt_resource_props['name']}"

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=describe_test(manifest["nodes"][unique_id]),
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
        )


class DbtRunConfig(dg.Config):
    """Run parameters passed to dbt as vars (empty: dbt_project.yml's defaults)."""

    as_of_date: str | None = None
    first_year: int | None = None
    # The product (an HS code); empty: BULLETIN_HS_CODE, else 847150 (dbt_project.yml's default).
    hs_code: str | None = None
    # The source of the exhibits that can be built from another (bulletin_exhibits.source_var, one
    # field a var): Table 2 gta or census, Table 3 itc or comtrade; empty: BULLETIN_US_IMPORTS_SOURCE,
    # BULLETIN_EXPORTERS_SOURCE, else the exhibit's own (gta, itc).
    us_imports_source: str | None = None
    exporters_source: str | None = None


def source_vars(config: DbtRunConfig) -> dict[str, str | None]:
    """The exhibits' source vars of a run (us_imports_source, exporters_source): the run config's,
    else BULLETIN_<VAR>, checked against the exhibit's choices (a ValueError saying them); None
    for an exhibit's own source, dbt_project.yml's default, so that its dbt command stays as it was."""
    found: dict[str, str | None] = {}
    for var, choice in source_choices().items():
        value = choice.chosen(getattr(config, var, None))
        found[var] = None if value == choice.default else value
    return found


def _event_asset_key(context: dg.AssetExecutionContext, event: Any) -> dg.AssetKey | None:
    if isinstance(event, dg.Output):
        return context.assets_def.keys_by_output_name.get(event.output_name)
    return getattr(event, "asset_key", None)


# The assets are made from the manifest: parsed again first if a dbt file changed since.
prepare_manifest(dbt_project)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    # each model's and seed's code reference is its file (needs the project)
    dagster_dbt_translator=BulletinTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_code_references=True)
    ),
    op_tags=WRITES_WAREHOUSE,
)
def bulletin_dbt_assets(
    context: dg.AssetExecutionContext, dbt: BulletinDbtCliResource, warehouse: Warehouse, config: DbtRunConfig
) -> Iterator[Any]:
    """dbt build in this run's working copy; its tests run inside it, so a failed test fails
    this step (and dbt skips everything downstream of it) and the live warehouse is never touched.

    Events stream as dbt emits them, except those of the marts (built last): their
    materializations wait for the end of ``dbt build`` so that they carry what the marts hold
    (rows, latest month, download used, revisions, a preview of each exhibit), read from the
    working copy once dbt has closed it; their checks follow them. When dbt fails, the marts'
    check results are still reported, their materializations are not.
    """
    hs_code = check_hs_code(config.hs_code) if config.hs_code else settings_hs_code()
    try:
        sources = source_vars(config)
    except ValueError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    vars_ = dbt_vars(
        {
            "as_of_date": config.as_of_date,
            "first_year": config.first_year,
            # the default product is dbt_project.yml's own: its dbt command stays as it was
            "hs_code": None if hs_code == DEFAULT_HS_CODE else hs_code,
            **sources,
        }
    )
    args = dbt_build_args(vars_)
    marts = {key for key, group in context.assets_def.group_names_by_key.items() if group == "marts"}
    held: list[Any] = []
    with warehouse.writing_file(context) as copy:
        with (
            stable_dbt_path(warehouse.live, copy) as dbt_path,
            dbt_target_path(context.op_def.name, context.run.run_id, dbt_path, args) as target_path,
        ):
            invocation = dbt.cli(args, context=context, target_path=target_path, env=dbt_env(dbt_path))
            try:
                for event in invocation.stream():
                    if _event_asset_key(context, event) in marts:
                        held.append(event)
                    else:
                        yield event
            except DagsterDbtCliRuntimeError as exc:
                yield from (e for e in held if not isinstance(e, dg.Output))
                summary = dbt_failure_summary(context, warehouse, invocation)
                raise dg.Failure(description=summary, allow_retries=False) from exc
        try:
            extra = marts_metadata(context, warehouse, invocation.manifest, held)
        except Exception as exc:  # noqa: BLE001 - metadata is a view on the data, never a reason to fail
            context.log.warning(f"could not read the marts' metadata: {exc!r}")
            extra = {}
        for event in held:
            if isinstance(event, dg.Output) and event.output_name in extra:
                event = event.with_metadata({**event.metadata, **extra[event.output_name]})
            yield event

"""What a statistician wants to see on the marts' materializations, read after `dbt build`;
and, when `dbt build` fails, what failed, in words.

Each exhibit mart gets its row count, the exhibit's title and source, the source's latest
month and the download the current edition used, how many values later downloads revised,
and a preview of the exhibit as printed (a markdown table). The cells mart gets the same per
source. All of it is read from marts: the exhibits (``dim_bulletin_exhibits``) and each
source's lineage (``fct_bulletin_source_lineage``). Reading is best effort: a query that fails
(a model renamed, a column gone) leaves that item out and logs a warning; it never fails the
step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import duckdb

from ..publish.marts import EXHIBITS_MART, SOURCE_LINEAGE_MART, period_label
from ..warehouse import Warehouse

MEASURE_LABELS = {
    "value": "value",
    "yoy_pct": "growth %",
    "share_pct": "share %",
    "avg_growth_pct": "avg growth %",
    "share_change_pp": "share change (pp)",
}

# Per source: its latest period (and grain), the download that gave it, the values revised.
_SOURCES_SQL = f"""
    select source, latest_period_start, period_grain, download_date, revised_values
    from marts.{SOURCE_LINEAGE_MART}
    order by source
"""
# Per exhibit: its title, source, unit, latest period (and grain).
_EXHIBITS_SQL = f"""
    select exhibit, title_zh, source, value_unit, latest_period, period_grain
    from marts.{EXHIBITS_MART}
    order by exhibit_order
"""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _period(start: Any, grain: str | None) -> str | None:
    """A latest period as the metadata shows it: 2024-09, or 2023 for a year."""
    return None if start is None else period_label(start, grain or "month")


def _format(value: float | None, decimals: int | None) -> str:
    if value is None:
        return ""
    return f"{value:,.{decimals if decimals is not None else 1}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        return "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def exhibit_preview(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """The exhibit as printed: one row per measure and series, one column per period."""
    rows = con.execute(
        f"""
        select measure, series_zh, period, value, decimals, is_preliminary,
               measure_order, series_rank, period_order
        from {relation}
        """
    ).fetchall()
    periods = sorted({(r[8], r[2]) for r in rows})
    preliminary = {r[2] for r in rows if r[5]}
    columns = [p for _, p in periods]
    lines: dict[tuple, dict[str, str]] = {}
    for measure, series_zh, period, value, decimals, _, measure_order, series_rank, _ in rows:
        key = (measure_order, measure, series_rank, series_zh)
        lines.setdefault(key, {})[period] = _format(value, decimals)
    header = ["measure", "series", *(f"{p}*" if p in preliminary else p for p in columns)]
    body = [
        [MEASURE_LABELS.get(measure, measure), series_zh, *(cells.get(p, "") for p in columns)]
        for (_, measure, _, series_zh), cells in sorted(lines.items(), key=lambda kv: kv[0][:3])
    ]
    note = "\n\n\\* includes preliminary months" if preliminary else ""
    return markdown_table(header, body) + note


def head_preview(con: duckdb.DuckDBPyConnection, relation: str, limit: int = 10) -> str:
    cursor = con.execute(f"select * from {relation} limit {int(limit)}")
    header = [d[0] for d in cursor.description]
    return markdown_table(header, cursor.fetchall())


class _Reader:
    """Runs the queries, turning a failure into a warning and a missing item."""

    def __init__(self, context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection):
        self.context = context
        self.con = con

    @contextlib.contextmanager
    def item(self, what: str):
        try:
            yield
        except duckdb.Error as exc:
            self.context.log.warning(f"metadata: could not read {what}: {exc}")


def _mart_metadata(
    reader: _Reader, relation: str, sources: Mapping[str, tuple], exhibits: Mapping[str, tuple]
) -> dict[str, Any]:
    con = reader.con
    metadata: dict[str, Any] = {}
    with reader.item(f"the row count of {relation}"):
        metadata["dagster/row_count"] = con.execute(f"select count(*) from {relation}").fetchone()[0]
    tables: list[str] = []
    with reader.item(f"the exhibits of {relation}"):
        columns = {r[0] for r in con.execute(f"describe {relation}").fetchall()}
        if "table" in columns:
            sql = f'select distinct "table" from {relation} order by 1'
            tables = [r[0] for r in con.execute(sql).fetchall()]
    known = [t for t in tables if t in exhibits]
    if len(tables) == 1 and known:
        title, source, unit, latest, grain = exhibits[known[0]]
        metadata["exhibit"] = title
        metadata["source"] = source
        metadata["value_unit"] = unit
        if source in sources:
            latest_period, source_grain, download_date, revisions = sources[source]
            metadata["latest_month"] = (
                _period(latest, grain) if latest is not None else _period(latest_period, source_grain)
            )
            metadata["download_date_used"] = str(download_date)
            metadata["revisions"] = int(revisions)
        with reader.item(f"the preview of {relation}"):
            metadata["preview"] = dg.MetadataValue.md(exhibit_preview(con, relation))
    elif known:
        with reader.item(f"the cells per exhibit of {relation}"):
            counts = con.execute(f'select "table", count(*) from {relation} group by 1 order by 1').fetchall()
            metadata["cells_per_exhibit"] = dg.MetadataValue.json({t: n for t, n in counts})
        rows = []
        for table in known:
            title, source, _, latest, grain = exhibits[table]
            latest_period, source_grain, download_date, revisions = sources.get(source, (None, None, None, None))
            shown = _period(latest, grain) if latest is not None else _period(latest_period, source_grain)
            rows.append([source, title, shown, download_date, revisions])
        metadata["sources"] = dg.MetadataValue.md(
            markdown_table(["source", "exhibit", "latest month", "download used", "revisions"], rows)
        )
    else:
        with reader.item(f"the preview of {relation}"):
            metadata["preview"] = dg.MetadataValue.md(head_preview(con, relation))
    return metadata


def marts_metadata(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    manifest: Mapping[str, Any],
    events: Sequence[Any],
) -> dict[str, dict[str, Any]]:
    """Extra metadata for each mart materialization among ``events``, by output name."""
    outputs = [e for e in events if isinstance(e, dg.Output)]
    if not outputs:
        return {}
    result: dict[str, dict[str, Any]] = {}
    with warehouse.connect(context, read_only=True) as con:
        reader = _Reader(context, con)
        sources: dict[str, tuple] = {}
        with reader.item("the latest month, download and revisions per source"):
            sources = {r[0]: r[1:] for r in con.execute(_SOURCES_SQL).fetchall()}
        exhibits: dict[str, tuple] = {}
        with reader.item("the exhibits"):
            exhibits = {r[0]: r[1:] for r in con.execute(_EXHIBITS_SQL).fetchall()}
        for output in outputs:
            unique_id = output.metadata.get("unique_id")
            unique_id = getattr(unique_id, "value", unique_id)
            node = manifest.get("nodes", {}).get(unique_id)
            if node is None or node.get("config", {}).get("materialized") == "view":
                continue
            relation = f"{_quote(node['schema'])}.{_quote(node.get('alias') or node['name'])}"
            result[output.output_name] = _mart_metadata(reader, relation, sources, exhibits)
    return result


def _failing_rows(con: duckdb.DuckDBPyConnection, compiled_code: str, limit: int = 3) -> list[str]:
    """The first rows a failed test returned, as ``column=value`` (its first four columns)."""
    cursor = con.execute(f"select * from ({compiled_code}) as failing limit {int(limit)}")
    names = [d[0] for d in cursor.description][:4]
    return [", ".join(f"{n}={v}" for n, v in zip(names, row, strict=False)) for row in cursor.fetchall()]


def dbt_failure_summary(context: dg.AssetExecutionContext, warehouse: Warehouse, invocation: Any) -> str:
    """What stopped `dbt build`: each failed test (with its first failing rows) or errored node."""
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except Exception:  # noqa: BLE001 - no run_results.json: dbt failed before building anything
        return "dbt build failed before it built anything; see this step's log for dbt's message."
    manifest = invocation.manifest
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    lines: list[str] = []
    for result in results:
        if result.get("status") not in ("fail", "error"):
            continue
        node = nodes.get(result["unique_id"], {})
        kind = node.get("resource_type", "node")
        name = node.get("name", result["unique_id"])
        if kind == "test" and result["status"] == "fail":
            on = node.get("attached_node") or next(iter(node.get("depends_on", {}).get("nodes", [])), "")
            line = f"check {name} (on {on.split('.')[-1]}) failed: {result.get('failures')} failing row(s)"
            rows: list[str] = []
            if result.get("compiled_code"):
                try:
                    with warehouse.connect(context, read_only=True) as con:
                        rows = _failing_rows(con, result["compiled_code"])
                except duckdb.Error as exc:
                    context.log.debug(f"could not read the failing rows of {name}: {exc}")
            lines.append(line + "".join(f"\n      {row}" for row in rows))
        else:
            message = " ".join(str(result.get("message") or "").split())[:500]
            lines.append(f"{kind} {name} {result['status']}: {message}")
    skipped = sum(1 for r in results if r.get("status") == "skipped")
    head = "dbt build stopped: " if lines else "dbt build failed; see this step's log for dbt's message."
    tail = (
        f"\n    {skipped} model(s) and test(s) downstream were skipped; "
        "nothing was published and the live warehouse is unchanged."
    )
    return head + "\n    ".join(lines) + tail

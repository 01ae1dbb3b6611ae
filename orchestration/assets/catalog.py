"""What the catalog shows of every asset, said once: its owner, its code references, and the
freshness of the ingestion assets. The first and last are dbt's, read from its manifest here:

- the owner of every asset: the owner of the exposure ``published_bulletin``
  (``dbt_project/models/exposures.yml``), the team that owns the bulletin;
- each source's freshness: its ``loaded_at_field`` (the day of the download, in its
  ``_<source>__sources.yml``) and its ``warn_after`` / ``error_after`` (``dbt_project.yml``),
  which ``dbt source freshness`` and the ingestion assets' freshness checks both use.

The dbt assets' code references are dagster-dbt's (their SQL or seed file); the Python assets'
are their functions (:func:`with_code_references`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import dagster as dg

from ..project import dbt_project, prepare_manifest

# The exposure that is the publication (models/exposures.yml): the Python asset of the same name.
PUBLICATION_EXPOSURE = "published_bulletin"

_DAYS_PER_PERIOD = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1}


@functools.cache
def manifest() -> Mapping[str, Any]:
    """dbt's manifest of the project as its files are (parsed again first if one changed)."""
    prepare_manifest(dbt_project)
    return json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))


def publication_exposure() -> Mapping[str, Any]:
    """The exposure ``published_bulletin``: the published files and the marts they are read from."""
    found = [e for e in manifest()["exposures"].values() if e["name"] == PUBLICATION_EXPOSURE]
    if len(found) != 1:
        raise RuntimeError(
            f"dbt_project/models/exposures.yml must hold one exposure {PUBLICATION_EXPOSURE!r} (found {len(found)})"
        )
    return found[0]


def owners() -> list[str]:
    """Every asset's owner, as Dagster writes it: the exposure owner's email, else ``team:<name>``."""
    owner = publication_exposure().get("owner") or {}
    if owner.get("email"):
        return [owner["email"]]
    if owner.get("name"):
        return [f"team:{owner['name']}"]
    raise RuntimeError(f"the exposure {PUBLICATION_EXPOSURE!r} names no owner (owner: name or email)")


def _days(threshold: Mapping[str, Any] | None) -> float | None:
    if not threshold or threshold.get("count") is None or threshold.get("period") is None:
        return None
    return threshold["count"] * _DAYS_PER_PERIOD[threshold["period"]]


def _show(days: float | None) -> str:
    return "never" if days is None else f"{days:g} days"


@dataclass(frozen=True)
class SourceFreshness:
    """How fresh a dbt source must be: its newest ``loaded_at_field`` at most ``warn_after_days``
    old (else a warning), at most ``error_after_days`` (else an error)."""

    source: str  # dbt's name: <source>.<table>
    relation: str  # the raw table: raw.<table>
    loaded_at_field: str  # an SQL expression over the table: the download's day, as a timestamp
    warn_after_days: float | None
    error_after_days: float | None

    def newest_sql(self) -> str:
        """The newest download on or before the as-of date (``$as_of``), as a date."""
        return (
            f"select cast(max({self.loaded_at_field}) as date) from {self.relation} "
            f"where {self.loaded_at_field} < cast($as_of as timestamp) + interval 1 day"
        )

    def thresholds(self) -> str:
        return f"warn after {_show(self.warn_after_days)}, error after {_show(self.error_after_days)}"

    def check(
        self, newest: date | None, as_of: date, as_of_from: str, optional: bool = False
    ) -> dg.AssetCheckResult:
        """The freshness of the newest download on the as-of date: passed within warn_after,
        a WARN past it, an ERROR past error_after or without any download (an optional
        source, one the bulletin is built without by default, passes without one)."""
        age = None if newest is None else (as_of - newest).days
        on = f"on {as_of} ({as_of_from})"
        if newest is None and optional:
            passed, severity = True, dg.AssetCheckSeverity.WARN
            text = f"no download dated on or before {as_of} ({as_of_from}): an optional source, none needed"
        elif newest is None:
            passed, severity = False, dg.AssetCheckSeverity.ERROR
            text = f"no download dated on or before {as_of} ({as_of_from})"
        else:
            past_error = self.error_after_days is not None and age > self.error_after_days
            past_warn = self.warn_after_days is not None and age > self.warn_after_days
            passed = not (past_error or past_warn)
            severity = dg.AssetCheckSeverity.ERROR if past_error else dg.AssetCheckSeverity.WARN
            if past_error:
                state = f"stale, past error_after ({_show(self.error_after_days)})"
            elif past_warn:
                state = f"stale, past warn_after ({_show(self.warn_after_days)})"
            else:
                state = f"fresh ({self.thresholds()})"
            text = f"newest download {newest}, {age} days old {on}: {state}"
        return dg.AssetCheckResult(
            passed=passed,
            severity=severity,
            description=text,
            metadata={
                "newest_download_date": newest.isoformat() if newest else None,
                "age_days": age,
                "as_of_date": as_of.isoformat(),
                "as_of": as_of_from,
                "warn_after_days": self.warn_after_days,
                "error_after_days": self.error_after_days,
                "dbt_source": self.source,
                "loaded_at_field": self.loaded_at_field,
            },
        )


def source_freshness(asset_key: dg.AssetKey) -> SourceFreshness:
    """The freshness of the dbt source whose ``meta.dagster.asset_key`` is ``asset_key``."""
    for source in manifest()["sources"].values():
        if (source.get("meta") or {}).get("dagster", {}).get("asset_key") != list(asset_key.path):
            continue
        config = source.get("config") or {}
        loaded_at = config.get("loaded_at_field") or source.get("loaded_at_field")
        freshness = config.get("freshness") or source.get("freshness") or {}
        if not loaded_at:
            raise RuntimeError(f"the dbt source {source['source_name']}.{source['name']} has no loaded_at_field")
        return SourceFreshness(
            source=f"{source['source_name']}.{source['name']}",
            relation=f'"{source["schema"]}"."{source["identifier"]}"',
            loaded_at_field=loaded_at,
            warn_after_days=_days(freshness.get("warn_after")),
            error_after_days=_days(freshness.get("error_after")),
        )
    raise RuntimeError(f"no dbt source has meta.dagster.asset_key {list(asset_key.path)}")


@contextlib.contextmanager
def quiet_beta() -> Iterator[None]:
    """Code references are beta in Dagster 1.13: without this, each use prints a BetaWarning
    whenever the definitions load (make run, every run's process)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.BetaWarning)
        yield


def with_code_references(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The Python assets, each with a code reference to the function that makes it."""
    with quiet_beta():
        return list(dg.with_source_code_references(assets))

"""Which source an exhibit is built from: part of its definition, read from the dbt seeds.

An exhibit of ``dbt_project/seeds/bulletin_exhibits.csv`` with a ``source_var`` can be built from
another source than its own (``source``): those the seed ``bulletin_exhibit_source_options.csv``
lists for it. The dbt var the column names chooses one (dbt's int_bulletin__exhibit_sources), and
a run sets it through the dbt asset's run config (``DbtRunConfig``), else the environment
variable ``BULLETIN_<VAR>`` (BULLETIN_US_IMPORTS_SOURCE, BULLETIN_EXPORTERS_SOURCE), else the
exhibit's own source (dbt_project.yml's default). Here: the vars, their exhibits and choices,
and the check of a value, so that a wrong one fails before dbt runs, saying what it can be.
"""

from __future__ import annotations

import csv
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .settings import DBT_PROJECT_DIR

SEEDS = DBT_PROJECT_DIR / "seeds"


@dataclass(frozen=True)
class SourceChoice:
    """A dbt var that chooses an exhibit's source: the exhibits it chooses for (numbers as
    printed: 表2), their own source (the default) and every source it may name."""

    var: str
    exhibits: tuple[str, ...]
    numbers: tuple[str, ...]
    default: str
    choices: tuple[str, ...]

    @property
    def env(self) -> str:
        """The environment variable that sets it: BULLETIN_<VAR>."""
        return f"BULLETIN_{self.var.upper()}"

    @property
    def option(self) -> str:
        """The command line's option: --<var with dashes>."""
        return "--" + self.var.replace("_", "-")

    def check(self, value: str, given_as: str | None = None) -> str:
        """``value`` when it is one of the choices, else a ValueError saying what it can be."""
        value = str(value).strip().lower()
        if value not in self.choices:
            raise ValueError(
                f"{given_as or self.var}={value!r}: {'/'.join(self.numbers)}'s source is "
                f"{' or '.join(self.choices)} (default {self.default})"
            )
        return value

    def chosen(self, given: str | None = None) -> str:
        """The source of a run: ``given`` (the run config), else the environment, else the default."""
        if given:
            return self.check(given)
        from_env = os.environ.get(self.env, "").strip()
        if from_env:
            return self.check(from_env, self.env)
        return self.default


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@functools.cache
def source_choices() -> Mapping[str, SourceChoice]:
    """Every source var of the bulletin_exhibits seed, by var, with its exhibits and choices."""
    exhibits = [r for r in _rows(SEEDS / "bulletin_exhibits.csv") if r.get("source_var")]
    options = _rows(SEEDS / "bulletin_exhibit_source_options.csv")
    found: dict[str, SourceChoice] = {}
    for var in dict.fromkeys(r["source_var"] for r in exhibits):
        mine = [r for r in exhibits if r["source_var"] == var]
        defaults = {r["source"] for r in mine}
        if len(defaults) != 1:
            raise ValueError(f"the exhibits of the source var {var} have different sources: {sorted(defaults)}")
        default = defaults.pop()
        codes = tuple(r["exhibit"] for r in mine)
        others = tuple(dict.fromkeys(o["source"] for o in options if o["exhibit"] in codes))
        found[var] = SourceChoice(
            var=var,
            exhibits=codes,
            numbers=tuple(r["exhibit_number"] for r in mine),
            default=default,
            choices=(default, *others),
        )
    return found

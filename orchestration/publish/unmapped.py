"""The partner names no seed maps: read from their mart, with a code proposed, for the
manifest (``unmapped_names``) and the run's last lines.

A name that could change a printed cell fails ``dbt build``
(``assert_no_unmapped_name_changes_a_printed_cell``), so a publication lists only names that
cannot: their value stays in the source's total, and the reader is told which seed to add
each to. The proposal is the seeds' own (a name spelled alike in another seed, from the mart)
or else the country-name library's (pycountry: ISO 3166-1, then 3166-3 for former units);
either is only a proposal, for the person who adds the name to review.
"""

from __future__ import annotations

from importlib.metadata import version

import duckdb
import pycountry

from .layout import MARTS_SCHEMA

UNMAPPED_MART = "fct_unmapped_partner_names"

_COLUMNS = (
    "source",
    "partner_name",
    "seed_file",
    "exhibit",
    "latest_period",
    "value_in_latest_period",
    "unit",
    "rank_would_have",
    "top_n",
    "could_change_printed_cell",
    "proposed_code",
    "proposed_from",
    "first_source_file",
)


def library_proposal(name: str) -> tuple[str, str] | None:
    """The ISO 3166-1 alpha-2 code pycountry finds for ``name`` (an exact match of a name or
    code, then a fuzzy search that finds one country only; then a former unit's code of
    ISO 3166-3), with what it matched; None when it finds none."""
    by = f"pycountry {version('pycountry')}"
    try:
        country = pycountry.countries.lookup(name)
        return country.alpha_2, f"{by}: {country.name}"
    except LookupError:
        pass
    try:
        found = pycountry.countries.search_fuzzy(name)
    except LookupError:
        found = []
    if len(found) == 1:
        return found[0].alpha_2, f"{by} (fuzzy): {found[0].name}"
    try:
        former = pycountry.historic_countries.lookup(name)
        return former.alpha_2, f"{by} (former, ISO 3166-3): {former.name}"
    except LookupError:
        return None


def unmapped_names(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every name of the mart, in its order, with a proposed code (None: no proposal)."""
    rows = con.execute(f"select {', '.join(_COLUMNS)} from {MARTS_SCHEMA}.{UNMAPPED_MART}").fetchall()
    entries = []
    for row in rows:
        item = dict(zip(_COLUMNS, row, strict=True))
        proposed, proposed_by = item.pop("proposed_code"), item.pop("proposed_from")
        if proposed is not None:
            proposed_by = f"seeds: {proposed_by}"
        else:
            found = library_proposal(item["partner_name"])
            proposed, proposed_by = found if found else (None, None)
        value = item.pop("value_in_latest_period")
        entries.append(
            {
                "name": item["partner_name"],
                "source": item["source"],
                "add_it_to": item["seed_file"],
                "exhibit": item["exhibit"],
                "latest_period": item["latest_period"],
                "value": value,
                "unit": item["unit"],
                "rank_would_have": item["rank_would_have"],
                "partners_shown": item["top_n"],
                "could_change_printed_cell": item["could_change_printed_cell"],
                "proposed_code": proposed,
                "proposed_by": proposed_by,
                "first_file": item["first_source_file"],
            }
        )
    return entries


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3f}".rstrip("0")


def note_line(entry: dict) -> str:
    """``note: itc name "Xanadu" is in no seed (value 12 USD thousand in 2023, not shown); add it
    to dbt_project/seeds/partner_names_itc.csv (proposed: …)``"""
    if entry.get("latest_period") is None or entry.get("value") is None:
        where = "in no printed column"
    else:
        where = f"value {_number(entry['value'])} {entry['unit']} in {entry['latest_period']}, "
        where += "could change a printed cell" if entry.get("could_change_printed_cell") else "not shown"
    proposal = f"proposed: {entry['proposed_code']}" if entry.get("proposed_code") else "no code proposed"
    return (
        f'note: {entry["source"]} name "{entry["name"]}" is in no seed ({where}); '
        f"add it to {entry['add_it_to']} ({proposal})"
    )

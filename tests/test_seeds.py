"""The seeds cover every partner and product name in the shipped downloads."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest

from .pipeline import PROJECT_ROOT, SHIPPED_RAW

SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"


def seed_column(name: str, column: str) -> set[str]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return {row[column] for row in csv.DictReader(f)}


def customs_names() -> set[str]:
    names = set()
    for path in SHIPPED_RAW.glob("customs/*/*.csv"):
        data = path.read_bytes()
        text = data.decode("utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else data.decode("cp950")
        names |= {row["國家"] for row in csv.DictReader(text.splitlines())}
    return names


def gta_names() -> set[str]:
    names = set()
    for path in SHIPPED_RAW.glob("gta/*/GTA_*.csv"):
        lines = path.read_text(encoding="utf-8-sig").splitlines()[6:]
        names |= {row["Partner Country"] for row in csv.DictReader(lines)}
    return names


def itc_names() -> set[str]:
    names = set()
    for path in SHIPPED_RAW.glob("itc/*/Trade_Map_-_*.txt"):
        rows = csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter="\t")
        names |= {row["Exporters"] for row in rows}
    return names


@pytest.mark.parametrize(
    ("names", "seed"),
    [(customs_names, "partner_names_customs"), (gta_names, "partner_names_gta"), (itc_names, "partner_names_itc")],
)
def test_every_partner_name_in_raw_is_mapped(names, seed):
    found = names()
    assert found, f"no names read for {seed}"
    missing = found - seed_column(seed, "partner_name")
    assert not missing, f"{seed} lacks {sorted(missing)}"


PARTNER_SEEDS = ("partner_names_customs", "partner_names_gta", "partner_names_itc")
KINDS = {"country", "total", "aggregate", "former", "other_territory"}


def seed_rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_every_mapped_code_has_a_bulletin_label():
    codes = set()
    for seed in PARTNER_SEEDS:
        codes |= seed_column(seed, "partner_code")
    missing = codes - seed_column("partners", "partner_code")
    assert not missing, f"partners.csv lacks labels for {sorted(missing)}"


def test_partners_have_one_label_and_an_english_name_each():
    rows = seed_rows("partners")
    codes = [r["partner_code"] for r in rows]
    assert len(codes) == len(set(codes)), "a code twice in partners.csv"
    assert all(r["partner_code"] and r["label_zh"] and r["name_en"] for r in rows)
    assert "NA" in codes  # Namibia: a code, never read as a missing value


@pytest.mark.parametrize("seed", PARTNER_SEEDS)
def test_partner_name_seeds_classify_every_name(seed):
    rows = seed_rows(seed)
    assert list(rows[0]) == ["partner_name", "partner_code", "partner_kind"]
    names = [r["partner_name"] for r in rows]
    assert len(names) == len(set(names)), f"{seed}: a name twice"
    assert all(r["partner_name"] == r["partner_name"].strip() and r["partner_code"] for r in rows)
    assert {r["partner_kind"] for r in rows} <= KINDS
    # Only World is the total; the WORLD code is nothing else's.
    totals = [(r["partner_name"], r["partner_code"]) for r in rows if r["partner_kind"] == "total"]
    assert totals in ([], [("World", "WORLD")]), totals
    assert all(r["partner_kind"] == "total" for r in rows if r["partner_code"] == "WORLD")


def test_an_aggregate_code_is_no_country_code():
    """Aggregates have codes of their own: never summed into, nor shown as, a country."""
    kinds: dict[str, set[str]] = {}
    for seed in PARTNER_SEEDS:
        for r in seed_rows(seed):
            kinds.setdefault(r["partner_code"], set()).add(r["partner_kind"])
    mixed = {code: k for code, k in kinds.items() if "aggregate" in k and k != {"aggregate"}}
    assert not mixed, mixed
    iso = {code for code, k in kinds.items() if k & {"country", "other_territory"}}
    assert all(len(code) == 2 and code.isalpha() and code.isupper() for code in iso), sorted(iso)


def test_the_printed_labels_are_unchanged():
    """The labels of every partner bulletin No. 459 shows are the ones it printed."""
    labels = {r["partner_code"]: r["label_zh"] for r in seed_rows("partners")}
    printed = {
        (r["series"], r["series_zh"])
        for r in seed_rows("bulletin_459_printed_cells")
        if r["series"] not in ("total", "world")
    }
    assert printed
    assert {(code, labels.get(code)) for code, _ in printed} == printed


def test_the_customs_seed_holds_the_portals_whole_list():
    rows = seed_rows("partner_names_customs")
    assert len(rows) == 249
    assert {r["partner_kind"] for r in rows} == {"country"}


def test_every_itc_product_in_raw_has_an_hs_code():
    products = {
        re.search(r"_product_\((.+)\)\.txt$", p.name).group(1) for p in SHIPPED_RAW.glob("itc/*/Trade_Map_-_*.txt")
    }
    assert products and products <= seed_column("itc_products", "product_description")


def test_the_moea_product_behind_figure1_is_in_the_survey():
    products = set()
    for path in SHIPPED_RAW.glob("moea/*/InquireAdvance*.xlsx"):
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        products |= {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert "伺服器" in products


def test_project_raw_is_the_shipped_copy():
    assert Path(SHIPPED_RAW).is_dir()
    assert sorted(p.name for p in SHIPPED_RAW.iterdir() if p.is_dir()) == ["customs", "gta", "itc", "moea"]

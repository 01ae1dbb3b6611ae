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


def test_every_mapped_code_has_a_bulletin_label():
    codes = set()
    for seed in ("partner_names_customs", "partner_names_gta", "partner_names_itc"):
        codes |= seed_column(seed, "partner_code")
    missing = codes - seed_column("partners", "partner_code")
    assert not missing, f"partners.csv lacks labels for {sorted(missing)}"


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

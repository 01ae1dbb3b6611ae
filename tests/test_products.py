"""Any product: a run for HS 847180 publishes Table 1 for it, computed correctly, in
``published/847180/``; the exhibits its sources lack are left out and said so; the default
product's publication is not touched."""

from __future__ import annotations

import csv
import os
import re
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest

from orchestration import publish
from orchestration.publish import atomic, files, layout

from .scenario import PRODUCT, Scenario, file_hashes, scenario

# Every test here reads what full pipeline runs made (make test runs them; make test-fast does not).
pytestmark = pytest.mark.slow

TABLE1 = "table1_tw_server_exports_by_destination"
LEFT_OUT = {"figure1_tw_server_production", "table2_us_server_imports_by_source", "table3_major_exporters"}
ROC_MONTH = re.compile(r"^(\d+)年(\d+)月")
EXPORTS = "出口總值(含復出口)"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Scenario:
    return scenario(tmp_path_factory)


@pytest.fixture(scope="module")
def product_dir(runs) -> Path:
    return runs.publish_dir / PRODUCT


def customs_exports(raw: Path, hs_code: str) -> dict[str, dict[tuple[int, int], float]]:
    """US$ thousand by destination and (year, month), from the customs files as downloaded
    (Big5, or UTF-8 with a BOM): every file of the one customs download."""
    assert len({p.parent for p in raw.glob("customs/*/*.csv")}) == 1
    out: dict[str, dict[tuple[int, int], float]] = defaultdict(lambda: defaultdict(float))
    for path in sorted(raw.glob("customs/*/*.csv")):
        data = path.read_bytes()
        text = data.decode("utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else data.decode("cp950")
        for row in csv.DictReader(text.splitlines()):
            if row["進出口別"] == EXPORTS and row["貨品號列"] == hs_code:
                year, month = ROC_MONTH.match(row["日期"]).groups()
                out[row["國家"]][(int(year) + 1911, int(month))] += float(row["美元(千元)"])
    return out


def test_the_product_is_published_in_its_own_folder(runs, product_dir):
    assert product_dir.is_dir()
    assert os.readlink(runs.publish_dir / PRODUCT) == os.path.join("..", "..", "published.products", PRODUCT)
    assert (atomic.product_target(runs.publish_dir, PRODUCT)).resolve() == product_dir.resolve()
    names = {p.name for p in product_dir.iterdir() if p.is_file()}
    assert names == set(publish.expected_files([TABLE1]))
    assert layout.FIGURE not in names
    assert files.verify_folder(product_dir) == []
    log = runs.product.stdout + runs.product.stderr
    assert "Asset check 'publication_matches_manifest' on 'published_bulletin' passed" in log


def test_the_default_publication_is_untouched(runs):
    before, after = runs.second_published, runs.default_after_product
    assert after.version == before.version
    assert after.hashes == before.hashes
    assert file_hashes(runs.publish_dir) == before.hashes
    # it gained the link to the product, nothing else
    assert sorted(p.name for p in runs.publish_dir.iterdir() if p.is_symlink()) == [PRODUCT, atomic.PREVIOUS]
    assert files.read_manifest(runs.publish_dir)["product"]["hs_code"] == "847150"


def test_the_manifest_and_draft_say_what_is_left_out(product_dir):
    manifest = files.read_manifest(product_dir)
    product = {"hs_code": PRODUCT, "product_zh": "電腦組件(不含CPU)", "moea_product": None}
    assert manifest["product"] == product
    left_out = {e["exhibit"]: e for e in manifest["exhibits_left_out"]}
    assert set(left_out) == LEFT_OUT
    for code, entry in left_out.items():
        assert "no rows for HS 847180" in entry["reason"]
        assert f"{code}.csv" in entry["files_left_out"]
    assert layout.FIGURE in left_out["figure1_tw_server_production"]["files_left_out"]
    assert files.manifest_exhibits(manifest) == [TABLE1]
    assert set(manifest["sources"]) == {"customs"}

    draft = (product_dir / layout.DRAFT).read_text(encoding="utf-8")
    title = draft.splitlines()[0]
    assert "電腦組件(不含CPU)" in title and PRODUCT in title
    assert "本期未含" in draft
    for name in ("圖1", "表2", "表3"):
        assert name in draft
    assert "\n1. " in draft and "\n2. " not in draft and "伺服器" not in draft

    book = openpyxl.load_workbook(product_dir / layout.WORKBOOK)
    assert book.sheetnames == ["表1", layout.MIRROR_SHEET, layout.DRAFT_SHEET]
    assert book["表1"]["A1"].value == "表1 我國電腦組件(不含CPU)出口統計"
    texts = [str(c.value) for row in book["表1"].iter_rows() for c in row if c.value]
    assert "說明：海關稅則編號 HS code 847180。" in texts
    assert "無從比對" in book[layout.MIRROR_SHEET]["A2"].value


def test_table1_for_the_product_equals_sums_from_the_customs_files(runs, product_dir):
    exports = customs_exports(runs.raw, PRODUCT)
    latest = max(m for values in exports.values() for m in values)
    assert latest == (2024, 9)

    def total(partners, year, last_month=12):
        return sum(
            v for p in partners for (y, m), v in exports.get(p, {}).items() if y == year and m <= last_month
        )

    def partners_of(series_zh):
        if series_zh == "出口值":  # the total: every destination
            return list(exports)
        return ["中國大陸", "香港"] if series_zh == "中國大陸與香港" else [series_zh]

    def period_sum(partners, period):
        if ".." in period:
            return total(partners, int(period[:4]), int(period[-2:]))
        return total(partners, int(period))

    def year_before(period):
        return str(int(period[:4]) - 1) + period[4:]

    with (product_dir / f"{TABLE1}.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    checked = 0
    for row in rows:
        partners, period = partners_of(row["series_zh"]), row["period"]
        if row["measure"] == "value":
            want = period_sum(partners, period) / 1e5  # US$ thousand -> 億美元
        elif row["measure"] == "yoy_pct":
            want = (period_sum(partners, period) / period_sum(partners, year_before(period)) - 1) * 100
        elif row["measure"] == "share_pct":
            want = period_sum(partners, period) / period_sum(list(exports), period) * 100
        else:
            continue
        assert float(row["value_exact"]) == pytest.approx(want, rel=1e-9), row
        assert row["value"] == layout.format_value(want, int(row["decimals"])), row
        checked += 1
    # 6 series (the total and the five largest destinations), 8 columns, 3 measures
    assert checked == 6 * 8 * 3

    # the destinations shown are the five largest of the year to date (China with Hong Kong)
    ytd = {p: total([p], 2024, 9) for p in exports}
    ytd["中國大陸與香港"] = ytd.pop("中國大陸", 0) + ytd.pop("香港", 0)
    largest = sorted(ytd, key=ytd.get, reverse=True)[:5]
    shown = {r["series_zh"] for r in rows} - {"出口值"}
    assert shown == set(largest)

    # the year-to-date column holds the preliminary month, marked in the workbook
    book = openpyxl.load_workbook(product_dir / layout.WORKBOOK)
    headers = [c.value for c in book["表1"][2] if c.value]
    assert headers[-1] == "2024年 1-9月*"
    assert any(c.value == "*含初步值：2024年9月" for row in book["表1"].iter_rows() for c in row)

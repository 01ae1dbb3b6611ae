"""The mirror check's values equal sums computed independently from the raw files."""

from __future__ import annotations

import csv
import re
from collections import defaultdict

import pytest

from .pipeline import SHIPPED_RAW

# Every test here reads what full pipeline runs made (make test runs them; make test-fast does not).
pytestmark = pytest.mark.slow

ROC_MONTH = re.compile(r"^(\d+)年(\d+)月")


def customs_exports_to_us() -> dict[tuple[int, int], float]:
    """US$ by (year, month): customs 出口總值(含復出口), HS 847150, 國家 美國."""
    out: dict[tuple[int, int], float] = defaultdict(float)
    for path in SHIPPED_RAW.glob("customs/*/*.csv"):
        data = path.read_bytes()
        text = data.decode("utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else data.decode("cp950")
        for row in csv.DictReader(text.splitlines()):
            if row["進出口別"] == "出口總值(含復出口)" and row["貨品號列"] == "847150" and row["國家"] == "美國":
                year, month = ROC_MONTH.match(row["日期"]).groups()
                out[(int(year) + 1911, int(month))] += float(row["美元(千元)"]) * 1000
    return out


def gta_imports_from_taiwan() -> dict[tuple[int, int], float]:
    """US$ by (year, month): GTA's Taiwan row."""
    months = {m: i for i, m in enumerate(
        ["January", "February", "March", "April", "May", "June", "July", "August",
         "September", "October", "November", "December"], start=1)}
    out: dict[tuple[int, int], float] = {}
    for path in SHIPPED_RAW.glob("gta/*/GTA_*.csv"):
        rows = csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()[6:])
        taiwan = next(r for r in rows if r["Partner Country"] == "Taiwan")
        for column, value in taiwan.items():
            if column not in ("Partner Country", "Unit") and value.strip():
                name, year = column.split()
                out[(int(year), months[name])] = float(value)
    return out


def test_mirror_values_equal_independent_sums(shipped_run):
    customs, gta = customs_exports_to_us(), gta_imports_from_taiwan()
    common_latest = min(max(customs), max(gta))
    rows = shipped_run.query(
        "select period, tw_reported_exports_usd, us_reported_imports_usd, gap_usd, gap_pct "
        "from marts.fct_mirror_tw_us_server_trade order by period_order"
    )
    expected_periods = [str(y) for y in range(2017, common_latest[0])]
    if common_latest[1] < 12:
        expected_periods.append(f"{common_latest[0]}-01..{common_latest[1]:02d}")
    assert [r[0] for r in rows] == expected_periods == [str(y) for y in range(2017, 2024)] + ["2024-01..08"]
    for period, tw, us, gap, gap_pct in rows:
        year = int(period[:4])
        last = common_latest[1] if ".." in period else 12
        want_tw = sum(v for (y, m), v in customs.items() if y == year and m <= last)
        want_us = sum(v for (y, m), v in gta.items() if y == year and m <= last)
        assert tw == pytest.approx(want_tw, rel=1e-12), period
        assert us == pytest.approx(want_us, rel=1e-12), period
        assert gap == pytest.approx(want_us - want_tw, rel=1e-9, abs=1e-3), period
        assert gap_pct == pytest.approx((want_us - want_tw) / want_tw * 100, rel=1e-9), period

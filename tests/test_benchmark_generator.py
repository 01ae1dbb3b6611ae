"""The benchmark's customs extract generator writes what the portal writes, and the project reads it.

Small sizes only: the benchmark itself (``make bench``) is not a test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import duckdb
import pytest

from benchmarks.generate_customs import (
    KNOWN_CODES,
    customs_countries,
    hs_products,
    write_customs,
)
from orchestration.ingest.customs import HEADER
from orchestration.ingest.loader import load_source

from .pipeline import PROJECT_ROOT

ROWS = 4000
DOWNLOAD = "2024-10-14"
NAME = "綜合查詢_20241014093012.csv"
ROC = re.compile(r"^(\d{2,3})年(\d{1,2})月(\(初步值\))?$")


def seed_names() -> dict[str, str]:
    path = PROJECT_ROOT / "dbt_project" / "seeds" / "partner_names_customs.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return {row["partner_name"]: row["partner_code"] for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, tuple]:
    """The same small extract in the portal's UTF-8 (with a byte-order mark) and in Big5."""
    out = {}
    for encoding in ("utf-8-sig", "big5"):
        raw = tmp_path_factory.mktemp(encoding) / "raw"
        path = raw / "customs" / DOWNLOAD / NAME
        rows = write_customs(path, ROWS, encoding)
        out[encoding] = (raw, path, rows)
    return out


def rows_of(path) -> list[list[str]]:
    data = path.read_bytes()
    text = data[3:].decode("utf-8") if data.startswith(b"\xef\xbb\xbf") else data.decode("cp950")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "big5"])
def test_the_project_reads_the_generated_extract(generated, encoding):
    raw, path, rows = generated[encoding]
    con = duckdb.connect()
    result = load_source(con, "customs", raw)
    assert result.rows == rows == path.read_bytes().count(b"\r\n") - 1
    assert abs(rows - ROWS) < ROWS * 0.05
    # every row with its line, the newest month preliminary, the oldest 2016-01
    assert con.execute(
        "SELECT min(source_row), max(source_row), count(DISTINCT source_row), min(period_month)::DATE, "
        "max(period_month)::DATE FROM raw.customs_trade"
    ).fetchone() == (2, rows + 1, rows, dt.date(2016, 1, 1), dt.date(2024, 9, 1))
    assert con.execute(
        "SELECT DISTINCT period_month::DATE FROM raw.customs_trade WHERE is_preliminary"
    ).fetchall() == [(dt.date(2024, 9, 1),)]


def test_both_encodings_give_the_same_rows(generated):
    tables = []
    for encoding in ("utf-8-sig", "big5"):
        con = duckdb.connect()
        load_source(con, "customs", generated[encoding][0])
        tables.append(
            con.execute(
                "SELECT * EXCLUDE (source_file) FROM raw.customs_trade ORDER BY source_row"
            ).fetchall()
        )
    assert tables[0] == tables[1]
    assert rows_of(generated["utf-8-sig"][1]) == rows_of(generated["big5"][1])


def test_the_portals_layout(generated):
    path = generated["utf-8-sig"][1]
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf" + ",".join(HEADER).encode() + b"\r\n")
    assert data.count(b"\n") == data.count(b"\r\n")
    with pytest.raises(UnicodeDecodeError):
        generated["big5"][1].read_bytes().decode("utf-8")
    rows = rows_of(path)
    assert rows[0] == list(HEADER)
    names = seed_names()
    for flow, label, hs, zh, en, country, value in rows[1:]:
        assert flow in ("出口總值(含復出口)", "進口總值(含復進口)")
        assert ROC.match(label) and label.endswith("(初步值)") == label.startswith("113年9月")
        assert re.fullmatch(r"8[45][0-9]{4}", hs)
        assert zh and en.startswith("  ")
        assert country in names
        assert re.fullmatch(r"[0-9]+", value) and int(value) > 0
    # the portal's order: flow, HS code, month; the largest value first within a month
    keys = [(r[0] != "出口總值(含復出口)", r[2]) for r in rows[1:]]
    assert keys == sorted(keys)


def test_same_seed_same_file(tmp_path):
    one, two = tmp_path / "1.csv", tmp_path / "2.csv"
    write_customs(one, 500, "big5", seed=7)
    write_customs(two, 500, "big5", seed=7)
    assert one.read_bytes() == two.read_bytes()
    write_customs(two, 500, "big5", seed=8)
    assert one.read_bytes() != two.read_bytes()


def test_catalogue_is_the_portals_full_export():
    import numpy as np

    products = hs_products(np.random.default_rng(459))
    codes = [p.code for p in products]
    assert 1300 <= len(codes) <= 1700 and len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"8[45][0-9]{4}", c) for c in codes)
    assert {c[:2] for c in codes} == {"84", "85"}
    for code, (zh, _en) in KNOWN_CODES.items():
        assert next(p for p in products if p.code == code).name_zh == zh
    countries = customs_countries(220, np.random.default_rng(459))
    assert len(countries) == len(set(countries)) == 220
    assert set(countries) <= set(seed_names())
    assert {"中國大陸", "香港", "美國", "日本", "南韓", "越南"} <= set(countries)


def test_the_seed_holds_the_portals_whole_country_list():
    names = seed_names()
    assert len(names) >= 240
    assert len(set(names.values())) == len(names)  # one name per code
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in names.values())

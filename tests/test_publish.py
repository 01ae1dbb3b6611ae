"""The published bulletin: its files read back against the marts, reproducibility, and the
atomic switch (a failed publication leaves the previous one byte for byte)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import struct
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration import publish
from orchestration.publish import atomic, chart, files, layout, marts, workbook
from orchestration.publish.layout import LAYOUTS, Period, period_header

from .pipeline import PRINTED_CELLS
from .publication import data_hashes, file_hashes, without_run

EXHIBITS = list(layout.EXHIBIT_MARTS)


# ---------------------------------------------------------------- helpers and fixtures


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def published(shipped_run) -> Path:
    """The publication the whole pipeline made (``published``, a link to its version)."""
    return shipped_run.publish_dir


@pytest.fixture(scope="module")
def warehouse_copy(shipped_run, tmp_path_factory) -> Path:
    """A copy of the pipeline's warehouse, for publishing from without touching the run's."""
    copy = tmp_path_factory.mktemp("warehouse") / "bulletin.duckdb"
    shutil.copyfile(shipped_run.warehouse, copy)
    return copy


@pytest.fixture
def con(warehouse_copy):
    connection = duckdb.connect(str(warehouse_copy), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def mart_cells(shipped_run) -> dict[tuple[str, str, str, str], tuple[float, int]]:
    """(table, measure, series_zh, period) -> (value, decimals, is_preliminary), from the marts."""
    rows = shipped_run.query(
        'select "table", measure, series_zh, period, value, decimals, is_preliminary'
        " from marts.fct_bulletin_cells"
    )
    return {tuple(r[:4]): (r[4], r[5], r[6]) for r in rows}


@pytest.fixture(scope="module")
def mart_periods(shipped_run) -> dict[str, Period]:
    """Every period code of the cells, typed as the cells mart types it."""
    rows = shipped_run.query(
        "select distinct period, period_kind, period_start, period_end from marts.fct_bulletin_cells"
    )
    return {r[0]: Period(*r) for r in rows}


# ---------------------------------------------------------------- the publication's files


def test_publication_is_a_link_to_a_complete_version(published):
    assert published.is_symlink()
    version = published.resolve()
    assert version.parent.name == published.name + ".d"
    names = {p.name for p in published.iterdir()}
    assert set(publish.expected_files()) <= names
    for name in publish.expected_files():
        assert (published / name).stat().st_size > 0, name
    assert files.verify_folder(published) == []


def test_asset_check_ran_and_passed(shipped_run):
    log = shipped_run.stdout + shipped_run.stderr
    assert "Asset check 'publication_matches_manifest' on 'published_bulletin' passed" in log


def test_asset_check_fails_on_a_tampered_file(published, tmp_path, monkeypatch):
    from orchestration.assets.publish import publication_matches_manifest

    monkeypatch.setenv("BULLETIN_PUBLISH_DIR", str(published))
    assert publication_matches_manifest().passed

    copy = tmp_path / "published"
    shutil.copytree(published.resolve(), copy, symlinks=True)
    with (copy / "bulletin_cells.csv").open("a", encoding="utf-8") as f:
        f.write("tampered\n")
    (copy / "figure1.png").write_bytes(b"")
    monkeypatch.setenv("BULLETIN_PUBLISH_DIR", str(copy))
    result = publication_matches_manifest()
    assert not result.passed
    problems = result.metadata["problems"].data
    assert any(p.startswith("bulletin_cells.csv") for p in problems)
    assert any(p.startswith("figure1.png") and "empty" in p for p in problems)


def test_manifest_has_hashes_row_counts_lineage_and_run(published, shipped_run):
    manifest = files.read_manifest(published)
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(publish.expected_files()) - {layout.MANIFEST}
    for name, entry in listed.items():
        data = (published / name).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()

    for mart in [layout.CELLS_MART, *layout.EXHIBIT_MARTS.values()]:
        (count,) = shipped_run.query(f"select count(*) from marts.{mart}")[0]
        assert manifest["tables"][mart]["rows"] == count

    sources = manifest["sources"]
    assert {s: (v["latest_period"], v["download_date"]) for s, v in sources.items()} == {
        "customs": ("2024-09", "2024-10-14"),
        "gta": ("2024-08", "2024-10-10"),
        "itc": ("2023", "2024-10-01"),
        "moea": ("2024-07", "2024-09-30"),
    }
    assert sources["customs"]["raw_table"] == "raw.customs_trade"
    assert manifest["preliminary"]["source_months"]["customs"] == ["2024-09"]
    assert manifest["preliminary"]["exhibit_periods"] == {
        "table1_tw_server_exports_by_destination": ["2024-01..09"]
    }
    run = manifest["run"]
    assert run["run_id"] and run["published_at"] and run["started_at"]
    datetime.fromisoformat(run["published_at"])

    assert manifest["product"] == {"hs_code": "847150", "product_zh": "伺服器", "moea_product": "伺服器"}
    assert manifest["exhibits_left_out"] == []
    months = {"table1_tw_server_exports_by_destination": ["2024-09"]}
    assert manifest["preliminary"]["exhibit_months"] == months
    # the first publication in its folder: nothing to compare with
    assert manifest["revisions"] == {"file": layout.REVISIONS, "rows": 0, "compared_with": None}
    header_only = ",".join(layout.REVISIONS_COLUMNS) + "\n"
    assert (published / layout.REVISIONS).read_text(encoding="utf-8") == header_only
    (count,) = shipped_run.query(f"select count(*) from marts.{layout.MIRROR_MART}")[0]
    assert manifest["tables"][layout.MIRROR_MART]["rows"] == count == 8


def test_bulletin_cells_csv_has_the_columns_and_numbers_of_the_published_table(published):
    rows = read_csv(published / layout.CELLS_CSV)
    with PRINTED_CELLS.open(encoding="utf-8-sig", newline="") as f:
        printed = list(csv.DictReader(f))
    header = (published / layout.CELLS_CSV).read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[: len(printed[0])] == list(printed[0])
    assert header == list(layout.CELLS_COLUMNS)

    got = {(r["table"], r["measure"], r["series"], r["period"]): r for r in rows}
    for cell in printed:
        row = got[(cell["table"], cell["measure"], cell["series"], cell["period"])]
        # the number as the bulletin prints it, character for character (4267, 0.01, 100.0)
        for column in ("value", "decimals", "series_zh", "unit", "printed_in"):
            assert row[column] == cell[column], (column, cell)
    assert {r["is_preliminary"] for r in rows} == {"true", "false"}


def test_exhibit_csv_and_parquet_hold_their_mart(published, shipped_run):
    for exhibit, mart in [*layout.EXHIBIT_MARTS.items(), (layout.MIRROR_MART, layout.MIRROR_MART)]:
        columns = [r[0] for r in shipped_run.query(f"describe marts.{mart}")]
        order = "period_order" if mart == layout.MIRROR_MART else "measure_order, series_rank, period_order"
        expected = shipped_run.query(f"select * from marts.{mart} order by {order}")
        with duckdb.connect() as mem:
            parquet = mem.execute(f"select * from read_parquet('{published / (exhibit + '.parquet')}')")
            assert [d[0] for d in parquet.description] == columns
            assert parquet.fetchall() == expected
        rows = read_csv(published / f"{exhibit}.csv")
        assert list(rows[0]) == columns
        assert len(rows) == len(expected)
        at = {c: i for i, c in enumerate(columns)}
        if mart == layout.MIRROR_MART:
            for row, want in zip(rows, expected, strict=True):
                assert row["period"] == want[at["period"]]
                assert float(row["tw_reported_exports_usd"]) == want[at["tw_reported_exports_usd"]]
                assert float(row["gap_pct"]) == want[at["gap_pct"]]
            continue
        for row, want in zip(rows, expected, strict=True):
            assert row["value"] == layout.format_value(want[at["value"]], want[at["decimals"]])
            assert float(row["value_exact"]) == want[at["value_exact"]]
            assert row["period"] == want[at["period"]]


# ---------------------------------------------------------------- bulletin.xlsx


def read_sheet(ws) -> dict:
    """A table sheet parsed back: title, period headers, blocks and their rows, foot lines."""
    rows = list(ws.iter_rows())
    title = rows[0][0].value
    headers = [c.value for c in rows[1][1:] if c.value is not None]
    blocks: dict[str, list[str]] = {}
    numbers: dict[tuple[str, str, str], openpyxl.cell.cell.Cell] = {}
    foot: list[str] = []
    block = None
    for row in rows[2:]:
        label = row[0].value
        rest = [c for c in row[1 : len(headers) + 1]]
        if label is None:
            block = None
            continue
        if (
            block is None
            and all(c.value is None for c in rest)
            and str(label).startswith(("資料來源", "說明", layout.PRELIMINARY_MARK))
        ):
            foot.append(label)
            continue
        if all(c.value is None for c in rest):
            block = label
            blocks[block] = []
            continue
        blocks[block].append(label)
        for header, cell in zip(headers, rest, strict=True):
            numbers[(block, label, header)] = cell
    return {"title": title, "headers": headers, "blocks": blocks, "numbers": numbers, "foot": foot}


@pytest.fixture(scope="module")
def book(published):
    return openpyxl.load_workbook(published / layout.WORKBOOK)


def test_workbook_has_a_sheet_per_exhibit_titled_as_the_bulletin(book, shipped_run):
    assert book.sheetnames == ["圖1", "表1", "表2", "表3", layout.MIRROR_SHEET, layout.DRAFT_SHEET]
    titles = dict(shipped_run.query("select exhibit, title_zh from reference.bulletin_exhibits"))
    assert (
        book["表1"]["A1"].value
        == "表1 我國伺服器出口統計"
        == titles["table1_tw_server_exports_by_destination"]
    )
    assert book["表2"]["A1"].value == "表2 各國在美國伺服器進口市場市占率"
    assert book["表3"]["A1"].value == "表3 主要國家伺服器出口統計"
    assert book["圖1"]["A1"].value == "圖1 我國伺服器產值"


def test_workbook_period_headers_blocks_and_row_labels(book):
    years = [f"{y}年" for y in range(2017, 2024)]
    t1, t2, t3 = (read_sheet(book[s]) for s in ("表1", "表2", "表3"))
    # the year to date holds customs' preliminary September: marked, and the mark explained
    assert t1["headers"] == [*years, "2024年 1-9月*"]
    assert t2["headers"] == [*years, "2024年 1-8月"]
    assert t3["headers"] == [*years, "2018至2023年 平均成長率(%)"]
    assert read_sheet(book["圖1"])["headers"] == [*years, "2024年 1-7月"]

    assert list(t1["blocks"]) == ["出口值(億美元)", "年增率(%)", "出口國家占比(%)"]
    assert list(t2["blocks"]) == ["金額(億美元)", "年增率(%)", "占比(%)"]
    assert list(t3["blocks"]) == ["年增率(%)", "占比(%)"]
    for block in t1["blocks"].values():
        assert block == ["出口值", "美國", "新加坡", "德國", "馬來西亞", "中國大陸與香港"]
    for block in t2["blocks"].values():
        assert block == ["進口值", "墨西哥", "中華民國", "荷蘭", "中國大陸", "泰國"]
    for block in t3["blocks"].values():
        assert block == ["全球", "墨西哥", "中國大陸", "中華民國", "美國"]

    assert t1["foot"] == [
        "資料來源：財政部關務署「海關進出口統計」",
        "說明：海關稅則編號參考 HS code 847150，惟不包含以組件形式出口(不含 CPU)者，"
        "其海關稅則編號會包含在 HS code 847180。",
        "*含初步值：2024年9月",
    ]
    assert t2["foot"] == ["資料來源：Global Trade Atlas", "說明：同表1"]
    assert t3["foot"] == ["資料來源：International Trade Centre", "說明：同表1"]
    assert read_sheet(book["圖1"])["foot"] == ["資料來源：經濟部統計處「工業產銷存動態調查」"]


def test_workbook_numbers_are_the_marts_numbers_with_their_formats(book, mart_cells, mart_periods):
    checked = 0
    for exhibit, exhibit_layout in LAYOUTS.items():
        sheet = read_sheet(book[exhibit_layout.sheet])
        measure_of = {b.label: b.measure for b in exhibit_layout.blocks}
        span = exhibit_layout.span_measure
        columns = {
            period_header(mart_periods[p]): (None, p) for (t, m, _, p) in mart_cells if t == exhibit and m != span
        }
        columns |= {
            period_header(mart_periods[p], span): (span, p)
            for (t, m, _, p) in mart_cells
            if t == exhibit and m == span
        }
        preliminary = {p for (t, m, _, p), (_, _, prelim) in mart_cells.items() if t == exhibit and prelim}
        for (block, label, header), cell in sheet["numbers"].items():
            # a column holding a preliminary month is marked, and only such a column
            span_measure, period = columns[header.removesuffix(layout.PRELIMINARY_MARK)]
            assert header.endswith(layout.PRELIMINARY_MARK) == (period in preliminary), header
            if cell.value == layout.NOT_APPLICABLE:
                assert span_measure is not None and measure_of[block] != "yoy_pct"
                continue
            measure = span_measure or measure_of[block]
            value, decimals, _ = mart_cells[(exhibit, measure, label, period)]
            assert isinstance(cell.value, int | float), (exhibit, block, label, header, cell.value)
            assert cell.value == pytest.approx(value, abs=1e-9)
            assert cell.number_format == layout.number_format(decimals)
            checked += 1
    # tables 1 and 2: 6 rows, 8 columns, 3 blocks; table 3: 5 rows, 7 years, 2 blocks, and
    # the average growth; figure 1: 8 columns, 2 blocks
    assert checked == 2 * 6 * 8 * 3 + 5 * 7 * 2 + 5 + 8 * 2

    # a sample against the bulletin as printed
    t1, t2, t3 = (read_sheet(book[s])["numbers"] for s in ("表1", "表2", "表3"))
    assert t1[("出口值(億美元)", "出口值", "2024年 1-9月*")].value == 156.9
    assert t1[("出口值(億美元)", "馬來西亞", "2017年")].value == 0.01
    assert t1[("出口值(億美元)", "馬來西亞", "2017年")].number_format == "0.00"
    assert t1[("年增率(%)", "德國", "2023年")].value == 1342.8
    assert t1[("出口國家占比(%)", "出口值", "2017年")].number_format == "0.0"
    assert t2[("占比(%)", "中華民國", "2024年 1-8月")].value == 28.3
    assert t3[("年增率(%)", "中華民國", "2018至2023年 平均成長率(%)")].value == 61.3
    assert t3[("占比(%)", "全球", "2018至2023年 平均成長率(%)")].value == "-"
    figure = read_sheet(book["圖1"])["numbers"]
    assert figure[("產值(億元)", "伺服器產值", "2024年 1-7月")].value == 4267
    assert figure[("產值(億元)", "伺服器產值", "2024年 1-7月")].number_format == "0"


def test_workbook_mirror_sheet_holds_the_mirror_mart(book, shipped_run):
    rows = list(book[layout.MIRROR_SHEET].iter_rows())
    assert rows[0][0].value.startswith("鏡像比對")
    header = [c.value for c in rows[1]]
    assert header[0] == "期間" and all("億美元" in h for h in header[1:4]) and "(%)" in header[4]
    mart = shipped_run.query(
        "select period, tw_reported_exports_usd, us_reported_imports_usd, gap_usd, gap_pct, is_preliminary,"
        " periods.period_kind, periods.period_start, periods.period_end"
        f" from marts.{layout.MIRROR_MART} inner join marts.{marts.PERIODS_MART} as periods using (period)"
        " order by period_order"
    )
    assert len(mart) == 8
    for row, (period, tw, us, gap, pct, preliminary, *typed) in zip(rows[2:], mart, strict=False):
        header = period_header(Period(period, *typed))
        assert row[0].value == header + (layout.PRELIMINARY_MARK if preliminary else "")
        for cell, usd in zip(row[1:4], (tw, us, gap), strict=True):
            assert cell.value == pytest.approx(usd / 1e8, rel=1e-12)
            assert cell.number_format == "0.00"
        assert row[4].value == pytest.approx(pct, rel=1e-12) and row[4].number_format == "0.0"
    assert [r[0].value for r in rows[2:10]] == [*(f"{y}年" for y in range(2017, 2024)), "2024年 1-8月"]
    foot = [r[0].value for r in rows[10:] if r[0].value]
    assert foot[0].startswith("資料來源") and foot[1].startswith("說明")


def test_workbook_figure_sheet_has_the_chart(book):
    charts = book["圖1"]._charts
    assert len(charts) == 1
    assert all(not ws._charts for ws in (book["表1"], book["表2"], book["表3"]))


def test_workbook_dates_are_fixed(published):
    with zipfile.ZipFile(published / layout.WORKBOOK) as z:
        assert {i.date_time for i in z.infolist()} == {(2024, 10, 14, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert core.count("2024-10-14T00:00:00Z") == 2
    props = openpyxl.load_workbook(published / layout.WORKBOOK).properties
    assert props.created == props.modified == datetime(2024, 10, 14)


# ---------------------------------------------------------------- figure1.png


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        chunks.append((kind, data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


def test_figure1_is_a_sensible_png_without_dates(published):
    data = (published / layout.FIGURE).read_bytes()
    chunks = png_chunks(data)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert (width, height) == (1200, 672)
    assert not {kind for kind, _ in chunks} & {b"tIME", b"tEXt", b"iTXt", b"zTXt"}

    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        pixels = image.convert("RGB")
        colours = {pixels.getpixel((x, y)) for x in range(0, width, 7) for y in range(0, height, 7)}
    # bars in two colours on white: not blank
    assert (255, 255, 255) in colours and len(colours) > 20


def test_figure1_uses_chinese_labels_the_shipped_font_covers(con):
    # The marts' own title, unit, source and period labels: every character in the project's
    # font (orchestration/publish/fonts/; tests/test_chart.py checks the font itself).
    exhibit = next(e for e in marts.exhibits(con) if e.code == "figure1_tw_server_production")
    cells = marts.exhibit_cells(con, exhibit.code)
    texts = chart.figure_texts(exhibit, cells, chinese=True)
    assert texts["title"] == exhibit.title_zh and "伺服器" in texts["title"]
    words = texts["title"] + texts["unit"] + texts["source"] + "".join(label for label, _, _ in texts["bars"])
    assert chart.missing_characters(words) == []


def test_figure1_falls_back_to_english_when_the_font_lacks_a_character(con, monkeypatch):
    exhibit = next(e for e in marts.exhibits(con) if e.code == "figure1_tw_server_production")
    cells = marts.exhibit_cells(con, exhibit.code)
    texts = chart.figure_texts(exhibit, cells, chinese=False)
    assert all(ord(ch) < 0x2E80 for ch in texts["title"] + texts["unit"] + texts["source"])
    assert [label for label, _, _ in texts["bars"]][-1] == "2024\nJan-Jul"
    english = chart.render_figure1(exhibit, cells, chinese=False)
    monkeypatch.setattr(chart, "missing_characters", lambda text: ["伺"])
    with pytest.warns(chart.MissingGlyphWarning):
        assert chart.render_figure1(exhibit, cells) == english
    png_chunks(english)


# ---------------------------------------------------------------- layout helpers


@pytest.mark.parametrize(
    ("period", "measure", "header"),
    [
        (Period("2017", "year", date(2017, 1, 1), date(2017, 12, 31)), None, "2017年"),
        (Period("2024-01..09", "ytd", date(2024, 1, 1), date(2024, 9, 30)), None, "2024年 1-9月"),
        (Period("2024-01..12", "ytd", date(2024, 1, 1), date(2024, 12, 31)), None, "2024年 1-12月"),
        (
            Period("2018..2023", "span", date(2018, 1, 1), date(2023, 12, 31)),
            "avg_growth_pct",
            "2018至2023年 平均成長率(%)",
        ),
    ],
)
def test_period_headers(period, measure, header):
    assert period_header(period, measure) == header


@pytest.mark.parametrize(
    ("value", "decimals", "text", "fmt"),
    [
        (4267.0, 0, "4267", "0"),
        (5.7, 1, "5.7", "0.0"),
        (0.01, 2, "0.01", "0.00"),
        (100.0, 1, "100.0", "0.0"),
        (-3.3, 1, "-3.3", "0.0"),
        (-0.04, 1, "0.0", "0.0"),
    ],
)
def test_numbers_print_with_their_decimals(value, decimals, text, fmt):
    assert layout.format_value(value, decimals) == text
    assert layout.number_format(decimals) == fmt


# ---------------------------------------------------------------- reproducible


def test_two_publications_from_the_same_warehouse_are_byte_identical(con, tmp_path, published):
    run = {"run_id": "same"}
    first = publish.publish(con, tmp_path / "a" / "published", run, token="a")
    second = publish.publish(con, tmp_path / "b" / "published", run, token="b")
    assert file_hashes(first) == file_hashes(second)  # the manifest too: same run dict here
    manifest = files.read_manifest(first)
    assert without_run(manifest) == without_run(files.read_manifest(second))
    assert first.name.split("-", 1)[1] == second.name.split("-", 1)[1]  # same content digest
    # and the same as the pipeline's own publication, written by another process
    assert data_hashes(first) == data_hashes(published)
    assert without_run(manifest) == without_run(files.read_manifest(published))


def test_parquet_and_workbook_writes_are_byte_identical(con, tmp_path):
    for n in (1, 2):
        files.write_parquet(con, "fct_bulletin_table1_exports_by_destination", tmp_path / f"t{n}.parquet")
    assert (tmp_path / "t1.parquet").read_bytes() == (tmp_path / "t2.parquet").read_bytes()
    exhibits = marts.exhibits(con)
    cells = {e.code: marts.exhibit_cells(con, e.code) for e in exhibits}
    stamp = datetime(2024, 10, 14)
    workbook.write_workbook(tmp_path / "w1.xlsx", exhibits, cells, stamp)
    workbook.write_workbook(tmp_path / "w2.xlsx", exhibits, cells, stamp)
    assert (tmp_path / "w1.xlsx").read_bytes() == (tmp_path / "w2.xlsx").read_bytes()


# ---------------------------------------------------------------- atomic


def snapshot(target: Path) -> tuple[str, dict[str, str]]:
    return os.readlink(target), file_hashes(target)


def test_a_failure_halfway_leaves_the_previous_publication_untouched(con, tmp_path, monkeypatch):
    target = tmp_path / "published"
    first = publish.publish(con, target, token="first")
    before = snapshot(target)
    written = []

    def broken_workbook(path, *args, **kwargs):
        path.write_bytes(b"PK\x03\x04 half a workbook")
        raise OSError("disk full (injected)")

    monkeypatch.setattr(workbook, "write_workbook", broken_workbook)
    with pytest.raises(OSError, match="injected"):
        publish.publish(con, target, token="second", progress=written.append)
    assert layout.CELLS_CSV in written  # it did fail halfway, after the CSV and Parquet files
    assert snapshot(target) == before
    assert target.resolve() == first
    assert [p.name for p in atomic.store_dir(target).iterdir()] == [first.name]  # no staging left


def test_a_failure_at_the_switch_leaves_the_previous_publication_untouched(con, tmp_path, monkeypatch):
    target = tmp_path / "published"
    publish.publish(con, target, token="first")
    before = snapshot(target)

    def broken_replace(src, dst):
        raise OSError("power cut (injected)")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="injected"):
        publish.publish(con, target, token="second")
    monkeypatch.undo()
    assert snapshot(target) == before


def test_a_killed_run_leaves_the_publication_and_its_leftovers_are_removed(con, tmp_path):
    target = tmp_path / "published"
    publish.publish(con, target, token="first")
    before = snapshot(target)
    # a run killed while writing: its staging folder stays behind, half written
    leftover = atomic.new_staging(target, "killed")
    (leftover / layout.CELLS_CSV).write_text("table,measure\n", encoding="utf-8")
    assert snapshot(target) == before
    publish.publish(con, target, token="next")
    assert not leftover.exists()


def test_the_previous_publication_stays_reachable_and_old_ones_are_pruned(con, tmp_path):
    target = tmp_path / "published"
    made = []
    for n in range(5):
        run = {"run_id": f"run {n}"}
        version = publish.stage(con, target, run, f"t{n}", now=datetime(2024, 10, 14, 8, n, tzinfo=UTC))
        atomic.activate(target, version)
        atomic.prune(target)
        made.append(version)
        if n:
            previous = target / atomic.PREVIOUS
            assert previous.resolve() == made[n - 1]
            assert files.read_manifest(previous)["run"] == {"run_id": f"run {n - 1}"}
            assert files.verify_folder(previous) == []
    assert atomic.versions(target) == made[-atomic.KEEP :]
    oldest = made[-atomic.KEEP]
    assert not (oldest / atomic.PREVIOUS).is_symlink()  # its previous was pruned: no dangling link
    assert target.resolve() == made[-1]
    assert not os.path.isabs(os.readlink(target))  # relative: the project folder can move


def test_a_published_folder_from_before_versioning_is_kept_as_the_previous(con, tmp_path):
    target = tmp_path / "published"
    target.mkdir()
    (target / "old.csv").write_text("a\n1\n", encoding="utf-8")
    version = publish.publish(con, target, token="first")
    assert target.is_symlink() and target.resolve() == version
    assert (target / atomic.PREVIOUS / "old.csv").read_text(encoding="utf-8") == "a\n1\n"


# ---------------------------------------------------------------- products


def test_expected_files_follow_the_exhibits():
    every = publish.expected_files()
    assert {layout.DRAFT, layout.REVISIONS, layout.FIGURE, f"{layout.MIRROR_MART}.parquet"} <= set(every)
    only_table1 = publish.expected_files(["table1_tw_server_exports_by_destination"])
    assert layout.FIGURE not in only_table1
    assert "table1_tw_server_exports_by_destination.csv" in only_table1
    assert not [n for n in only_table1 if n.startswith(("figure1_", "table2_", "table3_"))]
    assert publish.publication_target(Path("/x/published"), "847150") == Path("/x/published")
    assert publish.publication_target(Path("/x/published"), "847180") == Path("/x/published.products/847180")
    with pytest.raises(ValueError, match="six digits"):
        publish.publication_target(Path("/x/published"), "84718/")


def _product_version(con, target: Path, hs_code: str, token: str) -> Path:
    """A publication switched in at a product's link (written from the default warehouse: the
    files are beside the point here, the links are)."""
    where = atomic.product_target(target, hs_code)
    where.parent.mkdir(parents=True, exist_ok=True)
    staging = atomic.new_staging(where, token)
    publish.write_publication(con, staging, {"run_id": token})
    version = atomic.seal(staging, where, token)
    atomic.activate(where, version)
    atomic.prune(where)
    atomic.link_product(target, hs_code)
    return version


def test_products_are_reached_through_the_default_folder_and_keep_their_link(con, tmp_path, monkeypatch):
    from orchestration.assets.publish import publication_matches_manifest

    target = tmp_path / "published"
    # a product published before the default ever was: a default version of links only
    product = _product_version(con, target, "847180", "p1")
    holder = target.resolve()
    assert atomic.is_links_only(holder) and holder.name.endswith("-links")
    assert (target / "847180").resolve() == product
    monkeypatch.setenv("BULLETIN_PUBLISH_DIR", str(target))
    assert publication_matches_manifest().passed  # the holder is no publication to check

    # the default publication: a version of its own that links the product too
    default = publish.publish(con, target, token="d1")
    assert (default / atomic.PREVIOUS).resolve() == holder
    assert os.readlink(default / "847180") == os.path.join("..", "..", "published.products", "847180")
    before = file_hashes(target)
    # the product published again: the default's files and link unchanged, the product's new
    again = _product_version(con, target, "847180", "p2")
    assert file_hashes(target) == before and target.resolve() == default
    assert (target / "847180").resolve() == again and (again / atomic.PREVIOUS).resolve() == product
    # a later default publication keeps the link
    later = publish.publish(con, target, token="d2")
    assert (target / "847180" / layout.CELLS_CSV).read_bytes() == (again / layout.CELLS_CSV).read_bytes()
    assert (later / "847180").resolve() == again
    result = publication_matches_manifest()
    assert result.passed and result.metadata["products"].data == ["847150", "847180"]

    # a tampered product file fails the check, naming the product's folder
    with (again / layout.CELLS_CSV).open("a", encoding="utf-8") as f:
        f.write("tampered\n")
    problems = publication_matches_manifest().metadata["problems"].data
    assert problems and all(p.startswith("847180/bulletin_cells.csv") for p in problems)

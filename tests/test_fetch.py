"""The fetch of the two API sources, against a stand-in server on 127.0.0.1 (tests/api_server.py).

A fetch writes its answers as a download folder that ingestion reads; 429 is asked again, 500
three times fails and writes nothing, as does a body cut short, an HTML page or an answer of
another shape (each naming the URL and what was wrong); an empty answer for the month to come is
"not released yet"; without network the fetch fails at once; a key is never shown, logged or
written. No test here reaches the internet, and none runs the pipeline.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.fetch import FetchError, HttpSettings, NoNetwork, NotReleasedYet, fetch_download
from orchestration.fetch import census as census_fetch
from orchestration.fetch import comtrade as comtrade_fetch
from orchestration.fetch.folder import PARTIAL, write_download
from orchestration.ingest.files import IngestError
from orchestration.ingest.loader import load_source

from .api_server import CENSUS_PATH, COMTRADE_PATHS, HTML_PAGE, Fault, StandIn
from .pipeline import PROJECT_ROOT, pipeline_env, run_cli

API_DATA = Path(__file__).parent / "data" / "api"
FAST = HttpSettings(connect_timeout=2, read_timeout=5, attempts=3, backoff=0, max_wait=1, spacing=0)
HS = "847150"
TODAY = dt.date(2024, 10, 10)
KEY = "s3cr3t-KEY+/=census"
COMTRADE_KEY = "c0mtrade-subscription-key"


def census_rows(month: str, scale: int = 1) -> list[tuple[str, str, str]]:
    """A month of the recorded answer's partners, groupings and total."""
    countries = [("2010", "MEXICO", 1500), ("5830", "TAIWAN", 950), ("5700", "CHINA", 300), ("4210", "NETHERLANDS", 11)]
    total = sum(v for _, _, v in countries)
    return [
        ("-", "TOTAL FOR ALL COUNTRIES", str(total * 1000 * scale)),
        ("0003", "EUROPEAN UNION", str(11000 * scale)),
        ("5XXX", "ASIA", str(1250000 * scale)),
        *[(code, name, str(value * 1000 * scale)) for code, name, value in countries],
    ]


def census_months(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    out = []
    while (year, month) <= end:
        out.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@pytest.fixture
def server(monkeypatch):
    with StandIn() as stand_in:
        monkeypatch.setenv("BULLETIN_CENSUS_API_URL", stand_in.url)
        monkeypatch.setenv("BULLETIN_COMTRADE_API_URL", stand_in.url)
        monkeypatch.delenv("CENSUS_API_KEY", raising=False)
        monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
        for month in census_months("2023-01", "2024-08"):
            stand_in.census[(HS, month)] = census_rows(month)
        for year, reporters in ((2022, 3), (2023, 3)):
            stand_in.comtrade[(HS, year)] = [
                (490, "S19", "Other Asia, nes", 30.5e9 + year),
                (484, "MEX", "Mexico", 25e9),
                (97, "EUR", "European Union", 9e9),
            ][:reporters]
        yield stand_in


def nothing_written(raw: Path, source: str) -> bool:
    partial = raw / PARTIAL
    return not (raw / source).exists() and (not partial.exists() or not any(partial.iterdir()))


# --- census: a download folder ingestion reads ------------------------------------------------


def test_census_fetch_writes_the_answers_as_a_download_folder_ingestion_reads(server, tmp_path):
    raw = tmp_path / "raw"
    fetched, folder = fetch_download("census", HS, 2023, raw, TODAY, FAST)

    assert folder == raw / "census" / "2024-10-10"
    assert sorted(p.name for p in folder.iterdir()) == [
        "census_imports_847150_2023.json",
        "census_imports_847150_2024.json",
    ]
    asked = server.asked(CENSUS_PATH)
    assert [r.query["time"] for r in asked] == ["from 2023-01 to 2023-12", "from 2024-01 to 2024-09"]
    assert all(r.query["get"] == "CTY_CODE,CTY_NAME,GEN_VAL_MO" and r.query["I_COMMODITY"] == HS for r in asked)
    assert all(r.query["COMM_LVL"] == "HS6" and "key" not in r.query for r in asked)
    # the answers as they came, byte for byte
    for request, name in zip(asked, sorted(p.name for p in folder.iterdir()), strict=True):
        assert (folder / name).read_bytes() == server.census_answer(request.query)[1]
    assert (fetched.first_period, fetched.latest_period, fetched.requests) == ("2023-01", "2024-08", 2)
    assert not (raw / PARTIAL).exists()

    with duckdb.connect() as con:
        result = load_source(con, "census", raw)
        assert result.rows == 20 * 7
        assert result.latest_period == "2024-08-01"
        rows = con.execute(
            "select cty_code, cty_name, value_usd, source_row from raw.census_us_imports "
            "where period_month = '2024-08-01' order by source_row"
        ).fetchall()
    assert rows[0] == ("-", "TOTAL FOR ALL COUNTRIES", 2761000.0, rows[0][3])
    assert [r[0] for r in rows] == ["-", "0003", "5XXX", "2010", "5830", "5700", "4210"]


def test_the_new_download_sensor_sees_the_fetched_folder_and_not_one_being_written(server, tmp_path):
    from orchestration.automation import download_folders

    raw = tmp_path / "raw"
    (raw / PARTIAL / "census-2024-10-10-abc").mkdir(parents=True)  # a fetch still writing
    (raw / PARTIAL / "census-2024-10-10-abc" / "census_imports_847150_2023.json").write_text("[")
    assert download_folders(raw) == {}
    fetch_download("census", HS, 2023, raw, TODAY, FAST)
    assert list(download_folders(raw)) == ["census/2024-10-10"]


def test_the_recorded_answers_read_as_downloads(tmp_path):
    """The documented shapes (tests/data/api/) are what the parsers read, as a person's saved answer."""
    raw = tmp_path / "raw"
    recorded = (("census", "census_imports_847150_2024.json"), ("comtrade", "comtrade_exports_847150_2023.json"))
    for source, name in recorded:
        (raw / source / "2024-10-10").mkdir(parents=True)
        shutil.copy(API_DATA / name, raw / source / "2024-10-10" / name)
    with duckdb.connect() as con:
        assert load_source(con, "census", raw).rows == 15
        assert load_source(con, "comtrade", raw).rows == 3
        assert con.execute(
            "select reporter_code, reporter_desc, period_year, value_usd from raw.comtrade_exporters "
            "order by source_row"
        ).fetchall() == [
            ("490", "Other Asia, nes", 2023, 30500000000.5),
            ("484", "Mexico", 2023, 25000000000.0),
            ("97", "European Union", 2023, 9000000000.0),
        ]


def test_a_variable_asked_for_and_used_as_a_predicate_is_echoed_twice_and_read_once():
    from orchestration.ingest import census

    answer = [
        ["CTY_CODE", "CTY_NAME", "GEN_VAL_MO", "I_COMMODITY", "YEAR", "MONTH", "I_COMMODITY"],
        ["-", "TOTAL FOR ALL COUNTRIES", "10", "847150", "2024", "3", "847150"],
        ["5830", "TAIWAN", None, "847150", "2024", "03", "847150"],
    ]
    rows = census.records(answer)
    assert [(r.cty_code, r.hs_code, r.month.isoformat(), r.value) for r in rows] == [
        ("-", "847150", "2024-03-01", 10.0),
        ("5830", "847150", "2024-03-01", None),
    ]


def test_an_optional_source_without_download_is_an_empty_table(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    with duckdb.connect() as con:
        assert load_source(con, "census", raw).rows == 0
        assert load_source(con, "comtrade", raw).rows == 0
        assert con.execute("select count(*) from raw.census_us_imports").fetchone() == (0,)
        columns = [r[0] for r in con.execute("describe raw.comtrade_exporters").fetchall()]
    assert columns[-3:] == ["source_file", "download_date", "source_row"]
    # a source the bulletin needs still fails without its download
    with duckdb.connect() as con, pytest.raises(IngestError, match="no gta download found"):
        load_source(con, "gta", raw)


# --- the faults ----------------------------------------------------------------------------


def test_429_is_asked_again_and_the_fetch_goes_on(server, tmp_path):
    server.fail(CENSUS_PATH, Fault(429, b'{"error": "rate limit"}', {"Retry-After": "0"}))
    fetched, folder = fetch_download("census", HS, 2023, tmp_path / "raw", TODAY, FAST)
    asked = [r.query["time"] for r in server.asked(CENSUS_PATH)]
    assert asked == ["from 2023-01 to 2023-12", "from 2023-01 to 2023-12", "from 2024-01 to 2024-09"]
    assert len(list(folder.iterdir())) == 2


def test_500_three_times_fails_and_nothing_is_written(server, tmp_path):
    raw = tmp_path / "raw"
    server.fail(CENSUS_PATH, Fault(500), Fault(500), Fault(500))
    with pytest.raises(FetchError) as failed:
        fetch_download("census", HS, 2023, raw, TODAY, FAST)
    message = str(failed.value)
    assert "HTTP 500" in message and "after 3 attempts" in message, message
    assert f"{server.url}{CENSUS_PATH}?" in message and "time=from+2023-01+to+2023-12" in message
    assert len(server.asked(CENSUS_PATH)) == 3
    assert nothing_written(raw, "census")


def test_500_on_a_later_page_writes_nothing_either(server, tmp_path):
    raw = tmp_path / "raw"
    first = server.census_answer({"I_COMMODITY": HS, "time": "from 2023-01 to 2023-12"})[1]
    server.fail(CENSUS_PATH, Fault(200, first))
    server.fail(CENSUS_PATH, Fault(503), Fault(502), Fault(500))
    with pytest.raises(FetchError, match="HTTP 500"):
        fetch_download("census", HS, 2023, raw, TODAY, FAST)
    assert nothing_written(raw, "census")


def test_a_body_cut_short_fails_naming_the_url(server, tmp_path):
    raw = tmp_path / "raw"
    body = server.census_answer({"I_COMMODITY": HS, "time": "from 2023-01 to 2023-12"})[1]
    server.fail(CENSUS_PATH, Fault(200, body[: len(body) // 2], cut=True))
    with pytest.raises(FetchError) as failed:
        fetch_download("census", HS, 2023, raw, TODAY, FAST)
    assert "cut off" in str(failed.value) and f"{server.url}{CENSUS_PATH}?" in str(failed.value)
    assert nothing_written(raw, "census")


def test_json_cut_in_the_middle_fails_naming_the_url(server, tmp_path):
    raw = tmp_path / "raw"
    body = server.census_answer({"I_COMMODITY": HS, "time": "from 2023-01 to 2023-12"})[1]
    server.fail(CENSUS_PATH, Fault(200, body[:-40]))
    with pytest.raises(FetchError) as failed:
        fetch_download("census", HS, 2023, raw, TODAY, FAST)
    message = str(failed.value)
    assert "ends early" in message and "cut off" in message and "time=from+2023-01+to+2023-12" in message, message
    assert nothing_written(raw, "census")


def test_an_html_error_page_fails_saying_so(server, tmp_path):
    raw = tmp_path / "raw"
    server.fail(CENSUS_PATH, Fault(200, HTML_PAGE, {"Content-Type": "text/html"}))
    with pytest.raises(FetchError) as failed:
        fetch_download("census", HS, 2023, raw, TODAY, FAST)
    assert "an HTML page" in str(failed.value) and server.url in str(failed.value)
    assert nothing_written(raw, "census")


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"CTY_CODE": "5830"}', "expected a JSON array of rows"),
        (b'[["CTY_CODE","CTY_NAME","I_COMMODITY","time"],["5830","TAIWAN","847150","2023-01"]]', "lacks GEN_VAL_MO"),
        (
            b'[["CTY_CODE","CTY_NAME","GEN_VAL_MO","I_COMMODITY","time"],["5830","TAIWAN",12,"847150","2023-01"]]',
            "row 2: GEN_VAL_MO is a number; the API gives every value as a string",
        ),
        (
            b'[["CTY_CODE","CTY_NAME","GEN_VAL_MO","I_COMMODITY","time"],["5830","TAIWAN","1x","847150","2023-01"]]',
            'row 2: value "1x" in GEN_VAL_MO is not a number',
        ),
        (
            b'[["CTY_CODE","CTY_NAME","GEN_VAL_MO","I_COMMODITY","time"],["5830","TAIWAN","1","847150","2023-01"]]',
            "no TOTAL FOR ALL COUNTRIES row",
        ),
        (b"[[\"CTY_CODE\",\"CTY_NAME\"], [1, 2] ", "ends early"),
    ],
)
def test_an_answer_of_another_shape_fails_with_the_url_and_what_is_wrong(server, tmp_path, body, said):
    raw = tmp_path / "raw"
    server.fail(CENSUS_PATH, Fault(200, body))
    with pytest.raises(FetchError) as failed:
        fetch_download("census", HS, 2023, raw, TODAY, FAST)
    assert said in str(failed.value) and f"{server.url}{CENSUS_PATH}?" in str(failed.value), str(failed.value)
    assert nothing_written(raw, "census")


def test_an_empty_answer_for_the_new_month_is_not_released_yet(server, tmp_path):
    raw = tmp_path / "raw"
    fetch_download("census", HS, 2023, raw, dt.date(2024, 9, 20), FAST)  # the download of 2024-09-20: to 2024-08
    before = len(server.asked())
    with pytest.raises(NotReleasedYet) as later:
        fetch_download("census", HS, 2023, raw, TODAY, FAST)
    message = str(later.value)
    assert "2024-09 is not released yet" in message and "204 No Content" in message, message
    assert "time=2024-09" in message
    # one request: the month to come, alone; nothing written
    assert [r.query["time"] for r in server.asked(CENSUS_PATH)[before:]] == ["2024-09"]
    assert sorted(p.name for p in (raw / "census").iterdir()) == ["2024-09-20"]

    # once the month is out, the next fetch writes a new download with the whole series
    server.census[(HS, "2024-09")] = census_rows("2024-09")
    fetched, folder = fetch_download("census", HS, 2023, raw, dt.date(2024, 11, 12), FAST)
    assert folder.name == "2024-11-12" and fetched.latest_period == "2024-09"


def test_a_download_folder_of_today_is_never_replaced(server, tmp_path):
    raw = tmp_path / "raw"
    (raw / "census" / "2024-10-10").mkdir(parents=True)
    # a person's answer saved by hand today, of January and February 2024
    shutil.copy(API_DATA / "census_imports_847150_2024.json", raw / "census" / "2024-10-10" / "census_by_hand.json")
    with pytest.raises(FetchError, match="census/2024-10-10/ is already there"):
        fetch_download("census", HS, 2023, raw, TODAY, FAST)
    assert [p.name for p in (raw / "census" / "2024-10-10").iterdir()] == ["census_by_hand.json"]
    assert nothing_written(raw / "elsewhere", "census") and not (raw / PARTIAL).exists()


def test_a_write_that_fails_leaves_no_partial_folder(tmp_path):
    raw = tmp_path / "raw"
    with pytest.raises(FetchError, match="no file name"):
        write_download(raw, "census", TODAY, {"census_a.json": b"[]", "../census_b.json": b"[]"})
    assert nothing_written(raw, "census")


def test_without_network_the_fetch_fails_at_once_saying_so(tmp_path, monkeypatch):
    # a port nothing listens on: the connection is refused, as without network it cannot be made
    monkeypatch.setenv("BULLETIN_CENSUS_API_URL", "http://127.0.0.1:9")
    raw = tmp_path / "raw"
    started = time.monotonic()
    with pytest.raises(NoNetwork) as failed:
        fetch_download("census", HS, 2023, raw, TODAY, HttpSettings(backoff=5, spacing=5))
    assert time.monotonic() - started < 3
    assert "cannot reach 127.0.0.1:9" in str(failed.value) and "no network" in str(failed.value)
    assert nothing_written(raw, "census")


# --- the key ------------------------------------------------------------------------------


def test_the_key_is_sent_but_never_shown_logged_or_written(server, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("CENSUS_API_KEY", KEY)
    server.census_key = KEY
    raw = tmp_path / "raw"
    caplog.set_level(logging.DEBUG, logger="urllib3")
    fetched, folder = fetch_download("census", HS, 2023, raw, TODAY, FAST)
    assert all(r.query.get("key") == KEY for r in server.asked(CENSUS_PATH))
    assert fetched.with_key and all(KEY not in url for url in fetched.urls)
    server.fail(CENSUS_PATH, Fault(500, KEY.encode()), Fault(500), Fault(500))
    with pytest.raises(FetchError) as failed:
        fetch_download("census", HS, 2023, raw, dt.date(2024, 11, 12), FAST)
    shown = str(failed.value)
    assert "HTTP 500" in shown and KEY not in shown and "key=" not in shown, shown
    logged = caplog.text
    assert "GET /data/timeseries" in logged  # urllib3 logged the requests …
    assert KEY not in logged and "s3cr3t" not in logged  # … without the key
    for path in raw.rglob("*"):
        if path.is_file():
            assert b"s3cr3t" not in path.read_bytes()


def test_a_refused_key_says_so_without_the_key(server, tmp_path, monkeypatch):
    monkeypatch.setenv("CENSUS_API_KEY", "wrong-key-123")
    server.census_key = KEY
    with pytest.raises(FetchError) as failed:
        fetch_download("census", HS, 2023, tmp_path / "raw", TODAY, FAST)
    assert "an HTML page" in str(failed.value) and "wrong-key-123" not in str(failed.value)


# --- comtrade -----------------------------------------------------------------------------


def test_comtrade_fetch_without_key_asks_the_preview_and_ingestion_reads_it(server, tmp_path):
    raw = tmp_path / "raw"
    fetched, folder = fetch_download("comtrade", HS, 2022, raw, TODAY, FAST)
    asked = server.asked()
    assert {r.path for r in asked} == {"/public/v1/preview/C/A/HS"}
    assert [r.query["period"] for r in asked] == ["2022", "2023"]
    assert all(
        r.query["cmdCode"] == HS and r.query["flowCode"] == "X" and r.query["partnerCode"] == "0"
        and r.query["customsCode"] == "C00" and r.query["motCode"] == "0" and r.query["partner2Code"] == "0"
        for r in asked
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "comtrade_exports_847150_2022.json",
        "comtrade_exports_847150_2023.json",
    ]
    assert (fetched.first_period, fetched.latest_period) == ("2022", "2023")
    with duckdb.connect() as con:
        assert load_source(con, "comtrade", raw).rows == 6


def test_comtrade_with_a_key_asks_the_data_api_with_the_key_in_a_header(server, tmp_path, monkeypatch):
    monkeypatch.setenv("COMTRADE_API_KEY", COMTRADE_KEY)
    raw = tmp_path / "raw"
    fetched, _ = fetch_download("comtrade", HS, 2022, raw, TODAY, FAST)
    asked = server.asked()
    assert {r.path for r in asked} == {"/data/v1/get/C/A/HS"}
    assert all(r.headers.get("Ocp-Apim-Subscription-Key") == COMTRADE_KEY for r in asked)
    assert all(COMTRADE_KEY not in r.raw_path for r in asked) and fetched.with_key
    refused = b'{"statusCode": 401, "message": "Access denied due to invalid subscription key."}'
    server.fail(COMTRADE_PATHS[0], Fault(401, refused))
    with pytest.raises(FetchError) as failed:
        fetch_download("comtrade", HS, 2022, tmp_path / "other", TODAY, FAST)
    assert "HTTP 401" in str(failed.value) and "the key was refused" in str(failed.value)
    assert COMTRADE_KEY not in str(failed.value)


def test_comtrade_an_answer_cut_at_the_limit_fails(server, tmp_path):
    raw = tmp_path / "raw"
    body = json.loads(server.comtrade_answer({"cmdCode": HS, "period": "2022"})[1])
    body["count"] = 612
    server.fail(COMTRADE_PATHS[1], Fault(200, json.dumps(body).encode()))
    with pytest.raises(FetchError) as failed:
        fetch_download("comtrade", HS, 2022, raw, TODAY, FAST)
    assert "holds 3 of the 612 records" in str(failed.value) and "period=2022" in str(failed.value)
    assert nothing_written(raw, "comtrade")


def test_comtrade_a_year_few_have_reported_is_not_released_yet(server, tmp_path):
    raw = tmp_path / "raw"
    fetch_download("comtrade", HS, 2022, raw, dt.date(2024, 3, 1), FAST)  # 2022 and 2023
    # 2024: one reporter of three so far
    server.comtrade[(HS, 2024)] = [(484, "MEX", "Mexico", 1e9)]
    before = len(server.asked())
    with pytest.raises(NotReleasedYet) as early:
        fetch_download("comtrade", HS, 2022, raw, dt.date(2025, 4, 1), FAST)
    assert "2024 is not released yet: 1 reporters so far, against 3 for 2023" in str(early.value)
    assert [r.query["period"] for r in server.asked()[before:]] == ["2024"]
    del server.comtrade[(HS, 2024)]
    with pytest.raises(NotReleasedYet, match="2024 is not released yet: the API has no data for it"):
        fetch_download("comtrade", HS, 2022, raw, dt.date(2025, 4, 1), FAST)
    assert sorted(p.name for p in (raw / "comtrade").iterdir()) == ["2024-03-01"]


def test_comtrade_a_first_fetch_leaves_out_a_year_few_have_reported(server, tmp_path):
    server.comtrade[(HS, 2024)] = [(484, "MEX", "Mexico", 1e9)]
    fetched, folder = fetch_download("comtrade", HS, 2022, tmp_path / "raw", dt.date(2025, 4, 1), FAST)
    assert fetched.latest_period == "2023" and fetched.empty_pages == ["2024 (1 reporters so far)"]
    assert "comtrade_exports_847150_2024.json" not in {p.name for p in folder.iterdir()}


# --- make fetch: the job, through Dagster ---------------------------------------------------


def _cli_fetch(tmp_path: Path, server: StandIn, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m orchestration.cli fetch` (what `make fetch` calls), as a child of this worker's
    fork server (tests/pipeline.py's run_cli); what it printed is also in dagster_home/logs."""
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir(exist_ok=True)
    shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", dagster_home / "dagster.yaml")
    warehouse = tmp_path / "warehouse" / "bulletin.duckdb"
    full = pipeline_env(tmp_path / "raw", warehouse, tmp_path / "published", dagster_home)
    full.update(
        BULLETIN_CENSUS_API_URL=server.url,
        BULLETIN_COMTRADE_API_URL=server.url,
        BULLETIN_FETCH_SPACING_SECONDS="0",
        BULLETIN_FETCH_BACKOFF_SECONDS="0",
        **env,
    )
    for name in ("CENSUS_API_KEY", "COMTRADE_API_KEY"):
        if name not in env:
            full.pop(name, None)
    argv = ["fetch", "--first-year", "2023"]
    code, stdout, stderr = run_cli(argv, PROJECT_ROOT, full, dagster_home / "logs", timeout=300)
    return subprocess.CompletedProcess(["orchestration.cli", *argv], code, stdout, stderr)


@pytest.mark.slow
def test_make_fetch_runs_the_job_and_a_failure_writes_nothing_and_never_the_key(server, tmp_path):
    today = dt.date.today()
    # the stand-in has every month to last month, so that today's fetch finds them
    last = today.replace(day=1) - dt.timedelta(days=1)
    for month in census_months("2023-01", f"{last:%Y-%m}"):
        server.census[(HS, month)] = census_rows(month)
    for year in range(2023, today.year):
        server.comtrade[(HS, year)] = server.comtrade[(HS, 2023)]
    server.census_key = KEY
    server.fail(COMTRADE_PATHS[1], Fault(500), Fault(500), Fault(500))

    proc = _cli_fetch(tmp_path, server, {"CENSUS_API_KEY": KEY})

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"census: wrote census/{today.isoformat()}/" in proc.stdout, proc.stdout
    assert "comtrade: " in proc.stderr and "HTTP 500 Internal Server Error after 3 attempts" in proc.stderr, proc.stderr
    assert "FAILED for comtrade" in proc.stderr and "make run still refreshes" in proc.stderr
    assert (tmp_path / "raw" / "census" / today.isoformat()).is_dir()
    assert nothing_written(tmp_path / "raw", "comtrade")
    # the key is nowhere: not in what was printed, not in Dagster's storage, not in the files
    assert KEY not in proc.stdout + proc.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"s3cr3t" not in path.read_bytes(), path

    # again: census has nothing new (not released yet), comtrade answers now
    again = _cli_fetch(tmp_path, server, {"CENSUS_API_KEY": KEY})
    assert again.returncode == 0, again.stdout + again.stderr
    assert "is not released yet" in again.stdout and f"comtrade: wrote comtrade/{today.isoformat()}/" in again.stdout


def test_the_refresh_job_does_not_fetch_and_the_fetch_job_only_fetches():
    from orchestration.assets.fetch import FETCH_JOB
    from orchestration.automation import FETCH_CRON, FETCH_JOB_NAME, monthly_fetch, monthly_refresh
    from orchestration.definitions import defs

    refresh = {k.to_user_string() for k in defs.resolve_job_def("refresh_bulletin").asset_layer.selected_asset_keys}
    fetch = {k.to_user_string() for k in defs.resolve_job_def(FETCH_JOB).asset_layer.selected_asset_keys}
    assert fetch == {"fetch/census", "fetch/comtrade"}
    assert not refresh & fetch and {"raw/census_us_imports", "raw/comtrade_exporters"} <= refresh
    assert FETCH_JOB_NAME == FETCH_JOB and monthly_fetch.job_name == FETCH_JOB
    # the fetch runs the same day as the refresh, an hour before it
    assert FETCH_CRON.split()[1:] == ["8", "15", "*", "*"] and monthly_refresh.cron_schedule.split()[1] == "9"
    assert monthly_fetch.execution_timezone == monthly_refresh.execution_timezone


def test_census_and_comtrade_default_to_the_real_apis(monkeypatch):
    for name in ("BULLETIN_CENSUS_API_URL", "BULLETIN_COMTRADE_API_URL"):
        monkeypatch.delenv(name, raising=False)
    assert census_fetch.base_url() == "https://api.census.gov"
    assert comtrade_fetch.base_url() == "https://comtradeapi.un.org"
    assert os.environ.get("BULLETIN_CENSUS_API_URL") is None

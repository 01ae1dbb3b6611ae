"""Table 2 from the US Census Bureau's API and Table 3 from UN Comtrade's, end to end: the fetch asks a
stand-in server (on 127.0.0.1) that answers with the shipped downloads' numbers in the APIs'
formats, writes the download folders, and one full run (`run --us-imports-source census
--exporters-source comtrade`) builds and publishes from them.

The Census answers hold the GTA sample's numbers (GTA shows the Census Bureau's figures), with
the groupings an answer carries beside the countries (EUROPEAN UNION, ASIA, PACIFIC RIM
COUNTRIES …): Table 2 and the mirror check built from Census equal those the shipped run built
from GTA. The Comtrade answers hold the ITC sample's exporters (and the European Union, which
reports beside its members): Table 3's world is then the sum of the reporting countries.

One full pipeline run, made once for the module; compared with the session's shipped run.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections import defaultdict

import pycountry
import pytest

from orchestration.fetch import HttpSettings, fetch_download

from .api_server import StandIn
from .pipeline import (
    PROJECT_ROOT,
    SHIPPED_RAW,
    PipelineRun,
    compare_cells,
    copy_shipped_raw,
    pipeline_env,
    printed_cells,
    refuse_in_fast_tests,
    run_cli,
)

pytestmark = pytest.mark.slow

SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"
HS = "847150"
FAST = HttpSettings(connect_timeout=2, read_timeout=30, attempts=3, backoff=0, max_wait=1, spacing=0)
TABLE2 = "table2_us_server_imports_by_source"
TABLE3 = "table3_major_exporters"
MONTHS = {
    m: i
    for i, m in enumerate(
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
         "November", "December"],
        start=1,
    )
}


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def gta_values() -> dict[str, dict[str, str]]:
    """The shipped GTA download, read here on its own: {partner: {YYYY-MM: value as written}}."""
    [path] = SHIPPED_RAW.glob("gta/*/GTA_*.csv")
    rows = csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()[6:])
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        months = {}
        for column, value in row.items():
            if column in ("Partner Country", "Unit") or not value.strip():
                continue
            name, year = column.split()
            months[f"{year}-{MONTHS[name]:02d}"] = value.strip()
        found[row["Partner Country"]] = months
    return found


def itc_values() -> dict[str, dict[int, float]]:
    """The shipped ITC download: {exporter: {year: US$ thousand}}."""
    [path] = SHIPPED_RAW.glob("itc/*/Trade_Map_-_*.txt")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split("\t")
    years = [int(h.rsplit(" ", 1)[1]) for h in header[1:] if h.strip()]
    found = {}
    for line in lines[1:]:
        cells = line.split("\t")
        name = cells[0].strip('"')
        found[name] = {y: float(v) for y, v in zip(years, cells[1:], strict=False) if v.strip()}
    return found


def census_answers(server: StandIn) -> None:
    """The stand-in's Census data: GTA's partners under their Census codes and names, GTA's World
    as TOTAL FOR ALL COUNTRIES, and three groupings of those countries beside them."""
    iso_of = {r["partner_name"]: r["partner_code"] for r in _seed("partner_names_gta")}
    census = {r["partner_code"]: (r["source_code"], r["partner_name"]) for r in _seed("partner_names_census")
              if r["partner_kind"] in ("country", "total")}
    groupings = {"5XXX": ("ASIA", {"TW", "CN", "JP", "KR", "MY", "TH", "SG", "VN", "IN", "PH", "IL"}),
                 "0003": ("EUROPEAN UNION", {"NL", "DE", "CZ", "HU", "IE"}),
                 "0014": ("PACIFIC RIM COUNTRIES", {"TW", "CN", "JP", "KR", "MY", "TH", "SG", "VN", "PH", "MX", "CA"})}
    by_month: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    sums: dict[tuple[str, str], int] = defaultdict(int)
    for name, months in gta_values().items():
        code, census_name = census[iso_of[name]]
        for month, value in months.items():
            by_month[month].append((code, census_name, value))
            for grouping, (_, members) in groupings.items():
                if iso_of[name] in members:
                    sums[(grouping, month)] += int(value)
    for month, rows in by_month.items():
        rows += [(g, groupings[g][0], str(sums[(g, month)])) for g in groupings if sums[(g, month)]]
        server.census[(HS, month)] = rows


def alpha3(iso2: str) -> str:
    """reporterISO as Comtrade gives it: ISO 3166-1 alpha-3 (S19 for "Other Asia, nes")."""
    country = pycountry.countries.get(alpha_2=iso2)
    return "S19" if iso2 == "TW" else country.alpha_3


def comtrade_answers(server: StandIn) -> dict[int, float]:
    """The stand-in's Comtrade data: ITC's exporters (World aside) under Comtrade's codes, in US$,
    and the European Union beside its members; the world each year as the countries' sum (US$ thousand)."""
    iso_of = {r["partner_name"]: (r["partner_code"], r["partner_kind"]) for r in _seed("partner_names_itc")}
    comtrade = {r["partner_code"]: (int(r["source_code"]), r["partner_name"]) for r in _seed("partner_names_comtrade")
                if r["partner_kind"] == "country"}
    world: dict[int, float] = defaultdict(float)
    eu: dict[int, float] = defaultdict(float)
    members = {"NL", "DE", "CZ", "HU", "IE", "FR", "IT", "PL"}
    for name, years in itc_values().items():
        iso, kind = iso_of[name]
        if kind != "country":
            continue
        code, desc = comtrade[iso]
        for year, thousand in years.items():
            server.comtrade.setdefault((HS, year), []).append((code, alpha3(iso), desc, thousand * 1000))
            world[year] += thousand
            if iso in members:
                eu[year] += thousand * 1000
    for year, value in eu.items():
        server.comtrade[(HS, year)].append((97, "EUR", "European Union", value))
    return dict(world)


@pytest.fixture(scope="module")
def api_run(tmp_path_factory) -> tuple[PipelineRun, dict[int, float], dict]:
    refuse_in_fast_tests("a full pipeline run")
    work = tmp_path_factory.mktemp("api-sources")
    raw = copy_shipped_raw(work / "raw")
    with StandIn() as server, pytest.MonkeyPatch.context() as env:
        env.setenv("BULLETIN_CENSUS_API_URL", server.url)
        env.setenv("BULLETIN_COMTRADE_API_URL", server.url)
        env.delenv("CENSUS_API_KEY", raising=False)
        env.delenv("COMTRADE_API_KEY", raising=False)
        census_answers(server)
        world = comtrade_answers(server)
        # fetched on the days the shipped GTA and ITC downloads were made
        census, _ = fetch_download("census", HS, 2016, raw, dt.date(2024, 10, 10), FAST)
        comtrade, _ = fetch_download("comtrade", HS, 2016, raw, dt.date(2024, 10, 1), FAST)
    warehouse, publish_dir = work / "warehouse" / "bulletin.duckdb", work / "published"
    dagster_home = work / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", dagster_home / "dagster.yaml")
    code, stdout, stderr = run_cli(
        ["run", "--us-imports-source", "census", "--exporters-source", "comtrade"],
        PROJECT_ROOT,
        pipeline_env(raw, warehouse, publish_dir, dagster_home),
        dagster_home / "logs",
    )
    run = PipelineRun(raw, warehouse, publish_dir, code, stdout, stderr)
    assert run.returncode == 0, f"pipeline failed:\n{stdout[-3000:]}\n{stderr[-3000:]}"
    return run, world, {"census": census, "comtrade": comtrade}


def _mart(run: PipelineRun, mart: str) -> list[tuple]:
    return run.query(f"select * from marts.{mart} order by all")


def test_the_fetched_folders_are_what_ingestion_read(api_run):
    run, _, fetched = api_run
    assert (fetched["census"].first_period, fetched["census"].latest_period) == ("2016-01", "2024-08")
    assert (fetched["comtrade"].first_period, fetched["comtrade"].latest_period) == ("2016", "2023")
    files = run.query("select source, count(*) from raw._ingested_files group by source order by source")
    assert dict(files)["census"] == 9 and dict(files)["comtrade"] == 8
    assert run.query("select distinct download_date::varchar from raw.census_us_imports") == [("2024-10-10",)]


def test_table2_from_census_equals_table2_from_gta(api_run, shipped_run):
    run, _, _ = api_run
    got = _mart(run, "fct_bulletin_table2_us_imports_by_source")
    assert got and got == _mart(shipped_run, "fct_bulletin_table2_us_imports_by_source")
    # and so every printed cell of Table 2 (and Figure 1, Table 1), as the bulletin prints them
    printed = {k: v for k, v in printed_cells().items() if k[0] != TABLE3}
    assert any(k[0] == TABLE2 for k in printed)
    assert compare_cells(run.cells(), printed) == []
    # the groupings are no partners: none is shown, the total is the total row
    series = {r[0] for r in run.query("select distinct series from marts.fct_bulletin_table2_us_imports_by_source")}
    assert not series & {"EU", "ASIA", "PACIFIC_RIM"}


def test_the_mirror_check_compares_census_with_customs(api_run, shipped_run):
    run, _, _ = api_run
    got = _mart(run, "fct_mirror_tw_us_server_trade")
    assert got and got == _mart(shipped_run, "fct_mirror_tw_us_server_trade")


def test_table3_from_comtrade_sums_the_reporting_countries(api_run):
    run, world, _ = api_run
    rows = dict(
        run.query(
            "select period, value_exact from marts.fct_bulletin_table3_major_exporters "
            "where series = 'world' and measure = 'value' and period not like '%..%'"
        )
    )
    assert rows, "no world values"
    for period, value in rows.items():
        # US$ thousand / 100,000 = 億美元; the European Union (an aggregate) is not in it
        assert value == pytest.approx(world[int(period)] / 100000, rel=1e-12), period
    series = {r[0] for r in run.query("select distinct series from marts.fct_bulletin_table3_major_exporters")}
    assert "EU" not in series and "TW" in series


def test_the_exhibits_say_their_source_and_the_publication_prints_it(api_run, shipped_run):
    run, _, _ = api_run
    sources = dict(run.query("select exhibit, source from marts.dim_bulletin_exhibits"))
    assert sources[TABLE2] == "census" and sources[TABLE3] == "comtrade"
    assert dict(shipped_run.query("select exhibit, source from marts.dim_bulletin_exhibits"))[TABLE2] == "gta"
    lineage = {r[0] for r in run.query("select source from marts.fct_bulletin_source_lineage")}
    assert {"census", "comtrade", "customs", "moea"} == lineage
    page = (run.publish_dir / "bulletin.html").read_text(encoding="utf-8")
    assert "資料來源：美國商務部普查局（U.S. Census Bureau）國際貿易統計" in page
    assert "資料來源：聯合國商品貿易統計資料庫（UN Comtrade）" in page
    assert "Global Trade Atlas" not in page and "International Trade Centre" not in page

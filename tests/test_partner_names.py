"""Every partner name resolves, and a new name blocks a refresh only when it could change a
printed cell (issue 12).

- The seeds map or classify every name of the real Trade Map exporters list (237 names, read by
  the project's own loader) and of the real Trade Map pages, in both spellings of Taiwan and
  Turkey; the GTA seed holds the US Census Bureau's spellings of every country.
- The proposals and the maintenance command's checks, without the network or the maintenance
  venv; the library workarounds have tests that fail when the libraries change.
- Two full runs: a new small exporter (the run succeeds, 370/370 cells, the manifest and the
  last lines name it) and a new exporter that would be shown (the run fails, naming it).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.loader import load_source
from orchestration.maintenance import partner_names as maintenance
from orchestration.publish.unmapped import library_proposal, note_line

from .combined_runs import ITC_LATEST_YEAR, add_exporter, flat_and_small_exporter_run, shipped_itc
from .pipeline import PROJECT_ROOT, compare_cells, copy_shipped_raw, printed_cells, run_pipeline

SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"
REAL_ITC = PROJECT_ROOT.parent / "shared" / "real-downloads" / "itc"
REAL_TEXT = REAL_ITC / "Trade_Map_-_List_of_exporters_for_the_selected_product_(All_products).txt"


def seed(source: str) -> dict[str, tuple[str, str]]:
    with (SEEDS / f"partner_names_{source}.csv").open(encoding="utf-8", newline="") as f:
        return {r["partner_name"]: (r["partner_code"], r["partner_kind"]) for r in csv.DictReader(f)}


def real_text_names() -> list[str]:
    rows = list(csv.reader(io.StringIO(REAL_TEXT.read_text(encoding="utf-8-sig")), delimiter="\t"))
    return [row[0] for row in rows[1:]]


def page_names(path: Path) -> list[str]:
    """The exporters of a Trade Map page (its grid's first column), read with lxml."""
    from lxml import html

    tree = html.fromstring(path.read_bytes())
    [grid] = tree.xpath('//table[@id="ctl00_PageContent_MyGridView1"]')
    names = [" ".join(row.xpath("./td[1]")[0].text_content().split()) for row in grid.xpath(".//tr[td]")]
    return [n for n in names if n and not n.startswith("Select your indicators")]


@pytest.fixture(scope="module")
def loaded_real_names(tmp_path_factory) -> list[str]:
    """The real Trade Map text export through the project's loader (raw.itc_exporters)."""
    base = tmp_path_factory.mktemp("real_itc")
    raw = base / "raw"
    (raw / "itc" / "2021-01-04").mkdir(parents=True)
    shutil.copy(REAL_TEXT, raw / "itc" / "2021-01-04" / REAL_TEXT.name)
    with duckdb.connect(str(base / "w.duckdb")) as con:
        load_source(con, "itc", raw)
        return [r[0] for r in con.execute("select distinct exporter_name from raw.itc_exporters").fetchall()]


def test_the_real_trade_map_list_is_all_mapped_or_classified(loaded_real_names):
    names = real_text_names()
    assert len(names) == len(set(names)) == 237
    assert set(loaded_real_names) == set(names)
    itc = seed("itc")
    assert not [n for n in names if n not in itc], "names of the real Trade Map list that no seed maps"
    # the ones that are no country today are classified so, never guessed as one
    assert itc["World"] == ("WORLD", "total")
    for name in ("Ship stores and bunkers", "Free Zones"):
        assert itc[name][1] == "aggregate"
    for name in ("Neutral Zone", "Netherlands Antilles", "Serbia and Montenegro", "Sudan (before 2012)"):
        assert itc[name][1] == "former"
    assert itc["British Antarctic Territory"][1] == "other_territory"
    assert [n for n, (code, kind) in itc.items() if kind == "total"] == ["World"]


def test_both_spellings_of_taiwan_and_turkey_and_the_real_pages():
    itc = seed("itc")
    assert itc["Taipei, Chinese"] == itc["Chinese Taipei"] == ("TW", "country")
    assert itc["Turkey"] == itc["Türkiye"] == ("TR", "country")
    pages = sorted(REAL_ITC.glob("*.xls"))
    assert len(pages) == 2
    for page in pages:
        names = page_names(page)
        assert len(names) > 50, page.name
        assert not [n for n in names if n not in itc], page.name
    assert "Chinese Taipei" in page_names(next(p for p in pages if "_in_2025_" in p.name))


def test_the_gta_seed_holds_the_census_spellings_of_every_country():
    gta = seed("gta")
    census = {
        "Korea, South": "KR", "Korea, North": "KP", "Burma": "MM", "Macau": "MO", "Czech Republic": "CZ",
        "Taiwan": "TW", "Hong Kong": "HK", "Vietnam": "VN", "Russia": "RU", "Turkey": "TR", "Laos": "LA",
        "Congo, Democratic Republic of the Congo": "CD", "Congo, Republic of the Congo": "CG",
        "Cote d'Ivoire": "CI", "Holy See (Vatican City)": "VA", "Falkland Islands (Islas Malvinas)": "FK",
        "North Macedonia": "MK", "Eswatini": "SZ", "Kosovo": "XK", "Brunei": "BN", "Micronesia": "FM",
    }
    assert {name: gta[name][0] for name in census} == census
    # the sample's spellings stay
    assert gta["Korea South"] == ("KR", "country") and gta["World"] == ("WORLD", "total")
    countries = {code for code, kind in gta.values() if kind == "country"}
    assert len(countries) >= 230
    assert gta["European Union"] == ("EU", "aggregate")
    assert gta["Gaza Strip Administered by Israel"] == ("PS", "other_territory")


def test_the_maintenance_checks_of_form_pass_on_the_seeds_and_catch_a_bad_row():
    seeds = {source: maintenance.read_seed(source) for source in maintenance.SOURCES}
    partners = maintenance.read_partners()
    assert maintenance.structural_problems(seeds, partners) == []
    bad = {**seeds, "itc": [*seeds["itc"], {"partner_name": "Xanadu", "partner_code": "XA", "partner_kind": "land"}]}
    problems = maintenance.structural_problems(bad, partners)
    assert any('"Xanadu"' in p and "partner_kind 'land'" in p for p in problems), problems
    assert any('"Xanadu"' in p and "'XA' is not in partners.csv" in p for p in problems), problems


def test_the_maintenance_library_check_and_proposals_with_a_stub_library():
    seeds = {"itc": [{"partner_name": "Viet Nam", "partner_code": "VN", "partner_kind": "country"},
                     {"partner_name": "Free Zones", "partner_code": "FREE_ZONES", "partner_kind": "aggregate"},
                     {"partner_name": "Chile", "partner_code": "CL", "partner_kind": "country"}]}
    partners = [{"partner_code": c, "name_en": n} for c, n in (("VN", "Vietnam"), ("CL", "Chile"))]
    library = {"Viet Nam": "VN", "Vietnam": "VN", "Chile": "CO", "Korea, South": "KR"}.get
    problems, review = maintenance.library_problems(seeds, partners, library)
    assert problems == [
        'partner_names_itc.csv line 4 "Chile": the seed says CL, the library \'CO\'',
        "partners.csv CL \"Chile\": the library says 'CO'",
    ]
    assert review == ['partner_names_itc.csv line 3 "Free Zones": aggregate FREE_ZONES (the library: None)']
    rows = maintenance.propose("itc", ["Viet Nam", "Korea, South", "Xanadu"], seeds["itc"],
                               [*partners, {"partner_code": "KR", "name_en": "South Korea"}], library)
    assert rows == [["Korea, South", "KR", "country"], ["Xanadu", "?", "?"]]


def test_the_maintenance_command_reads_the_names_of_downloads(tmp_path):
    assert maintenance.download_names(REAL_TEXT) == real_text_names()
    gta = next((PROJECT_ROOT / "raw" / "gta").glob("*/GTA_*.csv"))
    assert "Korea South" in maintenance.download_names(gta)
    customs = sorted((PROJECT_ROOT / "raw" / "customs").glob("*/*.csv"))
    assert "美國" in {n for path in customs for n in maintenance.download_names(path)}
    listed = tmp_path / "names.txt"
    listed.write_text("Xanadu\n\nKorea, South\n", encoding="utf-8")
    assert maintenance.download_names(listed) == ["Xanadu", "Korea, South"]


def test_the_maintenance_venv_pins_what_works():
    pins = dict(
        line.split("==")
        for line in (PROJECT_ROOT / "orchestration" / "maintenance" / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert pins["country_converter"] == "1.3.2"
    assert pins["pandas"].startswith("2.")
    assert "seeds-check:" in (PROJECT_ROOT / "Makefile").read_text()


def test_pandas_3_still_reads_na_as_missing_where_country_converter_needs_the_text():
    """Why country_converter 1.3.2 runs only in the maintenance venv: it reads its country table
    with converters=str and na_values without "NA"; pandas 3 (the project's pin) still turns
    Namibia's ISO2 "NA" and empty cells into NaN, and the library then fails. When this test
    fails, pandas reads them as text again: try the library in the project's venv and drop
    .venv-maint."""
    import pandas as pd
    from pandas._libs.parsers import STR_NA_VALUES

    assert pd.__version__ == "3.1.1"
    table = io.StringIO("name_short\tISO2\tregex\nNamibia\tNA\tnamibia\nChannel Islands\t\tchannel\n")
    frame = pd.read_csv(
        table, sep="\t", converters={"ISO2": str, "regex": str}, na_values=STR_NA_VALUES - {"NA"}
    )
    assert frame["ISO2"].isna().all(), frame["ISO2"].tolist()


def test_the_library_proposals_as_pinned():
    """pycountry (pinned) proposes codes for names no seed maps. When this fails, the library
    changed: check the proposals still make sense, then update the pin and these answers."""
    assert version("pycountry") == "26.2.16"
    assert library_proposal("Viet Nam")[0] == "VN"
    assert library_proposal("Bolivia")[0] == "BO"
    assert library_proposal("Netherlands Antilles")[0] == "AN"
    assert library_proposal("Serbia and Montenegro")[0] == "CS"
    assert library_proposal("Xanadu") is None
    assert library_proposal("Chinese Taipei") is None  # the seeds know it; the library does not


def test_the_note_names_the_seed_and_the_proposal():
    entry = {
        "name": "Xanadu", "source": "itc", "add_it_to": "dbt_project/seeds/partner_names_itc.csv",
        "latest_period": "2023", "value": 12.0, "unit": "USD thousand", "could_change_printed_cell": False,
        "proposed_code": "XA",
    }
    assert note_line(entry) == (
        'note: itc name "Xanadu" is in no seed (value 12 USD thousand in 2023, not shown); '
        "add it to dbt_project/seeds/partner_names_itc.csv (proposed: XA)"
    )
    assert note_line({**entry, "latest_period": None, "value": None, "proposed_code": None}).endswith(
        "is in no seed (in no printed column); add it to dbt_project/seeds/partner_names_itc.csv (no code proposed)"
    )


# --- two full runs ---------------------------------------------------------------------------



@pytest.fixture(scope="module")
def small_new_exporter(tmp_path_factory):
    """The shipped downloads, the ITC one with a new small exporter (the run shared with the
    MOEA flat sheet's: tests/combined_runs.py)."""
    run, _raw = flat_and_small_exporter_run(tmp_path_factory)
    return run


@pytest.fixture(scope="module")
def large_new_exporter(tmp_path_factory):
    """A later ITC download (after No. 459's cut-off, so its rebuild is unaffected) with a new
    exporter as large as the fourth one shown."""
    base = tmp_path_factory.mktemp("large_exporter")
    raw = copy_shipped_raw(base / "raw")
    shipped = shipped_itc(raw)
    later = raw / "itc" / "2024-10-20" / shipped.name
    later.parent.mkdir()
    shutil.copy(shipped, later)
    add_exporter(later, "Bigland", {"2022": 8_000_000, ITC_LATEST_YEAR: 9_000_000})
    return run_pipeline(base, raw)


@pytest.mark.slow
def test_a_new_small_exporter_is_reported_and_the_run_goes_on(small_new_exporter):
    run = small_new_exporter
    assert run.returncode == 0, run.stderr[-3000:]
    expected = printed_cells()
    assert len(expected) == 370
    assert compare_cells(run.cells(), expected) == []
    # its value stays: a series of its own, not shown
    [(value,)] = run.query(
        "select value from intermediate.int_bulletin__periods"
        " where edition = 'current' and exhibit = 'table3_major_exporters' and series = 'Xanadu'"
        " and period = ?",
        [ITC_LATEST_YEAR],
    )
    assert value == pytest.approx(12 / 100_000)
    # the aggregate is no exporter: no series of its own, the World total as it was
    assert run.query(
        "select count(*) from intermediate.int_bulletin__series_observations"
        " where exhibit = 'table3_major_exporters' and source_file like 'itc/%' and series = 'FREE_ZONES'"
    ) == [(0,)]
    manifest = json.loads((run.publish_dir / "manifest.json").read_text(encoding="utf-8"))
    [entry] = manifest["unmapped_names"]
    assert entry["name"] == "Xanadu" and entry["source"] == "itc"
    assert entry["value"] == 12 and entry["latest_period"] == ITC_LATEST_YEAR
    assert entry["could_change_printed_cell"] is False
    assert entry["add_it_to"] == "dbt_project/seeds/partner_names_itc.csv"
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith('note: itc name "Xanadu" is in no seed (value 12 USD thousand in 2023, not shown)'), last
    assert "add it to dbt_project/seeds/partner_names_itc.csv" in last


@pytest.mark.slow
def test_a_new_exporter_that_would_be_shown_fails_the_run_and_is_named(large_new_exporter):
    run = large_new_exporter
    assert run.returncode != 0, run.stdout[-2000:]
    # the run's last lines: what failed, in words
    summary = run.stderr[run.stderr.rindex("refresh_bulletin FAILED") :]
    assert "check assert_no_unmapped_name_changes_a_printed_cell" in summary, summary
    assert 'itc name "Bigland", add_it_to=dbt_project/seeds/partner_names_itc.csv' in summary
    assert "would rank 4 (4 partners shown" in summary
    assert "assert_bulletin_459_reproduced" not in summary  # No. 459 is rebuilt as printed
    assert "nothing was published" in summary
    assert not (run.publish_dir / "manifest.json").exists()

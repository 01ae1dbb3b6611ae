"""datapackage.json: the published CSV files as a Frictionless Data Package that other tools load.

The package is validated with the ``frictionless`` package itself (every cell against its
field's type, the primary keys, the enums), and checked against what it describes: each CSV of
the publication is a resource, each field's type is its mart column's (as the Parquet copy of
the mart has it), each field carries its mart's description, the units agree with the cells,
and writing it again from the same warehouse gives the same bytes.
"""

from __future__ import annotations

import csv
import datetime
import json
from dataclasses import replace
from pathlib import Path

import duckdb
import frictionless
import pytest

from orchestration.publish import datapackage, files, marts
from orchestration.publish.datapackage import DATAPACKAGE, FIELD_TYPES
from orchestration.publish.layout import CELLS_CSV, MANIFEST, MIRROR_MART, REVISIONS
from orchestration.publish.marts import Product


@pytest.fixture(scope="module")
def published(shipped_run) -> Path:
    return shipped_run.publish_dir.resolve()


@pytest.fixture(scope="module")
def package(published) -> dict:
    return json.loads((published / DATAPACKAGE).read_text(encoding="utf-8"))


@pytest.fixture
def warehouse(shipped_run):
    con = duckdb.connect(str(shipped_run.warehouse), read_only=True)
    yield con
    con.close()


def _exhibits(con) -> tuple[Product, list[marts.Exhibit]]:
    """As write_publication has them: retitled for the product, those with rows."""
    product = marts.product(con)
    every = [replace(e, title_zh=product.retitle(e.title_zh)) for e in marts.exhibits(con)]
    return product, [e for e in every if marts.row_count(con, e.mart)]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_frictionless_validates_the_published_package(published):
    report = frictionless.validate(str(published / DATAPACKAGE))
    problems = report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])
    assert report.valid, problems[:20]
    # Every resource was read to its end: a row count per CSV, as the files hold.
    for task in report.tasks:
        rows = len(_rows(published / task.place))
        assert task.stats.get("rows", 0) == rows, task.name  # (no count for a header alone)


def test_every_csv_of_the_publication_is_a_resource_and_listed_in_the_manifest(published, package):
    paths = [r["path"] for r in package["resources"]]
    assert sorted(paths) == sorted(p.name for p in published.glob("*.csv"))
    assert paths[0] == CELLS_CSV and paths[-2:] == [f"{MIRROR_MART}.csv", REVISIONS]
    manifest = json.loads((published / MANIFEST).read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in manifest["files"]}
    assert listed[DATAPACKAGE]["sha256"] == files.sha256(published / DATAPACKAGE)
    assert files.verify_folder(published) == []
    for resource in package["resources"]:
        header = next(csv.reader((published / resource["path"]).open(encoding="utf-8")))
        assert [f["name"] for f in resource["schema"]["fields"]] == header, resource["path"]


def test_field_types_are_the_marts_types_as_the_parquet_files_hold_them(published, package):
    """Each exhibit's and the mirror's CSV beside its Parquet copy: the same column, the same type."""
    con = duckdb.connect()
    checked = 0
    for resource in package["resources"]:
        parquet = published / (Path(resource["path"]).stem + ".parquet")
        if not parquet.exists():
            continue
        described = con.execute("describe select * from read_parquet(?)", [str(parquet)]).fetchall()
        types = {name: FIELD_TYPES[data_type] for name, data_type, *_ in described}
        assert {f["name"]: f["type"] for f in resource["schema"]["fields"]} == types, resource["path"]
        checked += 1
    assert checked == len(package["resources"]) - 2  # all but bulletin_cells.csv and revisions.csv


def test_the_csv_contents_are_of_their_fields_types(published, package):
    """Independently of frictionless: every value parses as its type, and a column described as
    a number or a date is one somewhere (not all empty)."""
    parse = {
        "string": str,
        "integer": int,
        "number": float,
        "boolean": {"true": True, "false": False}.__getitem__,
        "date": datetime.date.fromisoformat,
    }
    for resource in package["resources"]:
        rows = _rows(published / resource["path"])
        for field in resource["schema"]["fields"]:
            values = [row[field["name"]] for row in rows if row[field["name"]] != ""]
            for value in values:
                parse[field["type"]](value)
            if rows and resource["path"] != REVISIONS and field["type"] != "string":
                assert values, f"{resource['path']} {field['name']}: no value at all"


def test_fields_carry_the_marts_descriptions_and_the_cells_units(published, package, warehouse):
    for resource in package["resources"]:
        assert resource.get("description"), resource["path"]
        for field in resource["schema"]["fields"]:
            assert field.get("description"), f"{resource['path']} {field['name']}"
    cells = {r["name"]: r for r in package["resources"]}[Path(CELLS_CSV).stem]
    fields = {f["name"]: f for f in cells["schema"]["fields"]}
    comment = warehouse.execute(
        "select comment from duckdb_columns() where schema_name = 'marts' "
        "and table_name = 'fct_bulletin_cells' and column_name = 'value_exact'"
    ).fetchone()[0]
    assert fields["value_exact"]["description"] == comment.strip()
    # Each printed number's unit: the package's, by exhibit and measure, is its row's.
    for resource in package["resources"]:
        units = resource.get("units")
        rows = _rows(published / resource["path"])
        if units is None:
            continue
        for row in rows:
            if "unit" in row:
                assert units[row["table"]][row["measure"]] == row["unit"], row
        if rows and "unit" in rows[0]:
            enum = {f["name"]: f for f in resource["schema"]["fields"]}["unit"]["constraints"]["enum"]
            assert enum == sorted({row["unit"] for row in rows})
    mirror = {r["name"]: r for r in package["resources"]}[MIRROR_MART]
    assert {f["name"]: f.get("unit") for f in mirror["schema"]["fields"]}["gap_pct"] == "percent"


def test_the_same_warehouse_gives_the_same_bytes(published, warehouse, tmp_path):
    product, exhibits = _exhibits(warehouse)
    for attempt in ("a", "b"):
        folder = tmp_path / attempt
        folder.mkdir()
        path = datapackage.write_datapackage(warehouse, folder, product, exhibits, marts.cells(warehouse))
        assert path.read_bytes() == (published / DATAPACKAGE).read_bytes()


def test_another_product_describes_its_own_files(warehouse):
    """A product whose sources lack some exhibits: only the exhibits published, under its name."""
    _, exhibits = _exhibits(warehouse)
    kept = [e for e in exhibits if e.source == "customs"]
    other = Product("847180", "HS 847180", None)
    package = datapackage.datapackage(warehouse, other, kept, marts.cells(warehouse))
    assert package["name"] == "bulletin-hs847180" and "HS 847180" in package["title"]
    assert [r["path"] for r in package["resources"]] == [
        CELLS_CSV,
        *(f"{e.code}.csv" for e in kept),
        f"{MIRROR_MART}.csv",
        REVISIONS,
    ]
    cells = package["resources"][0]
    assert sorted(cells["units"]) == [e.code for e in kept]

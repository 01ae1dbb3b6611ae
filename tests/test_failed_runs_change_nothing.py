"""A later download that cannot be trusted, added to the shipped raw tree: the run fails, its last
lines name the culprit file, and the warehouse and the published files are as they were.

One successful run on the shipped downloads (the session's ``shipped_run``) is copied for each
case: its raw tree, warehouse and publication; then the bad download is added and the refresh
runs again against the copies.
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

from .ingest_helpers import customs_file
from .pipeline import PipelineRun, run_pipeline
from .test_moea_layouts import _set_dimension


def _tree_hashes(folder: Path) -> dict[str, str]:
    """Every file under a folder (links followed), by path, and its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _future_folder(raw: Path) -> str:
    (source,) = [p for p in (raw / "gta").iterdir() if p.is_dir()]
    future = raw / "gta" / "2052-10-10"
    shutil.copytree(source, future)
    return "gta/2052-10-10"


def _link_out(raw: Path) -> str:
    outside = raw.parent / "elsewhere.txt"
    outside.write_text("Exporters\tExported value in 2023\n", encoding="utf-8")
    folder = raw / "itc" / "2024-10-12"
    folder.mkdir()
    link = folder / "Trade_Map_-_List_of_exporters_for_the_selected_product_(x).txt"
    link.symlink_to(outside)
    return "itc/2024-10-12/Trade_Map_-_List_of_exporters_for_the_selected_product_(x).txt"


def _two_copies(raw: Path) -> str:
    source = customs_file("utf-8-bom", raw)
    folder = raw / "customs" / "2024-10-20"
    folder.mkdir()
    shutil.copyfile(source, folder / source.name)
    shutil.copyfile(source, folder / source.name.replace(".csv", " (1).csv"))
    return f"customs/2024-10-20/{source.name.replace('.csv', ' (1).csv')}"


def _workbook_declaring_every_cell(raw: Path) -> str:
    (source,) = (raw / "moea").glob("*/InquireAdvance*")
    folder = raw / "moea" / "2024-10-20"
    folder.mkdir()
    target = folder / "InquireAdvance.xlsx"
    shutil.copyfile(source, target)
    with zipfile.ZipFile(target) as archive:
        assert any(n.startswith("xl/worksheets/") for n in archive.namelist())
    _set_dimension(target, "A1:XFD1048576")
    return "moea/2024-10-20/InquireAdvance.xlsx"


def _not_a_download(raw: Path) -> str:
    folder = raw / "itc" / "2024-10-12"
    folder.mkdir()
    (folder / "exporters.xls").write_bytes(b"<html><body><table><tr><td>x</td></tr></table></body></html>")
    return "itc/2024-10-12"


CASES = {
    "download folder dated in the future": (_future_folder, "dated after today"),
    "link out of the raw folder": (_link_out, "outside the raw folder"),
    "two copies of one query": (_two_copies, "keep one file of each query"),
    "workbook declaring every cell": (_workbook_declaring_every_cell, "declares 1,048,576 rows"),
    "folder without a download": (_not_a_download, "holds no itc download"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_later_download_fails_and_changes_nothing(shipped_run: PipelineRun, tmp_path, case):
    add, phrase = CASES[case]
    raw = tmp_path / "raw"
    shutil.copytree(shipped_run.raw_dir, raw)
    culprit = add(raw)
    warehouse = tmp_path / "warehouse" / "bulletin.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(shipped_run.warehouse, warehouse)
    published = tmp_path / "published"
    shutil.copytree(shipped_run.publish_dir.resolve(), published)
    before = (_tree_hashes(warehouse.parent), _tree_hashes(published))

    run = run_pipeline(tmp_path, raw, warehouse=warehouse)

    assert run.returncode != 0, f"the run published despite {case}"
    last = "\n".join(run.stderr.strip().splitlines()[-3:])
    assert culprit in last and phrase in last, run.stderr[-3000:]
    after_warehouse = {k: v for k, v in _tree_hashes(warehouse.parent).items() if not k.endswith(".lock")}
    assert after_warehouse == {k: v for k, v in before[0].items() if not k.endswith(".lock")}
    assert _tree_hashes(published) == before[1]

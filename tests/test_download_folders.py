"""Download folders as people really fill them: a year typed wrong, a link instead of a file, a
second copy of one query. Each is refused with a message that names the folder or both files.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from datetime import datetime

import duckdb
import openpyxl
import pytest

from orchestration.ingest.files import IngestError
from orchestration.ingest.loader import load_source
from orchestration.publish.workbook import save_workbook

from .ingest_helpers import copy_source, customs_file, rel


def _refused(source: str, raw) -> str:
    with pytest.raises(IngestError) as failure:
        load_source(duckdb.connect(), source, raw)
    return str(failure.value)


@pytest.mark.parametrize("year", [2052, 9024])
def test_a_download_folder_dated_after_today_is_refused(tmp_path, year):
    raw, folder = copy_source(tmp_path, "gta")
    future = folder.with_name(f"{year}-10-10")
    folder.rename(future)
    message = _refused("gta", raw)
    assert message.startswith(f"gta/{year}-10-10: download folder is dated after today"), message
    assert dt.date.today().isoformat() in message


def test_a_link_out_of_the_raw_folder_is_refused_not_followed(tmp_path):
    outside = tmp_path / "elsewhere" / "secret.txt"
    outside.parent.mkdir()
    outside.write_text("Exporters\tfirst line that must not be printed\n", encoding="utf-8")
    raw, folder = copy_source(tmp_path, "itc")
    (folder / "Trade_Map_-_List_of_exporters_for_the_selected_product_(x).txt").symlink_to(outside)
    message = _refused("itc", raw)
    assert "is a symbolic link to" in message and "outside the raw folder" in message, message
    assert "first line that must not be printed" not in message


def test_a_link_inside_the_raw_folder_is_read(tmp_path):
    raw, folder = copy_source(tmp_path, "itc")
    (original,) = [p for p in folder.iterdir() if p.suffix == ".txt"]
    kept = raw / "kept" / original.name
    kept.parent.mkdir()
    shutil.move(original, kept)
    original.symlink_to(kept)
    con = duckdb.connect()
    assert load_source(con, "itc", raw).rows > 0


def test_two_copies_of_one_download_name_both_files(tmp_path):
    name = customs_file("utf-8-bom").name
    raw, folder = copy_source(tmp_path, "customs", only=name)
    copy = folder / name.replace(".csv", " (1).csv")
    shutil.copyfile(folder / name, copy)
    message = _refused("customs", raw)
    for path in (folder / name, copy):
        assert f"{rel(path, raw)} line 2" in message, message
    assert "keep one file of each query" in message


@pytest.mark.parametrize("year", [1970, 2200])
def test_a_workbook_of_any_date_is_written(tmp_path, year):
    """A zip entry holds the years 1980-2107: the workbook's date is clamped, never a crash."""
    path = tmp_path / "b.xlsx"
    save_workbook(openpyxl.Workbook(), path, datetime(year, 1, 1))
    with zipfile.ZipFile(path) as archive:
        years = {info.date_time[0] for info in archive.infolist()}
    assert years == {min(max(year, 1980), 2107)}

"""Full pipeline runs that change two sources of the shipped downloads at once, one change a
source, so that one run serves the tests of two modules (a run costs tens of seconds).

- the MOEA download as the cross-tab, and the ITC downloads as an older text export and the
  newer yearly page (tests/test_moea_layouts.py, tests/test_itc_layouts.py);
- the MOEA download as the flat sheet with spaced labels, and the ITC text export with a new
  small exporter and a catch-all (tests/test_moea_layouts.py, tests/test_partner_names.py).

The two changes touch different sources, and each module's tests look at its own source's
rows (and at the printed cells, which both changes must leave as No. 459 prints them). Each run
is made once a session, by whichever worker asks first (pipeline.made_once).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from . import trade_map_files as tm
from .ingest_helpers import data_files, download_folder
from .moea_layouts import CrossTab, write_crosstab, write_flat
from .pipeline import PipelineRun, copy_shipped_raw, made_once, run_pipeline

NO_PRODUCT_XLS = "Trade_Map_-_List_of_exporters_for_the_selected_product_.xls"
SHIPPED_DATE = download_folder("itc").name  # 2024-10-01
ITC_LATEST_YEAR = "2023"


# ---------------------------------------------------------------- ITC: the yearly page


def shipped() -> tuple[list[str], list[tm.Row]]:
    (path,) = data_files("itc")
    return tm.read_text_export(path)


# A small exporter the shipped text export does not list, in its 2025 spelling, with an empty
# cell and a '-' (no value) and values far below the four largest exporters'.
TURKIYE = ("Türkiye", ["", "-", "1200", "1500", "1400", "2100", "2500", "3000"])


def yearly_2025() -> tuple[list[str], list[tm.Row]]:
    """The shipped list as a 2025 download gives it: Chinese Taipei, and Türkiye listed."""
    periods, rows = shipped()
    assert len(TURKIYE[1]) == len(periods)
    return periods, [*tm.in_2025_spellings(rows), TURKIYE]


def yearly_page(**kwargs) -> bytes:
    periods, rows = yearly_2025()
    return tm.page(periods, rows, mirror_rows=("Viet Nam", "India"), **kwargs)


def itc_as_the_yearly_page(raw: Path) -> None:
    """The ITC downloads are an older text export (other numbers) and the newer yearly page.

    The page (no product in its name, names in 2025 spellings) is the newer download, of the
    shipped folder's date; the text export, with every exporter's value doubled (World kept, so
    every share would change), is in a folder two weeks before it. Both are before No. 459's
    cut-off (2024-10-14), so the edition is built from the page.
    """
    (shipped_txt,) = data_files("itc", raw)
    periods, rows = tm.read_text_export(shipped_txt)
    shipped_txt.unlink()
    (download_folder("itc", raw) / NO_PRODUCT_XLS).write_bytes(yearly_page())
    older = raw / "itc" / "2024-09-15"
    older.mkdir()
    doubled = [(n, [c if n == "World" or not c else str(int(c) * 2) for c in cells]) for n, cells in rows]
    (older / shipped_txt.name).write_bytes(tm.text_export(periods, doubled))


# ---------------------------------------------------------------- ITC: a new small exporter


def add_exporter(path: Path, name: str, values: dict[str, int]) -> None:
    """A row for ``name`` in a Trade Map text export, after World, with values in some years."""
    text = path.read_bytes().decode("utf-8-sig")
    lines = text.split("\n")
    header = lines[0].split("\t")
    cells = [f'"{name}"'] + [
        str(values[m.group(1)]) if (m := re.match(r"Exported value in (\d{4})$", h)) and m.group(1) in values else ""
        for h in header[1:-1]
    ] + [""]
    lines.insert(2, "\t".join(cells))
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode("utf-8"))


def shipped_itc(raw: Path) -> Path:
    [path] = list((raw / "itc").glob("*/Trade_Map_-_*.txt"))
    return path


def itc_with_a_small_new_exporter(raw: Path) -> None:
    """The ITC text export with a new small exporter, and a catch-all the seed classifies as an
    aggregate, larger than any exporter: never shown."""
    add_exporter(shipped_itc(raw), "Xanadu", {"2022": 3, ITC_LATEST_YEAR: 12})
    add_exporter(shipped_itc(raw), "Free Zones", {"2022": 80_000_000, ITC_LATEST_YEAR: 90_000_000})


# ---------------------------------------------------------------- MOEA: the two layouts


def _moea_download(raw: Path) -> Path:
    (target,) = data_files("moea", raw)
    target.unlink()
    return target.with_name("InquireAdvance.xlsx")


def moea_as_the_crosstab(raw: Path) -> None:
    """The MOEA download as the cross-tab: a '*' in 主機板 and a '-' in a month of 筆記型電腦's
    sales, products the bulletin does not print."""
    edits = {("113年7月", "主機板", "生產值(千元)"): "*", ("113年6月", "筆記型電腦", "銷售量"): "-"}
    write_crosstab(_moea_download(raw), CrossTab(), edits)


def moea_as_the_flat_sheet(raw: Path) -> None:
    """The MOEA download as the flat sheet with spaced labels and separators."""
    write_flat(_moea_download(raw), edits={("108年2月", "工業電腦", "生產量"): "-"})


# ---------------------------------------------------------------- the runs


def _run(work: Path, *changes) -> tuple[PipelineRun, Path]:
    raw = copy_shipped_raw(work / "raw")
    for change in changes:
        change(raw)
    return run_pipeline(work, raw), raw


def crosstab_and_page_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[PipelineRun, Path]:
    return made_once(
        tmp_path_factory,
        "moea-crosstab+itc-page",
        lambda work: _run(work, moea_as_the_crosstab, itc_as_the_yearly_page),
    )


def flat_and_small_exporter_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[PipelineRun, Path]:
    return made_once(
        tmp_path_factory,
        "moea-flat+itc-small-exporter",
        lambda work: _run(work, moea_as_the_flat_sheet, itc_with_a_small_new_exporter),
    )

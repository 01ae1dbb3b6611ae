"""figure1.png's font: the project's own (orchestration/publish/fonts/), never the machine's, so
the chart has Chinese labels and the same bytes everywhere. Fast: the chart is drawn from
cells made here, no pipeline run (test_publish.py checks the published PNG itself)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import matplotlib
import matplotlib.font_manager as fm
import pytest
from matplotlib.text import Text

from orchestration.maintenance import make_font_subset
from orchestration.publish import chart
from orchestration.publish.marts import Cell, Exhibit

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIGURE = "figure1_tw_server_production"
# Figure 1's shape: production value (億元) and growth by year, and 2024 Jan-Jul (numbers made up
# here but for the year to date's; what they are does not matter to the font).
VALUES = {2017: 1297, 2018: 1589, 2019: 2185, 2020: 2478, 2021: 2396, 2022: 2812, 2023: 3461}
GROWTH = {2018: 22.5, 2019: 37.5, 2020: 13.4, 2021: -3.3, 2022: 17.4, 2023: 23.1}


def figure_cells(title: str = "圖1 我國伺服器產值") -> tuple[Exhibit, list[Cell]]:
    """Figure 1's exhibit and cells, as marts.exhibits and marts.exhibit_cells return them."""
    exhibit = Exhibit(FIGURE, 1, title, "moea", "fct_bulletin_figure1_production")
    periods = [(str(y), "year", date(y, 1, 1), date(y, 12, 31)) for y in VALUES]
    periods.append(("2024-01..07", "ytd", date(2024, 1, 1), date(2024, 7, 31)))
    values = [*VALUES.values(), 4267]
    growth = {**{str(y): g for y, g in GROWTH.items()}, "2024-01..07": 153.9}
    cells = []
    for order, ((code, kind, start, end), value) in enumerate(zip(periods, values, strict=True)):
        measures = [("value", value, 0, "NTD 100 million (億元)")]
        if code in growth:
            measures.append(("yoy_pct", growth[code], 1, "percent"))
        for measure_order, (measure, number, decimals, unit) in enumerate(measures):
            cells.append(
                Cell(
                    FIGURE, measure, "total", "伺服器產值", code, number, decimals, None, unit,
                    kind == "ytd", 0, measure_order, order, kind, start, end,
                )  # fmt: skip
            )
    return exhibit, cells


def render_to(path: str) -> None:
    """Draw the chart of :func:`figure_cells` into ``path`` (run in a subprocess below)."""
    Path(path).write_bytes(chart.render_figure1(*figure_cells()))


def test_the_chart_draws_every_word_with_the_shipped_font():
    exhibit, cells = figure_cells()
    fig, data = chart.draw_figure1(exhibit, cells)
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    assert exhibit.title_zh in [t.get_text() for t in texts]  # Chinese labels
    assert "2024年 1-7月" in [t.get_text() for t in texts]
    used = {}
    for text in texts:
        used[text.get_text()] = Path(fm.findfont(text.get_fontproperties(), fallback_to_default=False))
    assert set(used.values()) == set(chart.FONT_FILES.values()), used
    assert used[exhibit.title_zh] == chart.FONT_FILES["bold"]
    assert used[chart.UNIT_ZH] == chart.FONT_FILES["normal"]
    assert data == chart.render_figure1(exhibit, cells)  # twice: the same bytes


def test_the_shipped_font_has_every_character_the_project_prints():
    # The seeds (products, partners, exhibits), the code's labels and the bulletin's text.
    # When this fails: python -m orchestration.maintenance.make_font_subset (fonts/README.md).
    characters = make_font_subset.text_characters(make_font_subset.project_texts())
    assert set("伺服器全球產值挹") <= characters
    assert chart.missing_characters("".join(characters)) == []
    assert chart.missing_characters("全球中華民國美國墨西哥越南荷蘭") == []


def test_the_fonts_are_package_data_with_their_licence():
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["orchestration.publish"]
    shipped = {p.name for pattern in patterns for p in chart.FONT_DIR.parent.glob(pattern)}
    assert {p.name for p in chart.FONT_FILES.values()} | {"OFL.txt"} <= shipped
    assert "SIL OPEN FONT LICENSE Version 1.1" in (chart.FONT_DIR / "OFL.txt").read_text(encoding="utf-8")
    assert all(p.stat().st_size < 2_500_000 for p in chart.FONT_FILES.values())


def test_figure1_has_the_same_bytes_on_a_machine_without_fonts(tmp_path):
    """Drawn here (where matplotlib may know installed CJK fonts, a Noto Sans CJK TC among them)
    and in a process with an empty matplotlib cache and home, whose font list holds only
    matplotlib's own fonts: a machine with no font installed."""
    here = chart.render_figure1(*figure_cells())
    mpl_data = str(Path(matplotlib.get_data_path()).resolve())
    script = (
        "import sys, matplotlib.font_manager as fm\n"
        f"fm.fontManager.ttflist = [f for f in fm.fontManager.ttflist if f.fname.startswith({mpl_data!r})]\n"
        "assert not [f for f in fm.fontManager.ttflist if 'CJK' in f.name]\n"
        "from tests.test_chart import render_to\n"
        "render_to(sys.argv[1])\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "MPLCONFIGDIR": str(tmp_path / "mplconfig"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }
    out = tmp_path / "figure1.png"
    subprocess.run(
        [sys.executable, "-c", script, str(out)], cwd=PROJECT_ROOT, env=env, check=True, timeout=300
    )
    assert out.read_bytes() == here


def test_a_character_the_font_lacks_gives_english_labels_and_a_warning():
    exhibit, cells = figure_cells(title="圖1 我國𠀀產值")  # U+20000, not in the subset
    texts = chart.figure_texts(exhibit, cells, chinese=False)
    assert all(ord(ch) < 0x2E80 for ch in texts["title"] + texts["unit"] + texts["source"])
    assert [label for label, _, _ in texts["bars"]][-1] == "2024\nJan-Jul"
    english = chart.render_figure1(exhibit, cells, chinese=False)
    with pytest.warns(chart.MissingGlyphWarning, match="𠀀"):
        assert chart.render_figure1(exhibit, cells) == english
    fig, _ = chart.draw_figure1(exhibit, cells, chinese=False)
    assert {
        Path(fm.findfont(t.get_fontproperties(), fallback_to_default=False))
        for t in fig.findobj(Text)
        if t.get_text()
    } <= set(chart.FONT_FILES.values())

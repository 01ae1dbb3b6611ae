"""figure1.png: Taiwan's server production value by year and the year-to-date bar.

Drawn with matplotlib's Agg canvas at a fixed size and resolution, with no software name or
date in the PNG's metadata, so the same values give the same bytes. Labels are Chinese, as
the bulletin prints them, when the machine has a font that covers every character drawn
(Noto Sans CJK, Noto Serif CJK, WenQuanYi, Droid Sans Fallback, …: `make fonts` installs
Debian's fonts-noto-cjk); otherwise English, never boxes for missing glyphs.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.font_manager as fm
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import StrMethodFormatter

from .layout import LAYOUTS, ExhibitLayout, format_value, period_header, period_label_en
from .marts import Cell, Exhibit

FIGURE_SIZE = (10.0, 5.6)  # inches
DPI = 120  # 1200 x 672 pixels
BAR_COLOUR = "#4472C4"
YEAR_TO_DATE_COLOUR = "#ED7D31"
# Preferred CJK families, Traditional Chinese first; any other font that covers the text will do.
CJK_FAMILIES = (
    "Noto Sans CJK TC",
    "Noto Sans TC",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Serif CJK TC",
    "Noto Serif CJK JP",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
)
_CJK_FILE_HINTS = ("cjk", "wqy", "wenquanyi", "droidsansfallback", "notosanstc", "notoseriftc")

GROWTH_NOTE_ZH = "括號內為年增率(%)"
GROWTH_NOTE_EN = "In brackets: growth on a year earlier (%)"
UNIT_ZH = "單位：億元"
UNIT_EN = "Unit: NT$ 100 million"


def _covers(path: str, text: str) -> bool:
    try:
        charmap = FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(ch) in charmap for ch in set(text) if not ch.isspace())


@functools.cache
def _register_system_cjk_fonts() -> None:
    """Add CJK font files matplotlib's cached font list may predate (a font installed since)."""
    known = {f.fname for f in fm.fontManager.ttflist}
    for path in fm.findSystemFonts():
        if path not in known and any(h in os.path.basename(path).lower() for h in _CJK_FILE_HINTS):
            try:
                fm.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue


def find_cjk_font(text: str) -> str | None:
    """The family name of an installed font that has a glyph for every character of ``text``."""
    _register_system_cjk_fonts()
    entries = sorted({(f.name, f.fname) for f in fm.fontManager.ttflist if f.style == "normal"})
    preferred = sorted(
        (e for e in entries if e[0] in CJK_FAMILIES), key=lambda e: (CJK_FAMILIES.index(e[0]), e[1])
    )
    others = [
        e for e in entries if e[0] not in CJK_FAMILIES and any(h in e[1].lower() for h in _CJK_FILE_HINTS)
    ]
    for name, path in preferred + others:
        if _covers(path, text):
            return name
    return None


def figure_texts(
    exhibit: Exhibit, cells: Sequence[Cell], chinese: bool, layout: ExhibitLayout | None = None
) -> dict:
    """The chart's words and bars: title, unit, source, growth note and (label, value, growth).
    ``layout``: the exhibit's layout (LAYOUTS' by default; another product's, see
    :func:`layout.for_product`)."""
    layout = layout or LAYOUTS[exhibit.code]
    value_measure, growth_measure = layout.blocks[0].measure, layout.blocks[1].measure
    values = sorted((c for c in cells if c.measure == value_measure), key=lambda c: c.period_order)
    growth = {c.period: c for c in cells if c.measure == growth_measure}
    bars = [
        (
            period_header(c.when) if chinese else period_label_en(c.when),
            c,
            growth.get(c.period),
        )
        for c in values
    ]
    return {
        "title": exhibit.title_zh if chinese else layout.title_en,
        "unit": UNIT_ZH if chinese else UNIT_EN,
        "source": layout.source if chinese else layout.source_en,
        "growth_note": GROWTH_NOTE_ZH if chinese else GROWTH_NOTE_EN,
        "bars": bars,
    }


def _chinese_text(exhibit: Exhibit, cells: Sequence[Cell], layout: ExhibitLayout | None = None) -> str:
    texts = figure_texts(exhibit, cells, chinese=True, layout=layout)
    labels = "".join(label for label, _, _ in texts["bars"])
    return (
        texts["title"] + texts["unit"] + texts["source"] + texts["growth_note"] + labels + "0123456789,.-+%()"
    )


def render_figure1(
    exhibit: Exhibit,
    cells: Sequence[Cell],
    font: str | None = None,
    *,
    chinese: bool | None = None,
    layout: ExhibitLayout | None = None,
) -> bytes:
    """The PNG's bytes. ``font``: the CJK family to use (found when not given); English labels
    when there is none (or ``chinese=False``)."""
    if chinese is None or chinese:
        font = font or find_cjk_font(_chinese_text(exhibit, cells, layout))
        chinese = font is not None
    texts = figure_texts(exhibit, cells, chinese=chinese, layout=layout)
    family = [font, "DejaVu Sans"] if chinese else ["DejaVu Sans"]

    with matplotlib.rc_context(
        {
            "font.family": family,
            "axes.unicode_minus": False,
            "path.simplify": True,
        }
    ):
        fig = Figure(figsize=FIGURE_SIZE, dpi=DPI)
        FigureCanvasAgg(fig)  # Agg, whatever backend the process uses
        ax = fig.add_axes((0.08, 0.16, 0.9, 0.68))
        bars = texts["bars"]
        xs = range(len(bars))
        heights = [cell.value for _, cell, _ in bars]
        colours = [YEAR_TO_DATE_COLOUR if cell.when.is_year_to_date else BAR_COLOUR for _, cell, _ in bars]
        ax.bar(xs, heights, width=0.62, color=colours, zorder=2)
        top = max(heights + [0])
        ax.set_ylim(0, top * 1.22 if top > 0 else 1)
        for x, (_, cell, growth) in zip(xs, bars, strict=True):
            ax.annotate(
                f"{float(format_value(cell.value, cell.decimals)):,.{cell.decimals}f}",
                (x, cell.value),
                xytext=(0, 16 if growth else 4),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=12,
                fontweight="bold",
                color="#222222",
            )
            if growth is not None:
                ax.annotate(
                    f"({format_value(growth.value, growth.decimals)})",
                    (x, cell.value),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=10,
                    color="#555555",
                )
        ax.set_xticks(list(xs), [label for label, _, _ in bars], fontsize=11)
        ax.text(
            0,
            1.03,
            texts["unit"],
            transform=ax.transAxes,
            fontsize=10,
            color="#333333",
            ha="left",
            va="bottom",
        )
        ax.text(
            1,
            1.03,
            texts["growth_note"],
            transform=ax.transAxes,
            fontsize=10,
            color="#555555",
            ha="right",
            va="bottom",
        )
        ax.tick_params(axis="y", labelsize=10)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.grid(axis="y", color="#DDDDDD", linewidth=0.8, zorder=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.text(0.08, 0.95, texts["title"], fontsize=15, fontweight="bold", ha="left", va="center")
        fig.text(0.08, 0.04, texts["source"], fontsize=10, color="#333333", ha="left", va="center")

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buffer.getvalue()


def write_figure1(
    path: Path,
    exhibit: Exhibit,
    cells: Sequence[Cell],
    font: str | None = None,
    layout: ExhibitLayout | None = None,
) -> None:
    data = render_figure1(exhibit, cells, font, layout=layout)
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())

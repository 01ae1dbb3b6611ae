"""figure1.png: Taiwan's server production value by year and the year-to-date bar.

Drawn with matplotlib's Agg canvas at a fixed size and resolution, with no software name or
date in the PNG's metadata, so the same values give the same bytes. Every word is drawn with
the project's own font, ``fonts/`` beside this file (a subset of Noto Sans CJK TC, Regular and
Bold, under the SIL Open Font License: see fonts/README.md), never with a font of the machine:
the labels are Chinese, as the bulletin prints them, and the PNG has the same bytes on every
machine (with the same matplotlib, whose wheel brings its own FreeType). Only when a title or
label holds a character that font lacks (another product's name with a rare character: the
font has Big5's 5,401 common characters and every character of the seeds) is the chart drawn
with English labels, with a warning naming the characters, never with boxes for missing glyphs.
"""

from __future__ import annotations

import io
import os
import warnings
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
# The shipped font (orchestration/maintenance/make_font_subset.py makes it), package data. Its
# family name is its own, so no installed font (an installed Noto Sans CJK TC) can stand in.
FONT_DIR = Path(__file__).resolve().with_name("fonts")
FONT_FAMILY = "Noto Sans CJK TC Bulletin"
FONT_FILES = {
    "normal": FONT_DIR / "NotoSansCJKtc-Bulletin-Regular.ttf",
    "bold": FONT_DIR / "NotoSansCJKtc-Bulletin-Bold.ttf",
}

GROWTH_NOTE_ZH = "括號內為年增率(%)"
GROWTH_NOTE_EN = "In brackets: growth on a year earlier (%)"
UNIT_ZH = "單位：億元"
UNIT_EN = "Unit: NT$ 100 million"


class MissingGlyphWarning(UserWarning):
    """The shipped font has no glyph for a character of the chart's Chinese text."""


def register_font() -> str:
    """Add the shipped font files to matplotlib's font manager (once a process: again only if
    the manager was rebuilt since) and return their family; fails if matplotlib would draw
    the family's normal or bold weight from any other file."""
    known = {Path(f.fname) for f in fm.fontManager.ttflist}
    for path in FONT_FILES.values():
        if path not in known:
            fm.fontManager.addfont(path)
    for weight, path in FONT_FILES.items():
        found = fm.findfont(fm.FontProperties(family=FONT_FAMILY, weight=weight), fallback_to_default=False)
        if Path(found).resolve() != path:
            raise RuntimeError(f"matplotlib draws {FONT_FAMILY} {weight} from {found}, not from {path}")
    return FONT_FAMILY


def missing_characters(text: str) -> list[str]:
    """The characters of ``text`` (spaces aside) that a shipped font file has no glyph for."""
    wanted = {ch for ch in text if not ch.isspace()}
    missing: set[str] = set()
    for path in FONT_FILES.values():
        charmap = FT2Font(str(path)).get_charmap()
        missing |= {ch for ch in wanted if ord(ch) not in charmap}
    return sorted(missing)


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
    *,
    chinese: bool | None = None,
    layout: ExhibitLayout | None = None,
) -> bytes:
    """The PNG's bytes, drawn with the shipped font. Chinese labels unless ``chinese=False`` or
    the font lacks a character of them (then English ones, and a :class:`MissingGlyphWarning`)."""
    return draw_figure1(exhibit, cells, chinese=chinese, layout=layout)[1]


def draw_figure1(
    exhibit: Exhibit,
    cells: Sequence[Cell],
    *,
    chinese: bool | None = None,
    layout: ExhibitLayout | None = None,
) -> tuple[Figure, bytes]:
    """The figure, drawn, and its PNG's bytes (see :func:`render_figure1`)."""
    family = register_font()
    if chinese is None or chinese:
        missing = missing_characters(_chinese_text(exhibit, cells, layout))
        if missing:
            warnings.warn(
                f"figure1.png: English labels, as the shipped font ({FONT_DIR.name}/, {FONT_FAMILY}) "
                f"has no glyph for {' '.join(missing)}: add them with "
                "orchestration/maintenance/make_font_subset.py",
                MissingGlyphWarning,
                stacklevel=3,
            )
        chinese = not missing
    texts = figure_texts(exhibit, cells, chinese=chinese, layout=layout)

    with matplotlib.rc_context(
        {
            "font.family": [family],
            "axes.unicode_minus": False,
            "text.parse_math": False,  # a "$" in a name is a dollar, and mathtext has fonts of its own
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
    return fig, buffer.getvalue()


def write_figure1(
    path: Path,
    exhibit: Exhibit,
    cells: Sequence[Cell],
    layout: ExhibitLayout | None = None,
) -> None:
    data = render_figure1(exhibit, cells, layout=layout)
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())

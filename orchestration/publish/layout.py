"""How the bulletin prints: the configuration of the published files, in one place.

Everything here is presentation, not data: which blocks each exhibit prints and their
labels, how period codes read as column headers, and each exhibit's source line and note.
The exhibits' titles come from the dbt seed ``bulletin_exhibits`` (column ``title_zh``) and
every period, series and number from the marts, so nothing here names a year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# The marts published, one per exhibit, under the exhibit's code (the cells' "table" column).
EXHIBIT_MARTS = {
    "figure1_tw_server_production": "fct_bulletin_figure1_production",
    "table1_tw_server_exports_by_destination": "fct_bulletin_table1_exports_by_destination",
    "table2_us_server_imports_by_source": "fct_bulletin_table2_us_imports_by_source",
    "table3_major_exporters": "fct_bulletin_table3_major_exporters",
}
CELLS_MART = "fct_bulletin_cells"
# The mirror check (Taiwan's exports to the US against the US's imports from Taiwan): not an
# exhibit of the bulletin, published beside them under the mart's own name.
MIRROR_MART = "fct_mirror_tw_us_server_trade"
MARTS_SCHEMA = "marts"

# File names inside a publication.
CELLS_CSV = "bulletin_cells.csv"
WORKBOOK = "bulletin.xlsx"
FIGURE = "figure1.png"
MANIFEST = "manifest.json"
DRAFT = "bulletin_draft.md"
REVISIONS = "revisions.csv"

# The workbook's sheets beside the exhibits'.
MIRROR_SHEET = "鏡像比對"
DRAFT_SHEET = "草稿"

# A column holding a preliminary month is marked in its header (2024年 1-9月*) and the mark
# explained under the table: the footnote mark of statistical tables.
PRELIMINARY_MARK = "*"
PRELIMINARY_NOTE = PRELIMINARY_MARK + "含初步值：{months}"

# revisions.csv: a printed cell whose number changed since the previous publication, and the
# downloads whose revisions moved it.
REVISIONS_COLUMNS = (
    "table",
    "measure",
    "series",
    "series_zh",
    "period",
    "old_value",
    "new_value",
    "decimals",
    "source",
    "revised_months",
    "old_download_date",
    "new_download_date",
)

# bulletin_cells.csv: the columns of the bulletin's published_tables.csv, in its order,
# then the unrounded value and the preliminary flag.
CELLS_COLUMNS = (
    "table",
    "measure",
    "series",
    "series_zh",
    "period",
    "value",
    "decimals",
    "unit",
    "printed_in",
    "value_exact",
    "is_preliminary",
)


@dataclass(frozen=True)
class Block:
    """A block of rows: one measure, under its label (出口值(億美元))."""

    measure: str
    label: str


@dataclass(frozen=True)
class ExhibitLayout:
    """How one exhibit prints: its sheet, blocks, span column, source line and note."""

    exhibit: str
    sheet: str
    blocks: tuple[Block, ...]
    source: str
    note: str | None = None
    # A measure over a span of years printed as last column(s) of one block (Table 3's
    # average growth, in its 年增率 block); the other blocks print '-' there.
    span_measure: str | None = None
    span_block: str | None = None
    is_figure: bool = False
    # Figure 1 in English, for machines without a CJK font.
    title_en: str | None = None
    source_en: str | None = None


CUSTOMS_NOTE = (
    "說明：海關稅則編號參考 HS code 847150，惟不包含以組件形式出口(不含 CPU)者，"
    "其海關稅則編號會包含在 HS code 847180。"
)
# The note for any other product: its HS code, nothing about servers.
PRODUCT_NOTE = "說明：海關稅則編號 HS code {hs_code}。"
# The word the exhibits' titles and the draft use for the default product (servers).
DEFAULT_PRODUCT_ZH = "伺服器"

LAYOUTS: dict[str, ExhibitLayout] = {
    layout.exhibit: layout
    for layout in (
        ExhibitLayout(
            exhibit="figure1_tw_server_production",
            sheet="圖1",
            blocks=(Block("value", "產值(億元)"), Block("yoy_pct", "年增率(%)")),
            source="資料來源：經濟部統計處「工業產銷存動態調查」",
            is_figure=True,
            title_en="Figure 1  Taiwan's server production value",
            source_en="Source: MOEA Dept. of Statistics, Industrial Production, Sales and Inventory Survey",
        ),
        ExhibitLayout(
            exhibit="table1_tw_server_exports_by_destination",
            sheet="表1",
            blocks=(
                Block("value", "出口值(億美元)"),
                Block("yoy_pct", "年增率(%)"),
                Block("share_pct", "出口國家占比(%)"),
            ),
            source="資料來源：財政部關務署「海關進出口統計」",
            note=CUSTOMS_NOTE,
        ),
        ExhibitLayout(
            exhibit="table2_us_server_imports_by_source",
            sheet="表2",
            blocks=(
                Block("value", "金額(億美元)"),
                Block("yoy_pct", "年增率(%)"),
                Block("share_pct", "占比(%)"),
            ),
            source="資料來源：Global Trade Atlas",
            note="說明：同表1",
        ),
        ExhibitLayout(
            exhibit="table3_major_exporters",
            sheet="表3",
            blocks=(Block("yoy_pct", "年增率(%)"), Block("share_pct", "占比(%)")),
            source="資料來源：International Trade Centre",
            note="說明：同表1",
            span_measure="avg_growth_pct",
            span_block="yoy_pct",
        ),
    )
}

# Column headers of span measures ({start} and {end} are the span's years).
SPAN_HEADERS = {
    "avg_growth_pct": "{start}至{end}年 平均成長率(%)",
    "share_change_pp": "{start}至{end}年 占比變化(百分點)",
}
# What a block prints in a span column it has no number for.
NOT_APPLICABLE = "-"

_YEAR = re.compile(r"^(\d{4})$")
_YEAR_TO_DATE = re.compile(r"^(\d{4})-(\d{2})\.\.(\d{2})$")
_SPAN = re.compile(r"^(\d{4})\.\.(\d{4})$")

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def for_product(layout: ExhibitLayout, hs_code: str, is_default: bool) -> ExhibitLayout:
    """The layout as another product prints it: its HS code in the note (for the customs
    note), a neutral English title for Figure 1. The default product's layout is unchanged."""
    if is_default:
        return layout
    changes: dict = {}
    if layout.note == CUSTOMS_NOTE:
        changes["note"] = PRODUCT_NOTE.format(hs_code=hs_code)
    if layout.title_en:
        changes["title_en"] = layout.title_en.replace(
            "server production value", f"production value, HS {hs_code}"
        )
    return replace(layout, **changes)


def month_zh(month: str) -> str:
    """``2024-09`` -> ``2024年9月`` (a year ``2023`` -> ``2023年``)."""
    if m := re.match(r"^(\d{4})-(\d{2})$", month):
        return f"{m[1]}年{int(m[2])}月"
    return f"{month}年"


def preliminary_note(months: list[str]) -> str:
    """The footnote under a table with preliminary columns: ``*含初步值：2024年9月``."""
    return PRELIMINARY_NOTE.format(months="、".join(month_zh(m) for m in months))


def is_span(period: str) -> bool:
    """A span of years (``2018..2023``: average growth, change of share)."""
    return bool(_SPAN.match(period))


def is_year_to_date(period: str) -> bool:
    """A year-to-date span (``2024-01..09``)."""
    return bool(_YEAR_TO_DATE.match(period))


def period_header(period: str, measure: str | None = None) -> str:
    """A period code as the bulletin heads its column.

    ``2017`` -> ``2017年``; ``2024-01..09`` -> ``2024年 1-9月``; a span ``2018..2023`` ->
    ``2018至2023年 平均成長率(%)`` (the text of the span's measure).
    """
    if m := _YEAR.match(period):
        return f"{m[1]}年"
    if m := _YEAR_TO_DATE.match(period):
        return f"{m[1]}年 {int(m[2])}-{int(m[3])}月"
    if m := _SPAN.match(period):
        template = SPAN_HEADERS.get(measure or "", "{start}至{end}年")
        return template.format(start=m[1], end=m[2])
    raise ValueError(f"unknown period code {period!r}")


def period_label_en(period: str) -> str:
    """A period code in English, for the chart without a CJK font: ``2024\\nJan-Jul``."""
    if m := _YEAR.match(period):
        return m[1]
    if m := _YEAR_TO_DATE.match(period):
        return f"{m[1]}\n{_MONTHS_EN[int(m[2]) - 1]}-{_MONTHS_EN[int(m[3]) - 1]}"
    if m := _SPAN.match(period):
        return f"{m[1]}-{m[2]}"
    raise ValueError(f"unknown period code {period!r}")


def number_format(decimals: int) -> str:
    """The spreadsheet number format of a cell printed with ``decimals`` decimals."""
    return "0" if decimals <= 0 else "0." + "0" * decimals


def format_value(value: float, decimals: int) -> str:
    """A number as printed: ``4267``, ``5.7``, ``0.01``, ``100.0``, ``-3.3``."""
    text = f"{value:.{max(decimals, 0)}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def printed_in_table(exhibit: str, measure: str) -> bool:
    """Whether the exhibit's table prints the measure (else only the text or the figure states it)."""
    layout = LAYOUTS.get(exhibit)
    if layout is None or layout.is_figure:
        return False
    return measure == layout.span_measure or any(b.measure == measure for b in layout.blocks)

"""How the bulletin prints: the configuration of the published files, in one place.

The exhibits themselves are data: the dbt seed ``bulletin_exhibits`` defines each (its code,
order, number, title, source, mart, and what dbt builds it from), and this module reads the
seed's file for what the asset graph and the files' names need before any warehouse exists
(:data:`EXHIBIT_DEFINITIONS`, :data:`EXHIBIT_MARTS`); a publication reads the exhibits from
the marts. Everything else here is presentation: which blocks each exhibit prints and their
labels, how a typed period reads as a column header, and each exhibit's source line and note.
Every period, series and number comes from the marts, typed (:class:`Period`): nothing here
names a year, and no period code is ever parsed.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from ..settings import DBT_PROJECT_DIR

# The one definition of the bulletin's exhibits (dbt reads it as reference.bulletin_exhibits).
EXHIBITS_SEED = DBT_PROJECT_DIR / "seeds" / "bulletin_exhibits.csv"


@dataclass(frozen=True)
class ExhibitDefinition:
    """An exhibit as the bulletin_exhibits seed defines it (the columns Python needs)."""

    code: str
    order: int
    number: str  # as printed (圖1, 表1): the workbook's sheet
    mart: str
    title_zh: str
    source: str


def read_exhibit_definitions(path: Path = EXHIBITS_SEED) -> dict[str, ExhibitDefinition]:
    """The seed's exhibits by code, in the bulletin's order."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    definitions = [
        ExhibitDefinition(
            code=row["exhibit"],
            order=int(row["exhibit_order"]),
            number=row["exhibit_number"],
            mart=row["mart"],
            title_zh=row["title_zh"],
            source=row["source"],
        )
        for row in rows
    ]
    return {d.code: d for d in sorted(definitions, key=lambda d: d.order)}


EXHIBIT_DEFINITIONS = read_exhibit_definitions()
# The marts published, one per exhibit, under the exhibit's code (the cells' "table" column).
EXHIBIT_MARTS = {code: definition.mart for code, definition in EXHIBIT_DEFINITIONS.items()}
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
    """How one exhibit prints: its blocks, span column, source line and note (its sheet is
    its number in the seed)."""

    exhibit: str
    blocks: tuple[Block, ...]
    source: str
    note: str | None = None
    # A measure over a span of years printed as last column(s) of one block (Table 3's
    # average growth, in its 年增率 block); the other blocks print '-' there.
    span_measure: str | None = None
    span_block: str | None = None
    is_figure: bool = False
    # Figure 1 in English, for a title or label the shipped font has no glyph for (chart.py).
    title_en: str | None = None
    source_en: str | None = None

    @property
    def sheet(self) -> str:
        """The workbook's sheet: the exhibit's number as printed (圖1)."""
        return EXHIBIT_DEFINITIONS[self.exhibit].number

    @property
    def source_name(self) -> str:
        """The source as the source line names it (經濟部統計處「工業產銷存動態調查」)."""
        return self.source.removeprefix(SOURCE_PREFIX)


# A source line starts so.
SOURCE_PREFIX = "資料來源："
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
            blocks=(Block("value", "產值(億元)"), Block("yoy_pct", "年增率(%)")),
            source="資料來源：經濟部統計處「工業產銷存動態調查」",
            is_figure=True,
            title_en="Figure 1  Taiwan's server production value",
            source_en="Source: MOEA Dept. of Statistics, Industrial Production, Sales and Inventory Survey",
        ),
        ExhibitLayout(
            exhibit="table1_tw_server_exports_by_destination",
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


# The source line of an exhibit built from another source than its own (the source its source var
# chooses: bulletin_exhibits.source_var), by that source.
SOURCE_LINES = {
    "census": "資料來源：美國商務部普查局（U.S. Census Bureau）國際貿易統計",
    "comtrade": "資料來源：聯合國商品貿易統計資料庫（UN Comtrade）",
}


def for_source(layout: ExhibitLayout, source: str) -> ExhibitLayout:
    """The layout with the source line of the source the exhibit is built from, where that is
    another than its own (census for Table 2, comtrade for Table 3); else unchanged."""
    line = SOURCE_LINES.get(source)
    return layout if line is None else replace(layout, source=line)


@dataclass(frozen=True)
class Period:
    """A period as the marts type it (fct_bulletin_cells, dim_bulletin_periods): its code (the
    label the cells and files carry, made by dbt's period_label macro from the rest), its kind
    (year; ytd, January to a month; span, of years) and its first and last day."""

    code: str
    kind: str
    start: date
    end: date

    @property
    def is_span(self) -> bool:
        """A span of years (average growth, change of share)."""
        return self.kind == "span"

    @property
    def is_year_to_date(self) -> bool:
        """A year-to-date span (January to a month)."""
        return self.kind == "ytd"


def _unknown(period: Period) -> ValueError:
    return ValueError(f"unknown period kind {period.kind!r} of {period.code!r}")


def month_zh(start: date, grain: str = "month") -> str:
    """A month as the bulletin names it: ``2024年9月`` (a year, grain ``year``: ``2023年``)."""
    return f"{start.year}年" if grain == "year" else f"{start.year}年{start.month}月"


def preliminary_note(months: Sequence[date]) -> str:
    """The footnote under a table with preliminary columns: ``*含初步值：2024年9月``."""
    return PRELIMINARY_NOTE.format(months="、".join(month_zh(m) for m in months))


def period_header(period: Period, measure: str | None = None) -> str:
    """A period as the bulletin heads its column.

    ``2017`` -> ``2017年``; ``2024-01..09`` -> ``2024年 1-9月``; a span ``2018..2023`` ->
    ``2018至2023年 平均成長率(%)`` (the text of the span's measure).
    """
    if period.kind == "year":
        return f"{period.start.year}年"
    if period.kind == "ytd":
        return f"{period.start.year}年 {period.start.month}-{period.end.month}月"
    if period.kind == "span":
        template = SPAN_HEADERS.get(measure or "", "{start}至{end}年")
        return template.format(start=period.start.year, end=period.end.year)
    raise _unknown(period)


def period_label_en(period: Period) -> str:
    """A period in English, for the chart in English (chart.py): ``2024\\nJan-Jul``."""
    if period.kind == "year":
        return str(period.start.year)
    if period.kind == "ytd":
        first, last = _MONTHS_EN[period.start.month - 1], _MONTHS_EN[period.end.month - 1]
        return f"{period.start.year}\n{first}-{last}"
    if period.kind == "span":
        return f"{period.start.year}-{period.end.year}"
    raise _unknown(period)


def period_zh(period: Period) -> str:
    """A period as the draft writes it: 2023年; 2024年1-7月; 2018-2023年."""
    if period.kind == "year":
        return f"{period.start.year}年"
    if period.kind == "ytd":
        return f"{period.start.year}年{period.start.month}-{period.end.month}月"
    if period.kind == "span":
        return f"{period.start.year}-{period.end.year}年"
    raise _unknown(period)


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

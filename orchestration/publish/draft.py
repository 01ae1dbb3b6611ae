"""The bulletin's numbered highlights, drafted in its own sentence patterns from the marts.

A statistician edits the prose, never the numbers: every number here is a printed cell of
the marts (``value`` as printed, or its absolute value after 增/減), a rank the marts
define (``series_rank``), or a period label. Phrases that depend on the data (增/減,
創新高, 居第N, 續升/轉降) follow the data, not the wording of any one edition.

Each highlight is built by a function that takes the exhibit's cells and returns its
paragraph, or a sentence saying why the exhibit is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .layout import EXHIBIT_DEFINITIONS, LAYOUTS, Period, period_zh
from .marts import Cell

FIGURE1 = "figure1_tw_server_production"
TABLE1 = "table1_tw_server_exports_by_destination"
TABLE2 = "table2_us_server_imports_by_source"
TABLE3 = "table3_major_exporters"
TOTALS = ("total", "world")
RANK_WORDS = {1: "居冠", 2: "居第2", 3: "居第3"}


def fmt(cell: Cell, absolute: bool = False) -> str:
    """A cell's number as the bulletin prints it: its decimals, thousands separated."""
    value = abs(cell.value) if absolute else cell.value
    return f"{value:,.{cell.decimals}f}"


def grow(cell: Cell, up: str = "增", down: str = "減") -> str:
    """年增12.3% / 年減3.3%: the verb follows the sign of the printed number."""
    if cell.value < 0:
        return f"{down}{fmt(cell, absolute=True)}%"
    if cell.value == 0:
        return "持平"
    return f"{up}{fmt(cell)}%"


@dataclass(frozen=True)
class Exhibit:
    """One exhibit's cells, with lookups by measure, series and period."""

    cells: Sequence[Cell]

    def get(self, measure: str, series: str, period: Period) -> Cell | None:
        return next(
            (c for c in self.cells if (c.measure, c.series, c.period) == (measure, series, period.code)), None
        )

    def periods(self, kind: str) -> list[Period]:
        """year: the annual columns in order; ytd: the year-to-date span (if any); span: spans."""
        seen: dict[str, Cell] = {}
        for c in self.cells:
            if c.measure in ("value", "yoy_pct", "share_pct") or kind == "span":
                seen.setdefault(c.period, c)
        ordered = sorted(seen.values(), key=lambda c: c.period_order)
        return [c.when for c in ordered if c.period_kind == kind]

    def shown(self) -> list[Cell]:
        """One cell per shown partner (not the total), in the exhibit's order."""
        first: dict[str, Cell] = {}
        for c in sorted(self.cells, key=lambda c: c.series_rank):
            if c.series not in TOTALS:
                first.setdefault(c.series, c)
        return list(first.values())

    def total(self) -> str:
        return next((c.series for c in self.cells if c.series in TOTALS), "total")

    def label(self, series: str) -> str:
        return next((c.series_zh for c in self.cells if c.series == series), series)

    def latest(self) -> Period:
        """The latest column: the year-to-date span where there is one, else the last year."""
        ytd = self.periods("ytd")
        return ytd[-1] if ytd else self.periods("year")[-1]


def _exhibit(cells: Iterable[Cell], table: str) -> Exhibit | None:
    mine = [c for c in cells if c.table == table]
    return Exhibit(mine) if mine else None


def production(ex: Exhibit) -> str:
    years = ex.periods("year")
    ytd = ex.periods("ytd")
    last = years[-1]
    values = {p: ex.get("value", "total", p) for p in years}
    record = max(values.values(), key=lambda c: c.value_exact or c.value)
    parts = [f"{period_zh(years[0])}我國伺服器產值{fmt(values[years[0]])}億元"]
    for p in years[1:]:
        growth = ex.get("yoy_pct", "total", p)
        if growth is not None and growth.value < 0:
            parts.append(f"{period_zh(p)}產值年{grow(growth)}")
    last_growth = ex.get("yoy_pct", "total", last)
    sentence = f"{period_zh(last)}產值{fmt(values[last])}億元"
    if last_growth is not None:
        sentence += f"，年{grow(last_growth)}"
    if record.period == last.code:
        sentence += "，創歷年新高"
    parts.append(sentence)
    title = f"{period_zh(last)}伺服器產值{fmt(values[last])}億元"
    if ytd:
        span = ytd[-1]
        value = ex.get("value", "total", span)
        growth = ex.get("yoy_pct", "total", span)
        sentence = f"{period_zh(span)}產值{fmt(value)}億元"
        beyond = (value.value_exact or value.value) > (values[last].value_exact or values[last].value)
        if beyond:
            sentence += f"已超越{period_zh(last)}全年"
        if growth is not None:
            again = growth.value > 0 and last_growth is not None and last_growth.value > 0
            sentence += f"，{'續' if again else '年'}{grow(growth)}"
        parts.append(sentence)
        highest = beyond and record.period == last.code
        title = f"{period_zh(span)}伺服器產值{fmt(value)}億元" + (
            "續創新高" if highest else f"，年{grow(growth)}" if growth is not None else ""
        )
    return f"**{title}**：" + "；".join(parts) + "。"


def exports(ex: Exhibit) -> str:
    years = ex.periods("year")
    last = years[-1]
    latest = ex.latest()
    spans = ex.periods("span")
    parts = []
    growths = [(p, ex.get("yoy_pct", "total", p)) for p in years]
    growths = [(p, g) for p, g in growths if g is not None]
    if growths:
        low_p, low = min(growths, key=lambda pg: pg[1].value_exact or pg[1].value)
        parts.append(f"觀察近年出口概況，以{period_zh(low_p)}年{grow(low)}為最低")
    total_last = ex.get("value", "total", last)
    sentence = f"{period_zh(last)}出口值達{fmt(total_last)}億美元"
    if (g := ex.get("yoy_pct", "total", last)) is not None:
        sentence += f"，年{grow(g)}"
    parts.append(sentence)
    if latest != last:
        sentence = f"{period_zh(latest)}出口值{fmt(ex.get('value', 'total', latest))}億美元"
        if (g := ex.get("yoy_pct", "total", latest)) is not None:
            sentence += f"，年{grow(g)}"
        parts.append(sentence)
    shown = ex.shown()
    if not shown:
        return "**我國伺服器出口**：" + "；".join(parts) + "。"
    main = shown[0].series
    first = years[0]
    text = "**我國伺服器出口以" + ex.label(main) + "為大宗**：" + "，".join(parts) + "。"
    text += f"若依出口國別觀察，我國伺服器出口以{ex.label(main)}為大宗"
    avg = next((ex.get("avg_growth_pct", main, s) for s in spans if ex.get("avg_growth_pct", main, s)), None)
    if avg is not None:
        start, end = avg.period_start.year, avg.period_end.year
        text += f"，近{end - start + 1}年({start}-{end}年)平均年{grow(avg)}"
    text += _share_path(ex, main, first, last, latest)
    # the shown destination whose share fell the most, as the bulletin contrasts
    falls = []
    for c in shown[1:]:
        a, b = ex.get("share_pct", c.series, first), ex.get("share_pct", c.series, last)
        if a is not None and b is not None and b.value_exact < a.value_exact:
            falls.append((b.value_exact - a.value_exact, c.series))
    if falls:
        series = min(falls)[1]
        text += f"；反觀對{ex.label(series)}出口占比則" + _share_path(ex, series, first, last, latest).lstrip(
            "，占比則"
        )
    return text + "。"


def _share_path(ex: Exhibit, series: str, first: Period, last: Period, latest: Period) -> str:
    """占比由2017年8.1%揚升至2023年之73.0%，2024年1-9月續升至78.9%."""
    a, b = ex.get("share_pct", series, first), ex.get("share_pct", series, last)
    if a is None or b is None:
        return ""
    verb = "揚升" if b.value_exact > a.value_exact else "下滑" if b.value_exact < a.value_exact else "持平"
    text = f"，占比由{period_zh(first)}{fmt(a)}%{verb}至{period_zh(last)}之{fmt(b)}%"
    c = ex.get("share_pct", series, latest) if latest != last else None
    if c is not None:
        rising = c.value_exact > b.value_exact
        same_way = rising == (verb == "揚升")
        word = ("續升" if same_way else "回升") if rising else ("續降" if same_way else "轉降")
        text += f"，{period_zh(latest)}{word}至{fmt(c)}%"
    return text


def us_imports(ex: Exhibit) -> str:
    years = ex.periods("year")
    last, latest = years[-1], ex.latest()
    shown = ex.shown()
    ranks = {c.series: i for i, c in enumerate(shown, start=1)}
    parts = []
    if shown:
        top = shown[0].series
        share = ex.get("share_pct", top, last)
        if share is not None:
            parts.append(f"{ex.label(top)}於美國伺服器進口市場{period_zh(last)}占{fmt(share)}%，排名居首")
    total = ex.get("yoy_pct", "total", last)
    if total is not None:
        parts.append(f"{period_zh(last)}美國伺服器進口年{grow(total)}")
    if "TW" not in ranks:
        title = "**我國非美國伺服器主要進口來源**"
        return f"{title}：" + "；".join(parts) + "。"
    rank = ranks["TW"]
    since = _rank_since(ex, "TW", rank, years)
    if since is not None and since != years[0]:
        parts.append(f"我國自{period_zh(since)}起居第{rank}")
    growth, share = ex.get("yoy_pct", "TW", last), ex.get("share_pct", "TW", last)
    if growth is not None and share is not None:
        parts.append(f"{period_zh(last)}美國自我國進口伺服器年{grow(growth)}，占比{fmt(share)}%")
    if latest != last:
        growth, share = ex.get("yoy_pct", "TW", latest), ex.get("share_pct", "TW", latest)
        if growth is not None and share is not None:
            parts.append(f"{period_zh(latest)}自我國進口年{grow(growth)}，占比{fmt(share)}%")
    word = "居冠" if rank == 1 else f"第{rank}"
    title = f"**我國{'居美國伺服器進口市場之冠' if rank == 1 else f'躍居美國伺服器{word}大進口市場'}**"
    return f"{title}：" + "；".join(parts) + "。"


def _rank_since(ex: Exhibit, series: str, rank: int, years: Sequence[Period]) -> Period | None:
    """The first year from which ``series`` ranks ``rank`` among the shown partners every year."""
    since = None
    for p in years:
        shares = sorted(
            (
                (c.value_exact, c.series)
                for c in ex.cells
                if c.measure == "share_pct" and c.period == p.code and c.series not in TOTALS
            ),
            reverse=True,
        )
        order = [s for _, s in shares]
        here = order.index(series) + 1 if series in order else None
        since = (since or p) if here == rank else None
    return since


def exporters(ex: Exhibit) -> str:
    years = ex.periods("year")
    first, last = years[0], years[-1]
    ranked = sorted(
        (c for c in ex.cells if c.measure == "share_pct" and c.period == last.code and c.series not in TOTALS),
        key=lambda c: -(c.value_exact or c.value),
    )
    parts = []
    for i, share in enumerate(ranked[:3], start=1):
        change = next(
            (c for c in ex.cells if c.measure == "share_change_pp" and c.series == share.series), None
        )
        who = "我國" if share.series == "TW" else share.series_zh
        lead = "以" if i == 1 else "其次為" if i == 2 else ""
        sentence = f"{lead}{who}占{fmt(share)}%{RANK_WORDS[i]}"
        if change is not None:
            verb = "增加" if change.value > 0 else "減少" if change.value < 0 else "持平"
            sentence += f"，較{period_zh(first)}{verb}{fmt(change, absolute=True)}個百分點"
        parts.append(sentence)
    text = (
        f"**主要國家伺服器出口概況**：觀察{period_zh(last)}主要國家伺服器出口值占全球出口占比，"
        + "；".join(parts)
    )
    spans = ex.periods("span")
    tw_avg = next(
        (ex.get("avg_growth_pct", "TW", s) for s in spans if ex.get("avg_growth_pct", "TW", s)), None
    )
    if tw_avg is not None:
        start, end = tw_avg.period_start.year, tw_avg.period_end.year
        text += f"；我國近{end - start + 1}年({start}-{end}年)出口值平均年{grow(tw_avg)}"
        world = ex.get("avg_growth_pct", ex.total(), tw_avg.when)
        if world is not None and (tw_avg.value_exact or 0) > (world.value_exact or 0):
            text += f"，優於全球之{fmt(world)}%"
    growing = [c.series for c in ranked[:3] if (g := ex.get("yoy_pct", c.series, last)) and g.value > 0]
    if growing == ["TW"]:
        text += f"，我國為{period_zh(last)}前3大出口國中唯一正成長國家"
    return text + "。"


# The paragraph each exhibit's highlight is drafted by (its sentence patterns are its own).
DRAFTERS = {FIGURE1: production, TABLE1: exports, TABLE2: us_imports, TABLE3: exporters}


def _highlight_name(code: str) -> str:
    """How the draft names an exhibit it lacks: 表2（Global Trade Atlas）."""
    return f"{EXHIBIT_DEFINITIONS[code].number}（{LAYOUTS[code].source_name}）"


# The highlights in the bulletin's order (the bulletin_exhibits seed's): exhibit, drafter, name.
HIGHLIGHTS = tuple(
    (code, DRAFTERS[code], _highlight_name(code)) for code in EXHIBIT_DEFINITIONS if code in DRAFTERS
)


PRODUCT_ZH = "伺服器"


def draft_markdown(cells: Sequence[Cell], title: str | None = None, product: str = PRODUCT_ZH) -> str:
    """The draft: a title line and the numbered highlights, one per exhibit that has data.

    ``product``: the product's Chinese name, for a bulletin on another product than servers
    (伺服器 in every sentence becomes it); ``title`` defaults to ``<product>產銷與貿易概況``.
    """
    title = title or f"{product}產銷與貿易概況"
    lines = [f"# 產業經濟統計簡訊（草稿）：{title}", ""]
    missing = []
    number = 0
    for table, build, name in HIGHLIGHTS:
        ex = _exhibit(cells, table)
        if ex is None:
            missing.append(name)
            continue
        number += 1
        text = build(ex)
        lines.append(f"{number}. {text if product == PRODUCT_ZH else text.replace(PRODUCT_ZH, product)}")
    if missing:
        lines += ["", "（本期未含：" + "、".join(missing) + "，其來源無此產品之資料。）"]
    return "\n".join(lines) + "\n"

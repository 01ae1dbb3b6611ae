"""A customs portal query export (綜合查詢) of realistic shape and chosen size, for the benchmark.

The portal's full export is every HS code, every country, both flows and every month; the
shipped downloads are four codes and twenty-odd countries. This writes the full shape:

- every HS 6-digit code of chapters 84 and 85 (about 1,500; 847130, 847150, 847180 and 847330
  with their real names, the others with generated names of realistic length, English names
  with commas and the portal's two leading spaces);
- about 220 countries, real customs country names taken from the project's own seed
  (``dbt_project/seeds/partner_names_customs.csv``), so the downstream models map every one;
- both flows, every month from 2016-01 to the last month (ROC months such as ``113年9月``; the
  newest carries ``(初步值)``);
- the portal's exact layout: its header, one row per flow, HS code, month and country (rows
  with no trade left out), ordered by flow, code, month and value; CRLF line ends; UTF-8 with a
  byte-order mark (the portal's UTF-8 export), UTF-8 without one, or Big5 (CP950).

Which cells trade is drawn from a seeded generator: a few large partners trade in most codes,
small ones in few, so the file is as sparse as the real one. The row count is close to
``rows`` (within a fraction of a percent); the file is written block by block, so memory
stays small whatever the size (10 million rows is about 3 GB in UTF-8).

    python -m benchmarks.generate_customs OUT.csv --rows 10000000 --encoding big5
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PARTNER_SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "partner_names_customs.csv"

HEADER = "進出口別,日期,貨品號列,中文貨名,英文貨名,國家,美元(千元)"
FLOWS = ("出口總值(含復出口)", "進口總值(含復進口)")
ENCODINGS = {"utf-8-sig": "utf-8", "utf-8": "utf-8", "big5": "cp950"}
DEFAULT_ROWS = 10_000_000
# The seed's first rows: the partners of the shipped downloads.
SHIPPED_PARTNERS = 47

# The codes of the shipped downloads, with the portal's own names.
KNOWN_CODES = {
    "847130": (
        "可攜式自動資料處理機，重量不超過１０公斤，至少包括一個中央處理單元、一個鍵盤及一個顯示器",
        "  Portable automatic data processing machines, weighing not more than 10 kg, consisting of "
        "at least a central processing unit, a keyboard and a display",
    ),
    "847150": (
        "第８４７１．４１或８４７１．４９目以外之處理單元，不論是否在同一機殼內含有一或二種下列型式之單元："
        "儲存單元、輸入單元、輸出單元",
        "  Processing units other than those of subheading 8471.41 or 8471.49, whether or not "
        "containing in the same housing one or two of the following types of unit: storage units, "
        "input units, output units",
    ),
    "847180": ("自動資料處理機之其他單元", "  Other units of automatic data processing machines"),
    "847330": (
        "第８４７１節所屬機器之零件及附件",
        "  Parts and accessories of the machines of heading 84.71",
    ),
}

ZH_WORDS = (
    "自動資料處理機 零件 附件 電動機 發電機 變壓器 靜電式變流器 電感器 蓄電池 電熱器 電話機 監視器 投影機 "
    "積體電路 半導體裝置 二極體 電晶體 印刷電路 電容器 電阻器 開關 繼電器 保險絲 連接器 光纖 絕緣電線 電纜 "
    "渦輪噴射引擎 泵 壓縮機 風扇 空氣調節機 冷凍櫃 熱交換器 離心機 過濾機 起重機 堆高機 挖土機 紡織機 "
    "縫紉機 工具機 車床 鑽床 銑床 磨床 模具 閥 軸承 齒輪 印刷機 洗衣機 機器人 射出成型機 電焊機 雷射 "
    "微波爐 吸塵器 刮鬍刀 擴音器 麥克風 錄音機 電視接收機 雷達 無線電導航器具 信號設備 電容式 鋰離子 "
    "太陽能電池 發光二極體 燈泡 真空管 照相機 攝影機 記憶體 處理器 控制器 放大器 電路板 儲存單元 輸入單元 "
    "輸出單元 鍵盤 顯示器 電源供應器 不斷電系統 充電器 天線 濾波器 變頻器 伺服馬達 感測器 晶圓 印表機"
).split()
ZH_JOINERS = ("之", "及", "或", "用", "，", "、", "所屬", "以外之", "其他", "不論是否含有")
ZH_PHRASES = (
    "重量不超過１０公斤",
    "功率超過７５瓩",
    "第８４７１節所屬",
    "不論是否在同一機殼內",
    "電壓超過１０００伏特",
    "專用或主要用於",
    "未列名",
    "供民用航空器用",
    "附有計量裝置者",
)
EN_WORDS = (
    "machines apparatus parts accessories electric electrical motors generators transformers static "
    "converters inductors accumulators heaters telephone sets monitors projectors integrated circuits "
    "semiconductor devices diodes transistors printed capacitors resistors switches relays fuses "
    "connectors optical fibres insulated wire cables turbo-jets pumps compressors fans air conditioning "
    "refrigerators heat exchangers centrifuges filtering lifting handling excavating textile sewing "
    "machine-tools lathes drilling milling grinding moulds valves bearings gears printing washing "
    "robots injection welding lasers microwave vacuum cleaners shavers loudspeakers microphones "
    "recording television receivers radar navigational signalling lithium-ion photovoltaic "
    "light-emitting lamps cameras memories processors controllers amplifiers storage input output "
    "units keyboards displays power supplies chargers antennas filters sensors wafers printers"
).split()
EN_FILLERS = (
    "of a kind used",
    "other than those of heading",
    "whether or not",
    "for",
    "with",
    "and",
    "or",
    "not elsewhere specified",
    "of an output exceeding 75 kW",
    "weighing not more than 10 kg",
    "of subheading",
    "containing in the same housing",
    "for civil aircraft",
    "other",
)


@dataclass(frozen=True)
class Product:
    code: str
    name_zh: str
    name_en: str


def csv_field(value: str) -> str:
    """A field as the portal writes it: quoted when it holds a comma or a double quote."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _pick(rng: np.random.Generator, words: tuple[str, ...] | list[str]) -> str:
    return words[int(rng.integers(len(words)))]


def _zh_name(rng: np.random.Generator) -> str:
    parts = []
    for _ in range(int(rng.integers(1, 9))):
        if rng.random() < 0.15:
            parts.append(_pick(rng, ZH_PHRASES))
        parts.append(_pick(rng, ZH_WORDS))
        parts.append(_pick(rng, ZH_JOINERS))
    return "".join(parts[:-1])


def _en_name(rng: np.random.Generator) -> str:
    words = []
    for _ in range(int(rng.integers(3, 32))):
        words.append(_pick(rng, EN_FILLERS) if rng.random() < 0.25 else _pick(rng, EN_WORDS))
        if rng.random() < 0.12:
            words[-1] += ","
    text = " ".join(words).rstrip(",")
    return "  " + text[0].upper() + text[1:]


def hs_products(rng: np.random.Generator, target: int = 1500) -> list[Product]:
    """About ``target`` HS 6-digit codes of chapters 84 and 85 (headings 8401-8487, 8501-8549)."""
    headings = [f"84{h:02d}" for h in range(1, 88)] + [f"85{h:02d}" for h in range(1, 50)]
    suffixes = [f"{a}{b}" for a in range(1, 10) for b in (0, 1, 2, 3, 9)] + ["90", "91", "99"]
    per_heading = rng.poisson(target / len(headings), len(headings)).clip(1, len(suffixes))
    codes = set(KNOWN_CODES)
    for heading, n in zip(headings, per_heading, strict=True):
        for suffix in rng.choice(suffixes, size=int(n), replace=False):
            codes.add(heading + suffix)
    products = []
    for code in sorted(codes):
        if code in KNOWN_CODES:
            products.append(Product(code, *KNOWN_CODES[code]))
        else:
            products.append(Product(code, _zh_name(rng), _en_name(rng)))
    return products


def customs_countries(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` real customs country names from the project's seed, largest partners first.

    The partners of the shipped downloads (the seed's first rows) are always there and rank
    first; 中華民國 (Taiwan itself: re-imports) ranks last.
    """
    with PARTNER_SEED.open(encoding="utf-8", newline="") as f:
        names = [row["partner_name"] for row in csv.DictReader(f)]
    home = [name for name in names if name == "中華民國"]
    shipped = [name for name in names[:SHIPPED_PARTNERS] if name not in home]
    others = [name for name in names[SHIPPED_PARTNERS:] if name not in home]
    take = max(n - len(shipped) - len(home), 0)
    picked = [others[i] for i in sorted(rng.choice(len(others), size=min(take, len(others)), replace=False))]
    return (shipped + picked)[: max(n - len(home), 0)] + home


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


def roc_label(month: dt.date, preliminary: bool) -> str:
    return f"{month.year - 1911}年{month.month}月" + ("(初步值)" if preliminary else "")


def _activity(rows: int, months: int, code_weight: np.ndarray, country_weight: np.ndarray) -> np.ndarray:
    """Per (flow, code, country): the chance a month has trade, scaled so the rows come out right."""
    base = np.stack([np.outer(code_weight, country_weight) * f for f in (1.0, 0.8)])
    target = rows / months
    if target >= base.size * 0.98:
        return np.full(base.shape, 0.98)
    lo, hi = 0.0, 1.0
    while (np.minimum(base * hi, 0.98)).sum() < target:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.minimum(base * mid, 0.98).sum() < target:
            lo = mid
        else:
            hi = mid
    return np.minimum(base * hi, 0.98)


def generate_lines(
    rows: int = DEFAULT_ROWS,
    seed: int = 459,
    first_month: dt.date = dt.date(2016, 1, 1),
    last_month: dt.date = dt.date(2024, 9, 1),
    countries: int = 220,
    codes: int = 1500,
) -> Iterator[str]:
    """The file's text, block by block (the header first); every line ends with CRLF."""
    rng = np.random.default_rng(seed)
    products = hs_products(rng, codes)
    names = customs_countries(countries, rng)
    months = months_between(first_month, last_month)
    labels = [roc_label(m, i == len(months) - 1) for i, m in enumerate(months)]
    ranks = np.arange(1, len(names) + 1)
    country_weight = (1.0 / ranks**1.1) * rng.lognormal(0, 0.3, len(names))
    code_weight = rng.lognormal(0, 1.0, len(products))
    code_weight[[i for i, p in enumerate(products) if p.code in KNOWN_CODES]] *= 4
    chance = _activity(rows, len(months), code_weight, country_weight)
    yield HEADER + "\r\n"
    name_fields = [csv_field(n) for n in names]
    # How large a cell's values run: by code and country, exports larger than imports.
    scale = country_weight / country_weight[0] * 2000.0
    for f, flow in enumerate(FLOWS):
        for k, product in enumerate(products):
            mid = f"{product.code},{csv_field(product.name_zh)},{csv_field(product.name_en)},"
            heads = [f"{flow},{label},{mid}" for label in labels]
            month_index, country_index = np.nonzero(
                rng.random((len(months), len(names)), dtype=np.float32) < chance[f, k]
            )
            if month_index.size == 0:
                continue
            values = np.maximum(
                1,
                np.rint(
                    rng.lognormal(0, 0.6, month_index.size)
                    * scale[country_index]
                    * code_weight[k]
                    * (1.0 if f == 0 else 0.6)
                ),
            ).astype(np.int64)
            # The portal's order: month, then the largest value first.
            order = np.lexsort((-values, month_index))
            yield "".join(
                [
                    f"{heads[m]}{name_fields[c]},{v}\r\n"
                    for m, c, v in zip(
                        month_index[order].tolist(),
                        country_index[order].tolist(),
                        values[order].tolist(),
                        strict=True,
                    )
                ]
            )


def write_customs(
    path: Path,
    rows: int = DEFAULT_ROWS,
    encoding: str = "utf-8-sig",
    seed: int = 459,
    first_month: dt.date = dt.date(2016, 1, 1),
    last_month: dt.date = dt.date(2024, 9, 1),
    countries: int = 220,
    codes: int = 1500,
) -> int:
    """Write the export to ``path``; returns the number of data rows written."""
    codec = ENCODINGS[encoding]
    lines = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        if encoding == "utf-8-sig":
            out.write(b"\xef\xbb\xbf")
        for block in generate_lines(rows, seed, first_month, last_month, countries, codes):
            out.write(block.encode(codec))
            lines += block.count("\n")
    return lines - 1


def _month(text: str) -> dt.date:
    return dt.date.fromisoformat(text + "-01")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "out", type=Path, help="the file to write, e.g. raw/customs/2024-10-14/綜合查詢_1.csv"
    )
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="about how many data rows")
    parser.add_argument("--encoding", choices=sorted(ENCODINGS), default="utf-8-sig")
    parser.add_argument("--seed", type=int, default=459)
    parser.add_argument("--first-month", type=_month, default=dt.date(2016, 1, 1), help="YYYY-MM")
    parser.add_argument(
        "--last-month", type=_month, default=dt.date(2024, 9, 1), help="YYYY-MM (preliminary)"
    )
    parser.add_argument("--countries", type=int, default=220)
    args = parser.parse_args(argv)
    written = write_customs(
        args.out, args.rows, args.encoding, args.seed, args.first_month, args.last_month, args.countries
    )
    print(f"{args.out}: {written} rows, {args.out.stat().st_size / 1e6:.1f} MB ({args.encoding})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

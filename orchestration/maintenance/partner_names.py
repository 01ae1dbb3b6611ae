"""Check the partner-name seeds against a maintained country-name library, and propose rows
for names a download holds that a seed lacks.

    make seeds-check
    .venv-maint/bin/python -m orchestration.maintenance.partner_names check
    .venv-maint/bin/python -m orchestration.maintenance.partner_names propose itc DOWNLOAD_OR_LIST...

The seeds (``dbt_project/seeds/partner_names_<source>.csv``, ``partners.csv``) stay the
reviewed source of truth: this command never writes them. ``check`` verifies what the seeds
say with country_converter (coco), the library made for the names trade statistics use:

- every row is well formed: names unique, a kind of ``KINDS``, a code of ``partners.csv``,
  World alone the total (WORLD), no aggregate sharing a code with a country;
- every English name of kind ``country`` converts to its code (or, where the library finds
  several, they include it: listed for review), and every ISO code that a country or
  territory uses has its English name (``partners.csv``'s name_en) convert to it;
- the names of any other kind (total, aggregate, former, other_territory) were classified by
  hand: they are listed with what the library makes of them, for review, and fail nothing.

``propose`` reads the names of downloads (a Trade Map text export, a GTA or customs CSV, or a
text file with one name a line) and prints, for each name the seed lacks, a candidate row:
the library's code where it finds exactly one that ``partners.csv`` knows (kind country),
else ``?`` for a person to classify. Review, then add the rows to the seed.

country_converter 1.3.2 does not run with pandas 3 (see requirements.txt beside this file),
so ``make seeds-check`` runs this module in a venv of its own (``.venv-maint``, pandas 2).
Nothing here imports the library until a command needs it: the checks of form run (and are
tested) in the project's venv too.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"
SOURCES = ("customs", "gta", "itc")
ENGLISH_SOURCES = ("gta", "itc")
KINDS = ("country", "total", "aggregate", "former", "other_territory")
COLUMNS = ["partner_name", "partner_code", "partner_kind"]

# name -> a code, None (not found) or several codes (ambiguous)
Converter = Callable[[str], "str | list[str] | None"]


def seed_path(source: str) -> Path:
    return SEEDS / f"partner_names_{source}.csv"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_seed(source: str) -> list[dict[str, str]]:
    return read_csv(seed_path(source))


def read_partners() -> list[dict[str, str]]:
    return read_csv(SEEDS / "partners.csv")


def structural_problems(seeds: dict[str, list[dict[str, str]]], partners: list[dict[str, str]]) -> list[str]:
    """What is malformed in the seeds: each a line naming the seed and the row."""
    problems = []
    codes = {p["partner_code"] for p in partners}
    if len(codes) != len(partners):
        problems.append("partners.csv: a code twice")
    kinds_of: dict[str, set[str]] = {}
    for source, rows in seeds.items():
        where = f"partner_names_{source}.csv"
        if rows and list(rows[0]) != COLUMNS:
            problems.append(f"{where}: columns {list(rows[0])}, expected {COLUMNS}")
            continue
        seen: set[str] = set()
        for n, row in enumerate(rows, start=2):
            name, code, kind = row["partner_name"], row["partner_code"], row["partner_kind"]
            at = f'{where} line {n} "{name}"'
            if name in seen:
                problems.append(f"{at}: the name is there twice")
            seen.add(name)
            if name != name.strip() or not name:
                problems.append(f"{at}: spaces around the name")
            if kind not in KINDS:
                problems.append(f"{at}: partner_kind {kind!r} is none of {', '.join(KINDS)}")
            if code not in codes:
                problems.append(f"{at}: code {code!r} is not in partners.csv")
            if (code == "WORLD") != (kind == "total") or (kind == "total" and name != "World"):
                problems.append(f"{at}: only World is the total, with the code WORLD")
            kinds_of.setdefault(code, set()).add(kind)
    for code, kinds in sorted(kinds_of.items()):
        if "aggregate" in kinds and kinds != {"aggregate"}:
            problems.append(f"code {code}: used by an aggregate and by a {'/'.join(sorted(kinds - {'aggregate'}))}")
    return problems


def _as_code(found: str | list[str] | None) -> str | None:
    return found if isinstance(found, str) else None


def library_problems(
    seeds: dict[str, list[dict[str, str]]], partners: list[dict[str, str]], convert: Converter
) -> tuple[list[str], list[str]]:
    """(problems, review): an English country name the library converts to another code (or to
    none), or a partners.csv name_en that does not convert to its code; and, for review, every
    name classified by hand (any other kind) with the library's answer."""
    problems, review = [], []
    for source in ENGLISH_SOURCES:
        for n, row in enumerate(seeds.get(source, []), start=2):
            name, code, kind = row["partner_name"], row["partner_code"], row["partner_kind"]
            found = convert(name)
            at = f'partner_names_{source}.csv line {n} "{name}"'
            if kind == "country":
                if isinstance(found, list) and code in found:
                    # several candidates, the seed's among them (Denmark, except Greenland)
                    review.append(f"{at}: country {code} (the library, ambiguous: {found!r})")
                elif _as_code(found) != code:
                    problems.append(f"{at}: the seed says {code}, the library {found!r}")
            else:
                review.append(f"{at}: {kind} {code} (the library: {found!r})")
    used = {
        row["partner_code"]
        for rows in seeds.values()
        for row in rows
        if row["partner_kind"] in ("country", "other_territory")
    }
    for row in partners:
        code = row["partner_code"]
        if code in used:
            found = convert(row["name_en"])
            if _as_code(found) != code:
                problems.append(f'partners.csv {code} "{row["name_en"]}": the library says {found!r}')
    return problems, review


def download_names(path: Path) -> list[str]:
    """The partner names of a download (Trade Map text export, GTA or customs CSV) or of a
    text file with one name a line."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp950")
    lines = text.splitlines()
    first = lines[0] if lines else ""
    if first.startswith("Exporters\t") or first.startswith("Importers\t"):
        return [row[0] for row in csv.reader(lines[1:], delimiter="\t") if row and row[0]]
    gta_header = ("Partner Country,", '"Partner Country"')
    header = next((i for i, line in enumerate(lines) if line.startswith(gta_header)), None)
    if header is not None:
        return [r["Partner Country"] for r in csv.DictReader(lines[header:]) if r.get("Partner Country")]
    if "國家" in first.split(","):
        return list(dict.fromkeys(r["國家"] for r in csv.DictReader(lines) if r.get("國家")))
    return [line.strip() for line in lines if line.strip()]


def propose(
    source: str, names: Iterable[str], seed: list[dict[str, str]], partners: list[dict[str, str]], convert: Converter
) -> list[list[str]]:
    """Candidate rows for the names the seed lacks: kind country where the library finds one
    code that partners.csv knows, else ``?`` (classify by hand: aggregate, former,
    other_territory, or a country under a code to add to partners.csv)."""
    known = {row["partner_name"] for row in seed}
    codes = {p["partner_code"] for p in partners}
    rows = []
    for name in dict.fromkeys(names):
        if name in known:
            continue
        found = _as_code(convert(name)) if source in ENGLISH_SOURCES else None
        if found in codes:
            rows.append([name, found, "country"])
        else:
            rows.append([name, found or "?", "?"])
    return rows


NOT_FOUND = "\x00not found"


def coco_converter() -> Converter:
    """country_converter's ISO2 for a name (obsolete units included: AN, …)."""
    import country_converter as coco

    logging.getLogger("country_converter").setLevel(logging.ERROR)
    converter = coco.CountryConverter(include_obsolete=True)

    def convert(name: str) -> str | list[str] | None:
        found = converter.convert(name, to="ISO2", not_found=NOT_FOUND)
        return None if found == NOT_FOUND else found

    return convert


def check(convert: Converter | None = None, out=sys.stdout) -> int:
    seeds = {source: read_seed(source) for source in SOURCES}
    partners = read_partners()
    problems = structural_problems(seeds, partners)
    review: list[str] = []
    if not problems:
        more, review = library_problems(seeds, partners, convert or coco_converter())
        problems += more
    for line in review:
        print(f"classified by hand: {line}", file=out)
    rows = sum(len(rows) for rows in seeds.values())
    if problems:
        for line in problems:
            print(f"PROBLEM {line}", file=out)
        print(f"{len(problems)} problem(s) in the partner-name seeds ({rows} names)", file=out)
        return 1
    print(f"partner-name seeds OK: {rows} names, {len(review)} classified by hand", file=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.maintenance.partner_names")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="check every seed row against country_converter")
    proposing = commands.add_parser("propose", help="candidate rows for the names a seed lacks")
    proposing.add_argument("source", choices=SOURCES)
    proposing.add_argument("files", nargs="+", type=Path, help="downloads, or text files of one name a line")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check()
    names = [name for path in args.files for name in download_names(path)]
    rows = propose(args.source, names, read_seed(args.source), read_partners(), coco_converter())
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerows(rows)
    print(f"# {len(rows)} name(s) not in {seed_path(args.source).name}: review, then add them", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One raw folder of the tests' own that moves on, published three times into one folder.

1. The shipped downloads and a later MOEA download (2024-10-31) whose 2024 server production
   is a tenth of the shipped one: Figure 1's growth turns negative. (Later than No. 459's
   cut-off, so the edition-459 test in dbt is unaffected.) The first publication.
2. A later GTA download (2024-11-10): the same file with one value revised, Taiwan's March
   2024. The second publication: its revisions.csv lists the cells that moved.
3. A run for another product, BULLETIN_HS_CODE=847180, into the same publish folder.

Three full pipeline runs (a minute each), made once for test_draft, test_revisions and
test_products: :func:`scenario` runs them on first use and hands the same result to every
later caller.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from .pipeline import PipelineRun, copy_shipped_raw, made_once, run_pipeline

LATER_MOEA = "2024-10-31"
LATER_GTA = "2024-11-10"
SHIPPED_GTA = "2024-10-10"
REVISED_PARTNER, REVISED_COLUMN = "Taiwan", "March 2024"
REVISED_FACTOR = 1.5
PRODUCT = "847180"


@dataclass(frozen=True)
class Snapshot:
    """A publication as it was right after a run: a copy of its files, and their hashes."""

    folder: Path
    version: str
    hashes: dict[str, str]


@dataclass(frozen=True)
class Scenario:
    raw: Path
    first: PipelineRun
    second: PipelineRun
    product: PipelineRun
    first_published: Snapshot  # the default publication after run 1
    second_published: Snapshot  # ... after run 2
    default_after_product: Snapshot  # ... after run 3 (the product's run)
    product_published: Snapshot  # published/847180 after run 3
    gta_before: dict[str, str]  # Taiwan's GTA row before the revision, column -> value

    @property
    def publish_dir(self) -> Path:
        return self.product.publish_dir


def file_hashes(folder: Path) -> dict[str, str]:
    """Every regular file of a folder (links aside) and its SHA-256."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.is_symlink()
    }


def snapshot(published: Path, copy: Path) -> Snapshot:
    version = published.resolve()
    shutil.copytree(version, copy, symlinks=True)
    return Snapshot(copy, version.name, file_hashes(version))


def scale_moea_2024(source: Path, target: Path, product: str = "伺服器", factor: float = 0.1) -> None:
    """A copy of the MOEA workbook with the product's 2024 (民國113年) production value scaled."""
    workbook = openpyxl.load_workbook(source)
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    period, name, value = (header.index(h) for h in ("統計期", "產品名稱", "生產值(千元)"))
    changed = 0
    for row in sheet.iter_rows(min_row=2):
        if str(row[period].value).startswith("113年") and row[name].value == product:
            row[value].value = round(row[value].value * factor)
            changed += 1
    assert changed >= 7, changed
    target.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(target)


def revise_gta(source: Path, target: Path) -> dict[str, str]:
    """A copy of the GTA download with one value revised (Taiwan, March 2024); returns
    Taiwan's row as it was."""
    with source.open(encoding="utf-8-sig", newline="") as f:
        lines = f.read().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("Partner Country,"))
    header = next(csv.reader([lines[at]]))
    column = header.index(REVISED_COLUMN)
    before = {}
    for i in range(at + 1, len(lines)):
        cells = next(csv.reader([lines[i]]))
        if cells and cells[0] == REVISED_PARTNER:
            before = dict(zip(header, cells, strict=True))
            cells[column] = str(round(int(cells[column]) * REVISED_FACTOR))
            ending = lines[i][len(lines[i].rstrip("\r\n")) :]
            lines[i] = ",".join(cells) + ending
            break
    assert before, "no Taiwan row in the GTA download"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as f:
        f.write("".join(lines))
    return before


@contextlib.contextmanager
def env(name: str, value: str) -> Iterator[None]:
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _check(run: PipelineRun, what: str) -> PipelineRun:
    assert run.returncode == 0, f"{what} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The three runs, made once a test session (by whichever worker asks first)."""
    return made_once(tmp_path_factory, "scenario", _make)


def _make(work: Path) -> Scenario:
    raw = copy_shipped_raw(work / "raw")
    shipped_moea = next(raw.glob("moea/*/InquireAdvance*.xlsx"))
    scale_moea_2024(shipped_moea, raw / "moea" / LATER_MOEA / "InquireAdvance.xlsx")
    first = _check(run_pipeline(work, raw), "the first run")
    first_published = snapshot(first.publish_dir, work / "snapshots" / "first")

    shipped_gta = next(raw.glob(f"gta/{SHIPPED_GTA}/GTA_*.csv"))
    gta_before = revise_gta(shipped_gta, raw / "gta" / LATER_GTA / shipped_gta.name)
    second = _check(run_pipeline(work, raw), "the run after the GTA revision")
    second_published = snapshot(second.publish_dir, work / "snapshots" / "second")

    with env("BULLETIN_HS_CODE", PRODUCT):
        product = _check(run_pipeline(work, raw), f"the run for HS {PRODUCT}")
    default_after = snapshot(product.publish_dir, work / "snapshots" / "default-after-product")
    product_published = snapshot(product.publish_dir / PRODUCT, work / "snapshots" / "product")

    return Scenario(
        raw,
        first,
        second,
        product,
        first_published,
        second_published,
        default_after,
        product_published,
        gta_before,
    )

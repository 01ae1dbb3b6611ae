"""Never publish a wrong number in silence: the plausibility gates and the download checks.

Each bad case is a later customs download (2024-11-12: after No. 459's cut-off, so the edition
459 test is unaffected) added to a copy of the shipped raw tree, run against a copy of the
warehouse and publication the shipped data built:

(a) one value typed a thousand times too large (Taiwan's exports of servers to the US, 2024-09);
(b) the query filtered to one country (only the 美國 rows);
(c) a file cut at a line end (the last rows of its last month gone);
(d) a month missing in the middle (2024-05).

Each run fails, its last lines name the culprit file (and line or partner), and the warehouse
file and the published files are byte-identical afterwards. Then (a) with its acceptance in
the accepted_values seed (of a copy of the project: the shared seed stays as it is) publishes,
and the manifest records the acceptance. The shipped data passes: 370 of 370 cells.

Runs: the session's run of the shipped data (copied for each case), one per bad case, one
accepted (tens of seconds each).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from .pipeline import (
    PROJECT_ROOT,
    PipelineRun,
    compare_cells,
    pipeline_env,
    printed_cells,
    run_cli,
    run_pipeline,
)

pytestmark = pytest.mark.slow

SHIPPED_CUSTOMS = "customs/2024-10-14/綜合查詢_20241014093544.csv"  # UTF-8 with a BOM, 2020-01..2024-09
LATER = "2024-11-12"
LATER_FILE = f"customs/{LATER}/綜合查詢_20241112093011.csv"
TYPO_LINE_START = "出口總值(含復出口),113年9月(初步值),847150,"
TYPO_PARTNER = "美國"
ACCEPTED_BY = "Tester (test_plausibility)"

Edit = Callable[[list[str]], list[str]]


def _lines(raw: Path) -> list[str]:
    """The shipped customs file's lines, with their CRLF; the first holds the BOM and header."""
    with (raw / SHIPPED_CUSTOMS).open(encoding="utf-8", newline="") as f:
        return f.read().splitlines(keepends=True)


def write_later_download(raw: Path, edit: Edit) -> Path:
    """The shipped file, edited, as a later download of its own (same encoding and line ends)."""
    target = raw / LATER_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as f:
        f.write("".join(edit(_lines(raw))))
    return target


def _fields(line: str) -> list[str]:
    return next(csv.reader([line.rstrip("\r\n")]))


def typo(lines: list[str]) -> list[str]:
    """Exports of servers to the US, 2024-09, a thousand times too large."""
    out = list(lines)
    at = typo_line_number(lines) - 1
    head, value = out[at].rstrip("\r\n").rsplit(",", 1)
    out[at] = f"{head},{int(value) * 1000}\r\n"
    return out


def typo_line_number(lines: list[str]) -> int:
    return next(
        i + 1
        for i, line in enumerate(lines)
        if line.startswith(TYPO_LINE_START) and _fields(line)[-2] == TYPO_PARTNER
    )


def only_one_country(lines: list[str]) -> list[str]:
    """The query filtered to one country: the header and the 美國 rows."""
    return [lines[0]] + [line for line in lines[1:] if _fields(line)[-2] == TYPO_PARTNER]


CUT_ROWS = 8


def cut_short(lines: list[str]) -> list[str]:
    """Copied while still being written: the file ends at a line end, the last 8 rows (of the
    last block, imports of 847330 in 2024-09, 10 partners) not there yet."""
    return lines[:-CUT_ROWS]


def month_missing(lines: list[str]) -> list[str]:
    """No row for 113年5月 (2024-05) in the middle of 2020-01..2024-09."""
    return [lines[0]] + [line for line in lines[1:] if _fields(line)[1] != "113年5月"]


def file_state(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def publication_state(work: Path) -> dict[str, str]:
    """Every link and file of the publication folders (published, published.d, …) and its
    target or SHA-256."""
    state = {}
    for top in sorted(work.glob("published*")):
        paths = [top] if top.is_symlink() or top.is_file() else [top, *sorted(top.rglob("*"))]
        for path in paths:
            key = str(path.relative_to(work))
            if path.is_symlink():
                state[key] = "-> " + os.readlink(path)
            elif path.is_file():
                state[key] = file_state(path)
    return state


def last_lines(run: PipelineRun, n: int = 40) -> str:
    return "\n".join(run.stderr.strip().splitlines()[-n:])


@pytest.fixture(scope="module")
def shipped(shipped_run: PipelineRun) -> PipelineRun:
    """The shipped downloads, built and published once: the session's shared run."""
    return shipped_run


def copy_of(shipped: PipelineRun, target: Path) -> Path:
    """A copy of the shipped run's folder (raw, warehouse, publication; not its Dagster home)."""
    work = shipped.warehouse.parent.parent
    shutil.copytree(work, target, symlinks=True, ignore=shutil.ignore_patterns("dagster_home"))
    if not (target / "raw").exists():
        shutil.copytree(shipped.raw_dir, target / "raw")
    return target


def bad_run(shipped: PipelineRun, target: Path, edit: Edit) -> PipelineRun:
    """Add the bad download to a copy of the shipped run, run; the run must fail and change nothing."""
    work = copy_of(shipped, target)
    warehouse = work / "warehouse" / "bulletin.duckdb"
    before = (file_state(warehouse), publication_state(work))
    write_later_download(work / "raw", edit)
    run = run_pipeline(work, work / "raw")
    assert run.returncode != 0, f"the run passed:\n{run.stdout[-3000:]}"
    after = (file_state(warehouse), publication_state(work))
    assert after == before, "a failed run changed the warehouse or the publication"
    assert not warehouse.with_name(warehouse.name + ".wal").exists()
    return run


def test_shipped_data_passes_every_gate(shipped):
    assert not compare_cells(shipped.cells(), printed_cells())
    assert len(printed_cells()) == 370
    assert shipped.query("select count(*) from intermediate.int_checks__flags") == [(0,)]
    manifest = json.loads((shipped.publish_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["accepted_values"] == []


@pytest.fixture(scope="module")
def typo_run(shipped, tmp_path_factory) -> PipelineRun:
    return bad_run(shipped, tmp_path_factory.mktemp("plausibility_typo") / "work", typo)


def test_a_value_typed_a_thousand_times_too_large_stops_the_run(typo_run):
    tail = last_lines(typo_run)
    line = typo_line_number(_lines(typo_run.raw_dir))
    checks = ("assert_value_within_its_history", "assert_value_jump_has_precedent", "assert_revision_within_bounds")
    for check in checks:
        assert check in tail, tail
    culprit = f"{LATER_FILE} line {line}: {TYPO_PARTNER}, export 847150, 2024-09: 1,564,991,000 is 939.3 times"
    assert culprit in tail, tail
    assert "the largest of its previous 24 months (1,666,104 in 2024-07" in tail
    # the line that accepts it, once checked
    assert f"customs,{LATER_FILE},export,847150,value,{TYPO_PARTNER},2024-09," in tail


def test_a_query_filtered_to_one_country_stops_the_run(shipped, tmp_path):
    run = bad_run(shipped, tmp_path / "work", only_one_country)
    tail = last_lines(run)
    assert "assert_download_keeps_partners" in tail, tail
    # both downloads, and how many partners each lists
    assert f"customs download {LATER} ({LATER_FILE})" in tail, tail
    assert f"lists 1 partner(s), the earlier download 2024-10-14 ({SHIPPED_CUSTOMS}) listed 10" in tail, tail


def test_a_file_cut_at_a_line_end_stops_the_run(shipped, tmp_path):
    run = bad_run(shipped, tmp_path / "work", cut_short)
    tail = last_lines(run)
    assert "assert_download_not_cut" in tail, tail
    assert (
        f"customs download {LATER} ({LATER_FILE}), import 847330, 2024-09: its last month 2024-09 lists "
        f"{10 - CUT_ROWS} partner(s)"
    ) in tail, tail


def test_a_month_missing_in_the_middle_stops_the_run(shipped, tmp_path):
    run = bad_run(shipped, tmp_path / "work", month_missing)
    tail = last_lines(run)
    assert "assert_download_has_no_gap" in tail, tail
    assert f"customs download {LATER} ({LATER_FILE}), export 847150, 2024-05: has no row for 2024-05" in tail, tail


def project_copy(target: Path) -> Path:
    """The project's code and dbt project (not its data) in a folder of its own, so a test can
    change a seed without touching the shared one."""
    target.mkdir(parents=True)
    ignore = shutil.ignore_patterns("target", "logs", "__pycache__", ".user.yml")
    for name in ("orchestration", "dbt_project"):
        shutil.copytree(PROJECT_ROOT / name, target / name, ignore=ignore)
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_an_accepted_value_is_published_and_recorded(typo_run, tmp_path):
    project = project_copy(tmp_path / "project")
    seed = project / "dbt_project" / "seeds" / "accepted_values.csv"
    with seed.open("a", encoding="utf-8", newline="") as f:
        f.write(
            f"customs,{LATER_FILE},export,847150,value,{TYPO_PARTNER},2024-09,"
            f"checked with the portal: a typo kept on purpose by the test,{ACCEPTED_BY}\n"
        )
    work = typo_run.warehouse.parent.parent
    (work / "dagster_home").mkdir(exist_ok=True)
    env = pipeline_env(work / "raw", typo_run.warehouse, typo_run.publish_dir, work / "dagster_home")
    code, stdout, stderr = run_cli(["run"], project, env, work / "dagster_home" / "logs")
    assert code == 0, f"the accepted run failed:\n{stdout[-3000:]}\n{stderr[-3000:]}"
    manifest = json.loads((typo_run.publish_dir / "manifest.json").read_text(encoding="utf-8"))
    accepted = manifest["accepted_values"]
    assert {a["check_name"] for a in accepted} == {
        "value far above its history",
        "jump the series never showed",
        "revision beyond its bounds",
    }
    line = typo_line_number(_lines(typo_run.raw_dir))
    for entry in accepted:
        assert (entry["source_file"], entry["source_row"], entry["partner_name"], entry["period"]) == (
            LATER_FILE,
            line,
            TYPO_PARTNER,
            "2024-09",
        )
        assert entry["accepted_by"] == ACCEPTED_BY
        assert entry["value"] == 1_564_991_000
    published = typo_run.query(
        "select count(*) from marts.fct_accepted_values where source_file = ?", [LATER_FILE]
    )
    assert published == [(3,)]

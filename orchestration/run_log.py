"""What `python -m orchestration.cli run` prints: a line a step as it ends, dbt's progress,
and the run's end.

The whole event log goes to the Dagster instance (the UI shows it) whatever the terminal shows,
and each step's output to its compute log. The terminal gets Dagster's console logger and
dbt's every line only with ``--verbose`` (:func:`console_config`). Without it,
:class:`StepPrinter` follows the run's events in the instance and prints one line a finished
step, from the step's own events (the ingestion assets' rows and files, the dbt step's models
and tests, the publication's files, a check's result, the step's seconds), and
:class:`ShortenedOutput` passes dbt's lines through :class:`DbtProgress`. The functions that
word the lines are pure and take plain values.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

# Dagster's console logger: every event (as today) with --verbose; without it nothing below
# CRITICAL, as the lines of this module say what happened and the log stays in the instance.
VERBOSE_LEVEL = "DEBUG"
QUIET_LEVEL = "CRITICAL"

# how often the printer reads the run's new events from the instance
POLL_SECONDS = 0.5


def console_config(verbose: bool) -> dict[str, Any]:
    """The run config of Dagster's console logger (the job's default logger, ``console``)."""
    return {"loggers": {"console": {"config": {"log_level": VERBOSE_LEVEL if verbose else QUIET_LEVEL}}}}


def plain(value: Any) -> Any:
    """A metadata value as the plain value it holds (``MetadataValue.value``)."""
    return getattr(value, "value", value)


# --- the words ---------------------------------------------------------------------------


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


@dataclass
class Step:
    """What a step did, from its events: its materializations' metadata, its checks."""

    key: str
    started: float | None = None
    materializations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # (check name, passed, severity "WARN"/"ERROR", the event's own message)
    checks: list[tuple[str, bool, str, str]] = field(default_factory=list)


def describe_materialization(metadata: Mapping[str, Any]) -> str:
    """One materialization in words: rows and files of a download's table, files of a
    publication, rows of a table."""
    rows = metadata.get("dagster/row_count")
    files = metadata.get("files")
    parts = []
    if isinstance(files, Mapping):  # the publication: file -> bytes
        parts.append(_count(len(files), "file"))
        if rows is not None:
            parts.append(_count(rows, "cell"))
        product = metadata.get("product")
        if isinstance(product, Mapping) and product.get("hs_code"):
            parts.append(f"HS {product['hs_code']}")
        return ", ".join(parts)
    if rows is not None:
        text = _count(rows, "row")
        if isinstance(files, Sequence) and not isinstance(files, str):
            text += f" from {_count(len(files), 'file')}"
            downloads, newest = metadata.get("downloads"), metadata.get("latest_download_date")
            if downloads:
                text += f" ({_count(downloads, 'download')}, newest {newest})"
        parts.append(text)
    if metadata.get("latest_period"):
        parts.append(f"latest period {metadata['latest_period']}")
    ignored = metadata.get("ignored_files")
    if ignored:
        parts.append(f"{_count(len(ignored), 'file')} ignored")
    return ", ".join(parts)


def describe_checks(checks: Sequence[tuple[str, bool, str, str]]) -> str:
    """A step's checks: how many passed, warned and failed."""
    warned = sum(1 for _, passed, severity, _ in checks if not passed and severity == "WARN")
    failed = sum(1 for _, passed, severity, _ in checks if not passed and severity != "WARN")
    passed = len(checks) - warned - failed
    counts = [f"{passed:,} passed"] + [f"{n:,} {word}" for n, word in ((warned, "warned"), (failed, "failed")) if n]
    return f"{_count(len(checks), 'check')}: {', '.join(counts)}"


def describe_step(step: Step) -> str:
    """What a step did, in a few words: one materialization as itself, many counted (the dbt
    step: its models and seeds, and its tests as checks), a lone check by its own message."""
    mats, checks = step.materializations, step.checks
    if len(mats) == 1:
        text = describe_materialization(mats[0][1]) or f"materialized {mats[0][0]}"
    elif mats:
        text = f"{_count(len(mats), 'table, view or seed', 'tables, views and seeds')} built"
    elif len(checks) == 1:
        return checks[0][3]
    else:
        text = "done"
    if checks and (mats or len(checks) > 1):
        text += f"; {describe_checks(checks)}"
    return text


def step_line(key: str, seconds: float | None, what: str, status: str = "ok") -> str:
    """One line a finished step: its status, seconds, the step's key and what it did."""
    took = f"{seconds:6.1f}s" if seconds is not None else " " * 7
    return f"{status:<7}{took}  {key}: {what}"


# metadata of a check evaluation that says how it ran, not what it found
_RUN_DETAILS = {"execution duration", "invocation_id", "unique_id", "status"}


def check_line(
    asset: str, name: str, severity: str, found: str | None, description: str | None, metadata: Mapping[str, Any]
) -> str:
    """One line an asset check that warned or failed: its asset and name, and what it found
    (the evaluation's own description), else what it checks and the metadata values short
    enough for a line."""
    text = f"check {'warned' if severity == 'WARN' else 'FAILED'}: {asset} {name}"
    if found:
        return f"{text}: {' '.join(found.split())}"
    if description:
        text += f": {' '.join(description.split())}"
    shown = []
    for key, value in metadata.items():
        value = plain(value)
        if key.split("/")[-1].lower() in _RUN_DETAILS:
            continue
        if isinstance(value, bool | int | float) or (isinstance(value, str) and 0 < len(value) <= 60):
            shown.append(f"{key.split('/')[-1]}={value}")
    if shown:
        text += f" [{', '.join(shown)}]"
    return text


def publication_lines(metadata: Mapping[str, Any], manifest_name: str) -> list[str]:
    """Where the files are, from the publish asset's metadata: the folder, the manifest."""
    path = plain(metadata.get("path"))
    if not path:
        return []
    product = plain(metadata.get("product")) or {}
    what = f"HS {product['hs_code']} " if isinstance(product, Mapping) and product.get("hs_code") else ""
    lines = [f"published {what}at {path} (version {plain(metadata.get('version'))})"]
    lines.append(f"  manifest: {Path(path) / manifest_name}")
    sources = plain(metadata.get("sources")) or {}
    if sources:
        lines.append(
            "  sources: "
            + ", ".join(
                f"{name} {s.get('latest_period')} (downloaded {s.get('download_date')})" for name, s in sources.items()
            )
        )
    left_out = plain(metadata.get("exhibits_left_out")) or {}
    revised = plain(metadata.get("revised_cells"))
    tail = [f"revised cells: {revised}"] if revised is not None else []
    if left_out:
        tail.append("left out: " + ", ".join(left_out))
    if tail:
        lines.append("  " + "; ".join(tail))
    return lines


# --- dbt's lines --------------------------------------------------------------------------

# dbt's lines that say nothing a person needs (dagster-dbt prints every line dbt logs): the
# preamble, a node's start, the compiled SQL's path, blank lines. dbt's own switches cannot
# leave them out (--quiet, --log-level warn): dagster-dbt reads each node's result from the
# info-level lines dbt logs, and would see no model built.
_DBT_NOISE = re.compile(
    r"^(Running with dbt=|Registered adapter|Unable to do partial parsing|Concurrency:|"
    r"Finished running |Completed successfully|\s*compiled code at |\s*$)"
)
_DBT_RESULT = re.compile(r"^(\d+) of (\d+) (\S+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# dbt's progress: a line at each of these fractions of its nodes done
PROGRESS_STEPS = 4


class DbtProgress:
    """dbt's lines, shortened: a node that passed or was skipped is counted, not printed (a
    line at each quarter of the nodes done); a warning, error or failure is printed as dbt
    words it, and so are its summary at the end and any line it does not know; the preamble,
    the nodes' starts and blank lines are left out."""

    def __init__(self, steps: int = PROGRESS_STEPS, clock: Callable[[], float] = time.monotonic):
        self.steps, self.clock = steps, clock
        self.started = clock()
        self.done = self.shown = 0

    def lines(self, line: str) -> list[str]:
        """What to print for one of dbt's lines (none, or one)."""
        line = _ANSI.sub("", line.rstrip())
        if line.startswith("Running with dbt="):  # a dbt command begins
            self.started, self.done, self.shown = self.clock(), 0, 0
        if _DBT_NOISE.match(line):
            return []
        result = _DBT_RESULT.match(line)
        if not result:
            return [f"  dbt  {line}"]
        total, status = int(result.group(2)), result.group(3)
        if status == "START":
            return []
        self.done += 1
        if status not in ("OK", "PASS", "SKIP", "NO-OP"):
            return [f"  dbt  {line}"]
        reached = self.done * self.steps // max(total, 1)
        if self.shown < reached < self.steps:
            self.shown = reached
            seconds = self.clock() - self.started
            return [f"  dbt  {self.done} of {total} done ({self.done * 100 // total}%), {seconds:.0f}s"]
        return []


class ShortenedOutput:
    """While the run goes on, what is written to the standard output (file descriptor 1:
    dbt's lines, which dagster-dbt prints) reaches the terminal through ``shorten``.

    Descriptor 1 becomes a pipe that a thread reads, line by line. Dagster's capture of a
    step's output (the compute log the UI shows) takes descriptor 1 as it finds it, so the
    compute log keeps every line and its copy to the terminal is what comes through here.
    """

    def __init__(self, terminal: Terminal, shorten: Callable[[str], list[str]]):
        self.terminal, self.shorten = terminal, shorten
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ShortenedOutput:
        sys.stdout.flush()
        self._saved = os.dup(1)
        read, write = os.pipe()
        os.dup2(write, 1)
        os.close(write)
        self._thread = threading.Thread(target=self._pump, args=(read,), name="dbt-lines", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()
        os.dup2(self._saved, 1)  # closes this process's end of the pipe
        os.close(self._saved)
        if self._thread is not None:
            self._thread.join(timeout=10)  # a child still holding the pipe: stop waiting

    def _pump(self, read: int) -> None:
        with open(read, "rb") as pipe:
            for raw in pipe:
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                try:
                    shown = self.shorten(line)
                except Exception:  # noqa: BLE001 - a line it cannot read is shown as it is
                    shown = [line]
                for text in shown:
                    self.terminal.write(text)


# --- following a run ---------------------------------------------------------------------


# how Dagster logs a step it does not run because one before it failed
_NOT_EXECUTING = re.compile(r"^Dependencies for step (\S+) (?:failed|were not executed)\b.*Not executing\.$", re.S)


class StepPrinter:
    """Prints a line a step as it ends, reading the run's events from the instance.

    A thread reads the events every :data:`POLL_SECONDS` while the run goes on (the run itself
    runs in this process: ``execute_in_process``); :meth:`stop` reads the last ones, so every
    step's line is printed before the run's end is. ``warnings``: also a line a warning or error
    a step logged (when Dagster's console logger does not print them).
    """

    def __init__(self, instance: dg.DagsterInstance, run_id: str, write: Callable[[str], None], warnings: bool):
        self.instance, self.run_id, self.write, self.warnings = instance, run_id, write, warnings
        self.steps: dict[str, Step] = {}
        self._cursor: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._follow, name="step-printer", daemon=True)

    def __enter__(self) -> StepPrinter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.read()

    def _follow(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.read()
            except Exception:  # noqa: BLE001 - the storage busy for a moment: read again next time
                continue

    def read(self) -> None:
        with self._lock:
            while True:
                connection = self.instance.get_records_for_run(self.run_id, cursor=self._cursor)
                for record in connection.records:
                    self.handle(record.event_log_entry)
                self._cursor = connection.cursor
                if not connection.has_more:
                    return

    def handle(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            skipped = _NOT_EXECUTING.match(entry.user_message or "")
            if skipped:  # the step's line, not Dagster's words
                self.write(step_line(skipped.group(1), None, "not run (a step before it failed)", status="skipped"))
            elif self.warnings and entry.level >= logging.WARNING and entry.user_message:
                word = "warning" if entry.level < logging.ERROR else "error"
                self.write(f"{word}: {entry.step_key or 'run'}: {entry.user_message}")
            return
        key = event.step_key
        if key is None:
            return
        step = self.steps.setdefault(key, Step(key))
        if event.is_step_start:
            step.started = entry.timestamp
        elif event.is_step_materialization:
            materialization = event.step_materialization_data.materialization
            metadata = {k: plain(v) for k, v in materialization.metadata.items()}
            step.materializations.append((materialization.asset_key.to_user_string(), metadata))
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            step.checks.append(
                (evaluation.check_name, evaluation.passed, evaluation.severity.value, event.message or "")
            )
        elif event.is_step_success:
            seconds = event.step_success_data.duration_ms / 1000
            self.write(step_line(key, seconds, describe_step(step)))
        elif event.is_step_failure:
            seconds = entry.timestamp - step.started if step.started else None
            self.write(step_line(key, seconds, "failed (why: at the end)", status="FAILED"))
        elif event.is_step_skipped:
            self.write(step_line(key, None, "not run (a step before it failed)", status="skipped"))


class Terminal:
    """Whole lines to this process's standard output as it was when the run began.

    While the run goes on, Dagster captures the standard output (file descriptor 1) into the
    run's compute log, and mirrors it to the terminal a moment later; these lines go to the
    terminal directly, through a copy of the descriptor taken before the run.
    """

    def __init__(self, stream: Any = None):
        stream = stream or sys.stdout
        stream.flush()
        self._lock = threading.Lock()
        try:
            self._out = open(os.dup(stream.fileno()), "w", encoding="utf-8", errors="replace")  # noqa: SIM115
            self._owned = True
        except (AttributeError, OSError, ValueError):
            self._out, self._owned = stream, False

    def write(self, line: str) -> None:
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def close(self) -> None:
        if self._owned:
            self._out.close()


def check_descriptions(definitions: Iterable[Any]) -> dict[dg.AssetCheckKey, str]:
    """Each asset check's description, from the definitions' check specs."""
    found = {}
    for definition in definitions:
        for spec in getattr(definition, "check_specs", None) or []:
            if spec.description:
                found[spec.key] = spec.description
    return found

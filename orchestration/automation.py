"""When the refresh runs by itself: a monthly schedule, and a sensor for new download folders.

Schedule: the 15th of every month, 09:00 Asia/Taipei. By then every source has released the
month the bulletin adds: customs publishes the previous month's trade around the 7th-9th (the
first figure marked 初步值, preliminary); the US Census Bureau releases US trade about five
weeks after the month ends, early in the month after next, and Global Trade Atlas loads it
within days; MOEA's production survey for the month before last comes out around the 23rd-25th;
ITC Trade Map's annual figures are updated through the year. No. 459 was cut off on
2024-10-14 from downloads of 09-30 to 10-14, so the 15th is the day after the last of them.

Sensor: a run for every new download folder, ``<BULLETIN_RAW_DIR>/<source>/<YYYY-MM-DD>/``.
Its cursor is the list of folders already seen. The first evaluation records the folders that
are there and starts nothing (they are what the last refresh read). A folder counts once it
has a file and nothing in it changed for ``SETTLE_SECONDS`` (a download still being copied
is left for the next evaluation); folders that settle in the same evaluation start one run
together, since a run reads every download anyway.

Fetch schedule: ``monthly_fetch``, the 15th of every month at 08:00 Asia/Taipei, an hour before
the refresh: the fetch job asks the APIs that can be asked (US Census Bureau, UN Comtrade) and
writes what is new as download folders, which the sensor then picks up (and the refresh at
09:00 reads). A fetch that fails or finds nothing new changes nothing; the refresh runs anyway.

Both are on by default (``make dev`` starts the daemon that runs them). Their runs queue
behind each other (orchestration/dagster.yaml allows one run at a time) and the warehouse
lock keeps them from writing at the same time as a `make run`.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import dagster as dg

from .runs import fail_dead_runs
from .settings import SOURCES, raw_dir

JOB_NAME = "refresh_bulletin"
TIMEZONE = "Asia/Taipei"
CRON = "0 9 15 * *"
# A folder whose newest file changed less than this long ago may still be being copied.
SETTLE_SECONDS = float(os.environ.get("BULLETIN_SENSOR_SETTLE_SECONDS", "60"))
DATE_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def monthly_schedule(
    name: str, job_name: str, cron: str, run_key_prefix: str, description: str
) -> dg.ScheduleDefinition:
    """A schedule of ``job_name`` once a month at ``cron`` (Taipei time), on by default; its run
    keyed by month (``<run_key_prefix>-YYYY-MM``), so a month's tick never starts two runs."""

    @dg.schedule(
        name=name,
        job_name=job_name,
        cron_schedule=cron,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=description,
    )
    def _monthly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        scheduled = context.scheduled_execution_time
        month = scheduled.strftime("%Y-%m") if scheduled else "unscheduled"
        return dg.RunRequest(
            run_key=f"{run_key_prefix}-{month}",
            tags={"bulletin/trigger": "schedule", "bulletin/month": month},
        )

    return _monthly


monthly_refresh = monthly_schedule(
    "monthly_refresh",
    JOB_NAME,
    CRON,
    "monthly",
    "Refresh the bulletin on the 15th of each month, 09:00 Taipei time: after customs (~7th-9th), "
    "the US Census/GTA (~5th-8th) and MOEA (~23rd-25th of the month before) have released.",
)

FETCH_JOB_NAME = "fetch_downloads"
FETCH_CRON = "0 8 15 * *"

monthly_fetch = monthly_schedule(
    "monthly_fetch",
    FETCH_JOB_NAME,
    FETCH_CRON,
    "fetch",
    "Fetch from the APIs (US Census Bureau, UN Comtrade) on the 15th of each month, 08:00 Taipei time, "
    "an hour before the monthly refresh; what is new lands as download folders the sensor picks up.",
)


def download_folders(root: Path) -> dict[str, float]:
    """Every ``<source>/<YYYY-MM-DD>`` folder under ``root`` with a file: its newest mtime."""
    found: dict[str, float] = {}
    for source in SOURCES:
        base = root / source
        if not base.is_dir():
            continue
        for folder in base.iterdir():
            if not (folder.is_dir() and DATE_FOLDER.match(folder.name)):
                continue
            files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
            mtimes = [p.stat().st_mtime for p in files]
            if mtimes:
                found[f"{source}/{folder.name}"] = max(mtimes + [folder.stat().st_mtime])
    return found


def _seen(cursor: str | None) -> list[str] | None:
    if not cursor:
        return None
    return list(json.loads(cursor).get("folders", []))


def _cursor(folders: list[str]) -> str:
    return json.dumps({"folders": sorted(folders)}, ensure_ascii=False)


@dg.sensor(
    name="new_download_sensor",
    job_name=JOB_NAME,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Start a refresh when a new download folder (<source>/<YYYY-MM-DD>/) appears under "
        "BULLETIN_RAW_DIR; the folders there at its first evaluation are recorded, not run."
    ),
)
def new_download_sensor(context: dg.SensorEvaluationContext):
    # Once a minute: a run whose process died would hold the one-at-a-time queue for ever.
    for run_id in fail_dead_runs(context.instance):
        context.log.warning(f"run {run_id} had died (its process is gone): marked failed")
    root = raw_dir()
    present = download_folders(root)
    seen = _seen(context.cursor)
    if seen is None:
        context.update_cursor(_cursor(list(present)))
        return dg.SkipReason(f"recorded {len(present)} download folder(s) already under {root}")
    now = time.time()
    new = sorted(f for f in present if f not in seen)
    settled = [f for f in new if now - present[f] >= SETTLE_SECONDS]
    waiting = [f for f in new if f not in settled]
    # Folders removed since are forgotten, so one put back later counts as new.
    context.update_cursor(_cursor([f for f in seen if f in present] + settled))
    if not settled:
        if waiting:
            return dg.SkipReason(f"still being written: {', '.join(waiting)}")
        return dg.SkipReason(f"no new download folder under {root}")
    return dg.RunRequest(
        # Keyed by folder and time, so a folder removed and put back again runs again.
        run_key="downloads:" + ",".join(f"{f}@{int(present[f])}" for f in settled),
        tags={"bulletin/trigger": "new-download", "bulletin/downloads": ",".join(settled)[:4000]},
    )

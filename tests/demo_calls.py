"""The demo generator's calls exports, for tests that land a late, moved or corrected contact: read them,
copy a call under another id with its times moved by whole days, and write an export of such rows."""

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

STAMP = "%Y-%m-%d %H:%M:%S"
TIMES = ("Queue Start", "Answer Time", "End Time")


def read_calls(landing: Path) -> list[dict[str, str]]:
    """Every row of the calls exports under `landing`, file by file."""
    rows = []
    for path in sorted((landing / "contact_centre").glob("calls_*.csv")):
        with path.open(newline="") as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def queued(row: dict[str, str]) -> datetime:
    return datetime.strptime(row["Queue Start"], STAMP)


def moved_call(row: dict[str, str], call_id: str, days: int) -> dict[str, str]:
    """`row` as the call `call_id`, its queue, answer and end times `days` later (an empty one stays empty)."""
    moved = dict(row, **{"Call ID": call_id})
    for column in TIMES:
        if row[column]:
            moved[column] = (datetime.strptime(row[column], STAMP) + timedelta(days=days)).strftime(STAMP)
    return moved


def moved_to(row: dict[str, str], call_id: str, day: date) -> dict[str, str]:
    """`row` as the call `call_id`, queued on `day` at the same time of day."""
    return moved_call(row, call_id, (day - queued(row).date()).days)


def write_calls(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

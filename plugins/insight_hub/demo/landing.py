"""Land generated demo exports as a history plus the days after it, for incremental runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

DAY_FILE = re.compile(r"^(?P<stem>.+)_(?P<day>\d{4}-\d{2}-\d{2})(?P<ext>\.[a-z.]+)$")


def land_history_and_last_day(
    generated: Path, history: Path, last_day: Path, *, merge: bool = False, days: int = 1
) -> None:
    """Copy the exports under `generated` to `history`, except the files of the last `days` calendar days,
    which go to `last_day` (same relative path). The last day is the newest day every dated feed has a file
    for: a feed that trails the others (survey responses come up to a day or two after their contact) has
    files dated after it, and those are not landed at all, as they would arrive on later days. So the
    last day brings every feed's records of that day, and moves the hub's as-of date as a real day does.
    With `merge`, a feed's history files become one `<stem>_history<ext>` (a CSV header kept once), so a
    large history loads as one batch per entity. Undated files (reference lists such as agents.csv) go to
    `history` as they are."""
    for folder in (history, last_day):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    feeds: dict[tuple[Path, str, str], list[tuple[str, Path]]] = {}
    for path in sorted(generated.rglob("*")):
        if not path.is_file() or "_ground_truth" in path.parts:
            continue
        rel = path.relative_to(generated)
        match = DAY_FILE.match(path.name)
        if match is None:
            _copy(path, history / rel)
        else:
            feeds.setdefault((rel.parent, match["stem"], match["ext"]), []).append((match["day"], path))
    if not feeds:
        return
    last = min(max(day for day, _ in files) for files in feeds.values())
    landed_days = sorted({day for files in feeds.values() for day, _ in files if day <= last})
    first_new = landed_days[max(0, len(landed_days) - days)]  # more days asked than there are: all of them
    for (folder, stem, ext), files in feeds.items():
        files.sort()
        older = [f for f in files if f[0] < first_new]
        newest = [f for f in files if first_new <= f[0] <= last]
        for _, path in newest:
            _copy(path, last_day / folder / path.name)
        if not merge:
            for _, path in older:
                _copy(path, history / folder / path.name)
            continue
        (history / folder).mkdir(parents=True, exist_ok=True)
        with (history / folder / f"{stem}_history{ext}").open("wb") as out:
            for i, (_, path) in enumerate(older):
                with path.open("rb") as fh:
                    if ext == ".csv" and i > 0:
                        fh.readline()  # the header, kept once
                    shutil.copyfileobj(fh, out)


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)

"""Benchmark results: each invocation appends one run, stamped with when and on what machine, to
bench/results/<name>.json. Earlier runs are kept; ratios are only ever taken within one run."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def append_run(name: str, run: dict, directory: Path = RESULTS_DIR) -> Path:
    out_file = directory / f"{name}.json"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    history = json.loads(out_file.read_text()) if out_file.exists() else {"runs": []}
    history.setdefault("runs", []).append(
        {
            "measured_at": datetime.now().isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            **run,
        }
    )
    out_file.write_text(json.dumps(history, indent=2))
    return out_file

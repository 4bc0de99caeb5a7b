"""DAG parse benchmark: how long Airflow takes to parse the product's DAG files.

    make bench-parse            # 5 parses, each in a fresh interpreter

Each parse is what the DAG processor does for the dags/ folder: a DagBag over it, in a new Python process
with Airflow already imported (as the processor has it), so the figure is the DAG files' own cost:
importing the product's modules, reading the sources file and rendering the transform's cosmos task group
from the dbt manifest. The target is under 2 s for all files. Results go to bench/results/parse.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from results_file import append_run

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 2.0

PARSE = r"""
import json, time
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=%(dags)r)
seconds = time.perf_counter() - started
print(json.dumps({
    "seconds": seconds,
    "errors": len(bag.import_errors),
    "dags": len(bag.dags),
    "tasks": sum(len(d.tasks) for d in bag.dags.values()),
    "files": {Path(k).name: v for k, v in ((s.file, s.duration.total_seconds()) for s in bag.dagbag_stats)},
}))
"""


def parse_once(home: Path) -> dict:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "INSIGHT_HUB_HOME": str(home / "hub"),
    }
    script = "from pathlib import Path\n" + PARSE % {"dags": str(ROOT / "dags")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"parsing dags/ failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [parse_once(Path(tmp)) for _ in range(args.repeat)]
    if any(r["errors"] for r in runs):
        sys.exit("the DAG files did not parse cleanly; run `make test` (tests/e2e/test_dag_integrity.py)")
    seconds = [r["seconds"] for r in runs]
    median = statistics.median(seconds)
    print(f"{runs[0]['dags']} DAGs, {runs[0]['tasks']} tasks; parse of dags/ over {args.repeat} runs:")
    print(
        f"  median {median:.2f} s, min {min(seconds):.2f} s, max {max(seconds):.2f} s (target < {TARGET_SECONDS} s)"
    )
    for name in runs[0]["files"]:
        print(f"  {name:<20}{statistics.median(r['files'][name] for r in runs):.2f} s")
    out_file = append_run(
        "parse",
        {
            "dags": runs[0]["dags"],
            "tasks": runs[0]["tasks"],
            "median_seconds": round(median, 3),
            "min_seconds": round(min(seconds), 3),
            "max_seconds": round(max(seconds), 3),
            "target_seconds": TARGET_SECONDS,
            "median_per_file_seconds": {
                name: round(statistics.median(r["files"][name] for r in runs), 3) for name in runs[0]["files"]
            },
        },
    )
    print(f"written to {out_file}")


if __name__ == "__main__":
    main()

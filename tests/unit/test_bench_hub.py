"""The hub benchmark's reading of a dbt build: each node's time from the result events dbt logs as JSON
(the transform DAG's flags), and the critical path, the chain of nodes the build waited on, from those
times and dbt's build graph."""

import json
import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from hub import critical_path, dbt_build_command, node_results  # noqa: E402


def _event(name: str, unique_id: str, start: str, end: str, execution_time: float) -> str:
    """One JSON log line as dbt 1.11 writes a node's result."""
    return json.dumps(
        {
            "data": {
                "execution_time": execution_time,
                "node_info": {
                    "unique_id": unique_id,
                    "node_started_at": start,
                    "node_finished_at": end,
                    "node_status": "success",
                },
                "status": "SELECT 3",
            },
            "info": {"name": name, "level": "info", "msg": f"OK {unique_id}"},
        }
    )


def test_node_times_come_from_the_result_events():
    stdout = "\n".join(
        [
            json.dumps({"data": {"stat_line": "x"}, "info": {"name": "StatsLine", "msg": "Found 3 models"}}),
            _event(
                "LogModelResult", "model.fct", "2026-12-05T04:00:01.500000", "2026-12-05T04:00:04.000000", 2.4
            ),
            "a line that is not JSON",
            _event(
                "LogTestResult",
                "test.unique_fct",
                "2026-12-05T04:00:04.100000",
                "2026-12-05T04:00:04.300000",
                0.2,
            ),
            # A node starting is logged with node_info but no result: not counted.
            json.dumps(
                {
                    "data": {
                        "node_info": {
                            "unique_id": "model.mart",
                            "node_started_at": "2026-12-05T04:00:04.4",
                            "node_finished_at": "",
                        }
                    },
                    "info": {"name": "LogStartLine"},
                }
            ),  # fmt: skip
        ]
    )
    nodes, spans = node_results(stdout)
    assert nodes == [("model.fct", 2.4), ("test.unique_fct", 0.2)]
    assert round(spans["test.unique_fct"][0] - spans["model.fct"][0], 3) == 2.6
    assert round(spans["model.fct"][1] - spans["model.fct"][0], 3) == 2.5
    assert "model.mart" not in spans


def test_the_build_runs_with_the_transform_dags_flags(tmp_path):
    from insight_hub.orchestration.cosmos_config import dbt_task_group_kwargs

    command = dbt_build_command(tmp_path, "--full-refresh")
    # The flags the DAG's dbt build is given, and the JSON log events cosmos' producer reads.
    dag_flags = dbt_task_group_kwargs()["operator_args"]["dbt_cmd_flags"]
    assert "--no-write-json" in dag_flags
    assert command[2 : 5 + len(dag_flags)] == ["build", "--log-format", "json", *dag_flags]


def _write_graph(target, edges: dict[str, list[str]]) -> None:
    names = sorted({n for s in edges.values() for n in s} | set(edges))
    index = {name: i for i, name in enumerate(names)}
    graph = {str(index[n]): {"name": n, "succ": [index[s] for s in edges.get(n, [])]} for n in names}
    (target / "graph_summary.json").write_text(json.dumps({"linked": graph, "with_test_edges": graph}))


def test_the_chain_follows_the_predecessor_that_finished_last(tmp_path):
    # Two staging models; the slow one's test gates the fact, which waits 0.4 s for a thread; the fact
    # feeds the mart. A side branch (the dimension) ends before the mart and is not on the chain.
    _write_graph(
        tmp_path,
        {
            "model.stg_a": ["test.unique_stg_a"],
            "test.unique_stg_a": ["model.fct"],
            "model.stg_b": ["model.fct", "model.dim"],
            "model.fct": ["model.mart"],
            "model.dim": ["model.mart"],
        },
    )
    spans = {
        "model.stg_a": (100.0, 102.0),
        "model.stg_b": (100.0, 101.0),
        "test.unique_stg_a": (102.0, 102.1),
        "model.fct": (102.5, 104.0),
        "model.dim": (101.0, 103.0),
        "model.mart": (104.0, 106.5),
    }
    chain = critical_path(tmp_path, spans)
    assert [node for node, _, _ in chain] == ["model.stg_a", "test.unique_stg_a", "model.fct", "model.mart"]
    assert [(round(start, 3), round(end, 3)) for _, start, end in chain] == [
        (0.0, 2.0),
        (2.0, 2.1),
        (2.5, 4.0),
        (4.0, 6.5),
    ]


def test_a_node_that_did_not_run_is_not_on_the_chain(tmp_path):
    # The source has no result (dbt does not run sources); the chain starts at the first node that ran.
    _write_graph(tmp_path, {"source.raw": ["model.stg"], "model.stg": ["model.fct"]})
    spans = {"model.stg": (0.5, 1.5), "model.fct": (1.5, 3.0)}
    assert [node for node, _, _ in critical_path(tmp_path, spans)] == ["model.stg", "model.fct"]


def test_the_on_run_end_hook_does_not_end_the_chain(tmp_path):
    # The project's on-run-end hook (an operation) has a result after every node, and dbt's graph lists
    # it without edges: the chain ends at the last other node, not at the hook alone.
    _write_graph(tmp_path, {"model.stg": ["model.fct"], "operation.insight_hub.insight_hub-on-run-end-0": []})
    spans = {
        "model.stg": (0.5, 1.5),
        "model.fct": (1.5, 3.0),
        "operation.insight_hub.insight_hub-on-run-end-0": (3.0, 3.2),
    }
    assert [node for node, _, _ in critical_path(tmp_path, spans)] == ["model.stg", "model.fct"]

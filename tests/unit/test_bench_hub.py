"""The hub benchmark's critical path: the chain of nodes a dbt build waited on, read from run_results.json
and dbt's build graph."""

import json
import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from hub import critical_path  # noqa: E402


def _result(unique_id: str, start: float, end: float) -> dict:
    def stamp(second: float) -> str:
        return f"2026-06-16T02:00:{second:06.3f}Z"

    return {
        "unique_id": unique_id,
        "timing": [
            {"name": "compile", "started_at": stamp(start), "completed_at": stamp(start)},
            {"name": "execute", "started_at": stamp(start), "completed_at": stamp(end)},
        ],
    }


def _write_build(target, results: list[dict], edges: dict[str, list[str]]) -> None:
    names = sorted({r["unique_id"] for r in results} | {n for s in edges.values() for n in s} | set(edges))
    index = {name: i for i, name in enumerate(names)}
    graph = {str(index[n]): {"name": n, "succ": [index[s] for s in edges.get(n, [])]} for n in names}
    (target / "run_results.json").write_text(json.dumps({"results": results}))
    (target / "graph_summary.json").write_text(json.dumps({"linked": graph, "with_test_edges": graph}))


def test_the_chain_follows_the_predecessor_that_finished_last(tmp_path):
    # Two staging models; the slow one's test gates the fact, which waits 0.4 s for a thread; the fact
    # feeds the mart. A side branch (the dimension) ends before the mart and is not on the chain.
    _write_build(
        tmp_path,
        [
            _result("model.stg_a", 0.0, 2.0),
            _result("model.stg_b", 0.0, 1.0),
            _result("test.unique_stg_a", 2.0, 2.1),
            _result("model.fct", 2.5, 4.0),
            _result("model.dim", 1.0, 3.0),
            _result("model.mart", 4.0, 6.5),
        ],
        {
            "model.stg_a": ["test.unique_stg_a"],
            "test.unique_stg_a": ["model.fct"],
            "model.stg_b": ["model.fct", "model.dim"],
            "model.fct": ["model.mart"],
            "model.dim": ["model.mart"],
        },
    )
    chain = critical_path(tmp_path)
    assert [node for node, _, _ in chain] == ["model.stg_a", "test.unique_stg_a", "model.fct", "model.mart"]
    assert [(round(start, 3), round(end, 3)) for _, start, end in chain] == [
        (0.0, 2.0),
        (2.0, 2.1),
        (2.5, 4.0),
        (4.0, 6.5),
    ]


def test_a_node_that_did_not_run_is_not_on_the_chain(tmp_path):
    # The source has no result (dbt does not run sources); the chain starts at the first node that ran.
    _write_build(
        tmp_path,
        [_result("model.stg", 0.5, 1.5), _result("model.fct", 1.5, 3.0)],
        {"source.raw": ["model.stg"], "model.stg": ["model.fct"]},
    )
    assert [node for node, _, _ in critical_path(tmp_path)] == ["model.stg", "model.fct"]

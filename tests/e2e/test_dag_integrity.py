"""Every DAG imports cleanly, and importing them touches no database or network."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

# Runs in a fresh interpreter: sockets are refused, so a DAG file that connects to anything at import fails.
PARSE_SCRIPT = r"""
import json, socket, time
def refuse(*args, **kwargs):
    raise RuntimeError("network access while parsing DAGs")
socket.socket.connect = refuse
socket.create_connection = refuse
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=%(dags)r)
elapsed = time.perf_counter() - started
print(json.dumps({
    "errors": {k: str(v)[-500:] for k, v in bag.import_errors.items()},
    "dags": {d.dag_id: {"tasks": sorted(t.task_id for t in d.tasks),
                        "outlets": sorted(a.name for t in d.tasks for a in getattr(t, "outlets", []))}
             for d in bag.dags.values()},
    "seconds": elapsed,
}))
"""


def _parse(tmp_path):
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(tmp_path / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db",
            "INSIGHT_HUB_HOME": str(tmp_path / "home"),
            "WAREHOUSE_URL": "",
        }
    )
    out = subprocess.run(
        [sys.executable, "-c", PARSE_SCRIPT % {"dags": str(ROOT / "dags")}],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_dags_import_without_errors_or_io(tmp_path):
    result = _parse(tmp_path)
    assert result["errors"] == {}
    assert set(result["dags"]) == {
        "source_contact_centre",
        "source_crm",
        "source_survey",
        "source_sales",
        "transform",
        "insight",
    }
    # Stage, validate and publish are tasks of their own per entity; only publish updates the Asset; the
    # source's freshness is checked after them.
    assert result["dags"]["source_crm"]["tasks"] == ["check_freshness"] + [
        f"{step}_{entity}"
        for step in ("publish", "stage", "validate")
        for entity in ("account", "contact", "owner")
    ]
    assert result["dags"]["source_crm"]["outlets"] == ["raw.account", "raw.contact", "raw.owner"]
    # cosmos rendered one `dbt build` of the whole project (the watcher producer), and from the manifest a
    # task per model and snapshot reporting what that build did to it (`<model>.run` beside its tests'
    # `<model>.test`, or `<model>_run` for a model without tests). A test that reads two models is among
    # the tests of each, not a task of its own.
    transform_tasks = result["dags"]["transform"]["tasks"]
    manifest = json.loads((ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert {
        t.removeprefix("hub.").removesuffix(".run").removesuffix("_run")
        for t in transform_tasks
        if t.endswith((".run", "_run"))
    } == models
    assert {"hub.dbt_producer_watcher", "hub.dbt_producer_watcher_done"} < set(transform_tasks)
    assert "hub.dim_customer_history.snapshot" in transform_tasks
    assert "hub.customer_health_history.snapshot" in transform_tasks
    assert {"prepare_warehouse", "sync_actions", "marts_published"} < set(transform_tasks)
    assert {"hub.fct_order_line.test", "hub.fct_order.test"} < set(transform_tasks)
    assert not [t for t in transform_tasks if t.startswith("hub.relationships_")]
    assert result["dags"]["transform"]["outlets"] == ["marts"]
    assert result["dags"]["insight"] == {"tasks": ["deliver_extracts"], "outlets": []}
    # Parsing started no embedded warehouse.
    assert not (tmp_path / "home" / "pg").exists()


def test_every_contract_entity_has_a_source_dag_task(tmp_path):
    from insight_hub.contracts import all_contracts
    from insight_hub.orchestration.assets import SOURCES

    assert {e for entities in SOURCES.values() for e in entities} == {c.entity for c in all_contracts()}
    for contract in all_contracts():
        assert contract.entity in SOURCES[contract.source]

"""What BI users read is documented: every mart and each of its columns has a description, a declared
type and an enforced contract (so the declared columns are exactly the built ones)."""

import json

import pytest

from insight_hub.orchestration.cosmos_config import MANIFEST_PATH


@pytest.fixture(scope="module")
def marts():
    manifest = json.loads(MANIFEST_PATH.read_text())  # written by `dbt parse` before every `make test`
    nodes = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["fqn"][1] == "marts"
    ]
    assert len(nodes) >= 15
    return nodes


def test_every_mart_is_described_and_under_an_enforced_contract(marts):
    assert [m["name"] for m in marts if not m["description"].strip()] == []
    assert [m["name"] for m in marts if not m["config"]["contract"]["enforced"]] == []


def test_every_mart_column_is_described_and_typed(marts):
    missing = [
        f"{m['name']}.{name}"
        for m in marts
        for name, column in m["columns"].items()
        if not column.get("description", "").strip() or not column.get("data_type")
    ]
    assert missing == []
    assert all(len(m["columns"]) >= 3 for m in marts)

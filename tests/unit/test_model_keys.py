"""Every stored model's grain is checked once: by a unique index, which PostgreSQL enforces on every
write (a build that would store a duplicate fails, naming the key), or, where there is none, by a
uniqueness data test. A data test on a key a unique index already enforces could never fail, and would
only lengthen every build."""

import json

import pytest

from insight_hub.orchestration.cosmos_config import MANIFEST_PATH

UNIQUENESS_TESTS = {"unique", "unique_combination"}

# Tables whose rows have no key of their own: a log of changes, and a working set of keys.
KEYLESS = {"int_identity_guest_changes", "int_identity_unmatched_keys"}


@pytest.fixture(scope="module")
def manifest():
    return json.loads(MANIFEST_PATH.read_text())  # written by `dbt parse` before every `make test`


def unique_indexes(model: dict) -> list[tuple[str, ...]]:
    return [tuple(index["columns"]) for index in model["config"].get("indexes") or [] if index.get("unique")]


def uniqueness_test_keys(manifest: dict) -> dict[str, list[tuple[str, ...]]]:
    """Model unique id -> the column sets its uniqueness data tests check."""
    keys: dict[str, list[tuple[str, ...]]] = {}
    for node in manifest["nodes"].values():
        metadata = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or metadata.get("name") not in UNIQUENESS_TESTS:
            continue
        kwargs = metadata["kwargs"]
        columns = (kwargs["column_name"],) if "column_name" in kwargs else tuple(kwargs["columns"])
        keys.setdefault(node["attached_node"], []).append(columns)
    return keys


def stored_models(manifest: dict) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] in ("table", "incremental")
    ]


def test_no_uniqueness_test_repeats_a_unique_index(manifest):
    keys = uniqueness_test_keys(manifest)
    repeated = [
        f"{model['name']}{columns}"
        for model in stored_models(manifest)
        for columns in keys.get(model["unique_id"], [])
        if columns in unique_indexes(model)
    ]
    assert repeated == []


def test_every_stored_model_has_its_grain_checked(manifest):
    keys = uniqueness_test_keys(manifest)
    unchecked = {
        model["name"]
        for model in stored_models(manifest)
        if not unique_indexes(model) and not keys.get(model["unique_id"])
    }
    assert unchecked == KEYLESS


def test_a_delete_insert_key_with_a_unique_index_is_that_index(manifest):
    """Where a delete+insert model has a unique index, it is on the model's unique_key: the rows a build
    deletes first are exactly those its new rows would collide with."""
    mismatched = []
    for model in stored_models(manifest):
        key = model["config"].get("unique_key")
        if model["config"].get("incremental_strategy") != "delete+insert" or not unique_indexes(model):
            continue
        key = (key,) if isinstance(key, str) else tuple(key)
        if key not in unique_indexes(model):
            mismatched.append(model["name"])
    assert mismatched == []

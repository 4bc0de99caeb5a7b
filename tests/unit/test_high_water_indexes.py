"""Every point an incremental model resumes from is read through an index.

An incremental build first reads the newest value its table already holds (`high_water`, `newest_value`
in macros/incremental.sql): max(loaded_at) or max(built_at), sometimes among the rows of one kind
(`previous.record_type = 'order'`). With an index led by the kind's column and then the value's,
PostgreSQL answers with one probe of the index's end; without one it reads the whole table (0.3-1.3 s
per read on the hub benchmark's tables of millions of rows, several per daily build). An index on the
value alone is not enough where a kind is chosen: the newest rows of the other kinds are walked first,
which was a whole table's worth when one kind was loaded after the other."""

import json
import re

import pytest

from insight_hub.orchestration.cosmos_config import MANIFEST_PATH

# high_water('column') or high_water('column', "previous.kind_column = '...'")
HIGH_WATER = re.compile(r"""high_water\(\s*'(\w+)'\s*(?:,\s*"previous\.(\w+)\s*=[^"]*")?\s*\)""")
NEWEST_OF_THIS = re.compile(r"""newest_value\(\s*this\s*,\s*'(\w+)'\s*\)""")
# Macros that read a high-water mark of the model calling them, and the column they read.
MACROS_READING = {
    "latest_by_key": "loaded_at",
    "days_rebuilt": "built_at",
    "resolved_differently": "built_at",
    "event_signals_rebuilt": "built_at",
    "fact_days_built_since_last_build": "built_at",
    "period_days_rebuilt": "built_at",
    "owner_days_rebuilt": "built_at",
}


# Daily and period aggregates of a few rows per day: read whole in milliseconds, an index would not help.
SMALL = {"sales_daily", "survey_daily", "int_charter_measures"}


@pytest.fixture(scope="module")
def manifest():
    return json.loads(MANIFEST_PATH.read_text())  # written by `dbt parse` before every `make test`


def code_of(model: dict) -> str:
    """The model's SQL and its hooks' (where a pre-hook may read its high-water mark)."""
    hooks = model["config"].get("pre-hook", []) + model["config"].get("post-hook", [])
    return "\n".join([model["raw_code"], *(hook["sql"] for hook in hooks)])


def marks_read(model: dict) -> set[tuple[str, ...]]:
    """The high-water marks a model reads, each as the index columns that serve it: (kind column,
    value column) or (value column,)."""
    code = code_of(model)
    marks = {(kind, column) if kind else (column,) for column, kind in HIGH_WATER.findall(code)}
    marks |= {(column,) for column in NEWEST_OF_THIS.findall(code)}
    marks |= {(column,) for macro, column in MACROS_READING.items() if re.search(rf"\b{macro}\(", code)}
    return marks


def test_every_high_water_mark_has_an_index(manifest):
    incremental = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "incremental"
        and node["name"] not in SMALL
    ]
    unserved = [
        f"{model['name']}{mark}"
        for model in incremental
        for mark in sorted(marks_read(model))
        if not any(
            tuple(index["columns"][: len(mark)]) == mark for index in model["config"].get("indexes") or []
        )
    ]
    assert unserved == []


def test_the_marks_are_found(manifest):
    """The patterns above still match how the models call the macros."""
    models = {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    assert marks_read(models["int_identity_records"]) == {("record_type", "loaded_at")}
    assert marks_read(models["fct_order"]) == {("loaded_at",), ("lines_loaded_at",), ("built_at",)}
    assert ("built_at",) in marks_read(models["contact_centre_daily"])
    assert ("loaded_at",) in marks_read(models["stg_contact_centre__interactions"])
    assert ("built_at",) in marks_read(models["int_event_signals"])

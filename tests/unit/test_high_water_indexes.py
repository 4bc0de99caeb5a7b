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
# newest_value(this, 'column') or newest_value(this, 'column', where='previous.kind_column = ...')
NEWEST_OF_THIS = re.compile(
    r"""newest_value\(\s*this\s*,\s*'(\w+)'\s*(?:\)|,\s*where='previous\.(\w+)\s*=)"""
)
# A macro that writes the query itself, on one line: select coalesce(max(built_at), ...) ... from {{ this }}
MAX_OF_THIS = re.compile(r"max\((\w+)\)[^\n]*?from \{\{ this \}\}")
CALL = re.compile(r"\b(\w+)\(")


# Daily and period aggregates of a few rows per day: read whole in milliseconds, an index would not help.
SMALL = {"sales_daily", "survey_daily", "int_charter_measures"}
# Marks read once per build from tables of a few hundred thousand narrow rows: 17-26 ms each, read whole, on
# the hub benchmark's warehouse (200,156 customers, 572,454 CRM keys); an index would cost more to keep.
# int_customer_lifetime's as-of date is read among its newest build's rows (30,734 on the benchmark's day),
# found through its built_at index.
SMALL_MARKS = {
    ("int_customer_lifetime", ("built_at", "window_end_date")),
    ("int_identity_crm_keys", ("account_loaded_at",)),
    ("int_identity_crm_keys", ("contact_loaded_at",)),
}


@pytest.fixture(scope="module")
def manifest():
    return json.loads(MANIFEST_PATH.read_text())  # written by `dbt parse` before every `make test`


@pytest.fixture(scope="module")
def models(manifest) -> dict[str, dict]:
    """The project's models by name."""
    return {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}


def code_of(model: dict) -> str:
    """The model's SQL and its hooks' (where a pre-hook may read its high-water mark)."""
    hooks = model["config"].get("pre-hook", []) + model["config"].get("post-hook", [])
    return "\n".join([model["raw_code"], *(hook["sql"] for hook in hooks)])


def marks_in(code: str) -> set[tuple[str, ...]]:
    """The high-water marks `code` reads itself, each as the index columns that serve it: (kind column,
    value column) or (value column,)."""
    marks = {(kind, column) if kind else (column,) for column, kind in HIGH_WATER.findall(code)}
    marks |= {(kind, column) if kind else (column,) for column, kind in NEWEST_OF_THIS.findall(code)}
    marks |= {(column,) for column in MAX_OF_THIS.findall(code)}
    return marks


@pytest.fixture(scope="module")
def macro_marks(manifest) -> dict[str, set[tuple[str, ...]]]:
    """For each of the project's macros, the marks of the model calling it that it reads, directly or
    through the project's macros it calls (high_water and newest_value themselves excepted: their
    calls are read where they are made)."""
    macros = {
        macro["name"]: macro["macro_sql"]
        for macro in manifest["macros"].values()
        if macro["package_name"] == "insight_hub" and macro["name"] not in ("high_water", "newest_value")
    }
    marks = {name: marks_in(code) for name, code in macros.items()}
    changed = True
    while changed:
        changed = False
        for name, code in macros.items():
            for called in set(CALL.findall(code)) & marks.keys() - {name}:
                if not marks[called] <= marks[name]:
                    marks[name] |= marks[called]
                    changed = True
    return marks


def marks_read(model: dict, macro_marks: dict[str, set[tuple[str, ...]]]) -> set[tuple[str, ...]]:
    """The high-water marks a model reads, in its own SQL and hooks and through the macros they call."""
    code = code_of(model)
    marks = marks_in(code)
    for called in set(CALL.findall(code)) & macro_marks.keys():
        marks |= macro_marks[called]
    return marks


def test_every_high_water_mark_has_an_index(manifest, macro_marks):
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
        for mark in sorted(marks_read(model, macro_marks))
        if (model["name"], mark) not in SMALL_MARKS
        if not any(
            tuple(index["columns"][: len(mark)]) == mark for index in model["config"].get("indexes") or []
        )
    ]
    assert unserved == []


def test_the_marks_are_found(models, macro_marks):
    """The patterns above still match how the models and macros read their marks."""

    def read(name):
        return marks_read(models[name], macro_marks)

    assert read("int_identity_records") == {("record_type", "loaded_at")}
    assert read("fct_order") == {("loaded_at",), ("lines_loaded_at",), ("built_at",)}
    assert ("built_at",) in read("contact_centre_daily")  # days_rebuilt
    assert ("loaded_at",) in read("stg_contact_centre__interactions")  # latest_by_key
    assert ("built_at",) in read("int_event_signals")  # event_signals_rebuilt, in a pre-hook
    assert ("built_at",) in read("int_identity_unmatched_keys")  # unmatched_records_rebuilt, in a pre-hook
    assert ("built_at",) in read("manager_kpis")  # owner_periods_rebuilt: max(built_at) from {{ this }}
    assert ("built_at", "window_end_date") in read("int_customer_lifetime")  # window_ends
    assert {("account_loaded_at",), ("contact_loaded_at",)} <= read("int_identity_crm_keys")


def test_every_one_column_delete_key_has_an_index(models):
    """A delete+insert model with a one-column unique key finds the stored rows its new rows replace by
    `key = any(array(...))` (postgres__get_delete_insert_merge_sql in macros/incremental.sql). Through an
    index on the key that is a probe per key; without one, every stored row would be compared with every
    key of the array in turn."""
    one_column_keys = {
        node["name"]: key if isinstance(key, str) else key[0]
        for node in models.values()
        if node["config"]["materialized"] == "incremental"
        and node["config"].get("incremental_strategy") == "delete+insert"
        for key in [node["config"].get("unique_key")]
        if isinstance(key, str) or (isinstance(key, list) and len(key) == 1)
    }
    unindexed = [
        f"{name}({key})"
        for name, key in sorted(one_column_keys.items())
        if not any(index["columns"][0] == key for index in models[name]["config"].get("indexes") or [])
    ]
    assert len(one_column_keys) >= 16  # 16 models today: a manifest read wrongly finds none and passes
    assert unindexed == []

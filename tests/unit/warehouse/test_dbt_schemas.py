"""The schemas set up before dbt runs are exactly those the dbt project builds into, with the read grants
the access policy gives (the transform's parallel dbt runs never create a schema or grant USAGE)."""

import json

from insight_hub.orchestration.cosmos_config import MANIFEST_PATH
from insight_hub.warehouse.access import DBT_SCHEMAS


def test_every_schema_the_project_builds_into_is_set_up_before_dbt_runs():
    manifest = json.loads(MANIFEST_PATH.read_text())  # written by `dbt parse` before every `make test`
    built = {n["schema"] for n in manifest["nodes"].values() if n["resource_type"] in ("model", "snapshot")}
    assert built == set(DBT_SCHEMAS)


def test_bi_readers_use_marts_only_and_pii_readers_also_marts_pii():
    users = {schema for schema, roles in DBT_SCHEMAS.items() if "bi_reader" in roles}
    pii_users = {schema for schema, roles in DBT_SCHEMAS.items() if "pii_reader" in roles}
    assert users == {"marts"} and pii_users == {"marts", "marts_pii"}

"""Incremental tables written by an earlier version of their model, found before dbt tries to update them.

An incremental model's SQL reads its own table (`{{ this }}`) and may read a column that a newer version
of the model added; dbt then fails on the old table with a bare database error, and the cure is a full
refresh of that model. Before a build, each incremental model whose columns are declared is compared
with its table: a declared column missing from it (or, for a model with an enforced contract, any
difference) means the table is from before. Such a table is dropped, so the build creates it in full, as
`dbt build --full-refresh --select <model>` would. A model kept through full refreshes
(`full_refresh: false`, such as the guest id registry) holds what cannot be rebuilt: it is never dropped,
and the build stops with what to do instead.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)


class OutdatedTableKept(RuntimeError):
    """A table kept through full refreshes does not have the columns its model declares."""


@dataclass(frozen=True)
class IncrementalModel:
    name: str
    schema: str
    table: str
    columns: frozenset[str]
    contract_enforced: bool
    kept_through_full_refresh: bool

    def outdated_by(self, existing: set[str]) -> str | None:
        """Why a table with `existing` columns is from an earlier version of the model; None if it is not."""
        missing = sorted(self.columns - existing)
        if missing:
            return f"no column {', '.join(missing)}"
        extra = sorted(existing - self.columns)
        if self.contract_enforced and extra:
            return f"column {', '.join(extra)} no longer in the model's contract"
        return None


def incremental_models(manifest: dict) -> list[IncrementalModel]:
    """The incremental models of a dbt manifest that declare their columns."""
    out = []
    for node in manifest["nodes"].values():
        config = node.get("config", {})
        if node["resource_type"] != "model" or config.get("materialized") != "incremental":
            continue
        if not node.get("columns"):
            continue
        out.append(
            IncrementalModel(
                name=node["name"],
                schema=node["schema"],
                table=node.get("alias") or node["name"],
                columns=frozenset(node["columns"]),
                contract_enforced=bool(config.get("contract", {}).get("enforced")),
                kept_through_full_refresh=config.get("full_refresh") is False,
            )
        )
    return out


def drop_outdated_incremental_tables(conn: psycopg.Connection, manifest_path: Path) -> list[str]:
    """Drop each incremental table an earlier version of its model wrote; returns `schema.table` of each.
    Raises OutdatedTableKept, naming the table and the command to run, for a model kept through full
    refreshes. Without a manifest (dbt has not parsed the project yet) there is nothing to compare."""
    if not manifest_path.exists():
        return []
    models = incremental_models(json.loads(manifest_path.read_text()))
    dropped = []
    for model in models:
        rows = conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            (model.schema, model.table),
        ).fetchall()
        if not rows:
            continue  # not built yet: dbt creates it in full
        reason = model.outdated_by({r[0] for r in rows})
        if reason is None:
            continue
        where = f"{model.schema}.{model.table}"
        if model.kept_through_full_refresh:
            raise OutdatedTableKept(
                f"{where} predates its model ({reason}) and is kept through full refreshes, so it is not "
                f"rebuilt: add the column(s) to it with ALTER TABLE, then build again"
            )
        # Views built on it go too; the build recreates them with everything else.
        conn.execute(
            sql.SQL("drop table {}.{} cascade").format(
                sql.Identifier(model.schema), sql.Identifier(model.table)
            )
        )
        log.warning("%s predates its model (%s): dropped, so this build creates it in full", where, reason)
        dropped.append(where)
    return dropped

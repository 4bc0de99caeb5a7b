"""Who sees what in the manager extracts: the team leads' queues, from a YAML file the business edits.

Relationship owners and the head of service are scoped by the CRM alone (their role and the accounts
they own); only a team lead's queues are not in the CRM, so they come from INSIGHT_HUB_EXTRACTS and are
published to ops.owner_queue before every transform, where marts.manager_kpis reads them.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from pydantic import BaseModel, ConfigDict

from insight_hub.contracts import ContractError, load_yaml_model


class ExtractScopes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    team_lead_queues: dict[str, tuple[str, ...]] = {}

    def pairs(self) -> list[tuple[str, str]]:
        return sorted({(owner, queue) for owner, queues in self.team_lead_queues.items() for queue in queues})


def load_scopes(path: Path) -> ExtractScopes:
    scopes = load_yaml_model(path, ExtractScopes)
    assert isinstance(scopes, ExtractScopes)
    return scopes


def publish_scopes(conn: psycopg.Connection, path: Path) -> int:
    """Replace ops.owner_queue with the file's team-lead queues in one transaction; returns the pairs."""
    try:
        pairs = load_scopes(path).pairs()
    except ContractError as exc:
        raise ContractError(f"extract scopes: {exc}") from exc
    with conn.transaction():
        conn.execute("delete from ops.owner_queue")
        with conn.cursor() as cur:
            cur.executemany("insert into ops.owner_queue (owner_id, queue) values (%s, %s)", pairs)
    return len(pairs)

"""The customer charter: promises to customers, each a KPI with a target, published for dbt to measure.

The charter is a YAML file the business edits (INSIGHT_HUB_CHARTER); `marts.charter_compliance`
reports each promise per week and month. A malformed charter fails with the file and field named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import psycopg
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from insight_hub.contracts import ContractError, load_yaml_model

# The measures int_charter_measures computes; a promise may name any of them.
KPIS = (
    "service_level_pct",
    "abandonment_rate_pct",
    "asa_seconds",
    "aht_seconds",
    "fcr_rate_pct",
    "repeat_contact_rate_pct",
    "complaint_rate_pct",
    "csat_pct",
    "nps",
    "ces",
    "on_time_rate_pct",
)
CHANNEL_KPIS = set(KPIS) - {"on_time_rate_pct"}


class Scope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Literal["phone", "chat", "email", "social"] | None = None


class Promise(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    promise: str
    kpi: Literal[KPIS]  # type: ignore[valid-type]
    scope: Scope = Scope()
    target: float
    direction: Literal["at_least", "at_most"]

    @model_validator(mode="after")
    def _scope_fits_kpi(self) -> Promise:
        if self.scope.channel and self.kpi not in CHANNEL_KPIS:
            raise ValueError(f"{self.kpi} is not measured per channel; remove scope.channel")
        return self


# The signals insight actions are raised for (insight/actions.py); the charter says how fast each is followed up.
ACTION_TYPES = ("detractor", "complaint", "repeat_contact", "charter_broken", "health_drop", "emerging_theme")


class Charter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    promises: tuple[Promise, ...]
    # Days within which each kind of insight action is due after its signal.
    follow_up_days: dict[Literal[ACTION_TYPES], int] = {}  # type: ignore[valid-type]

    @field_validator("follow_up_days")
    @classmethod
    def _days_positive(cls, value: dict[str, int]) -> dict[str, int]:
        late = sorted(k for k, days in value.items() if days < 1)
        if late:
            raise ValueError(f"follow-up days must be at least 1: {', '.join(late)}")
        return value

    @model_validator(mode="after")
    def _ids_unique(self) -> Charter:
        ids = [p.id for p in self.promises]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"promise ids repeat: {', '.join(repeated)}")
        return self


def load_charter(path: Path) -> Charter:
    charter = load_yaml_model(path, Charter)
    assert isinstance(charter, Charter)
    return charter


def publish_charter(conn: psycopg.Connection, path: Path) -> int:
    """Replace ops.charter_promise with the charter at `path` in one transaction; returns the promise count."""
    try:
        charter = load_charter(path)
    except ContractError as exc:
        raise ContractError(f"charter: {exc}") from exc
    with conn.transaction():
        conn.execute("delete from ops.charter_promise")
        with conn.cursor() as cur:
            cur.executemany(
                """insert into ops.charter_promise (promise_id, promise, kpi, channel, target, direction)
                   values (%s, %s, %s, %s, %s, %s)""",
                [(p.id, p.promise, p.kpi, p.scope.channel, p.target, p.direction) for p in charter.promises],
            )
    return len(charter.promises)

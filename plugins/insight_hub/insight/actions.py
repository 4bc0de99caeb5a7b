"""Owned insight actions: every complaint, detractor, repeat contact, broken promise, slipping valuable
customer and emerging theme becomes an action with an owner and a due date, reported until it is closed.

The rules are a YAML file the business edits (INSIGHT_HUB_ACTIONS); the due dates come from the
charter's `follow_up_days`. Both are published to ops before every transform. dbt turns them into the
current signals (intermediate.int_action_signals); `sync_actions` then, in one transaction:

1. raises an action for every active signal not seen before (ops.insight_action, keyed by the signal,
   so a rerun raises nothing twice);
2. applies what the CRM wrote back (ops.action_writeback);
3. closes the open actions whose signal has cleared.

Owners close their actions with `insight-hub actions close ID --note ...` (`close_action`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psycopg
from pydantic import BaseModel, ConfigDict, Field, model_validator

from insight_hub.charter import ACTION_TYPES, load_charter
from insight_hub.contracts import ContractError, load_yaml_model

# A kind of action the charter gives no follow-up time for is due in this many days.
DEFAULT_DUE_DAYS = 7
# The function that owns customer actions of customers without a relationship owner.
SERVICE = "service"


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    within_days: int | None = Field(default=None, ge=1)
    min_value_to_date: float | None = Field(default=None, ge=0)
    owner_by_promise: dict[str, str] = {}


class ActionRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    functions: dict[str, str] = Field(min_length=1)
    rules: dict[Literal[ACTION_TYPES], Rule]  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _owners_known(self) -> ActionRules:
        if SERVICE not in self.functions:
            raise ValueError(f"functions: name the lead of '{SERVICE}' (owner of customers without one)")
        named = {r.owner for r in self.rules.values()} | {
            f for r in self.rules.values() for f in r.owner_by_promise.values()
        }
        unknown = sorted(named - set(self.functions) - {"account_owner", "theme_owner"})
        if unknown:
            raise ValueError(f"owner names a function not in functions: {', '.join(unknown)}")
        if "repeat_contact" in self.rules and self.rules["repeat_contact"].within_days is None:
            raise ValueError("rules.repeat_contact: within_days is required")
        if "health_drop" in self.rules and self.rules["health_drop"].min_value_to_date is None:
            raise ValueError("rules.health_drop: min_value_to_date is required")
        return self


def load_rules(path: Path) -> ActionRules:
    rules = load_yaml_model(path, ActionRules)
    assert isinstance(rules, ActionRules)
    return rules


def publish_rules(conn: psycopg.Connection, actions_path: Path, charter_path: Path) -> int:
    """Replace ops.action_rule and ops.function_lead from the rules file and the charter's follow-up days,
    in one transaction; returns the number of rules."""
    try:
        rules = load_rules(actions_path)
    except ContractError as exc:
        raise ContractError(f"actions: {exc}") from exc
    follow_up = load_charter(charter_path).follow_up_days
    with conn.transaction():
        conn.execute("delete from ops.action_rule")
        conn.execute("delete from ops.function_lead")
        with conn.cursor() as cur:
            cur.executemany(
                "insert into ops.action_rule (action_type, owner_rule, due_within_days, params) values (%s, %s, %s, %s)",
                [
                    (
                        kind,
                        rule.owner,
                        follow_up.get(kind, DEFAULT_DUE_DAYS),
                        json.dumps(rule.model_dump(exclude={"owner"}, exclude_none=True)),
                    )
                    for kind, rule in rules.rules.items()
                ],
            )
            cur.executemany(
                "insert into ops.function_lead (function_name, owner_id) values (%s, %s)",
                sorted(rules.functions.items()),
            )
    return len(rules.rules)


@dataclass(frozen=True)
class SyncResult:
    raised: int
    written_back: int
    writeback_problems: int
    cleared: int


# Raise an action for each active signal not raised before; the key makes this idempotent.
_RAISE = """
insert into ops.insight_action (
    action_key, action_type, customer_id, theme_id, promise_id, evidence, owner_id, signal_at, due_at
)
select action_key, action_type, customer_id, theme_id, promise_id, evidence, owner_id, signal_at, due_at
from intermediate.int_action_signals
where is_active
order by signal_at, action_key
on conflict (action_key) do nothing
"""

# Close every open action whose signal is no longer active.
_CLEAR = """
update ops.insight_action as a
set status = 'closed', closed_at = now(), closed_by = 'signal_cleared', close_note = s.cleared_because
from intermediate.int_action_signals as s
where s.action_key = a.action_key and not s.is_active and a.status = 'open'
"""


def apply_writebacks(conn: psycopg.Connection) -> tuple[int, int]:
    """Apply every pending ops.action_writeback row; returns (applied, with a problem). Must run in a
    transaction. A row is never dropped: one that cannot be applied keeps its reason."""
    conn.execute(
        """
        update ops.action_writeback as w
        set problem = case
            when w.action_id is null then 'no action_id'
            when a.action_id is null then 'no action ' || w.action_id
            when lower(coalesce(w.status, '')) not in ('done', 'closed') then
                'status ' || coalesce('''' || w.status || '''', 'missing') || ' is not done or closed'
            when a.status = 'closed' then 'action ' || w.action_id || ' was already closed'
        end
        from ops.action_writeback as p
        left join ops.insight_action as a on p.action_id = a.action_id
        where w.writeback_id = p.writeback_id and w.applied_at is null
        """
    )
    closed = conn.execute(
        """
        with pending as (
            select distinct on (action_id) writeback_id, action_id, note, written_by, written_at
            from ops.action_writeback
            where applied_at is null and problem is null
            order by action_id, written_at, writeback_id
        )
        update ops.insight_action as a
        set status = 'closed', closed_at = p.written_at, closed_by = 'crm',
            close_note = concat_ws(': ', p.written_by, p.note)
        from pending as p
        where a.action_id = p.action_id and a.status = 'open'
        """
    ).rowcount
    problems = conn.execute(
        "select count(*) from ops.action_writeback where applied_at is null and problem is not null"
    ).fetchone()[0]
    conn.execute("update ops.action_writeback set applied_at = now() where applied_at is null")
    return closed, problems


def sync_actions(conn: psycopg.Connection) -> SyncResult:
    """Raise new actions, apply the CRM's write-back and close cleared actions, in one transaction.
    Serialised by an advisory lock, so two syncs at once raise nothing twice."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('insight_hub.sync_actions'))")
        raised = conn.execute(_RAISE).rowcount
        written_back, problems = apply_writebacks(conn)
        cleared = conn.execute(_CLEAR).rowcount
    return SyncResult(raised, written_back, problems, cleared)


class ActionError(Exception):
    """An action that cannot be closed as asked: the message says why."""


def close_action(conn: psycopg.Connection, action_id: int, note: str, closed_by: str = "owner") -> None:
    """Close one open action with the owner's note."""
    with conn.transaction():
        row = conn.execute(
            "select status from ops.insight_action where action_id = %s for update", (action_id,)
        ).fetchone()
        if row is None:
            raise ActionError(f"there is no action {action_id}")
        if row[0] == "closed":
            raise ActionError(f"action {action_id} is already closed")
        conn.execute(
            """update ops.insight_action
               set status = 'closed', closed_at = now(), closed_by = %s, close_note = %s
               where action_id = %s""",
            (closed_by, note, action_id),
        )


def import_writeback(conn: psycopg.Connection, path: Path) -> tuple[int, int, int]:
    """Copy a CRM write-back CSV (columns action_id, status, note and optionally written_by) into
    ops.action_writeback and apply it; returns (rows, applied, with a problem). Rows whose action_id is
    not a number are kept with the line named in their problem."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"action_id", "status"} - set(reader.fieldnames or ())
        if missing:
            raise ActionError(f"{path}: the header lacks {', '.join(sorted(missing))}")
        rows = []
        for record in reader:
            raw_id = (record.get("action_id") or "").strip()
            action_id = int(raw_id) if raw_id.isdigit() else None
            problem = (
                None
                if action_id is not None
                else f"line {reader.line_num}: action_id {raw_id!r} is not a number"
            )
            rows.append(
                (action_id, record.get("status"), record.get("note"), record.get("written_by"), problem)
            )
    with conn.transaction():
        with conn.cursor() as cur:
            cur.executemany(
                """insert into ops.action_writeback (action_id, status, note, written_by, problem, applied_at)
                   values (%s, %s, %s, %s, %s, case when %s::text is null then null else now() end)""",
                [(*r, r[4]) for r in rows],
            )
        applied, problems = apply_writebacks(conn)
    invalid = sum(1 for r in rows if r[4] is not None)
    return len(rows), applied, problems + invalid


def open_actions(conn: psycopg.Connection, owner_id: str | None = None) -> list[tuple]:
    """Open actions, soonest due first: id, type, customer, theme or promise, evidence, owner, due."""
    return conn.execute(
        """select action_id, action_type, customer_id, coalesce(theme_id, promise_id), evidence, owner_id,
                  due_at::date
           from ops.insight_action
           where status = 'open' and (%(owner)s::text is null or owner_id = %(owner)s)
           order by due_at, action_id""",
        {"owner": owner_id},
    ).fetchall()

"""Turn a mapping's column spec into SQL over the staged text columns.

Each contract column becomes one text expression (the value as the contract
type's input syntax) and a list of checks, each yielding a reason when a row's
value cannot be read. The typed table casts the expression; rows with any
reason go to quarantine. Everything here is composed with psycopg.sql, so
export column names and mapping values are always quoted, never spliced.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from psycopg import sql

from insight_hub.contracts import Column
from insight_hub.sources.registry import ColumnMap
from insight_hub.warehouse.schema import PG_TYPES

# ISO text the typed step casts back with the mapping's time zone in force.
ISO_TIMESTAMP = "YYYY-MM-DD HH24:MI:SS.US"


@dataclass
class ColumnSQL:
    value: sql.Composable
    checks: list[sql.Composable] = field(default_factory=list)


def _blank_to_null(expr: sql.Composable) -> sql.Composable:
    return sql.SQL("nullif(btrim({}), '')").format(expr)


def _reason(condition: sql.Composable, message: str) -> sql.Composable:
    return sql.SQL("case when {} then {} end").format(condition, sql.Literal(message))


def _origin(spec: ColumnMap) -> sql.Composable:
    if spec.value is not None:
        return sql.Literal(spec.value)
    if spec.source is not None:
        return _blank_to_null(sql.Identifier(spec.source))
    # A template is null when any column it names is blank: "{Date} {Time}" with no time is no timestamp.
    parts: list[sql.Composable] = []
    names = spec.template_columns()
    for literal, name, _, _ in string.Formatter().parse(spec.template or ""):
        if literal:
            parts.append(sql.Literal(literal))
        if name:
            parts.append(_blank_to_null(sql.Identifier(name)))
    any_blank = sql.SQL(" or ").join(
        sql.SQL("{} is null").format(_blank_to_null(sql.Identifier(n))) for n in names
    )
    return sql.SQL("(case when {} then null else concat({}) end)").format(
        any_blank, sql.SQL(", ").join(parts)
    )


def column_expression(spec: ColumnMap, column: Column) -> ColumnSQL:
    """SQL text expression and checks for one mapped contract column."""
    value = _origin(spec)
    checks: list[sql.Composable] = []
    raw = value
    if spec.lower:
        value = sql.SQL("lower({})").format(value)
    if spec.values:
        whens = sql.SQL(" ").join(
            sql.SQL("when {} then {}").format(sql.Literal(k), sql.Literal(v)) for k, v in spec.values.items()
        )
        value = sql.SQL("(case {} {} else {} end)").format(value, whens, value)
    if spec.decimal_comma:
        value = sql.SQL("replace(replace({}, '.', ''), ',', '.')").format(value)
    if spec.duration:
        valid = sql.SQL("pg_input_is_valid({}, 'interval')").format(raw)
        checks.append(
            _reason(sql.SQL("{} is not null and not {}").format(raw, valid), f"{column.name}: not a duration")
        )
        value = sql.SQL("(case when {} then extract(epoch from {}::interval)::bigint::text end)").format(
            valid, raw
        )
    if spec.format:
        parser = "ops.try_date" if column.type == "date" else "ops.try_timestamp"
        parsed = sql.SQL("{}({}, {})").format(sql.SQL(parser), value, sql.Literal(spec.format))
        checks.append(
            _reason(
                sql.SQL("{} is not null and {} is null").format(value, parsed),
                f"{column.name}: does not match {spec.format}",
            )
        )
        value = sql.SQL("to_char({}, {})").format(parsed, sql.Literal(ISO_TIMESTAMP))
    if spec.plus_seconds:
        seconds = _blank_to_null(sql.Identifier(spec.plus_seconds))
        seconds_ok = sql.SQL("pg_input_is_valid({}, 'numeric')").format(seconds)
        base_ok = sql.SQL("pg_input_is_valid({}, 'timestamp')").format(value)
        checks.append(
            _reason(
                sql.SQL("{} is not null and not {}").format(seconds, seconds_ok),
                f"{column.name}: {spec.plus_seconds} is not a number of seconds",
            )
        )
        value = sql.SQL(
            "(case when {s} is not null and {sok} and {bok} "
            "then to_char({v}::timestamp + {s}::numeric * interval '1 second', {iso}) end)"
        ).format(s=seconds, sok=seconds_ok, bok=base_ok, v=value, iso=sql.Literal(ISO_TIMESTAMP))
    if spec.only_if:
        value = sql.SQL("(case when btrim({}) = {} then {} end)").format(
            sql.Identifier(spec.only_if.column), sql.Literal(spec.only_if.equals), value
        )
    return ColumnSQL(value, checks)


# A date or timestamp must be written the ISO 8601 way (YYYY-MM-DD first; a mapping's `format` turns
# other layouts into it). PostgreSQL would also read 03/04/2026 (as 4 March or 3 April, depending on a
# server setting) and words such as "now" or "epoch": none of that is a safe guess for a contact's time.
# The fifth character is enough to tell, and costs almost nothing per value.
NOT_ISO = "{}: not an ISO 8601 date (YYYY-MM-DD; declare a format in the mapping for others)"


def type_checks(column: Column, value: sql.Composable) -> list[sql.Composable]:
    """Reasons for a missing required value or text that is not the contract type."""
    checks = []
    if column.required:
        checks.append(_reason(sql.SQL("{} is null").format(value), f"{column.name}: required value missing"))
    if column.type == "text":
        return checks
    is_valid = sql.SQL("pg_input_is_valid({}, {})").format(value, sql.Literal(PG_TYPES[column.type]))
    if column.type in ("date", "timestamptz"):
        iso_shaped = sql.SQL("substr({}, 5, 1) = '-'").format(value)
        checks.append(
            _reason(
                sql.SQL("{} is not null and not {}").format(value, iso_shaped), NOT_ISO.format(column.name)
            )
        )
        is_valid = sql.SQL("(not {} or {})").format(iso_shaped, is_valid)
    checks.append(
        _reason(
            sql.SQL("{} is not null and not {}").format(value, is_valid),
            f"{column.name}: not a valid {column.type}",
        )
    )
    return checks


# A written offset or zone after the time of day: 10:00Z, 10:00:00+02, 10:00 -0500, 10:00 Europe/Paris.
WRITTEN_ZONE = r"\d:\d\d(:\d\d(\.\d+)?)?\s*([zZ]|UTC|GMT|[+-]\d\d(:?\d\d)?|[A-Za-z]+/[A-Za-z_/]+)\s*$"


@cache
def clocks_forward_dates(timezone: str) -> tuple[str, ...]:
    """Local dates (YYYY-MM-DD, 1970-2100) on or next to which `timezone` skips wall-clock time: the days
    whose UTC offset grows. Empty for a zone without daylight saving."""
    zone = ZoneInfo(timezone)

    def offset(instant: datetime) -> timedelta:
        return instant.astimezone(zone).utcoffset()

    dates: set[str] = set()
    # Weekly samples find the weeks with a change; those are walked a day at a time.
    week = datetime(1970, 1, 1, tzinfo=UTC)
    while week.year <= 2100:
        following = week + timedelta(days=7)
        if offset(following) != offset(week):
            for k in range(7):
                day = week + timedelta(days=k)
                if offset(day + timedelta(days=1)) > offset(day):
                    local = (day + timedelta(days=1)).astimezone(zone).date()
                    dates.update(str(local + timedelta(days=j)) for j in (-1, 0, 1))
        week = following
    return tuple(sorted(dates))


def gap_checks(column: Column, value: sql.Composable, timezone: str) -> list[sql.Composable]:
    """A wall-clock time in the hour the mapping's zone skips when its clocks go forward never happened:
    a reason for it. Only values on such a date are looked at further: the text placed in the zone and
    read back comes back an hour on. A time in the hour repeated when clocks go back is
    real, and is read as standard time (the later instant), as PostgreSQL does. The month is looked at
    first: for most values that one comparison settles it."""
    dates = clocks_forward_dates(timezone) if column.type == "timestamptz" else ()
    if not dates:
        return []
    tz = sql.Literal(timezone)
    return [
        _reason(
            sql.SQL(
                "substr({v}, 6, 2) = any({months}::text[]) and left({v}, 10) = any({dates}::text[]) "
                "and pg_input_is_valid({v}, 'timestamp') "
                "and {v} !~ {zone} and ({v}::timestamp at time zone {tz}) at time zone {tz} <> {v}::timestamp"
            ).format(
                v=value,
                months=sql.Literal(sorted({d[5:7] for d in dates})),
                dates=sql.Literal(list(dates)),
                zone=sql.Literal(WRITTEN_ZONE),
                tz=tz,
            ),
            f"{column.name}: local time does not exist in {timezone} (the clocks went forward)",
        )
    ]

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


def type_checks(column: Column, value: sql.Composable) -> list[sql.Composable]:
    """Reasons for a missing required value or text that is not the contract type."""
    checks = []
    if column.required:
        checks.append(_reason(sql.SQL("{} is null").format(value), f"{column.name}: required value missing"))
    if column.type != "text":
        checks.append(
            _reason(
                sql.SQL("{v} is not null and not pg_input_is_valid({v}, {t})").format(
                    v=value, t=sql.Literal(PG_TYPES[column.type])
                ),
                f"{column.name}: not a valid {column.type}",
            )
        )
    return checks

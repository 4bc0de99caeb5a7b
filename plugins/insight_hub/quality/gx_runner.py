"""Run an entity's Great Expectations suite against a staged table, inside PostgreSQL.

Every expectation carries `meta.severity` (`error` or `warn`). A failed
expectation that GX can express as an unexpected-index query is row-level:
the caller moves exactly the rows that query returns to quarantine. One that
cannot (row counts, schema) is batch-level: an `error` rejects the batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

INDEX_COLUMN = "_record_no"


class SuiteError(RuntimeError):
    """A suite file is missing or malformed; the message names it."""


@dataclass(frozen=True)
class ExpectationOutcome:
    name: str
    expectation_type: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int | None
    observed_value: object
    reason: str
    unexpected_query: str | None = None
    element_count: int | None = None

    @property
    def row_level(self) -> bool:
        return self.unexpected_query is not None


@dataclass
class Validation:
    suite: str
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    # GX's own result object (values stripped), for Data Docs.
    suite_result: object = None

    @property
    def row_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "error" and o.row_level]

    @property
    def batch_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "error" and not o.row_level]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "warn"]


def load_suite_dict(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"no expectation suite at {path}") from None
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    seen: dict[str, int] = {}
    for i, exp in enumerate(data.get("expectations", [])):
        severity = exp.get("meta", {}).get("severity")
        if severity not in ("error", "warn"):
            raise SuiteError(
                f"{path}: expectations[{i}] ({exp.get('type')}) needs meta.severity error or warn"
            )
        # Results are kept and trended by name, so a name must say which expectation it is.
        name = expectation_name(exp.get("type", ""), exp.get("kwargs", {}), exp.get("meta", {}))
        if name in seen:
            raise SuiteError(
                f"{path}: expectations[{i}] and expectations[{seen[name]}] are both named {name!r}; "
                "give one a distinct meta.name"
            )
        seen[name] = i
    return data


def expectation_name(type_: str, kwargs: dict, meta: dict) -> str:
    """`meta.name`, or the type with the columns it checks, e.g. `expect_column_pair_..(ended_at, answered_at)`."""
    if meta.get("name"):
        return meta["name"]
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    columns += kwargs.get("column_list") or []
    return f"{type_}({', '.join(columns)})"


# Result keys that carry row values (possibly personal data): never stored, logged or rendered.
VALUE_KEYS = (
    "partial_unexpected_list",
    "partial_unexpected_counts",
    "partial_unexpected_index_list",
    "unexpected_list",
    "unexpected_index_list",
    "details",
)


def validate_table(
    sqlalchemy_url: str,
    schema: str,
    table: str,
    suite_path: Path,
    *,
    row_count: int,
    parameters: dict | None = None,
) -> Validation:
    """Validate `schema.table` (`row_count` rows) with the suite at `suite_path`; GX itself writes nothing.

    `parameters` fill the suite's `{"$PARAMETER": name}` values (volume band, freshness limit).
    Two passes keep a clean batch cheap. The first asks only pass or fail, which GX answers for all
    map expectations with a few bundled aggregate queries. The second asks for details (counts,
    observed values, the unexpected-index query) only where they say something: failed
    expectations, batch-level ones (their observed value is the point) and `mostly` thresholds.
    A row-level expectation that passed outright failed on no row of the `row_count`.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    suite_dict = load_suite_dict(suite_path)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    datasource = context.data_sources.add_postgres(name="warehouse", connection_string=sqlalchemy_url)
    try:
        asset = datasource.add_table_asset(name=table, table_name=table, schema_name=schema)
        batch = asset.add_batch_definition_whole_table("staged").get_batch()
        suite = context.suites.add(gx.ExpectationSuite(**suite_dict))
        parameters = parameters or {}
        screened = batch.validate(suite, result_format="BOOLEAN_ONLY", expectation_parameters=parameters)
        screen = {res.expectation_config.id: res for res in screened.results}

        def needs_detail(exp) -> bool:
            row_level = isinstance(
                exp, ColumnMapExpectation | ColumnPairMapExpectation | MulticolumnMapExpectation
            )
            return not row_level or not screen[exp.id].success or (getattr(exp, "mostly", 1) or 1) < 1

        detailed = {}
        wanted = [exp for exp in suite.expectations if needs_detail(exp)]
        if wanted:
            detail_suite = context.suites.add(
                gx.ExpectationSuite(
                    name=f"{suite.name}__detail", expectations=[e.configuration for e in wanted]
                )
            )
            result = batch.validate(
                detail_suite,
                result_format={
                    "result_format": "SUMMARY",
                    "unexpected_index_column_names": [INDEX_COLUMN],
                    "return_unexpected_index_query": True,
                },
                expectation_parameters=parameters,
            )
            by_id = {res.expectation_config.id: res for res in result.results}
            # The detail suite's expectations are copies, in the same order, with ids of their own.
            detailed = {
                orig.id: by_id[copy.id] for orig, copy in zip(wanted, detail_suite.expectations, strict=True)
            }
    finally:
        _close_engines(datasource)

    validation = Validation(suite=suite_dict.get("name", suite_path.stem))
    combined = []
    for exp in suite.expectations:
        res = detailed.get(exp.id) or screen[exp.id]
        for key in VALUE_KEYS:
            (res.result or {}).pop(key, None)
        combined.append(res)
        validation.outcomes.append(_outcome(exp, res, row_count, f"{schema}.{table}"))
    screened.results = combined
    screened.success = all(r.success for r in combined)
    validation.suite_result = screened
    return validation


def _close_engines(datasource) -> None:
    """GX keeps a datasource's SQLAlchemy engines, with their pooled connections, until they are garbage
    collected: a process that validates many batches (a task staging a history of files, a long-lived
    worker) held an idle warehouse connection per batch, and PostgreSQL allows 100 by default."""
    datasource.get_execution_engine().close()
    datasource.get_engine().dispose()
    forget_reflection_queries()


def forget_reflection_queries() -> int:
    """Empty SQLAlchemy's memo of PostgreSQL reflection queries; returns the entries it held.

    SQLAlchemy memoises each reflection query per dialect (an `lru_cache` of 128 entries on the
    PostgreSQL dialect class), and each validation reflects its table through two new engines, each
    with a dialect of its own. So every validation left about 0.25 MB of query objects behind until
    128 of them were cached: a long-lived worker grew by about 30 MB over its first hundred or so
    batches. Nothing else reuses those dialects once their engines are closed, so the memo goes.
    """
    from sqlalchemy.dialects.postgresql.base import PGDialect

    held = 0
    for cls in PGDialect.__mro__:
        for attr in vars(cls).values():
            if callable(getattr(attr, "cache_clear", None)) and callable(getattr(attr, "cache_info", None)):
                held += attr.cache_info().currsize
                attr.cache_clear()
    return held


def _outcome(exp, res, row_count: int, table: str) -> ExpectationOutcome:
    config = exp.configuration
    meta = config.meta or {}
    column = config.kwargs.get("column") or config.kwargs.get("column_A")
    reason = meta.get("reason") or f"{config.type} on {column or 'the batch'}"
    details = res.result or {}
    if not details and res.success:
        # Passed in the screening pass: no row failed.
        details = {"unexpected_count": 0, "element_count": row_count}
    failed_to_run = bool((res.exception_info or {}).get("raised_exception")) or any(
        isinstance(v, dict) and v.get("raised_exception") for v in (res.exception_info or {}).values()
    )
    query = details.get("unexpected_index_query")
    if config.type == "unexpected_rows_expectation" and not res.success and not failed_to_run:
        # The expectation's own query is the row-level query: its rows, by record number, all of them.
        own = config.kwargs["unexpected_rows_query"].replace(
            "{batch}", f"(select * from {table}) as subselect"
        )
        query = f"select {INDEX_COLUMN} from ({own}) as unexpected"
        details = {**details, "unexpected_count": details.get("observed_value")}
    if failed_to_run:
        reason = f"{reason}: could not be evaluated ({_first_error(res.exception_info)})"
    return ExpectationOutcome(
        name=expectation_name(config.type, config.kwargs, meta),
        expectation_type=config.type,
        column=column,
        severity=meta["severity"],
        success=bool(res.success),
        unexpected_count=details.get("unexpected_count"),
        observed_value=details.get("observed_value"),
        reason=reason,
        unexpected_query=str(query).strip().rstrip(";") if query and not res.success else None,
        element_count=details.get("element_count"),
    )


def _first_error(info: dict) -> str:
    """The first line of the first error GX caught (SQL and messages, not row values)."""
    messages = [info.get("exception_message")] + [
        v.get("exception_message") for v in info.values() if isinstance(v, dict)
    ]
    first = next((m for m in messages if m), "unknown error")
    return first.strip().splitlines()[0][:300]


def record_results(conn, batch_id: int, entity: str, validation: Validation) -> None:
    """Store each expectation's outcome in ops.dq_result (counts and observed values, never row values)."""
    with conn.cursor() as cur:
        # A retried validation replaces the batch's earlier outcomes.
        cur.execute("delete from ops.dq_result where batch_id = %s", (batch_id,))
        cur.executemany(
            """insert into ops.dq_result (batch_id, entity, expectation, expectation_type, column_name, severity,
                                          success, rows_evaluated, rows_failed, observed_value)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [
                (
                    batch_id,
                    entity,
                    o.name,
                    o.expectation_type,
                    o.column,
                    o.severity,
                    o.success,
                    o.element_count,
                    o.unexpected_count,
                    None if o.observed_value is None or o.row_level else str(o.observed_value)[:200],
                )
                for o in validation.outcomes
            ],
        )

"""The `insight-hub` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from insight_hub.settings import get_settings

app = typer.Typer(
    help="Customer Insight Hub: load, validate and model customer data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(
    help="Manage the embedded PostgreSQL (unused when WAREHOUSE_URL is set).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
mapping_app = typer.Typer(help="Check user mappings against real files.", no_args_is_help=True)
app.add_typer(mapping_app, name="mapping")
actions_app = typer.Typer(
    help="The insight actions: list the open ones, close one, apply the CRM's write-back.",
    no_args_is_help=True,
)
app.add_typer(actions_app, name="actions")


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _known_errors() -> tuple[type[Exception], ...]:
    from insight_hub.contracts import ContractError
    from insight_hub.ingest.load import BatchRejected
    from insight_hub.ingest.runner import EntityLoadFailed
    from insight_hub.ingest.stage import StagingError
    from insight_hub.insight.actions import ActionError
    from insight_hub.insight.deliver import ExtractError
    from insight_hub.orchestration.environment import AirflowCommandFailed
    from insight_hub.pipeline import PipelineFailed
    from insight_hub.sources.files import SourceFileError
    from insight_hub.warehouse import EmbeddedPostgresError, WarehouseUnreachable
    from insight_hub.warehouse.access import AccessSetupError
    from insight_hub.warehouse.erasure import ErasureError

    return (
        AccessSetupError,
        ActionError,
        ErasureError,
        ExtractError,
        ContractError,
        BatchRejected,
        StagingError,
        EntityLoadFailed,
        AirflowCommandFailed,
        PipelineFailed,
        SourceFileError,
        EmbeddedPostgresError,
        WarehouseUnreachable,
    )


@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostgreSQL (initialising it on first use)."""
    from insight_hub.warehouse import WAREHOUSE_DB, embedded_server

    server = embedded_server()
    status = server.start()
    server.ensure_database(WAREHOUSE_DB)
    typer.echo(f"embedded PostgreSQL running on 127.0.0.1:{status.port} (data: {status.data_dir})")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL."""
    from insight_hub.warehouse import embedded_server

    stopped = embedded_server().stop()
    typer.echo("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the embedded PostgreSQL runs, and where."""
    from insight_hub.warehouse import embedded_server

    settings = get_settings()
    if settings.warehouse_url:
        typer.echo("WAREHOUSE_URL is set: the embedded server is not used")
    status = embedded_server(settings).status()
    if status.running:
        typer.echo(f"running on 127.0.0.1:{status.port} (pid {status.pid}, data: {status.data_dir})")
    else:
        typer.echo(f"not running (data: {status.data_dir})")
        raise typer.Exit(3)


@db_app.command("url")
def db_url(
    show_password: Annotated[bool, typer.Option(help="Print the password instead of ***.")] = False,
) -> None:
    """Print the warehouse URL (WAREHOUSE_URL, or the embedded server's)."""
    from insight_hub.warehouse import mask_url, warehouse_url

    url = warehouse_url()
    typer.echo(url if show_password else mask_url(url))


@app.command("demo-data")
def demo_data(
    customers: Annotated[int, typer.Option(min=1, help="True customers to simulate.")] = 2000,
    days: Annotated[int, typer.Option(min=1, help="Days of contacts, surveys and orders.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed writes the same files.")] = 42,
    out: Annotated[
        Path | None, typer.Option(help="Landing folder (default: INSIGHT_HUB_LANDING_DIR).")
    ] = None,
) -> None:
    """Write demo exports for all four sources, and their ground truth under _ground_truth/."""
    from insight_hub.demo import DemoConfig, generate

    target = out or get_settings().landing_dir
    summary = generate(target, DemoConfig(customers=customers, days=days, seed=seed))
    rows = sum(f["rows"] for f in summary["files"].values())
    invalid = sum(f["invalid"] for f in summary["files"].values())
    typer.echo(f"wrote {len(summary['files'])} files, {rows} rows ({invalid} invalid on purpose) to {target}")


@app.command("run")
def run(
    customers: Annotated[int, typer.Option(min=1, help="Demo size when no sources have landed yet.")] = 2000,
    days: Annotated[int, typer.Option(min=1)] = 30,
    seed: Annotated[int, typer.Option()] = 42,
) -> None:
    """Run every DAG end to end through Airflow and print what the hub now holds."""
    from insight_hub.demo import DemoConfig
    from insight_hub.identity.evaluate import evaluate as evaluate_identity
    from insight_hub.ingest import audit
    from insight_hub.orchestration.cosmos_config import DBT_PROJECT_DIR
    from insight_hub.pipeline import run_pipeline
    from insight_hub.quality.data_docs import site_index
    from insight_hub.warehouse import mask_url

    settings = get_settings()
    if "fail_on_stale_source" not in settings.model_fields_set:
        # Run again days after the demo landed, the sources are stale: say so below, and still run it all.
        settings = settings.model_copy(update={"fail_on_stale_source": False})
    report = run_pipeline(settings, DemoConfig(customers=customers, days=days, seed=seed), echo=typer.echo)
    totals = audit.entity_totals(report.warehouse)
    typer.echo("")
    typer.echo(
        f"{'source':<16}{'entity':<14}{'batches':>8}{'read':>10}{'loaded':>10}{'quarantined':>13}{'rejected':>10}"
    )
    for t in totals:
        typer.echo(
            f"{t.source:<16}{t.entity:<14}{t.batches:>8}{t.rows_read:>10}{t.rows_loaded:>10}"
            f"{t.rows_quarantined:>13}{t.batches_rejected:>10}"
        )
    typer.echo("")
    typer.echo(f"customers in the hub (marts.customer_360): {audit.hub_customers(report.warehouse)}")
    truth = report.landing / "_ground_truth" / "identity.csv"
    if truth.is_file():
        scores = evaluate_identity(report.warehouse, truth)
        typer.echo(
            f"identity resolution vs the demo's ground truth: precision {scores.precision:.4f}, "
            f"recall {scores.recall:.4f} (same-customer pairs over {scores.records} records, "
            f"{scores.unresolved} unresolved)"
        )
    import psycopg

    from insight_hub.insight.readiness import check_readiness
    from insight_hub.orchestration.cosmos_config import MANIFEST_PATH

    with psycopg.connect(report.warehouse) as conn:
        kinds = conn.execute(
            "select action_type, count(*) from ops.insight_action where status = 'open' group by 1 order by 1"
        ).fetchall()
        readiness = check_readiness(conn, MANIFEST_PATH)
    stale = [f.describe() for f in readiness.stale()]
    if stale:
        typer.echo("stale sources (managers got a notice instead of their extract): " + "; ".join(stale))
    typer.echo(
        f"open insight actions: {sum(n for _, n in kinds)} ({', '.join(f'{n} {k}' for k, n in kinds)})  "
        "(insight-hub actions list)"
    )
    typer.echo(f"warehouse:   {mask_url(report.warehouse)}  (insight-hub db url --show-password)")
    typer.echo(f"landing:     {report.landing}")
    typer.echo(
        f"outbox:      {report.outbox}  (each manager's e-mail as .eml and as .html with its charts, and its .xlsx)"
    )
    typer.echo(f"DAG logs:    {settings.home / 'logs'}")
    if settings.data_docs:
        typer.echo(f"data docs:   {site_index(settings.home)}  (Great Expectations results per batch)")
    typer.echo(
        f"dbt project: {DBT_PROJECT_DIR}  (marts schema: marts, raw rows: raw, rejects: quarantine, audit: ops)"
    )
    if not settings.warehouse_url:
        typer.echo("the embedded PostgreSQL keeps running for your queries; stop it with: make db-stop")


@app.command("loads")
def loads(limit: Annotated[int, typer.Option(min=1)] = 20) -> None:
    """List the most recent load batches from ops.load_batch."""
    from insight_hub.ingest.audit import recent_batches
    from insight_hub.warehouse import warehouse_url

    header = (
        "batch",
        "source",
        "entity",
        "status",
        "read",
        "loaded",
        "quar.",
        "file",
        "started",
        "secs",
        "message",
    )
    rows = recent_batches(warehouse_url(), limit)
    widths = [
        max(len(str(h)), *(len(str(r[i] if r[i] is not None else "")) for r in rows))
        for i, h in enumerate(header)
    ]
    typer.echo("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        typer.echo(
            "  ".join(str(v if v is not None else "").ljust(w) for v, w in zip(row, widths, strict=True))
        )


@mapping_app.command("check")
def mapping_check(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The export to try.")],
    mapping: Annotated[
        Path, typer.Option("--mapping", "-m", exists=True, dir_okay=False, help="Mapping YAML.")
    ],
    rows: Annotated[int, typer.Option(min=1, help="How many rows and rejections to show.")] = 10,
) -> None:
    """Show the first rows of FILE as they would load through MAPPING, and every rejection and why."""
    from insight_hub.ingest.preview import preview
    from insight_hub.sources.registry import load_mapping
    from insight_hub.warehouse import warehouse_url

    settings = get_settings()
    spec = load_mapping(mapping)
    result = preview(
        warehouse_url(settings), file, spec, settings.expectations_dir / f"{spec.entity}.json", rows
    )
    checked = result.checked
    typer.echo(
        f"{file.name} as {spec.entity}: {checked.rows_read} rows read, "
        f"{checked.rows_read - checked.rows_bad} would load, {checked.rows_bad} would be quarantined"
    )
    _print_table(result.columns, result.rows)
    if result.reason_counts:
        typer.echo("\nwhy rows would be quarantined:")
        for reason, count in result.reason_counts:
            typer.echo(f"  {count:>7}  {reason}")
        typer.echo("\nfirst rejected records:")
        for record_no, reasons in result.rejections:
            typer.echo(f"  record {record_no}: {'; '.join(reasons)}")
    for warning in checked.warnings():
        typer.echo(f"warning: {warning}")
    problems = checked.problems(settings.max_reject_share)
    for problem in problems:
        typer.secho(f"the batch would be rejected: {problem}", fg=typer.colors.RED, err=True)
    if problems:
        raise typer.Exit(2)


@actions_app.command("list")
def actions_list(
    owner: Annotated[str | None, typer.Option(help="Only this owner's (CRM owner id).")] = None,
) -> None:
    """The open insight actions, soonest due first."""
    import psycopg

    from insight_hub.insight.actions import open_actions
    from insight_hub.warehouse import warehouse_url

    with psycopg.connect(warehouse_url()) as conn:
        rows = open_actions(conn, owner)
    _print_table(["id", "type", "customer", "theme/promise", "evidence", "owner", "due"], rows)
    typer.echo(f"{len(rows)} open")


@actions_app.command("close")
def actions_close(
    action_id: Annotated[int, typer.Argument(help="The action's number (insight-hub actions list).")],
    note: Annotated[str, typer.Option(help="What was done.")],
) -> None:
    """Close an open action with a note of what was done."""
    import psycopg

    from insight_hub.insight.actions import close_action
    from insight_hub.warehouse import warehouse_url

    with psycopg.connect(warehouse_url()) as conn:
        close_action(conn, action_id, note)
    typer.echo(f"action {action_id} closed")


@actions_app.command("import")
def actions_import(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="CSV with action_id, status, note[, written_by]."),
    ],
) -> None:
    """Apply a write-back from the CRM: each row with status done or closed closes its action."""
    import psycopg

    from insight_hub.insight.actions import import_writeback
    from insight_hub.warehouse import warehouse_url

    with psycopg.connect(warehouse_url()) as conn:
        rows, applied, problems = import_writeback(conn, file)
    typer.echo(f"{file.name}: {rows} rows, {applied} actions closed, {problems} not applied")
    if problems:
        typer.echo("the reasons are in ops.action_writeback.problem")


@app.command("extract")
def extract(
    manager: Annotated[str, typer.Option(help="The manager's CRM owner id, e.g. U0001.")],
    period: Annotated[
        str | None,
        typer.Option(help="Any day of the week to report, YYYY-MM-DD; default the latest full week."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder to write the extract to.")] = Path("extracts-now"),
) -> None:
    """Make one manager's insight extract now (HTML with its charts, .eml and XLSX), without sending it."""
    from datetime import date

    from insight_hub.insight.deliver import write_extract
    from insight_hub.orchestration.cosmos_config import MANIFEST_PATH
    from insight_hub.warehouse import warehouse_url

    try:
        day = date.fromisoformat(period) if period else None
    except ValueError:
        _fail(f"--period {period!r} is not a date (YYYY-MM-DD)")
    html, xlsx, readiness = write_extract(warehouse_url(), MANIFEST_PATH, out, manager, day)
    for problem in readiness.problems():
        typer.secho(f"note: {problem} (stated in the extract)", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"extract: {html}")
    typer.echo(f"workbook: {xlsx}")


def _print_table(header: list[str], rows: list[tuple]) -> None:
    cells = [[("" if v is None else str(v))[:40] for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    typer.echo("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


@app.command(
    "dbt",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
)
def dbt(ctx: typer.Context) -> None:
    """Run dbt against the warehouse, e.g. `insight-hub dbt build` or `insight-hub dbt docs generate`."""
    from insight_hub.warehouse import warehouse_url

    raise typer.Exit(_run_dbt(warehouse_url(), ctx.args))


def _run_dbt(url: str, args: list[str]) -> int:
    """Prepare the warehouse and run the dbt CLI on the product's project; returns dbt's exit code."""
    import subprocess

    from insight_hub.orchestration.cosmos_config import DBT_EXECUTABLE, DBT_PROJECT_DIR
    from insight_hub.warehouse import dbt_env
    from insight_hub.warehouse.prepare import prepare_for_dbt

    prepare_for_dbt(url, get_settings())
    command = [
        str(DBT_EXECUTABLE),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    return subprocess.run(command, env=dbt_env(url), check=False).returncode


@app.command("forget")
def forget(
    customer: Annotated[str, typer.Option(help="The customer's hub id (customer_id in marts.dim_customer).")],
    reason: Annotated[str, typer.Option(help="Why: the request's reference, kept in ops.erasure.")],
    build: Annotated[
        bool, typer.Option("--build/--no-build", help="Rebuild staging, intermediate and marts now.")
    ] = True,
) -> None:
    """Erase one customer's personal data across raw, quarantine, staging, intermediate and marts, record
    the erasure in ops.erasure, and keep it erased when old records are loaded again."""
    import getpass

    import psycopg

    from insight_hub.warehouse import warehouse_url
    from insight_hub.warehouse.erasure import forget_customer
    from insight_hub.warehouse.schema import ensure_all

    url = warehouse_url()
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_all(conn)
        summary = forget_customer(conn, customer, reason, getpass.getuser())
    records = ", ".join(f"{n} {entity}" for entity, n in summary.records.items())
    typer.echo(f"erasure {summary.erasure_id}: customer {summary.customer_id}, records {records}")
    _print_table(["table", "rows erased"], sorted(summary.rows.items()))
    if not build:
        typer.echo("the marts still hold what was built from these rows until the next dbt build")
        return
    if _run_dbt(url, ["build", "--quiet"]) != 0:
        _fail(
            f"erasure {summary.erasure_id} is recorded and the source rows are erased, but the dbt build failed: "
            "the marts keep the customer's data until `insight-hub dbt build` succeeds"
        )
    typer.echo("staging, intermediate and marts rebuilt without the customer's personal data")


@app.command("airflow")
def airflow_ui(port: Annotated[int, typer.Option(help="Port of the Airflow UI.")] = 8080) -> None:
    """Start Airflow (standalone: API server, scheduler, DAG processor, triggerer) with the product's DAGs."""
    import os

    from insight_hub.orchestration.environment import airflow_env, airflow_executable
    from insight_hub.pipeline import build_manifest
    from insight_hub.warehouse import ensure_warehouse, warehouse_url

    settings = get_settings()
    url = warehouse_url(settings)
    ensure_warehouse(url)
    env = airflow_env(settings, url)
    env["AIRFLOW__API__PORT"] = str(port)
    build_manifest(env)
    typer.echo(
        f"Airflow UI: http://127.0.0.1:{port}  (login: admin; password in {settings.airflow_home}/"
        "simple_auth_manager_passwords.json.generated)"
    )
    os.execvpe(airflow_executable(), [airflow_executable(), "standalone"], env)


def main() -> None:
    try:
        app()
    except _known_errors() as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()

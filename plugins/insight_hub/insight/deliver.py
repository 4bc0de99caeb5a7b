"""Compose each manager's e-mail and send it exactly once per report period.

When the data is ready (readiness.py) a manager gets their extract: an HTML body with the charts inline
and the XLSX attached. When it is not, they get a short notice naming the late or failed source. Every
message is also written to <home>/outbox/<week>/ as an .eml file and as an .html page with its charts
beside it (and the workbook), so the extracts can be read without a mail server. `write_extract`
makes one manager's extract on demand (`insight-hub extract`).

ops.extract_delivery records each message sent, keyed by the report period (the latest full week) and
its kind (extract or notice) and the manager: a retried task, and every later build of the same week,
sends only what is not recorded yet, so each manager gets one extract per week (and, while the data is
not fit, one notice). A manager whose message is recorded already is not built again.

The extracts are built by a pool of worker processes (INSIGHT_HUB_EXTRACT_WORKERS), each with its own
connection: drawing the charts, writing the workbooks and the outbox, and turning each message into the
bytes the mail server gets is CPU work that one process would do one manager at a time. This process
only records and sends those bytes, in the managers' order; it does not parse or flatten a message of
about 250 KB again.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import smtplib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import psycopg
from jinja2 import Environment, PackageLoader, select_autoescape

from insight_hub.insight.readiness import Readiness, check_readiness
from insight_hub.insight.report import (
    ACTION_ROWS,
    AT_RISK_ROWS,
    Manager,
    ManagerReport,
    Week,
    build_report,
    managers,
    report_week,
)
from insight_hub.insight.report import workbook as report_workbook

log = logging.getLogger(__name__)
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass(frozen=True)
class Outgoing:
    """An e-mail as it goes to the mail server: its envelope and the message as bytes, flattened once by
    the process that composed it."""

    owner_id: str
    message_id: str
    sender: str
    recipient: str
    data: bytes
    # An address is not ASCII: the mail server must take it as SMTPUTF8.
    international: bool

    @classmethod
    def of(cls, owner_id: str, message: EmailMessage) -> Outgoing:
        sender = message["From"].addresses[0].addr_spec
        recipient = message["To"].addresses[0].addr_spec
        international = not (sender.isascii() and recipient.isascii())
        data = message.as_bytes(policy=policy.SMTPUTF8 if international else policy.SMTP)
        return cls(owner_id, str(message["Message-ID"]), sender, recipient, data, international)

    def send_with(self, client: smtplib.SMTP) -> None:
        """Hand the message to a connected SMTP client, as it is."""
        client.sendmail(
            self.sender, [self.recipient], self.data, mail_options=["SMTPUTF8"] if self.international else []
        )


Sender = Callable[[Outgoing], None]


def _number(value, signed: bool = False) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    text = f"{value:+,.2f}" if signed else f"{value:,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_templates = Environment(loader=PackageLoader("insight_hub.insight"), autoescape=select_autoescape(["html"]))
_templates.filters["number"] = _number


@dataclass
class DeliverySummary:
    report_key: str | None
    ready: bool
    sent: list[str] = field(default_factory=list)  # owner ids sent this time
    already_sent: list[str] = field(default_factory=list)
    outbox: Path | None = None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "report_key": self.report_key,
            "ready": self.ready,
            "sent": self.sent,
            "already_sent": self.already_sent,
            "outbox": str(self.outbox) if self.outbox else None,
            "problems": self.problems,
        }


def _message(manager: Manager, sender: str, subject: str, html: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = manager.email
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "insight-hub")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def compose_extract(
    report: ManagerReport, readiness: Readiness, sender: str, workbook: bytes
) -> EmailMessage:
    charter_weeks = [c for c in report.charter.columns if c not in ("promise", "direction", "target")]
    charter_rows = []
    for row in report.charter.to_dict("records"):
        cells = []
        for week in charter_weeks:
            value = row[week]
            kept = None
            if value == value:  # not NaN
                kept = value >= row["target"] if row["direction"] == "at_least" else value <= row["target"]
            cells.append(
                {"value": _number(value), "colour": {True: "#2e7d32", False: "#c62828"}.get(kept, "#555")}
            )
        charter_rows.append({**row, "cells": cells})
    html = _templates.get_template("extract.html").render(
        report=report,
        readiness=readiness,
        charter_weeks=[w[5:] for w in charter_weeks],
        charter_rows=charter_rows,
        at_risk_rows=AT_RISK_ROWS,
        action_rows=ACTION_ROWS,
    )
    kept, total = report.promises_kept
    subject = f"Customer insight {report.week.label()}: {kept} of {total} charter promises kept"
    text = (
        f"{subject}. This e-mail is best read as HTML; the attached workbook holds every table.\n"
        + "\n".join(
            f"{r.measure}: {_number(r.this_week)} (last week {_number(r.last_week)})"
            for r in report.kpis.itertuples()
        )  # fmt: skip
    )
    message = _message(report.manager, sender, subject, html, text)
    html_part = message.get_payload()[1]
    for name, png in report.charts.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{name}>", filename=name,
                              disposition="inline")  # fmt: skip
    message.add_attachment(
        workbook, maintype=XLSX[0], subtype=XLSX[1],
        filename=f"customer-insight-{report.week.start.isoformat()}.xlsx",
    )  # fmt: skip
    return message


def compose_notice(manager: Manager, readiness: Readiness, sender: str) -> EmailMessage:
    html = _templates.get_template("notice.html").render(manager=manager, readiness=readiness)
    text = "Your customer insight is held back: the data is not ready.\n" + "\n".join(readiness.problems())
    return _message(manager, sender, "Customer insight held back: data not ready", html, text)


def smtp_sender(conn_id: str = "smtp_default") -> Sender:
    """Send through the Airflow connection `conn_id` with Airflow's SMTP hook (host, port, TLS and login
    from the connection). The hook's own send builds a flat message without inline images, so the bytes of
    the message composed here go to the client the hook connected."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    def send(outgoing: Outgoing) -> None:
        with SmtpHook(smtp_conn_id=conn_id) as hook:
            outgoing.send_with(hook._smtp_client)

    return send


def write_message(message: EmailMessage, folder: Path, stem: str) -> Path:
    """Write `message` to `folder` as <stem>.eml, and as <stem>.html with its inline images beside it
    (<stem>.<image>.png), so a browser opens it as the manager's mail client shows it. Returns the HTML."""
    (folder / f"{stem}.eml").write_bytes(bytes(message))
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_content()
    for part in message.walk():
        if part.get_content_type() == "image/png" and part["Content-ID"]:
            cid = part["Content-ID"].strip("<>")
            (folder / f"{stem}.{cid}").write_bytes(part.get_payload(decode=True))
            html = html.replace(f"cid:{cid}", f"{stem}.{cid}")
    path = folder / f"{stem}.html"
    path.write_text(html, encoding="utf-8")
    return path


def write_extract(url: str, manifest_path: Path, folder: Path, owner_id: str, week_start=None) -> tuple:
    """One manager's extract for the week starting `week_start` (default: the latest full week), written
    to `folder` as HTML (images beside it), .eml and .xlsx; nothing is sent or logged as delivered.
    Returns (html path, xlsx path, readiness)."""
    with psycopg.connect(url) as conn:
        manager = next((m for m in managers(conn) if m.owner_id == owner_id), None)
        if manager is None:
            raise ExtractError(f"{owner_id} is not a manager in the CRM's owners list (marts.dim_owner)")
        week = Week(week_start - timedelta(days=week_start.weekday())) if week_start else report_week(conn)
        if week is None:
            raise ExtractError("marts.fct_contact has no contacts yet")
        readiness = check_readiness(conn, manifest_path)
        report = build_report(conn, manager, week)
    workbook = report_workbook(report)
    message = compose_extract(report, readiness, "insight-hub@localhost", workbook)
    folder.mkdir(parents=True, exist_ok=True)
    xlsx = folder / f"{owner_id}-{week.start.isoformat()}.xlsx"
    xlsx.write_bytes(workbook)
    return write_message(message, folder, f"{owner_id}-{week.start.isoformat()}"), xlsx, readiness


class ExtractError(Exception):
    """An extract that cannot be made as asked: the message says why."""


def _report_key(week: Week | None, kind: str) -> str:
    """The period an e-mail reports, and whether it is the extract or a notice: a manager gets each once."""
    return f"{week.start.isoformat() if week else 'no-week'} {kind}"


# Extracts built ahead of the one being sent, per worker: enough to keep the workers busy while this
# process sends, few enough that a slow mail server does not pile up every manager's message in memory.
AHEAD_PER_WORKER = 4

_worker_conn: psycopg.Connection | None = None


def _open_worker_connection(url: str) -> None:
    global _worker_conn
    _worker_conn = psycopg.connect(url, autocommit=True)


def _to_outbox(manager: Manager, message: EmailMessage, outbox: Path, workbook: bytes | None) -> Outgoing:
    """Write `manager`'s message (and workbook) to the outbox; the message as it goes to the mail server."""
    if workbook is not None:
        (outbox / f"{manager.owner_id}.xlsx").write_bytes(workbook)
    write_message(message, outbox, manager.owner_id)
    return Outgoing.of(manager.owner_id, message)


def _build_extract(
    conn: psycopg.Connection, manager: Manager, week: Week, readiness: Readiness, sender: str, outbox: Path
) -> Outgoing:
    """One manager's extract, written to the outbox."""
    report = build_report(conn, manager, week)
    workbook = report_workbook(report)
    return _to_outbox(manager, compose_extract(report, readiness, sender, workbook), outbox, workbook)


def _extract_in_worker(
    manager: Manager, week: Week, readiness: Readiness, sender: str, outbox: Path
) -> Outgoing:
    assert _worker_conn is not None, "the worker's connection is opened by its initializer"
    return _build_extract(_worker_conn, manager, week, readiness, sender, outbox)


def build_extracts(
    url: str, todo: list[Manager], week: Week, readiness: Readiness, sender: str, outbox: Path, workers: int
) -> Iterator[Outgoing]:
    """Each manager's extract of `todo`, in that order, written to `outbox`; built by `workers` processes
    (in this one when 1), at most AHEAD_PER_WORKER per worker ahead of the consumer."""
    if workers > 1 and multiprocessing.current_process().daemon:
        # A daemonic process (a Celery worker's, say) may not start processes of its own.
        log.info("building the extracts in this process: it is daemonic and may not start workers")
        workers = 1
    if workers <= 1 or len(todo) <= 1:
        with psycopg.connect(url, autocommit=True) as conn:
            for manager in todo:
                yield _build_extract(conn, manager, week, readiness, sender, outbox)
        return
    # fork, not spawn: a spawned worker first runs this process's main script again, and in an Airflow
    # task that is the `airflow` command, which cannot start where Airflow blocks its database (it sets
    # an unusable AIRFLOW__DATABASE__SQL_ALCHEMY_CONN for tasks). A forked worker opens a connection of
    # its own and leaves the inherited one alone (it ends with os._exit, closing nothing of this process).
    with ProcessPoolExecutor(
        max_workers=min(workers, len(todo)),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_open_worker_connection,
        initargs=(url,),
    ) as pool:
        pending: deque[Future] = deque()
        queue = iter(todo)
        for manager in queue:
            pending.append(pool.submit(_extract_in_worker, manager, week, readiness, sender, outbox))
            if len(pending) >= workers * AHEAD_PER_WORKER:
                break
        try:
            while pending:
                outgoing = pending.popleft().result()
                following = next(queue, None)
                if following is not None:
                    pending.append(
                        pool.submit(_extract_in_worker, following, week, readiness, sender, outbox)
                    )
                yield outgoing
        finally:
            # The consumer stopped early (a send failed): the extracts not started yet are not built.
            for future in pending:
                future.cancel()


def _already_delivered(conn: psycopg.Connection, key: str) -> set[str]:
    rows = conn.execute("select owner_id from ops.extract_delivery where report_key = %s", (key,))
    return {owner_id for (owner_id,) in rows}


def deliver_extracts(
    url: str,
    manifest_path: Path,
    outbox_root: Path,
    *,
    sender_address: str,
    send: Sender | None,
    airflow_run_id: str | None = None,
    workers: int = 1,
) -> DeliverySummary:
    """Build and deliver every manager's extract (or notice) for the current marts; `send` None writes
    the outbox only (and builds every extract again)."""
    # Autocommit: each delivery's record commits on its own, so a crash loses no record of a sent e-mail.
    with psycopg.connect(url, autocommit=True) as conn:
        readiness = check_readiness(conn, manifest_path)
        week = report_week(conn)
        summary = DeliverySummary(report_key=None, ready=readiness.ready and week is not None,
                                  problems=readiness.problems())  # fmt: skip
        if week is None:
            summary.problems.append("marts.fct_contact has no contacts yet")
        kind = "extract" if summary.ready else "notice"
        key = _report_key(week, kind)
        summary.report_key = key
        outbox = outbox_root / (week.start.isoformat() if week else "no-data")
        outbox.mkdir(parents=True, exist_ok=True)
        summary.outbox = outbox
        everyone = managers(conn)
        # What was sent before stays in the outbox as it was sent; it is neither built nor sent again.
        delivered = _already_delivered(conn, key) if send is not None else set()
        summary.already_sent = [m.owner_id for m in everyone if m.owner_id in delivered]
        todo = [m for m in everyone if m.owner_id not in delivered]
        if summary.ready:
            assert week is not None
            messages = build_extracts(url, todo, week, readiness, sender_address, outbox, workers)
        else:
            messages = (
                _to_outbox(m, compose_notice(m, readiness, sender_address), outbox, None) for m in todo
            )
        with contextlib.closing(messages):
            _deliver(
                conn,
                messages,
                summary,
                send,
                key=key,
                kind=kind,
                week=week,
                airflow_run_id=airflow_run_id,
            )
    if summary.sent:
        _return_freed_memory()
    return summary


def _return_freed_memory() -> None:
    """Give the memory freed after a week's sending back to the system, where the C library is glibc.

    Every message (about 250 KB) arrives from a worker through the pool's result thread and is freed once
    sent. glibc may keep such freed chunks in its arenas for reuse instead of returning them, so a process
    that sends every week and lives for weeks could hold a few MB more after each week's messages.
    malloc_trim(3) returns the free pages of every arena."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except AttributeError:  # not glibc: its allocator keeps its own policy
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)


def _deliver(
    conn: psycopg.Connection,
    messages: Iterator[Outgoing],
    summary: DeliverySummary,
    send: Sender | None,
    *,
    key: str,
    kind: str,
    week: Week | None,
    airflow_run_id: str | None,
) -> None:
    """When sending, claim each message (written to the outbox already) in the ledger and send it."""
    for outgoing in messages:
        if send is None:
            continue
        with conn.transaction():
            claimed = conn.execute(
                """insert into ops.extract_delivery
                       (report_key, owner_id, kind, recipient, message_id, airflow_run_id)
                   values (%s, %s, %s, %s, %s, %s)
                   on conflict (report_key, owner_id) do nothing
                   returning owner_id""",
                (key, outgoing.owner_id, kind, outgoing.recipient, outgoing.message_id, airflow_run_id),
            ).fetchone()
            if claimed is None:
                # Sent by an attempt running beside this one since the ledger was read.
                summary.already_sent.append(outgoing.owner_id)
                continue
            # Sent inside the transaction that records it: a failed send records nothing.
            send(outgoing)
        summary.sent.append(outgoing.owner_id)
        log.info("sent the %s for %s to its owner (%s)", kind, week.start if week else "-", outgoing.owner_id)

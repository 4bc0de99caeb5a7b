"""Manager extracts from a real build of the demo hub: each manager's KPIs follow their scope, each gets
one e-mail (charts inline, the XLSX attached, no customer e-mail or phone) through a real SMTP server,
a retry after a failed send sends only what is missing, a failed source withholds the extracts, and an
extract made on demand shows its charts in a real browser."""

import io
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import numpy as np
import openpyxl
import psycopg
import pytest
from PIL import Image

from insight_hub.insight.deliver import deliver_extracts, smtp_sender
from insight_hub.insight.readiness import check_readiness
from insight_hub.insight.report import report_week
from insight_hub.orchestration.cosmos_config import MANIFEST_PATH
from tests.conftest import ROOT, run_dbt, smtp_server

pytestmark = pytest.mark.integration

SENDER = "insight@hub.example"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _weekly(conn, query, *params):
    return {row[0]: float(row[1]) for row in conn.execute(query, params)}


def test_each_managers_kpis_follow_their_scope(hub):
    url, _, _ = hub
    with psycopg.connect(url) as conn:
        head = _weekly(conn, "select period_start || kpi, measured_value from marts.manager_kpis "
                             "where owner_id = 'U0001' and period_type = 'week'")  # fmt: skip
        charter = _weekly(conn, "select period_start || kpi, measured_value from intermediate.int_charter_measures "
                                "where period_type = 'week' and channel is null")  # fmt: skip
        # The head of service sees everything: the same figures the charter measures across channels.
        assert charter and {k: head[k] for k in charter} == charter

        billing = _weekly(conn, "select period_start, measured_value from marts.manager_kpis "
                                "where owner_id = 'U0002' and period_type = 'week' and kpi = 'contacts_offered'")  # fmt: skip
        billing_daily = _weekly(conn, "select date_trunc('week', contact_date)::date, sum(contacts_offered) "
                                      "from marts.contact_centre_daily where queue = 'billing' group by 1")  # fmt: skip
        assert billing and billing == billing_daily

        owner, owned = conn.execute(
            "select owner_id, count(*) from marts.dim_customer where owner_id like 'U01%%' group by 1 order by 2 desc limit 1"
        ).fetchone()
        mine = _weekly(conn, "select period_start, measured_value from marts.manager_kpis "
                             "where owner_id = %s and period_type = 'week' and kpi = 'contacts_offered'", owner)  # fmt: skip
        counted = _weekly(conn, "select date_trunc('week', c.contact_date)::date, count(*) from marts.fct_contact as c "
                                "join marts.dim_customer as d using (customer_id) where d.owner_id = %s and c.is_offered "
                                "group by 1", owner)  # fmt: skip
        assert owned > 0 and mine and mine == counted
        # The three team leads' queues cover every contact, so their volumes add up to the head's.
        leads = _weekly(conn, "select period_start, sum(measured_value) from marts.manager_kpis where owner_id in "
                              "('U0002', 'U0003', 'U0004') and period_type = 'week' and kpi = 'contacts_offered' group by 1")  # fmt: skip
        head_offered = {
            datetime.fromisoformat(k[:10]).date(): v
            for k, v in head.items()
            if k.endswith("contacts_offered")
        }
        assert leads == head_offered


def _raw_contact_details(url) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select email, phone from raw.contact").fetchall()
    return {value for row in rows for value in row if value}


def test_every_manager_gets_one_extract_even_when_a_send_fails_midway(hub, monkeypatch):
    url, tmp, _ = hub
    with psycopg.connect(url) as conn:
        owners = dict(conn.execute("select owner_id, owner_email from marts.dim_owner").fetchall())
        head_offered = conn.execute(
            "select measured_value from marts.manager_kpis where owner_id = 'U0001' and period_type = 'week' "
            "and kpi = 'contacts_offered' order by period_start desc offset 1 limit 1"
        ).fetchone()[0]
        emerging_this_week = conn.execute(
            "select count(*) from marts.emerging_themes where is_emerging and week_start = %s",
            (report_week(conn).start,),
        ).fetchone()[0]
        report_week_start = report_week(conn).start.isoformat()
        head_open_actions = conn.execute(
            "select count(*) from ops.insight_action where owner_id = 'U0001' and status = 'open'"
        ).fetchone()[0]
        conn.execute("delete from ops.extract_delivery")
        conn.commit()
    with smtp_server() as (port, inbox):
        monkeypatch.setenv(
            "AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true"
        )
        send, calls = smtp_sender(), []

        def fails_on_the_third(outgoing):
            calls.append(outgoing.recipient)
            if len(calls) == 3:
                raise ConnectionError("SMTP server went away")
            send(outgoing)

        # Built by two worker processes, as the insight task does on a machine with two CPUs or more.
        with pytest.raises(ConnectionError):
            deliver_extracts(
                url, MANIFEST_PATH, tmp / "outbox", sender_address=SENDER, send=fails_on_the_third, workers=2
            )
        assert len(inbox) == 2
        retry = deliver_extracts(
            url, MANIFEST_PATH, tmp / "outbox", sender_address=SENDER, send=send, workers=2
        )
        sent_files = {p: p.stat().st_mtime_ns for p in (tmp / "outbox").rglob("*") if p.is_file()}
        again = deliver_extracts(url, MANIFEST_PATH, tmp / "outbox", sender_address=SENDER, send=send)
        # A later build of the same week sends nothing more: one extract per manager per period.
        rebuilt = run_dbt(url, tmp / "target", "build", "--select", "manager_kpis")
        assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
        after_rebuild = deliver_extracts(url, MANIFEST_PATH, tmp / "outbox", sender_address=SENDER, send=send)
    assert retry.ready and len(retry.sent) == len(owners) - 2 and len(retry.already_sent) == 2
    assert again.sent == [] and sorted(again.already_sent) == sorted(owners)
    assert after_rebuild.sent == [] and after_rebuild.report_key == f"{report_week_start} extract"
    # What was sent is not built again: the outbox holds each message as it was sent.
    assert sent_files == {p: p.stat().st_mtime_ns for p in (tmp / "outbox").rglob("*") if p.is_file()}
    # Exactly one e-mail per manager.
    assert sorted(m["X-Envelope-To"] for m in inbox) == sorted(owners.values())
    # The outbox and the ledger hold each message as the mail server got it.
    with psycopg.connect(url) as conn:
        ledger = dict(conn.execute("select owner_id, message_id from ops.extract_delivery").fetchall())
    for owner_id, address in owners.items():
        (got,) = [m for m in inbox if m["X-Envelope-To"] == address]
        kept = message_from_bytes((tmp / "outbox" / report_week_start / f"{owner_id}.eml").read_bytes())
        assert got["Message-ID"] == kept["Message-ID"] == ledger[owner_id]

    private = _raw_contact_details(url)
    assert len(private) > 100
    head = next(m for m in inbox if m["To"] == owners["U0001"])
    assert "charter promises kept" in head["Subject"]
    html = (
        next(p for p in head.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    )
    images = [p for p in head.walk() if p.get_content_type() == "image/png"]
    assert {p["Content-ID"].strip("<>") for p in images} == {
        "charter.png",
        "contacts.png",
        "satisfaction.png",
    }
    for image in images:
        assert (
            f"cid:{image['Content-ID'].strip('<>')}" in html
            and image.get_payload(decode=True)[:4] == b"\x89PNG"
        )
    (xlsx,) = [p for p in head.walk() if p.get_filename() and p.get_filename().endswith(".xlsx")]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.get_payload(decode=True)))
    assert book.sheetnames == [
        "KPIs",
        "Charter",
        "Weekly trend",
        "Customers at risk",
        "Emerging themes",
        "Open actions",
    ]
    # The head's open actions (the charter's broken promises, customers without an account owner), all of them.
    assert head_open_actions > 0 and book["Open actions"].max_row - 1 == head_open_actions
    assert f"{head_open_actions}</b> open" in html
    kpis = {row[0]: row[1] for row in book["KPIs"].iter_rows(min_row=2, values_only=True)}
    assert book["Emerging themes"].max_row - 1 == emerging_this_week
    assert kpis["Contacts offered"] == float(head_offered)
    cells = {
        str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c is not None
    }
    for message in inbox:
        text = message.as_string()
        assert not any(value in text for value in private), "a customer e-mail or phone is in an extract"
    assert not cells & private


def _without_check_time(page: bytes) -> bytes:
    """The page with the minute its delivery checked the sources blanked (a page states it once)."""
    blanked, found = re.subn(rb"Checked \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", b"Checked <time> UTC", page)
    assert found == 1, "no check time where the page should state it"
    return blanked


def test_extracts_built_by_worker_processes_are_the_ones_built_in_one(hub):
    url, tmp, _ = hub
    outboxes = {}
    for workers in (1, 2):
        summary = deliver_extracts(
            url, MANIFEST_PATH, tmp / f"workers-{workers}", sender_address=SENDER, send=None, workers=workers
        )
        outboxes[workers] = summary.outbox
    names = sorted(p.name for p in outboxes[1].iterdir())
    assert len([n for n in names if n.endswith(".xlsx")]) >= 7
    assert names == sorted(p.name for p in outboxes[2].iterdir())
    for name in names:
        if name.endswith(".html"):
            # Each delivery stamps the minute it checked the sources: the two runs may straddle a minute.
            one, two = (_without_check_time((outboxes[n] / name).read_bytes()) for n in (1, 2))
            assert one == two, name
        elif name.endswith(".png"):  # the .eml differ by Message-ID, the workbooks by their time
            assert (outboxes[1] / name).read_bytes() == (outboxes[2] / name).read_bytes(), name
        elif name.endswith(".xlsx"):
            one, two = (openpyxl.load_workbook(outboxes[n] / name) for n in (1, 2))
            assert [list(s.values) for s in one] == [list(s.values) for s in two], name


def test_a_failed_source_withholds_the_extracts_with_a_notice(hub):
    url, tmp, _ = hub
    with psycopg.connect(url) as conn:
        ready = check_readiness(conn, MANIFEST_PATH)
        assert ready.ready and {f.status for f in ready.freshness} == {"pass"}
        # Three days later, the daily sources are past their 50-hour limit; the CRM (15 days) is not.
        later = check_readiness(conn, MANIFEST_PATH, now=datetime.now(UTC) + timedelta(days=3))
        assert {(f.source, f.status) for f in later.freshness} == {
            ("contact_centre", "error"),
            ("crm", "pass"),
            ("survey", "error"),
            ("sales", "error"),
        }
        assert any("contact_centre.interaction last loaded" in p for p in later.problems())
        conn.execute(
            "insert into ops.load_batch (source, entity, batch_key, source_file, status, message, finished_at) "
            "values ('survey', 'response', 'x', 'reviews_bad.csv', 'rejected', %s, now())",
            ("expect_column_values_to_be_between failed on 40 of 120 rows",),
        )
        conn.commit()
    try:
        summary = deliver_extracts(url, MANIFEST_PATH, tmp / "withheld", sender_address=SENDER, send=None)
    finally:
        with psycopg.connect(url) as conn:
            conn.execute("delete from ops.load_batch where batch_key = 'x'")
    assert not summary.ready
    assert summary.problems == [
        "survey.response: latest batch (reviews_bad.csv) rejected: "
        "expect_column_values_to_be_between failed on 40 of 120 rows"
    ]
    notices = sorted(summary.outbox.glob("*.eml"))
    assert len(notices) >= 7 and not list(summary.outbox.glob("*.xlsx"))
    notice = message_from_bytes(notices[0].read_bytes())
    assert notice["Subject"] == "Customer insight held back: data not ready"
    assert "reviews_bad.csv" in notice.as_string()


# Colours only the charts use (report.draw_charts): the volume bars, the service-level line, the NPS line.
CHART_COLOURS = np.array([(0x90, 0xA4, 0xAE), (0x15, 0x65, 0xC0), (0x6A, 0x1B, 0x9A)])


def _chart_pixels(screenshot: Path) -> int:
    """Pixels of the screenshot within a small distance of a chart-only colour."""
    rgb = (np.asarray(Image.open(screenshot).convert("RGB")).astype(int))[:, :, None, :]
    return int((np.abs(rgb - CHART_COLOURS[None, None, :, :]).sum(axis=3) < 30).any(axis=2).sum())


def _screenshot(html: Path, png: Path) -> None:
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={png}",
         "--window-size=900,4000", html.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert png.exists(), done.stderr[-2000:]


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_an_extract_made_now_shows_its_charts_in_a_browser(hub, tmp_path):
    """`insight-hub extract` writes the head of service's extract; headless Chromium renders it as a
    manager's browser would, and the charts' colours are on the page (and absent without the images)."""
    url, tmp, hub_settings = hub
    env = {**os.environ, "WAREHOUSE_URL": url, "INSIGHT_HUB_HOME": str(hub_settings.home)}
    made = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "insight-hub"), "extract", "--manager", "U0001", "--out", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr[-3000:]
    html = Path(made.stdout.split("extract: ")[1].splitlines()[0])
    assert html.parent == tmp_path and {p.name for p in tmp_path.glob("*.png")} == {
        f"{html.stem}.{name}" for name in ("charter.png", "contacts.png", "satisfaction.png")
    }
    openpyxl.load_workbook(tmp_path / f"{html.stem}.xlsx")

    _screenshot(html, tmp_path / "with.png")
    without = tmp_path / "without.html"
    without.write_text(html.read_text().replace(f'src="{html.stem}.', 'src="missing.'))
    _screenshot(without, tmp_path / "without.png")
    with_charts, without_charts = (
        _chart_pixels(tmp_path / "with.png"),
        _chart_pixels(tmp_path / "without.png"),
    )
    print(f"\nchart-coloured pixels: {with_charts} with the images, {without_charts} without")
    assert with_charts > 5000 and without_charts < 100

    unknown = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "insight-hub"), "extract", "--manager", "U9999", "--out", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert unknown.returncode == 1
    assert "U9999 is not a manager in the CRM's owners list" in unknown.stderr

"""An e-mail goes to the mail server as the bytes the process that composed it flattened once, with its
envelope beside it; the process that sends it does not parse it again."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from insight_hub.insight.deliver import Outgoing, smtp_sender
from tests.conftest import smtp_server


def _message(to: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "Customer insight, week of 2026-11-23"
    message["From"] = "Insight Hub <insight-hub@hub.example>"
    message["To"] = to
    message["Message-ID"] = "<week-2026-11-23.U0001@hub.example>"
    message.set_content("Contacts offered: 1,204\n.\nA line that is only a dot, as SMTP escapes it.\n")
    message.add_alternative("<p>Contacts offered: <b>1,204</b></p>", subtype="html")
    message.add_attachment(
        b"\x00\x01workbook", maintype="application", subtype="octet-stream", filename="w.xlsx"
    )
    return message


def test_the_envelope_is_the_bare_addresses_and_the_bytes_are_the_message(monkeypatch):
    outgoing = Outgoing.of("U0001", _message("Dana Lee <dana.lee@hub.example>"))
    assert (outgoing.sender, outgoing.recipient, outgoing.international) == (
        "insight-hub@hub.example",
        "dana.lee@hub.example",
        False,
    )
    assert outgoing.message_id == "<week-2026-11-23.U0001@hub.example>"
    # Lines end as SMTP has them end.
    assert b"\r\n" in outgoing.data and b"\n" not in outgoing.data.replace(b"\r\n", b"")
    with smtp_server() as (port, inbox):
        monkeypatch.setenv(
            "AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true"
        )
        smtp_sender()(outgoing)
    (received,) = inbox
    assert (received["X-Envelope-From"], received["X-Envelope-To"]) == (outgoing.sender, outgoing.recipient)
    sent = message_from_bytes(outgoing.data, policy=policy.default)
    assert received["Message-ID"] == sent["Message-ID"]
    assert [p.get_payload(decode=True) for p in received.walk() if not p.is_multipart()] == [
        p.get_payload(decode=True) for p in sent.walk() if not p.is_multipart()
    ]


def test_an_address_that_is_not_ascii_goes_as_smtputf8(monkeypatch):
    outgoing = Outgoing.of("U0002", _message("jörg.müller@hub.example"))
    assert outgoing.international and outgoing.recipient == "jörg.müller@hub.example"
    with smtp_server(smtputf8=True) as (port, inbox):
        monkeypatch.setenv(
            "AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true"
        )
        smtp_sender()(outgoing)
    (received,) = inbox
    assert received["X-Envelope-To"] == "jörg.müller@hub.example"
    assert received["Message-ID"] == outgoing.message_id

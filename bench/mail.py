"""A real SMTP server on 127.0.0.1 for the benchmarks, so that the managers' extracts are sent as in
production: a manager's message for a week is built and sent once, and a later run in the same week
skips it."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
from collections.abc import Callable, Iterator
from email.message import EmailMessage


@contextlib.contextmanager
def mail_server() -> Iterator[tuple[int, list[int]]]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that accepts every message: (port, the size of each
    message received)."""
    from aiosmtpd.controller import Controller

    # aiosmtpd logs every connection at INFO; a run sends a thousand messages.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    received: list[int] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(len(envelope.content))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def smtp_send(port: int) -> Callable[[EmailMessage], None]:
    """A sender for deliver_extracts that hands each message to the SMTP server on 127.0.0.1:`port`."""

    def send(message: EmailMessage) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(message)

    return send

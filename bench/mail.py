"""A real SMTP server on 127.0.0.1 for the benchmarks, so that the managers' extracts are sent as in
production: a manager's message for a week is built and sent once, and a later run in the same week
skips it."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from insight_hub.insight.deliver import Outgoing


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


@contextlib.contextmanager
def mail_server_process(timeout: float = 30.0) -> Iterator[int]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, discarding every message) in a process of its own:
    its port. A benchmark that watches its own memory runs the server apart, as production does, so
    that the server's buffers are not counted as the product's."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the SMTP server on 127.0.0.1:{port} did not start (exit {server.poll()})")
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def smtp_send(port: int) -> Callable[[Outgoing], None]:
    """A sender for deliver_extracts that hands each message to the SMTP server on 127.0.0.1:`port`."""

    def send(outgoing: Outgoing) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            outgoing.send_with(client)

    return send

"""A real SMTP server on the loopback interface for tests of code that sends mail (needs ``aiosmtpd``)::

    from core.mail.testing import configure_mail, smtp_server

    with smtp_server() as (inbox, port):
        configure_mail(db, port); db.commit()
        ...                                   # send
        assert inbox.for_address("a@example.com")["Subject"] == "Hello"

The server refuses recipients at :data:`REFUSED_DOMAIN` (550) and puts off those at
:data:`DEFERRED_DOMAIN` (451), so a test can see both outcomes. ``smtp_server(smtputf8=True)``
offers SMTPUTF8 (RFC 6531), which an internationalised address such as ``jürgen.weiß@example.com`` needs.
"""
from __future__ import annotations

import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Iterator

from sqlalchemy.orm import Session

from core.mail.services import save_settings
from core.mail.settings import BATCH_SIZE, HOST, PORT, SECURITY_KEY, SENDER_ADDRESS, SENDER_NAME, SITE_URL

REFUSED_DOMAIN = "bounce.example"
DEFERRED_DOMAIN = "later.example"
REFUSAL = "550 5.1.1 No such mailbox here"
DEFERRAL = "451 4.3.0 Mailbox busy, try again later"


@dataclass
class Inbox:
    """What the loopback server received (an aiosmtpd handler)."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@" + REFUSED_DOMAIN):
            return REFUSAL
        if address.lower().endswith("@" + DEFERRED_DOMAIN):
            return DEFERRAL
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        message["X-Envelope-From"] = envelope.mail_from
        self.messages.append(message)
        return "250 Message accepted"

    def to(self) -> list[str]:
        """The recipients of each message, in the order they came."""
        return [m["X-Envelope-To"] for m in self.messages]

    def for_address(self, address: str) -> EmailMessage:
        """The message ``address`` received (the first, if several)."""
        return next(m for m in self.messages if m["X-Envelope-To"] == address)

    def text_for(self, address: str) -> str:
        """The plain-text body ``address`` received, with the wire's CRLF line ends as newlines."""
        message = self.for_address(address)
        part = message.get_body(("plain",)) or message
        return part.get_content().replace("\r\n", "\n")


def free_port() -> int:
    """A TCP port free on the loopback interface (nothing listens on it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(*, smtputf8: bool = False) -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on a free loopback port while the block runs: (inbox, port); with ``smtputf8``
    it offers SMTPUTF8 (without, it takes ASCII addresses only)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def configure_mail(db: Session, port: int, *, sender_name: str = "Test Company", batch_size: int = 50,
                   sender_address: str = "office@test-company.example", site_url: str = "") -> None:
    """Point the mail settings at the loopback server on ``port`` (the current company's sender)."""
    save_settings(db, {HOST: "127.0.0.1", PORT: str(port), SECURITY_KEY: "none", SENDER_NAME: sender_name,
                       SENDER_ADDRESS: sender_address, BATCH_SIZE: str(batch_size), SITE_URL: site_url})

"""Sending mail: the one-off :func:`send_mail` (a job per message, retried) and, for bulk senders,
:func:`queue_mail` plus :func:`deliver_mail` (many messages over one connection, in the caller's job).

Every message is a row of the mail log before anything is sent; what the server answered is
written on it. A message is sent at most once: it is marked *sending* (and committed) before it
goes to the server, so a worker that dies half-way never sends it again by itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import acting
from core.audit.recorder import record_event
from core.company.services import update_settings
from core.db import utcnow
from core.errors import Conflict, InvalidInput, KontorError, Unavailable
from core.i18n import gettext as _
from core.mail import smtp
from core.mail.message import (build, check_address, check_attachment, check_headers, check_sender, envelope_sender,
                               new_message_id, one_line, wire_address)
from core.mail.models import MailAttachment, MailMessage
from core.mail.settings import (BATCH_SIZE, HOST, PORT, SENDER_ADDRESS, SETTINGS, SITE_URL, MailConfig, mail_config)

#: How often a message the server put off (4xx, no connection) is tried before it is failed.
MAX_ATTEMPTS = 3
#: The job kind that sends one message.
SEND_KIND = "core.mail.send"
SITE = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


class MailDeferred(Unavailable):
    """The server put a message off (4xx, or it could not be reached): the job tries again later."""


class MailRefused(KontorError):
    """The server refused a message (5xx): trying again would not help."""

    status = 422


@dataclass
class Delivery:
    """What came of one :func:`deliver_mail` call."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    #: of the failed, those the server put off until their attempts ran out (not refused outright)
    gave_up: int = 0
    #: why the last message was not sent ("" when all went out)
    error: str = ""
    #: the server could not be reached, or hung up: it is not taking mail now
    unreachable: bool = False


def queue_mail(db: Session, to: str, subject: str, body: str, *, to_name: str = "", html: str | None = None,
               attachments: Iterable = (), headers: dict[str, str] | None = None, record: str = "",
               sender: str | None = None, config: MailConfig | None = None) -> MailMessage:
    """Write a message to the mail log, queued, without sending it (a bulk sender's job sends its
    messages with :func:`deliver_mail`). Refuses a bad address, header or attachment (InvalidInput
    naming it) and unconfigured mail (Conflict). A bulk sender passes the ``config`` it read once."""
    config = config or mail_config(db)
    if not config.configured:
        raise Conflict(_("Set the mail server and the sender address under Administration → Mail first."),
                       field="mail")
    from_header = check_sender(sender, "sender") if sender else config.sender
    message = MailMessage(
        to_address=check_address(to, "to"), to_name=one_line(to_name)[:200], sender=from_header,
        subject=one_line(subject)[:500], body=body or "", html=html or None, headers=check_headers(headers),
        record=(record or "")[:120], status="queued", message_id=new_message_id(from_header),
        user_id=acting().user_id)
    if not message.subject:
        raise InvalidInput(_("A subject is required."), field="subject")
    for item in attachments:
        attachment = check_attachment(item)
        message.attachments.append(MailAttachment(filename=attachment.filename, content_type=attachment.content_type,
                                                  size=len(attachment.content), content=attachment.content))
    db.add(message)
    db.flush()
    return message


def send_mail(db: Session, to: str, subject: str, body: str, *, to_name: str = "", html: str | None = None,
              attachments: Iterable = (), headers: dict[str, str] | None = None, record: str = "",
              sender: str | None = None) -> MailMessage:
    """Write a message to the mail log and start the job that sends it (after the caller commits).

    The job tries again with a growing pause when the server puts the message off or cannot be
    reached, up to :data:`MAX_ATTEMPTS` times; a refusal (5xx) fails it at once, with the server's
    reply on the message. Asking for the message is audited.
    """
    from core.jobs.services import start_job

    message = queue_mail(db, to, subject, body, to_name=to_name, html=html, attachments=attachments,
                         headers=headers, record=record, sender=sender)
    record_event(db, "mail.send", table_name=MailMessage.__tablename__, record_id=message.id,
                 changes={"to": [None, message.to_address], "subject": [None, message.subject],
                          "record": [None, message.record]}, company_id=message.company_id)
    start_job(db, SEND_KIND, {"mail_id": message.id}, title=_("Send mail to %(to)s", to=message.to_address),
              record=message.record or f"core.mail:{message.id}", key=f"mail:{message.id}")
    return message


def deliver_mail(db: Session, messages: Iterable[MailMessage], config: MailConfig | None = None, *,
                 max_attempts: int = MAX_ATTEMPTS) -> Delivery:
    """Send the queued ones of ``messages`` over one SMTP connection and write each outcome on it.

    The messages are marked *sending* and committed first, and the outcomes are committed at the
    end, so a message is never sent twice. A message the server puts off (4xx), and every message
    left when the connection fails, goes back to *queued* for a later call until it has been tried
    ``max_attempts`` times; a refused one (5xx), and one the server cannot take as it is (an
    internationalised address without SMTPUTF8), fails with the reason. Commits ``db``.
    """
    config = config or mail_config(db)
    batch = [m for m in messages if m.status == "queued"]
    outcome = Delivery()
    if not batch:
        return outcome
    for message in batch:
        message.status = "sending"
        message.attempts += 1
    db.commit()
    try:
        connection = smtp.connect(config.host, config.port, security=config.security, username=config.username,
                                  password=config.password)
    except smtp.SendError as exc:
        outcome.unreachable = True
        for message in batch:
            _note_failure(message, exc, outcome, max_attempts)
        db.commit()
        return outcome
    try:
        for position, message in enumerate(batch):
            try:
                try:
                    mime = build(message)
                    sender, recipient = wire_address(envelope_sender(message.sender)), wire_address(message.to_address)
                except ValueError as exc:  # an address that cannot be written (a domain label too long)
                    raise smtp.SendError(smtp.describe(exc), transient=False) from None
                smtp.deliver(connection, mime, sender, recipient)
            except smtp.SendError as exc:
                _note_failure(message, exc, outcome, max_attempts)
                if exc.transient and not _still_connected(connection):
                    outcome.unreachable = True
                    for rest in batch[position + 1:]:
                        _note_failure(rest, exc, outcome, max_attempts)
                    break
                continue
            message.status, message.sent_at, message.error = "sent", utcnow(), ""
            outcome.sent += 1
    finally:
        smtp.close(connection)
        db.commit()
    return outcome


def _still_connected(connection) -> bool:
    try:
        return connection.noop()[0] == 250
    except Exception:  # noqa: BLE001 - any failure means the connection is gone
        return False


def _note_failure(message: MailMessage, exc: smtp.SendError, outcome: Delivery, max_attempts: int) -> None:
    message.error = exc.reply
    outcome.error = exc.reply
    if exc.transient and message.attempts < max_attempts:
        message.status = "queued"
        outcome.deferred += 1
        return
    message.status = "failed"
    outcome.failed += 1
    outcome.gave_up += exc.transient


def send_job(job, mail_id: int) -> dict[str, Any]:
    """The job of :func:`send_mail`: send one message. The job is tried again (MailDeferred) while the
    server puts the message off, and fails (MailRefused) when the server refuses it; the message
    keeps the server's reply either way."""
    db = job.session
    message = db.get(MailMessage, mail_id)
    if message is None:
        return {"status": "missing"}
    outcome = deliver_mail(db, [message])
    if outcome.deferred or outcome.gave_up:
        raise MailDeferred(outcome.error)  # tried again later; after the last attempt the job fails with it
    if outcome.failed:
        raise MailRefused(outcome.error)
    return {"status": message.status, "to": message.to_address, "error": message.error}


def mail_messages(db: Session, record: str, limit: int = 50) -> list[MailMessage]:
    """The newest messages about ``record`` (``accounting.invoice:12``), for its page."""
    return list(db.execute(select(MailMessage).where(MailMessage.record == record)
                           .order_by(MailMessage.id.desc()).limit(limit)).scalars())


def recent_messages(db: Session, limit: int = 50) -> list[MailMessage]:
    """The newest messages of the companies in scope (the mail page's log)."""
    return list(db.execute(select(MailMessage).order_by(MailMessage.id.desc()).limit(limit)).scalars())


def save_settings(db: Session, data: dict[str, Any]) -> None:
    """Check and store the mail settings in ``data``; nothing is stored when any is bad (InvalidInput naming each)."""
    errors: dict[str, list[str]] = {}
    host = (data.get(HOST) or "").strip()
    if any(c.isspace() for c in host) or len(host) > 253:
        errors[HOST] = [_("Enter a host name without spaces.")]
    _check_range(data, PORT, 1, 65535, errors)
    _check_range(data, BATCH_SIZE, 1, 1000, errors)
    if (data.get(SENDER_ADDRESS) or "").strip():
        try:
            check_address(data[SENDER_ADDRESS], SENDER_ADDRESS)
        except InvalidInput as exc:
            errors[SENDER_ADDRESS] = [exc.message]
    site = (data.get(SITE_URL) or "").strip()
    if site and not SITE.match(site):
        errors[SITE_URL] = [_("Enter an address starting with https:// or http://.")]
    if errors:
        raise InvalidInput(errors)
    update_settings(db, SETTINGS, data)


def _check_range(data: dict[str, Any], key: str, low: int, high: int, errors: dict[str, list[str]]) -> None:
    raw = str(data.get(key) or "").strip()
    if not raw:
        return
    if not raw.isdigit() or not low <= int(raw) <= high:
        errors[key] = [_("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)]


def send_test_message(db: Session, to: str) -> MailMessage:
    """A short message to ``to`` through the configured server, to prove the settings work."""
    return send_mail(db, to, _("Kontor test message"),
                     _("This message proves that Kontor can send mail with the settings of Administration → Mail."),
                     record="core.mail:test")

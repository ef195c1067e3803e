"""Sending notifications and reading the inbox: plain functions over a session and a user.

A notification is stored untranslated (a msgid marked with ``N_`` and its parameters) and rendered
in the reader's language when shown or mailed. One about a record (``"crm.ticket:7"``) reaches only
those who may read that record, and the inbox hides it from anyone who later loses the right.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.actor import acting_as
from core.auth.models import User
from core.company.scope import CompanyScoped, in_company, scope_for_user, user_company_ids
from core.company.services import get_company
from core.db import utcnow
from core.errors import InvalidInput, NotFound
from core.i18n import gettext as _
from core.mail.services import send_mail
from core.mail.settings import mail_config
from core.notifications.models import CHANNELS, Notification, NotificationChoice
from core.notifications.registry import notification_kinds, record_kinds
from core.security import has_permission

#: The widest page of the inbox.
MAX_PAGE = 100


# -- sending --


def notify(db: Session, kind: str, recipients: Iterable[User | int], message: str, params: dict | None = None, *,
           record: str | None = None, url: str | None = None) -> list[Notification]:
    """Notify ``recipients`` (users or user ids) of ``message`` % ``params``; returns what was stored.

    ``kind`` must be registered (``register_notification_kinds``); ``message`` is an untranslated
    msgid marked with ``N_``, rendered in each recipient's language when shown or mailed. With
    ``record`` (``"kind:id"`` of an attachable or approvable kind) only recipients who may read the
    record get it. Inactive users are skipped, a user named twice gets one. Each recipient's choice
    for the kind (else the kind's default) says whether a mail goes now or in the daily digest.
    Raises ValueError for an unknown kind, a record of a kind no module declares, or a message
    its parameters do not fill: those are the calling module's mistakes.
    """
    notification_kind = notification_kinds().get(kind)
    if notification_kind is None:
        raise ValueError(f"no module registers the notification kind {kind!r}")
    params = dict(params or {})
    _check_message(message, params)
    db.flush()  # what the caller changed is written (and audited) as the caller, before acting as anyone else
    company_id = _record_company(db, record) if record else None
    made = []
    for user in _recipients(db, recipients):
        if record and not may_read(db, user, record):
            continue
        channel = channel_for(db, user, kind)
        note = Notification(company_id=company_id, user_id=user.id, kind=kind, message=message, params=params,
                            record=record, url=url, channel=channel, created_at=utcnow())
        db.add(note)
        made.append((user, note))
    db.flush()
    for user, note in made:
        if note.channel == "email":
            _mail_now(db, user, note)
    return [note for _user, note in made]


def _check_message(message: str, params: dict) -> None:
    if not message or len(message) > 500:
        raise ValueError(f"a notification's message is a msgid of 1 to 500 characters, not {message[:60]!r}…")
    try:
        json.dumps(params)
        message % params if params else None
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"the parameters {params!r} do not fill the message {message!r}: {exc}") from None


def _recipients(db: Session, recipients: Iterable[User | int]) -> list[User]:
    ids = list(dict.fromkeys(r.id if isinstance(r, User) else int(r) for r in recipients))
    if not ids:
        return []
    users = db.execute(select(User).where(User.id.in_(ids), User.active.is_(True))).scalars().all()
    by_id = {u.id: u for u in users}
    return [by_id[i] for i in ids if i in by_id]


def channel_for(db: Session, user: User | int, kind: str) -> str:
    """How notifications of ``kind`` reach ``user``: their choice, else the kind's default."""
    user_id = user.id if isinstance(user, User) else user
    chosen = db.execute(select(NotificationChoice.channel).where(
        NotificationChoice.user_id == user_id, NotificationChoice.kind == kind)).scalar()
    if chosen in CHANNELS:
        return chosen
    registered = notification_kinds().get(kind)
    return registered.channel if registered is not None and registered.channel in CHANNELS else "inapp"


# -- who may read the record --


def parse_record(record: str) -> tuple[str, int]:
    """``"crm.ticket:7"`` as ``("crm.ticket", 7)``; ValueError when it is not of that form."""
    kind, _sep, number = (record or "").rpartition(":")
    if not kind or not number.isdigit():
        raise ValueError(f"a record is named 'kind:id', not {record!r}")
    return kind, int(number)


def _record_kind(kind: str):
    found = record_kinds().get(kind)
    if found is None:
        raise ValueError(f"no module declares the record kind {kind!r} (as attachable or approvable): "
                         f"who may read it is unknown")
    return found


def _record_company(db: Session, record: str) -> int | None:
    """The company of the record (None for shared master data); None also when there is no such record."""
    kind, record_id = parse_record(record)
    model = _record_kind(kind).model
    if not issubclass(model, CompanyScoped):
        return None
    return db.execute(select(model.company_id).where(_key(model) == record_id)
                      .execution_options(kontor_unscoped=True)).scalar()


def _key(model):
    [column] = model.__mapper__.primary_key
    return column


def may_read(db: Session, user: User, record: str) -> bool:
    """Whether ``user`` may read ``record`` (``"kind:id"``), as a page of theirs would decide it.

    The user must be active, work in the record's company and hold the kind's read permission
    there, and the record must be found by a query run as them in that company, so the company
    scope and every record rule apply. ValueError for a kind no module declares.
    """
    kind, record_id = parse_record(record)
    target = _record_kind(kind)
    if not user.active:
        return False
    with db.no_autoflush:
        if issubclass(target.model, CompanyScoped):
            company_id = _record_company(db, record)
            if company_id is None or company_id not in user_company_ids(db, user.id):
                return False
        else:
            company_id = scope_for_user(db, user).current
        with acting_as(user, "notification check"), in_company(company_id):
            if not has_permission(target.read_permission, user):
                return False
            found = db.execute(select(target.model).where(_key(target.model) == record_id)).scalar()
    return found is not None


# -- reading --


def render(note: Notification) -> str:
    """The notification's text in the current language (its msgid translated, then filled in)."""
    params = note.params or {}
    try:
        return _(note.message, **params) if params else _(note.message)
    except (KeyError, ValueError, TypeError):  # a catalogue's translation that does not fit its msgid
        return note.message % params if params else note.message


def visible(db: Session, user: User, note: Notification) -> bool:
    """Whether ``user`` may see the text and link of ``note`` now (they may still read its record)."""
    if not note.record:
        return True
    try:
        return may_read(db, user, note.record)
    except ValueError:  # the record's module is gone: nobody can say who may read it
        return False


def unread_count(db: Session, user: User) -> int:
    """How many notifications ``user`` has not read."""
    return db.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))).scalar_one()


def inbox(db: Session, user: User, *, unread: bool = False, before: int | None = None,
          limit: int = 50) -> list[Notification]:
    """``user``'s notifications, newest first, ``limit`` of them with ids below ``before`` (keyset paging)."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    limit = max(1, min(int(limit), MAX_PAGE))
    return list(db.execute(query.order_by(Notification.id.desc()).limit(limit)).scalars())


def get_notification(db: Session, user: User, notification_id: int) -> Notification:
    """``user``'s notification ``notification_id``; NotFound for anyone else's."""
    note = db.get(Notification, notification_id) if 0 < notification_id < 2**31 else None
    if note is None or note.user_id != user.id:
        raise NotFound(_("There is no such notification."))
    return note


def mark_read(db: Session, user: User, notification_id: int) -> Notification:
    """Mark ``user``'s notification read (once: the first reading's time stays)."""
    note = get_notification(db, user, notification_id)
    if note.read_at is None:
        note.read_at = utcnow()
        db.flush()
    return note


def mark_all_read(db: Session, user: User) -> int:
    """Mark every unread notification of ``user`` read; returns how many."""
    return db.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                      .values(read_at=utcnow())).rowcount


# -- choices --


def choices(db: Session, user: User) -> dict[str, str]:
    """The channel of every registered kind for ``user`` (their choice or the kind's default), by kind."""
    chosen = dict(db.execute(select(NotificationChoice.kind, NotificationChoice.channel)
                             .where(NotificationChoice.user_id == user.id)).all())
    return {name: chosen.get(name) if chosen.get(name) in CHANNELS else kind.channel
            for name, kind in sorted(notification_kinds().items())}


def save_choices(db: Session, user: User, wanted: Mapping[str, Any]) -> dict[str, str]:
    """Set ``user``'s channel per kind from ``wanted`` (kind → "inapp" | "email" | "digest").

    Every kind and channel is checked before anything changes: an unknown one is refused with
    InvalidInput naming it. Kinds not in ``wanted`` keep their channel. Returns every kind's channel.
    """
    kinds = notification_kinds()
    for kind, channel in wanted.items():
        if kind not in kinds:
            raise InvalidInput(_("There is no notification kind %(kind)s.", kind=kind), field=str(kind))
        if channel not in CHANNELS:
            raise InvalidInput(_("Choose in the app, by e-mail at once or in the daily digest."), field=str(kind))
    existing = {c.kind: c for c in db.execute(select(NotificationChoice).where(
        NotificationChoice.user_id == user.id)).scalars()}
    for kind, channel in wanted.items():
        if kind in existing:
            existing[kind].channel = channel
        else:
            db.add(NotificationChoice(user_id=user.id, kind=kind, channel=channel))
    db.flush()
    return choices(db, user)


# -- mail --


def locale_of(db: Session, user: User) -> str:
    """The language ``user`` reads mail in: theirs, else their company's, else English."""
    return user.locale or get_company(db).locale or "en"


def absolute_url(db: Session, url: str | None) -> str:
    """``url`` as a link that works from a mail (the configured site address before a path); "" without one."""
    if not url:
        return ""
    if url.startswith("/"):
        base = mail_config(db).site_url
        return f"{base}{url}" if base else ""
    return url


def _mail_now(db: Session, user: User, note: Notification) -> None:
    if not user.email or not mail_config(db).configured:
        return  # the inbox has it all the same
    with force_locale(locale_of(db, user)):
        subject = render(note)
        link = absolute_url(db, note.url)
        body = "\n\n".join(part for part in (subject, link, _settings_footer(db)) if part)
    _send(db, user, subject, body, note.company_id, record=note.record or "")
    note.emailed_at = utcnow()


def _settings_footer(db: Session) -> str:
    where = absolute_url(db, "/notifications/settings")
    if where:
        return _("You get this message by e-mail because of your notification settings: %(url)s", url=where)
    return _("You get this message by e-mail because of your notification settings.")


def _send(db: Session, user: User, subject: str, body: str, company_id: int | None, *, record: str = "") -> None:
    # Sent as the system: the mail job is then nobody's, and its end notifies no one.
    with acting_as(None, "notification"):
        if company_id is not None:
            with in_company(company_id):
                send_mail(db, user.email, subject, body, to_name=user.full_name, record=record)
        else:
            send_mail(db, user.email, subject, body, to_name=user.full_name, record=record)


def send_digests(db: Session, *, now: datetime | None = None) -> int:
    """Mail each user one message listing their digest notifications not yet sent in one; returns
    how many mails were asked for. Each notification goes in one digest only, so a second run sends
    nothing new; an item whose record its reader may no longer read is left out (and not sent later)."""
    now = now or utcnow()
    due = db.execute(select(Notification).where(Notification.channel == "digest", Notification.digested_at.is_(None))
                     .order_by(Notification.user_id, Notification.id)).scalars().all()
    by_user: dict[int, list[Notification]] = {}
    for note in due:
        by_user.setdefault(note.user_id, []).append(note)
    sent = 0
    configured = mail_config(db).configured
    for user_id, notes in by_user.items():
        user = db.get(User, user_id)
        shown = [n for n in notes if visible(db, user, n)] if user is not None and user.active else []
        for note in notes:
            note.digested_at = now
        if shown and user.email and configured:
            _send_digest(db, user, shown)
            sent += 1
    db.flush()
    return sent


def _send_digest(db: Session, user: User, notes: list[Notification]) -> None:
    with force_locale(locale_of(db, user)):
        subject = _("Your Kontor notifications: %(count)d new", count=len(notes))
        lines = []
        for note in notes:
            link = absolute_url(db, note.url)
            lines.append(f"- {render(note)}" + (f"\n  {link}" if link else ""))
        body = "\n\n".join([_("Hello %(name)s,", name=user.full_name or user.username), "\n".join(lines),
                            _settings_footer(db)])
    _send(db, user, subject, body, None, record=f"core.user:{user.id}")


# -- what the reader sees --


def shown(db: Session, user: User, note: Notification) -> dict[str, Any]:
    """``note`` as ``user`` sees it in the inbox and the API: its text in their language and its
    link, or neither (``hidden``) when it is about a record they may no longer read."""
    hidden = not visible(db, user, note)
    return {"id": note.id, "kind": note.kind, "text": None if hidden else render(note),
            "url": None if hidden else note.url, "record": None if hidden else note.record, "hidden": hidden,
            "read": note.read_at is not None, "created_at": note.created_at, "read_at": note.read_at}

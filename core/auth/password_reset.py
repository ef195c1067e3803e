"""Forgot password: a signed, expiring, single-use link sent by mail, and setting a new password with it.

The link's token names the user and a fingerprint of their password hash, signed with the
instance's secret; setting a new password changes the hash, so a link works once. Asking for a
link always gets the same answer, whether an account exists or not, and is throttled per
address and per name asked for.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from flask_babel import force_locale
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.actor import acting_as
from core.audit.recorder import record_event
from core.auth.models import LoginThrottle, User
from core.auth.services import AuthError, set_password
from core.company.services import get_company
from core.db import utcnow
from core.i18n import gettext as _
from core.mail.services import send_mail
from core.mail.settings import mail_configured

SALT = "kontor.password-reset"
#: How long a link works.
LINK_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class ResetThrottle:
    """How many links may be asked for per address and per name in ``window``, and the pause after."""

    max_requests: int = 5
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=5)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def make_token(secret: str, user: User) -> str:
    """The token of a reset link for ``user``: signed, stamped with the time, bound to the current password."""
    return URLSafeTimedSerializer(secret, salt=SALT).dumps([user.id, _fingerprint(user)])


def user_of_token(db: Session, secret: str, token: str, max_age: timedelta = LINK_LIFETIME) -> User:
    """The active user a valid, unexpired, unused token names; AuthError on ``token`` otherwise."""
    refused = AuthError(_("This link has expired or was used already. Ask for a new one."), field="token",
                        status=400)
    try:
        value = URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=int(max_age.total_seconds()))
    except (SignatureExpired, BadSignature):
        raise refused from None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)):
        raise refused
    user = db.get(User, value[0])
    if user is None or not user.active or value[1] != _fingerprint(user):
        raise refused
    return user


def _throttled(db: Session, keys: list[str], rule: ResetThrottle) -> bool:
    """Count one request under each of ``keys``; True when any of them is over the limit."""
    now, locked = utcnow(), False
    for key in keys:
        row = db.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_start=now)
            db.add(row)
        if row.locked_until is not None and row.locked_until > now:
            locked = True
            continue
        if now - row.window_start > rule.window:
            row.failures, row.window_start, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures > rule.max_requests:
            row.locked_until = now + rule.lock
            locked = True
    db.flush()
    return locked


def request_reset(db: Session, identifier: str, *, secret: str, link_for: Callable[[str], str], address: str,
                  rule: ResetThrottle = ResetThrottle()) -> None:
    """Mail a reset link to each active user whose user name or e-mail address is ``identifier``.

    Nothing tells the caller whether such a user exists: no user, no address, or mail not set up
    all end the same way. Too many requests from ``address`` or for ``identifier`` are refused
    (AuthError, 429) whoever they name. ``link_for(token)`` makes the link's address.
    """
    identifier = " ".join((identifier or "").split())[:254]
    if not identifier:
        raise AuthError(_("Enter your user name or e-mail address."), field="identifier")
    if _throttled(db, [f"reset-addr:{address}", f"reset-name:{identifier.lower()}"], rule):
        record_event(db, "password.reset_locked", changes={"identifier": [None, identifier], "address": [None, address]})
        raise AuthError(_("Too many requests. Try again in a few minutes."), field="identifier", status=429)
    wanted = identifier.lower()
    users = db.execute(select(User).where(User.active.is_(True), User.email != "",
                                          or_(func.lower(User.username) == wanted, func.lower(User.email) == wanted))
                       .order_by(User.id)).scalars().all()
    record_event(db, "password.reset_request", changes={"identifier": [None, identifier], "address": [None, address],
                                                         "users": [None, [u.id for u in users]]})
    if not users or not mail_configured(db):
        return
    for user in users:
        _send_link(db, user, link_for(make_token(secret, user)))


def _send_link(db: Session, user: User, link: str) -> None:
    locale = user.locale or get_company(db).locale or "en"
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    with force_locale(locale):
        subject = _("Reset your Kontor password")
        body = _("Hello %(name)s,\n\nsomeone (we hope you) asked to reset the password of your Kontor account "
                 "%(username)s. Open this link within %(minutes)d minutes to choose a new password:\n\n%(link)s\n\n"
                 "The link works once. If you did not ask for it, ignore this message: your password stays as it is.",
                 name=user.full_name or user.username, username=user.username, minutes=minutes, link=link)
    with acting_as(None, "password reset"):
        send_mail(db, user.email, subject, body, to_name=user.full_name, record=f"core.user:{user.id}")


def reset_password_with_token(db: Session, secret: str, token: str, password: str, confirm: str) -> User:
    """Set the password of the user ``token`` names (see :func:`user_of_token`); every session of
    theirs ends and the link stops working. Audited."""
    user = user_of_token(db, secret, token)
    if password != confirm:
        raise AuthError(_("The two passwords differ."), field="confirm")
    set_password(db, user, password)
    with acting_as(user, "password reset"):
        record_event(db, "password.reset_by_link", table_name="core_user", record_id=user.id)
    return user

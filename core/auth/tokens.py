"""Personal API tokens: shown once, stored as SHA-256, revocable."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.auth.models import ApiToken, User
from core.db import utcnow
from core.errors import KontorError, NotFound
from core.i18n import gettext as _

TOKEN_PREFIX = "kt_"
LAST_USED_RESOLUTION = timedelta(hours=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Session, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the record and the secret (shown only this once)."""
    name = (name or "").strip()
    if len(name) > 120:
        raise KontorError(_("Use at most %(n)d characters.", n=120), field="name", status=422)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name or _("API token"), token_hash=_digest(secret), prefix=secret[:10])
    db.add(token)
    db.flush()
    return token, secret


def valid_token(db: Session, secret: str) -> ApiToken | None:
    """The unrevoked token ``secret`` of an active user, or None."""
    token = db.execute(select(ApiToken).where(ApiToken.token_hash == _digest(secret))).scalar_one_or_none()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token


def user_for_token(db: Session, secret: str) -> User | None:
    """The active user owning the unrevoked token ``secret``, or None."""
    token = valid_token(db, secret)
    return token.user if token else None


def is_use_worth_noting(token: ApiToken) -> bool:
    """Whether ``token.last_used_at`` is stale enough to be written again (hourly resolution)."""
    return token.last_used_at is None or utcnow() - token.last_used_at >= LAST_USED_RESOLUTION


def note_use(engine, token_id: int) -> None:
    """Record that a token was used, in a transaction of its own."""
    with engine.begin() as conn:
        conn.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def revoke_token(db: Session, token: ApiToken) -> None:
    """Revoke ``token``; it stops working at once."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.flush()


def tokens_of(db: Session, user: User) -> list[ApiToken]:
    """``user``'s tokens, newest first (revoked ones included)."""
    stmt = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    return list(db.execute(stmt).scalars())


def token_of(db: Session, user: User, token_id: int) -> ApiToken:
    """``user``'s token ``token_id``; NotFound if it is not theirs or does not exist."""
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("No such token."))
    return token

"""Personal API tokens: shown once, stored as SHA-256, revocable."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.models import ApiToken, User
from core.db import utcnow

TOKEN_PREFIX = "kt_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Session, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the record and the secret (shown only this once)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name or "API token", token_hash=_digest(secret), prefix=secret[:10])
    db.add(token)
    db.flush()
    return token, secret


def user_for_token(db: Session, secret: str) -> User | None:
    """The active user owning the unrevoked token ``secret``, or None."""
    token = db.execute(select(ApiToken).where(ApiToken.token_hash == _digest(secret))).scalar_one_or_none()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token.user


def revoke_token(db: Session, token: ApiToken) -> None:
    """Revoke ``token``; it stops working at once."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.flush()

"""Users, roles and sign-in: the rules, as plain functions over a session."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.recorder import record_event
from core.auth.models import LoginThrottle, PermissionRecord, Role, RoleGrant, User
from core.auth.passwords import generate_password, hash_password, needs_rehash, verify_password
from core.db import utcnow
from core.errors import KontorError

ADMIN_ROLE = "admin"
MIN_PASSWORD_LENGTH = 10


class AuthError(KontorError):
    """Signing in or managing users failed; ``field`` names the input at fault."""


def new_nonce() -> str:
    """A fresh session nonce: changing it ends every session of the user."""
    return secrets.token_hex(16)


def validate_password(password: str) -> None:
    """Refuse passwords that are too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password")


def create_user(
    db: Session,
    username: str,
    *,
    password: str | None = None,
    full_name: str = "",
    email: str = "",
    roles: list[str] = (),
    locale: str = "",
) -> tuple[User, str]:
    """Create a user with ``roles``; returns the user and their password (generated if not given)."""
    username = username.strip()
    if not username or len(username) > 80 or any(c.isspace() for c in username):
        raise AuthError("A user name is required, without spaces.", field="username")
    if db.execute(select(User.id).where(func.lower(User.username) == username.lower())).first():
        raise AuthError(f"The user name {username!r} is taken.", field="username")
    password = password or generate_password()
    validate_password(password)
    found = {r.name: r for r in db.execute(select(Role).where(Role.name.in_(list(roles)))).scalars()}
    missing = [r for r in roles if r not in found]
    if missing:
        raise AuthError(f"No such role: {', '.join(missing)}.", field="roles")
    user = User(
        username=username, full_name=full_name, email=email, password_hash=hash_password(password),
        session_nonce=new_nonce(), locale=locale, active=True, roles=[found[r] for r in roles],
    )
    db.add(user)
    db.flush()
    return user, password


def set_password(db: Session, user: User, password: str) -> None:
    """Change ``user``'s password and end their other sessions."""
    validate_password(password)
    user.password_hash = hash_password(password)
    user.session_nonce = new_nonce()
    db.flush()


def set_active(db: Session, user: User, active: bool) -> None:
    """Activate or deactivate ``user``; deactivation ends their sessions and tokens at once."""
    user.active = active
    if not active:
        user.session_nonce = new_nonce()
    db.flush()


def ensure_admin_role(db: Session) -> Role:
    """The ``admin`` role, which holds every registered permission."""
    role = db.execute(select(Role).where(Role.name == ADMIN_ROLE)).scalar_one_or_none()
    if role is None:
        role = Role(name=ADMIN_ROLE, title="Administrator", description="Every permission of every module.")
        db.add(role)
        db.flush()
    return role


def ensure_role(db: Session, name: str, title: str = "", description: str = "", module: str = "core") -> Role:
    """The role ``name``, created if it does not exist yet."""
    role = db.execute(select(Role).where(Role.name == name)).scalar_one_or_none()
    if role is None:
        role = Role(name=name, title=title or name.replace("_", " ").title(), description=description, module=module)
        db.add(role)
        db.flush()
    return role


def register_permissions(db: Session, module: str, permissions, roles=()) -> None:
    """Record ``module``'s permissions and grant them to their default roles and to ``admin``.

    ``roles`` are the :class:`~core.contrib.Role` the module creates.
    """
    for role in roles:
        ensure_role(db, role.name, str(role.title), str(role.description), module=module)
    admin = ensure_admin_role(db)
    for perm in permissions:
        if db.get(PermissionRecord, perm.name) is None:
            db.add(PermissionRecord(name=perm.name, module=perm.module, description=str(perm.description)))
    db.flush()
    for perm in permissions:
        for role_name in {ADMIN_ROLE, *perm.default_roles}:
            role = admin if role_name == ADMIN_ROLE else ensure_role(db, role_name, module=module)
            if perm.name not in role.permission_names:
                role.grants.append(RoleGrant(permission=perm.name))
    db.flush()


def grant(db: Session, role: Role, permission: str) -> None:
    """Grant ``permission`` to ``role`` (audited)."""
    if db.get(PermissionRecord, permission) is None:
        raise AuthError(f"No such permission: {permission}.", field="permission")
    if permission not in role.permission_names:
        role.grants.append(RoleGrant(permission=permission))
        db.flush()
        record_event(db, "permission.grant", table_name="core_role", record_id=role.id,
                     changes={"permission": [None, permission], "role": [role.name, role.name]})


def revoke(db: Session, role: Role, permission: str) -> None:
    """Take ``permission`` from ``role`` (audited)."""
    for g in list(role.grants):
        if g.permission == permission:
            role.grants.remove(g)
            db.flush()
            record_event(db, "permission.revoke", table_name="core_role", record_id=role.id,
                         changes={"permission": [permission, None], "role": [role.name, role.name]})


@dataclass(frozen=True)
class ThrottleRule:
    """How many failures in how long lock a user name or address out, and for how long."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=5)


def _throttle_keys(username: str, address: str) -> list[str]:
    return [f"user:{username.strip().lower()}", f"addr:{address}"]


def locked_out(db: Session, username: str, address: str) -> bool:
    """Whether sign-in is locked for ``username`` or ``address`` after too many failures."""
    now = utcnow()
    for key in _throttle_keys(username, address):
        row = db.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            return True
    return False


def _note_failure(db: Session, username: str, address: str, rule: ThrottleRule) -> None:
    now = utcnow()
    for key in _throttle_keys(username, address):
        row = db.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_start=now)
            db.add(row)
        if now - row.window_start > rule.window:
            row.failures, row.window_start, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= rule.max_failures:
            row.locked_until = now + rule.lock
    db.flush()


def _clear_failures(db: Session, username: str) -> None:
    row = db.get(LoginThrottle, _throttle_keys(username, "")[0])
    if row is not None:
        db.delete(row)
        db.flush()


def authenticate(db: Session, username: str, password: str, address: str, rule: ThrottleRule = ThrottleRule()) -> User:
    """The user ``username`` if ``password`` is right and sign-in is not locked; else AuthError.

    Every attempt is audited; repeated failures lock the name and the address for a while.
    """
    if locked_out(db, username, address):
        record_event(db, "login.locked", changes={"username": [None, username], "address": [None, address]})
        raise AuthError("Too many failed attempts. Try again in a few minutes.", field="username", status=429)
    user = db.execute(select(User).where(func.lower(User.username) == username.strip().lower())).scalar_one_or_none()
    if user is None or not verify_password(user.password_hash if user else None, password) or not user.active:
        _note_failure(db, username, address, rule)
        record_event(db, "login.failed", changes={"username": [None, username], "address": [None, address]})
        raise AuthError("Wrong user name or password.", field="password", status=401)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    _clear_failures(db, username)
    record_event(db, "login", table_name="core_user", record_id=user.id,
                 changes={"username": [None, user.username], "address": [None, address]})
    return user

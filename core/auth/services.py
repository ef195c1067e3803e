"""Users, roles and sign-in: the rules, as plain functions over a session."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actor import acting, acting_as
from core.audit.recorder import record_event
from core.auth.models import LoginThrottle, PermissionRecord, Role, RoleGrant, User, user_roles
from core.auth.passwords import generate_password, hash_password, needs_rehash, verify_password
from core.config import LANGUAGES
from core.db import utcnow
from core.errors import KontorError, NotFound
from core.i18n import gettext as _

ADMIN_ROLE = "admin"
MIN_PASSWORD_LENGTH = 10
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AuthError(KontorError):
    """Signing in or managing users failed; ``field`` names the input at fault."""


def new_nonce() -> str:
    """A fresh session nonce: changing it ends every session of the user."""
    return secrets.token_hex(16)


def validate_password(password: str) -> None:
    """Refuse passwords that are too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(_("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field="password")


def create_user(
    db: Session,
    username: str,
    *,
    password: str | None = None,
    full_name: str = "",
    email: str = "",
    roles: list[str] = (),
    locale: str = "",
    companies: Iterable[int] | None = None,
) -> tuple[User, str]:
    """Create a user with ``roles``, working in ``companies`` (ids; by default the default company,
    which becomes their current one); returns the user and their password (generated if not given)."""
    username = username.strip()
    if not username or len(username) > 80 or any(c.isspace() for c in username):
        raise AuthError(_("A user name is required, without spaces."), field="username")
    if db.execute(select(User.id).where(func.lower(User.username) == username.lower())).first():
        raise AuthError(_("The user name %(name)s is taken.", name=username), field="username")
    password = password or generate_password()
    validate_password(password)
    user = User(
        username=username, full_name=_clean_name(full_name), email=_clean_email(email),
        password_hash=hash_password(password), session_nonce=new_nonce(), locale=_clean_locale(locale),
        active=True, roles=roles_named(db, roles),
    )
    db.add(user)
    db.flush()
    from core.company.scope import default_company_id
    from core.company.services import set_members

    companies = [default_company_id(db)] if companies is None else list(companies)
    set_members(db, user, [c for c in companies if c])
    user.current_company_id = companies[0] if companies else None
    db.flush()
    return user, password


def _clean_name(full_name: str | None) -> str:
    full_name = (full_name or "").strip()
    if len(full_name) > 200:
        raise AuthError(_("Use at most %(n)d characters.", n=200), field="full_name")
    return full_name


def _clean_email(email: str | None) -> str:
    email = (email or "").strip()
    if email and (len(email) > 254 or not EMAIL.match(email)):
        raise AuthError(_("Enter a valid email address."), field="email")
    return email


def _clean_locale(locale: str | None) -> str:
    locale = (locale or "").strip()
    if locale and locale not in LANGUAGES:
        raise AuthError(_("Pick one of the offered languages."), field="locale")
    return locale


def roles_named(db: Session, names) -> list[Role]:
    """The roles called ``names`` (in that order); AuthError on ``roles`` naming any unknown one."""
    names = list(dict.fromkeys(names))
    found = {r.name: r for r in db.execute(select(Role).where(Role.name.in_(names))).scalars()}
    missing = [n for n in names if n not in found]
    if missing:
        raise AuthError(_("No such role: %(names)s.", names=", ".join(missing)), field="roles")
    return [found[n] for n in names]


def get_user(db: Session, user_id: int) -> User:
    """The user with ``user_id``; NotFound if there is none."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def find_user(db: Session, username: str) -> User:
    """The user called ``username`` (case-insensitive); NotFound if there is none."""
    user = db.execute(select(User).where(func.lower(User.username) == username.strip().lower())).scalar_one_or_none()
    if user is None:
        raise NotFound(_("No such user: %(name)s.", name=username), field="username")
    return user


def users_query(search: str = ""):
    """A select of users whose name, full name or email contains ``search``."""
    stmt = select(User)
    if search.strip():
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            func.lower(User.username).like(like) | func.lower(User.full_name).like(like) | func.lower(User.email).like(like)
        )
    return stmt


def _is_last_admin(db: Session, user: User) -> bool:
    """Whether ``user`` is the only active holder of the ``admin`` role."""
    if not user.active or ADMIN_ROLE not in {r.name for r in user.roles}:
        return False
    others = db.execute(
        select(func.count()).select_from(User)
        .join(user_roles, user_roles.c.user_id == User.id)
        .join(Role, Role.id == user_roles.c.role_id)
        .where(Role.name == ADMIN_ROLE, User.active.is_(True), User.id != user.id)
    ).scalar_one()
    return others == 0


def update_user(
    db: Session,
    user: User,
    *,
    full_name: str | None = None,
    email: str | None = None,
    locale: str | None = None,
    roles: list[str] | None = None,
    active: bool | None = None,
) -> User:
    """Change the fields given (None leaves a field as it is); deactivation ends sessions and tokens."""
    if full_name is not None:
        user.full_name = _clean_name(full_name)
    if email is not None:
        user.email = _clean_email(email)
    if locale is not None:
        user.locale = _clean_locale(locale)
    if roles is not None:
        new_roles = roles_named(db, roles)
        if ADMIN_ROLE not in {r.name for r in new_roles} and _is_last_admin(db, user):
            raise AuthError(_("The last active administrator must keep the admin role."), field="roles")
        user.roles = new_roles
    if active is not None and active != user.active:
        set_active(db, user, active)
    db.flush()
    return user


def update_own_profile(
    db: Session,
    user: User,
    *,
    full_name: str,
    email: str,
    locale: str,
    current_password: str = "",
    new_password: str = "",
) -> bool:
    """Change ``user``'s own profile; True when the password changed (their other sessions ended).

    A new e-mail address or a new password needs the current password: whoever holds a session
    left open must not be able to take the account over (a password reset goes to the e-mail).
    Nothing changes when any field is refused.
    """
    email = _clean_email(email)
    if email != user.email or new_password:
        if not current_password:
            raise AuthError(_("Enter your current password to change your email or password."),
                            field="current_password")
        if not verify_password(user.password_hash, current_password):
            raise AuthError(_("The current password is wrong."), field="current_password")
    update_user(db, user, full_name=full_name, email=email, locale=locale)
    if new_password:
        try:
            set_password(db, user, new_password)
        except AuthError as exc:
            raise AuthError(exc.message, field="new_password") from None
    return bool(new_password)


def sign_out(db: Session, user: User) -> None:
    """End every session of ``user``: a copied session cookie opens nothing afterwards (audited)."""
    user.session_nonce = new_nonce()
    db.flush()
    record_event(db, "logout", table_name="core_user", record_id=user.id)


def reset_password(db: Session, user: User) -> str:
    """Give ``user`` a new generated password (returned, to show once) and end their sessions."""
    password = generate_password()
    set_password(db, user, password)
    record_event(db, "password.reset", table_name="core_user", record_id=user.id)
    return password


def set_password(db: Session, user: User, password: str) -> None:
    """Change ``user``'s password and end their other sessions."""
    validate_password(password)
    user.password_hash = hash_password(password)
    user.session_nonce = new_nonce()
    db.flush()


def set_active(db: Session, user: User, active: bool) -> None:
    """Activate or deactivate ``user``; deactivation ends their sessions and tokens at once.

    The last active administrator cannot be deactivated (nobody could manage users any more).
    """
    if not active and _is_last_admin(db, user):
        raise AuthError(_("The last active administrator cannot be deactivated."), field="active")
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
        raise AuthError(_("No such permission: %(name)s.", name=permission), field="permission")
    if permission not in role.permission_names:
        role.grants.append(RoleGrant(permission=permission))
        db.flush()
        record_event(db, "permission.grant", table_name="core_role", record_id=role.id,
                     changes={"permission": [None, permission], "role": [role.name, role.name]})


def revoke(db: Session, role: Role, permission: str) -> None:
    """Take ``permission`` from ``role`` (audited); the ``admin`` role keeps every permission."""
    if role.name == ADMIN_ROLE:
        raise AuthError(_("The admin role always holds every permission."), field="permission")
    for g in list(role.grants):
        if g.permission == permission:
            role.grants.remove(g)
            db.flush()
            record_event(db, "permission.revoke", table_name="core_role", record_id=role.id,
                         changes={"permission": [permission, None], "role": [role.name, role.name]})


def set_role_permissions(db: Session, role: Role, permissions) -> None:
    """Make ``role`` hold exactly ``permissions``: each grant and revoke is audited."""
    wanted = set(permissions)
    unknown = sorted(wanted - set(db.execute(select(PermissionRecord.name)).scalars()))
    if unknown:
        raise AuthError(_("No such permission: %(name)s.", name=", ".join(unknown)), field="permissions")
    current = role.permission_names
    if role.name == ADMIN_ROLE and current - wanted:
        raise AuthError(_("The admin role always holds every permission."), field="permissions")
    for name in sorted(wanted - current):
        grant(db, role, name)
    for name in sorted(current - wanted):
        revoke(db, role, name)


def get_role(db: Session, role_id: int) -> Role:
    """The role with ``role_id``; NotFound if there is none."""
    role = db.get(Role, role_id)
    if role is None:
        raise NotFound(_("No such role."))
    return role


def all_roles(db: Session) -> list[Role]:
    """Every role, by name."""
    return list(db.execute(select(Role).order_by(Role.name)).scalars())


def all_permissions(db: Session) -> list[PermissionRecord]:
    """Every registered permission, by module and name."""
    return list(db.execute(select(PermissionRecord).order_by(PermissionRecord.module, PermissionRecord.name)).scalars())


def _clean_role_text(title: str | None, description: str | None) -> tuple[str, str]:
    title, description = (title or "").strip(), (description or "").strip()
    if len(title) > 120:
        raise AuthError(_("Use at most %(n)d characters.", n=120), field="title")
    if len(description) > 300:
        raise AuthError(_("Use at most %(n)d characters.", n=300), field="description")
    return title, description


def create_role(db: Session, name: str, title: str = "", description: str = "", permissions=()) -> Role:
    """Create a role called ``name`` (lower case letters, digits, ``_``) holding ``permissions``."""
    name = (name or "").strip()
    if not ROLE_NAME.match(name):
        raise AuthError(_("Use lower case letters, digits and _, starting with a letter."), field="name")
    if db.execute(select(Role.id).where(Role.name == name)).first():
        raise AuthError(_("The role %(name)s exists already.", name=name), field="name")
    title, description = _clean_role_text(title, description)
    role = Role(name=name, title=title or name.replace("_", " ").title(), description=description, module="core")
    db.add(role)
    db.flush()
    set_role_permissions(db, role, permissions)
    return role


def update_role(db: Session, role: Role, *, title: str | None = None, description: str | None = None,
                permissions=None) -> Role:
    """Change a role's title, description or permissions (None leaves one as it is)."""
    if title is not None or description is not None:
        new_title, new_description = _clean_role_text(
            role.title if title is None else title, role.description if description is None else description
        )
        role.title, role.description = new_title or role.title, new_description
    if permissions is not None:
        set_role_permissions(db, role, permissions)
    db.flush()
    return role


def delete_role(db: Session, role: Role) -> None:
    """Delete ``role``; its users lose its permissions. The ``admin`` role cannot be deleted."""
    if role.name == ADMIN_ROLE:
        raise AuthError(_("The admin role cannot be deleted."), field="name")
    db.delete(role)
    db.flush()


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
        raise AuthError(_("Too many failed attempts. Try again in a few minutes."), field="username", status=429)
    user = db.execute(select(User).where(func.lower(User.username) == username.strip().lower())).scalar_one_or_none()
    if user is None or not verify_password(user.password_hash if user else None, password) or not user.active:
        _note_failure(db, username, address, rule)
        record_event(db, "login.failed", changes={"username": [None, username], "address": [None, address]})
        raise AuthError(_("Wrong user name or password."), field="password", status=401)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    _clear_failures(db, username)
    with acting_as(user, acting().origin):
        record_event(db, "login", table_name="core_user", record_id=user.id,
                     changes={"username": [None, user.username], "address": [None, address]})
    return user

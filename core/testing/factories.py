"""Factories of the core's records for tests: users (with roles or permissions), parties and the company.

Each goes through the core's own services, so what it makes is valid, audited and exactly what the
application would have made. The ``db`` functions flush and leave committing to the caller; the
``app`` ones (``make_user``) commit, for tests that then sign in over HTTP.
"""
from __future__ import annotations

import itertools
from typing import Any, Iterable

from sqlalchemy.orm import Session

from core.auth.models import Role, User
from core.company.models import Company
from core.parties.models import Party

#: The password every factory-made user gets unless the test gives one.
PASSWORD = "correct horse battery"

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    """``prefix`` with a number no other call in this process got (``user_7``)."""
    return f"{prefix}_{next(_serial)}"


def role_with(db: Session, permissions: Iterable[str], name: str | None = None) -> Role:
    """A new role holding exactly ``permissions`` (each must be registered: its module installed)."""
    from core.auth.services import create_role

    return create_role(db, name or unique("test_role"), permissions=sorted(set(permissions)))


def user(db: Session, username: str | None = None, *, roles: Iterable[str] = (), permissions: Iterable[str] = (),
         password: str = PASSWORD, **fields: Any) -> User:
    """A new active user holding ``roles`` and, through a role of their own, ``permissions``.

    ``fields`` are the other arguments of :func:`core.auth.services.create_user` (``full_name``,
    ``email``, ``locale``, ``companies``: the ids of the companies they work in, the first being
    their current one; by default the default company).
    """
    from core.auth.services import create_user

    roles = list(roles)
    permissions = list(permissions)
    if permissions:
        roles.append(role_with(db, permissions).name)
    made, _ = create_user(db, username or unique("user"), password=password, roles=roles, **fields)
    return made


def make_user(app, username: str, roles: list[str], password: str = PASSWORD) -> tuple[int, str]:
    """Create and commit a user with ``roles`` in ``app``'s database; returns (user id, password)."""
    from core.auth.services import create_user
    from core.db import session

    with app.app_context():
        made, password = create_user(session, username, password=password, roles=roles)
        session.commit()
        return made.id, password


def party(db: Session, name: str | None = None, **fields: Any) -> Party:
    """A new party (a company unless ``kind="person"``), validated as the party form validates it.

    ``fields`` are those of the party schema: ``email``, ``vat_id``, ``country``, ``tags`` (names) …
    """
    from core.parties.services import create_party

    return create_party(db, {"name": name or unique("Party"), **fields})


def group_company(db: Session, legal_name: str | None = None, *, country: str = "DE", base_currency: str = "EUR",
                  locale: str = "de", members: Iterable[User] = (), **fields: Any) -> Company:
    """A new company of the group (by default a German one), made as an admin makes it: every
    installed module loads its default data for it. ``members`` may work in it."""
    from core.company.services import create_company

    return create_company(db, {"legal_name": legal_name or unique("Tochter GmbH"), "country": country,
                               "base_currency": base_currency, "locale": locale, **fields}, members=members)


def company(db: Session, **changes: Any) -> Company:
    """The current company (by default the one ``kontor init`` made), first changed by ``changes`` when given.

    A change goes through the company settings service, so a locked field is refused as on the page.
    """
    from core.company.services import get_company, update_company

    if changes:
        return update_company(db, changes, partial=True)
    return get_company(db)

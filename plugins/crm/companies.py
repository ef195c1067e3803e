"""The group's companies as the CRM's demo and data loaders walk them.

A lead, a pipeline, a ticket or a campaign belongs to one company of the group (see the migration
``crm_0004``); loaders that fill every company go through :func:`each_company`, and pick the people
who work for it with :func:`members`.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import Company, User, in_company, list_companies


def each_company(db: Session) -> Iterator[Company]:
    """Every active company of the group, the default one first, each inside ``core.in_company``."""
    companies = sorted(list_companies(db, active_only=True), key=lambda c: (not c.is_default, c.id))
    for company in companies:
        with in_company(company.id):
            yield company


def members(db: Session, company: Company, usernames: Iterable[str] | None = None) -> list[User]:
    """The active users who work in ``company`` (only those named ``usernames``, when given), by id."""
    query = select(User).where(User.active.is_(True)).order_by(User.id)
    if usernames is not None:
        query = query.where(User.username.in_(list(usernames)))
    return [user for user in db.execute(query).scalars()
            if company.id in {c.id for c in list_companies(db, user=user)}]

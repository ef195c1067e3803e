"""CRM: leads, pipeline, activities, tickets and campaigns — Kontor's front office.

This package is the CRM's public API for other modules (see docs/crm.md, "Public API for other
modules"). A module that depends on ``crm`` imports these names from ``plugins.crm`` alone:

- :func:`get_opportunity` and :func:`opportunities_of_party` read opportunities, obeying the CRM's
  record rules for the acting user (``core.current_actor()``) or the user given;
- :func:`opportunity_owners` lists the users an opportunity may be given to, and :func:`owner_of`
  tells who owns one;
- won and lost opportunities are announced by the hooks ``crm_opportunity_won(opportunity,
  session)`` and ``crm_opportunity_lost(opportunity, session)`` (and a qualified lead by
  ``crm_lead_converted``, a resolved ticket by ``crm_ticket_resolved``): implement them with
  ``@hookimpl``; their specifications are :mod:`plugins.crm.hookspecs`.

The functions import the CRM's areas when called, so importing this package loads nothing else.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core import User
    from plugins.crm.pipeline.models import Opportunity

__all__ = ["get_opportunity", "opportunities_of_party", "opportunity_owners", "owner_of"]


def get_opportunity(session: Session, opportunity_id: Any, user: User | None = None) -> Opportunity:
    """The opportunity ``opportunity_id`` if ``user`` (default: the acting user) may see it.

    Raises ``core.NotFound`` when there is none or the user may not see it. The opportunity has
    ``party_id``, ``title``, ``expected_revenue`` (``Decimal``), ``currency``, ``expected_close``,
    ``owner_id``, ``stage`` (with ``is_won`` and ``is_lost``), ``closed_at`` and ``lost_reason``.
    """
    from plugins.crm.pipeline import services

    return services.get_opportunity(session, opportunity_id, user)


def opportunities_of_party(session: Session, party_id: int, user: User | None = None, *,
                           limit: int = 10) -> list[Opportunity]:
    """The open opportunities of party ``party_id`` that ``user`` (default: the acting user) may see,
    newest first, at most ``limit``."""
    from plugins.crm.pipeline import services

    return services.open_opportunities_of_party(session, party_id, user, limit=limit)


def opportunity_owners(session: Session) -> list[tuple[int, str]]:
    """``(user id, name)`` of the active users an opportunity may be given to, by name."""
    from plugins.crm.pipeline import services

    return services.user_choices(session)


def owner_of(session: Session, opportunity: Opportunity) -> User | None:
    """The user who owns ``opportunity`` (the salesperson), or None when no one does."""
    from core import User

    return session.get(User, opportunity.owner_id) if opportunity.owner_id is not None else None

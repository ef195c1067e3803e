"""Helpers of the approval tests: the ``expenses`` fixture plugin's claims, users and approval rules."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.testing import factories

KIND = "expenses.claim"
#: what a requester (and anyone who reads claims) holds
CLAIMS = ["expenses.claim.read", "expenses.claim.request"]


def claim(db, title: str = "Taxi to the fair", amount: str = "1200.00", **fields):
    """A new expense claim of the current company."""
    from expenses.models import Claim

    made = Claim(title=title, amount=Decimal(amount), **fields)
    db.add(made)
    db.flush()
    return made


def person(db, name: str, *, roles=(), permissions=CLAIMS, manager=None, **fields):
    """A user called ``name`` holding ``roles`` and ``permissions`` (claims by default), with ``manager``."""
    made = factories.user(db, name, roles=roles, permissions=permissions, full_name=name.title(), **fields)
    if manager is not None:
        made.manager_id = manager.id
        db.flush()
    return made


def rule(db, name: str, steps: list[dict], condition: str = "", *, sequence: int = 10, kind: str = KIND):
    """An approval rule saved through the service (as the system, which may do anything)."""
    from core.approvals import chains
    from core.actor import acting_as

    admin = _any_admin(db)
    with acting_as(admin):
        return chains.save_rule(db, None, {"kind": kind, "name": name, "condition": condition, "active": True,
                                           "sequence": sequence, "steps": steps})


def _any_admin(db):
    from core.auth.models import Role, User, user_roles

    found = db.scalar(select(User).join(user_roles, user_roles.c.user_id == User.id)
                      .join(Role, Role.id == user_roles.c.role_id).where(Role.name == "admin").limit(1))
    return found or factories.user(db, factories.unique("root"), roles=["admin"])


def by_user(username: str) -> dict:
    return {"approver": "user", "user": username}


def by_role(role: str, **more) -> dict:
    return {"approver": "role", "role": role, **more}


def by_manager(**more) -> dict:
    return {"approver": "manager", **more}


def states(request) -> list[tuple[str, str, str]]:
    """The request's tasks as (rule, approver, state), in order."""
    return [(t.rule_name, t.approver_label, t.state) for t in request.tasks]

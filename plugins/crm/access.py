"""Record rules: who sees which leads and opportunities.

Every query behind a list, search, board, export, report, API endpoint or panel that returns
leads or opportunities goes through :func:`visible`, so the rule holds wherever the rows surface.
"""
from flask_login import current_user
from sqlalchemy import Select, false

from core import has_permission

from plugins.crm.permissions import LEAD_READ_ALL, OPPORTUNITY_READ_ALL

READ_ALL = {"lead": LEAD_READ_ALL, "opportunity": OPPORTUNITY_READ_ALL}


def sees_all(kind: str, user=None) -> bool:
    """Whether ``user`` (default: the signed-in user) sees every ``kind`` ("lead" or "opportunity")."""
    return has_permission(READ_ALL[kind], user=user)


def visible(query: Select, kind: str, owner_column, user=None) -> Select:
    """``query`` narrowed to the rows of ``kind`` that ``user`` may see (their own, unless they see all)."""
    user = user if user is not None else current_user
    if sees_all(kind, user):
        return query
    if user is None or not getattr(user, "is_authenticated", False):
        return query.where(false())
    return query.where(owner_column == user.id)


def may_see(record, kind: str, user=None) -> bool:
    """Whether ``user`` may see one lead or opportunity ``record`` (its ``owner_id`` decides)."""
    user = user if user is not None else current_user
    if sees_all(kind, user):
        return True
    return bool(getattr(user, "is_authenticated", False)) and record.owner_id == user.id

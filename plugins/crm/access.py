"""Record rules: who sees which leads, opportunities and activities, and who may change an activity.

Every query behind a list, search, board, export, report, API endpoint or panel that returns
leads or opportunities goes through :func:`visible`, so the rule holds wherever the rows surface.

Activities have one rule, :func:`activity_rule`, a SQL condition for "``user`` may see" or
"``user`` may change" an activity. Lists, exports, timelines and widgets filter with it
(:func:`visible_activities`); a single record is checked with the same condition
(:func:`may_see_activity`, :func:`may_change_activity`), so no path can drift from another:

- an activity about a lead or an opportunity follows that record: who may see the lead (the
  opportunity) may see the activity, who may change it may change the activity;
- an activity only about a customer is seen by whoever may see the customer (``core.party.read``),
  and changed, done or deleted only by its owner (who created it), its assignee, or a holder of
  ``crm.activity.manage_all`` (the sales manager);
- seeing needs ``crm.activity.read`` and changing ``crm.activity.write`` besides.

Every rule takes the user as an argument that defaults to the acting user (``core.current_actor()``),
never Flask's ``current_user``: a command run with ``kontor --as`` or a job inside
``acting_as(user)`` gets exactly the rows that user's pages show.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true
from sqlalchemy.orm import object_session

from core import current_actor, has_permission

from plugins.crm.permissions import (ACTIVITY_MANAGE_ALL, ACTIVITY_READ, ACTIVITY_WRITE, LEAD_READ_ALL, LEAD_WRITE,
                                     OPPORTUNITY_READ_ALL, OPPORTUNITY_WRITE)

READ_ALL = {"lead": LEAD_READ_ALL, "opportunity": OPPORTUNITY_READ_ALL}
WRITE = {"lead": LEAD_WRITE, "opportunity": OPPORTUNITY_WRITE}
#: who may see a customer (parties are the core's master data, shared by the whole company)
PARTY_READ = "core.party.read"
ACTIONS = ("see", "change")


def _signed_in(user) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def sees_all(kind: str, user=None) -> bool:
    """Whether ``user`` (default: the acting user, ``core.current_actor()``) sees every ``kind`` ("lead" or "opportunity")."""
    return has_permission(READ_ALL[kind], user=user)


def visible(query: Select, kind: str, owner_column, user=None) -> Select:
    """``query`` narrowed to the rows of ``kind`` that ``user`` may see (their own, unless they see all)."""
    user = user if user is not None else current_actor()
    if sees_all(kind, user):
        return query
    if not _signed_in(user):
        return query.where(false())
    return query.where(owner_column == user.id)


def may_see(record, kind: str, user=None) -> bool:
    """Whether ``user`` may see one lead or opportunity ``record`` (its ``owner_id`` decides)."""
    user = user if user is not None else current_actor()
    if sees_all(kind, user):
        return True
    return _signed_in(user) and record.owner_id == user.id


def may_see_party(user=None) -> bool:
    """Whether ``user`` may see customers (and so a customer's timeline)."""
    return has_permission(PARTY_READ, user=user if user is not None else current_actor())


def activity_rule(user=None, action: str = "see") -> ColumnElement[bool]:
    """The record rule of activities: a condition on ``crm_activity`` rows ``user`` may ``action``.

    ``action`` is "see" or "change" (edit, mark done or reopen, delete); ``user`` defaults to the
    acting user. See the module's docstring for the rule itself.
    """
    from plugins.crm.activities.models import Activity
    from plugins.crm.leads.models import Lead
    from plugins.crm.pipeline.models import Opportunity

    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    user = user if user is not None else current_actor()
    if not _signed_in(user):
        return false()
    if not has_permission(ACTIVITY_READ if action == "see" else ACTIVITY_WRITE, user=user):
        return false()

    def follows(column, model, kind: str):
        # an activity about this kind of record obeys the record's own rule
        if action == "change" and not has_permission(WRITE[kind], user=user):
            return column.is_(None)
        if sees_all(kind, user):
            return true()
        return or_(column.is_(None), column.in_(select(model.id).where(model.owner_id == user.id)))

    about_record = or_(Activity.lead_id.is_not(None), Activity.opportunity_id.is_not(None))
    on_records = and_(about_record, follows(Activity.lead_id, Lead, "lead"),
                      follows(Activity.opportunity_id, Opportunity, "opportunity"))
    if has_permission(ACTIVITY_MANAGE_ALL, user=user):
        on_customer = true()
    else:
        on_customer = or_(Activity.created_by_id == user.id, Activity.assignee_id == user.id)
        if action == "see" and may_see_party(user):
            on_customer = or_(on_customer, Activity.party_id.is_not(None))
    return or_(on_records, and_(~about_record, on_customer))


def visible_activities(query: Select, user=None, action: str = "see") -> Select:
    """``query`` (over :class:`~plugins.crm.activities.models.Activity`) narrowed by :func:`activity_rule`."""
    return query.where(activity_rule(user, action))


def allowed_activity_ids(db, ids: Iterable[int], user=None, action: str = "see") -> set[int]:
    """Which of the activities ``ids`` ``user`` may ``action`` (one query, for a page of rows)."""
    from plugins.crm.activities.models import Activity

    ids = {int(i) for i in ids if i is not None}
    if not ids:
        return set()
    query = select(Activity.id).where(Activity.id.in_(ids), activity_rule(user, action))
    return set(db.execute(query).scalars())


def _may(activity, user, action: str) -> bool:
    db = object_session(activity)
    if db is None or activity.id is None:
        return False
    return activity.id in allowed_activity_ids(db, [activity.id], user, action)


def may_see_activity(activity, user=None) -> bool:
    """Whether ``user`` may see the (stored) ``activity``, by :func:`activity_rule`."""
    return _may(activity, user, "see")


def may_change_activity(activity, user=None) -> bool:
    """Whether ``user`` may edit, tick off, reopen or delete the (stored) ``activity``, by :func:`activity_rule`."""
    return _may(activity, user, "change")

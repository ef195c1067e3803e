"""Record rules: who sees which leads, opportunities and activities, and who may change an activity.

A salesperson sees their own leads and opportunities; ``crm.lead.read_all`` and
``crm.opportunity.read_all`` lift that. This ownership rule is registered with the core
(:func:`record_rules`, the ``register_record_rules`` hook), which applies it with the company scope
to every ORM query the acting user's work runs (lists, search, the board, exports, reports, the
API, panels, counts and sums), so no path can skip it. The system (a job, a data loader, the
public web form) is not narrowed by it.

Explicit helpers remain where a query asks a different question than "what may the acting user
see": :func:`visible` and :func:`may_see` answer for a *given* user (a service called for another
user than the one acting; a record already in the session), and :func:`every_owner` lifts the
ownership rule (never the company scope) for the CRM's own bookkeeping that must count or move
every salesperson's records of the company: whether a stage is still in use, a party merge, the
whole segment a campaign goes to.

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

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterable, Iterator

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, false, or_, select, true
from sqlalchemy.orm import object_session

from core import RecordRule, all_companies, current_actor, has_permission

from plugins.crm.permissions import (ACTIVITY_MANAGE_ALL, ACTIVITY_READ, ACTIVITY_WRITE, LEAD_READ_ALL, LEAD_WRITE,
                                     OPPORTUNITY_READ_ALL, OPPORTUNITY_WRITE)

READ_ALL = {"lead": LEAD_READ_ALL, "opportunity": OPPORTUNITY_READ_ALL}
WRITE = {"lead": LEAD_WRITE, "opportunity": OPPORTUNITY_WRITE}
#: who may see a customer (parties are the core's master data, shared by the whole company)
PARTY_READ = "core.party.read"
ACTIONS = ("see", "change")


_owner_rule_lifted: ContextVar[bool] = ContextVar("crm_owner_rule_lifted", default=False)


def _signed_in(user) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def sees_all(kind: str, user=None) -> bool:
    """Whether ``user`` (default: the acting user, ``core.current_actor()``) sees every ``kind`` ("lead" or "opportunity")."""
    return has_permission(READ_ALL[kind], user=user)


def _acting_user_id() -> int | None:
    """The id of the signed-in acting user (None for a visitor), read when a query runs."""
    actor = current_actor()
    return actor.id if _signed_in(actor) else None


# The conditions are functions of the model with no closure, whose owner is a parameter worked out
# when the query runs: the core compiles a rule's condition once and reuses it for every user.
_LEAD_OWNER = bindparam("crm_lead_owner_id", type_=Integer(), callable_=_acting_user_id)
_OPPORTUNITY_OWNER = bindparam("crm_opportunity_owner_id", type_=Integer(), callable_=_acting_user_id)
_OWN = {
    "lead": lambda cls: cls.owner_id == _LEAD_OWNER,
    "opportunity": lambda cls: cls.owner_id == _OPPORTUNITY_OWNER,
}


def owner_condition(kind: str):
    """The ownership rule of ``kind`` ("lead" or "opportunity") as the core applies it:
    ``condition(user)`` is None when it does not narrow (the system, a user who sees all, inside
    :func:`every_owner`), else the rows the acting user owns (none for a visitor not signed in)."""

    def condition(user):
        if user is None or _owner_rule_lifted.get() or sees_all(kind, user):
            return None
        return _OWN[kind]

    return condition


def record_rules() -> list[RecordRule]:
    """The CRM's record rules for the core (``register_record_rules``): leads and opportunities by owner."""
    from plugins.crm.leads.models import Lead
    from plugins.crm.pipeline.models import Opportunity

    return [RecordRule(Lead, owner_condition("lead"), "crm: a salesperson's own leads"),
            RecordRule(Opportunity, owner_condition("opportunity"), "crm: a salesperson's own opportunities")]


@contextmanager
def every_owner() -> Iterator[None]:
    """Inside the block, the ownership rule narrows no query (the company scope still does).

    For the CRM's own bookkeeping over every salesperson's records of the company: whether a stage
    holds opportunities, repointing a merged party, the whole segment a campaign is sent to. Never
    for what a page lists.
    """
    token = _owner_rule_lifted.set(True)
    try:
        yield
    finally:
        _owner_rule_lifted.reset(token)


@contextmanager
def whole_group() -> Iterator[None]:
    """Inside the block, every company's records and every owner's: only for following a party (the
    group's shared master data) through a merge, so that no company's records keep pointing at the
    retired party. Nothing is shown from inside it."""
    with all_companies(), every_owner():
        yield


def _is_acting(user) -> bool:
    actor = current_actor()
    return actor is not None and getattr(actor, "id", None) == getattr(user, "id", object())


def visible(query: Select, kind: str, owner_column, user=None) -> Select:
    """``query`` narrowed to the rows of ``kind`` that ``user`` may see (their own, unless they see all).

    For the acting user the core's record rule (:func:`record_rules`) narrows every query already;
    the condition is added here only for another user than the one acting (or inside
    :func:`every_owner`), so a service asked about a given user answers for that user.
    """
    user = user if user is not None else current_actor()
    if sees_all(kind, user):
        return query
    if not _signed_in(user):
        return query.where(false())
    if _is_acting(user) and not _owner_rule_lifted.get():
        return query
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

"""The timeline: what happened around a party, a lead or an opportunity, newest first.

Any CRM area writes to it with :func:`record`; a page shows it by loading the ``crm.timeline``
endpoint lazily. The entries merge the timeline events with the activities linked to the record,
and leave out whatever concerns a lead or an opportunity the user may not see; the activities on
it obey the activities' own record rule (:func:`plugins.crm.access.activity_rule`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import Session

from core import KontorError, gettext as _

from plugins.crm.access import activity_rule, visible

KINDS = ("note", "stage", "lead", "ticket", "reply", "campaign", "activity", "approval")
TARGETS = ("party_id", "lead_id", "opportunity_id")


def record(db: Session, kind: str, *, title: str, body: str = "", party_id: int | None = None,
           lead_id: int | None = None, opportunity_id: int | None = None, ticket_id: int | None = None,
           campaign_id: int | None = None, user_id: int | None = None, title_args: dict | None = None):
    """Add one event to the timeline of the records it names; returns the :class:`TimelineEvent`.

    ``kind`` is one of :data:`KINDS`. With ``title_args`` (``{}`` when there are none), ``title``
    is a message marked with ``core.N_`` and translated into each reader's language when shown;
    without, it is a person's own text. The title is shortened to 200 characters; the body is kept
    whole.
    """
    from plugins.crm.activities.models import TimelineEvent

    if kind not in KINDS:
        raise KontorError(_("Unknown kind of timeline entry."), field="kind")
    title = (title or "").strip()
    if not title:
        raise KontorError(_("Write a title."), field="title")
    if len(title) > 200:
        title = title[:199] + "…"
    event = TimelineEvent(kind=kind, title=title, title_args=title_args, body=body or "", party_id=party_id,
                          lead_id=lead_id,
                          opportunity_id=opportunity_id, ticket_id=ticket_id, campaign_id=campaign_id,
                          user_id=user_id)
    db.add(event)
    db.flush()
    return event


def add_note(db: Session, *, body: str, user_id: int | None, party_id: int | None = None,
             lead_id: int | None = None, opportunity_id: int | None = None):
    """A user's note on a record's timeline; the first line is its title."""
    body = (body or "").strip()
    if not body:
        raise KontorError(_("Write a note."), field="body")
    if not (party_id or lead_id or opportunity_id):
        raise KontorError(_("Choose what the note is about."), field="body")
    first, _newline, rest = body.partition("\n")
    if len(first) > 200:  # a long first line stays whole in the body
        first, rest = first[:199] + "…", body
    return record(db, "note", title=first.strip(), body=rest.strip(), party_id=party_id,
                  lead_id=lead_id, opportunity_id=opportunity_id, user_id=user_id)


def shown_title(event) -> str:
    """An event's title in the reader's language (a person's own text as they wrote it)."""
    if event.title_args is None:
        return event.title
    return _(event.title, **event.title_args)


def user_label(user) -> str:
    """How a user is named on a page: the full name, else the username."""
    return (user.full_name or user.username) if user is not None else ""


@dataclass
class Entry:
    """One line of a timeline as a page shows it."""

    source: str  # "event" or "activity"
    id: int
    at: datetime
    kind: str
    title: str
    body: str
    user_name: str
    record: Any

    @property
    def cursor(self) -> str:
        return f"{self.at.isoformat()}|{self.source[0]}|{self.id}"


def _parse_cursor(cursor: str | None) -> tuple[datetime, str, int] | None:
    if not cursor:
        return None
    try:
        at, source, ident = cursor.split("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None or source not in ("e", "a"):
            raise ValueError
        return parsed, source, int(ident)
    except ValueError:
        raise KontorError(_("This page of the timeline does not exist."), field="before", status=400) from None


def _older(column_at, column_id, mine: str, cursor):
    """The condition "comes after ``cursor``" in the order (time desc, source desc, id desc)."""
    at, source, ident = cursor
    if mine == source:
        same = column_id < ident
    elif mine < source:  # "a" sorts after "e" in descending order
        same = true()
    else:
        same = false()
    return or_(column_at < at, and_(column_at == at, same))


def _rule_conditions(model, user):
    """Leave out entries that concern a lead or an opportunity ``user`` may not see."""
    from plugins.crm.leads.models import Lead
    from plugins.crm.pipeline.models import Opportunity

    leads = visible(select(Lead.id), "lead", Lead.owner_id, user=user)
    opportunities = visible(select(Opportunity.id), "opportunity", Opportunity.owner_id, user=user)
    return [or_(model.lead_id.is_(None), model.lead_id.in_(leads)),
            or_(model.opportunity_id.is_(None), model.opportunity_id.in_(opportunities))]


def entries(db: Session, *, user, party_id: int | None = None, lead_id: int | None = None,
            opportunity_id: int | None = None, before: str | None = None, limit: int = 20
            ) -> tuple[list[Entry], str | None]:
    """One page of the merged timeline of a record, newest first, and the cursor of the next page.

    The caller has checked that ``user`` may see the record itself; events about other leads and
    opportunities (on a party's timeline) are filtered by their record rules, and activities by
    the activities' record rule.
    """
    from plugins.crm.activities.models import Activity, TimelineEvent

    targets = {"party_id": party_id, "lead_id": lead_id, "opportunity_id": opportunity_id}
    targets = {key: value for key, value in targets.items() if value is not None}
    if len(targets) != 1:
        raise KontorError(_("Choose one party, lead or opportunity."), field="party_id", status=400)
    (key, value), = targets.items()
    cursor = _parse_cursor(before)

    events = select(TimelineEvent).where(getattr(TimelineEvent, key) == value, *_rule_conditions(TimelineEvent, user))
    activities = select(Activity).where(getattr(Activity, key) == value, activity_rule(user, "see"))
    if cursor:
        events = events.where(_older(TimelineEvent.created_at, TimelineEvent.id, "e", cursor))
        activities = activities.where(_older(Activity.created_at, Activity.id, "a", cursor))
    events = events.order_by(TimelineEvent.created_at.desc(), TimelineEvent.id.desc()).limit(limit + 1)
    activities = activities.order_by(Activity.created_at.desc(), Activity.id.desc()).limit(limit + 1)

    merged = [
        Entry("event", e.id, e.created_at, e.kind, shown_title(e), e.body, user_label(e.user), e)
        for e in db.execute(events).unique().scalars()
    ] + [
        Entry("activity", a.id, a.created_at, a.kind, a.subject, a.notes, user_label(a.assignee), a)
        for a in db.execute(activities).unique().scalars()
    ]
    merged.sort(key=lambda entry: (entry.at, entry.source, entry.id), reverse=True)
    page = merged[:limit]
    more = len(merged) > limit
    return page, (page[-1].cursor if more and page else None)

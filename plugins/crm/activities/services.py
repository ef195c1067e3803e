"""Activities: plan, log and tick off calls, meetings, emails and tasks."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from core import KontorError, NotFound, Party, User, gettext as _, utcnow

from plugins.crm.access import may_change_activity, may_see, may_see_activity, visible_activities
from plugins.crm.activities.models import KIND_LABELS, KINDS, Activity, TimelineEvent

VIEWS = ("open", "overdue", "today", "upcoming", "done", "all")


def kind_options() -> list[tuple[str, str]]:
    """(kind, label) for the activity kind picker."""
    return [(kind, str(KIND_LABELS[kind])) for kind in KINDS]


def _user_ok(db: Session, user_id: Any) -> int:
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        raise KontorError(_("Choose who does it."), field="assignee_id", status=422) from None
    user = db.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None or not user.active:
        raise KontorError(_("Choose who does it."), field="assignee_id", status=422)
    return user_id


def parse_due(value: Any, time_value: Any = None, tz: str | None = None) -> datetime | None:
    """A due time from an ISO datetime, or a date plus an optional "HH:MM" in the zone ``tz``."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    text_value = str(value).strip()
    try:
        if "T" in text_value or " " in text_value:
            parsed = datetime.fromisoformat(text_value.replace("Z", "+00:00"))
        else:
            day = date.fromisoformat(text_value)
            at = time.fromisoformat(str(time_value).strip()) if time_value not in (None, "") else time(9, 0)
            parsed = datetime.combine(day, at)
    except ValueError:
        raise KontorError(_("Enter a date as YYYY-MM-DD and a time as HH:MM."), field="due_at", status=422) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_zone(tz))
    return parsed.astimezone(timezone.utc)


def _zone(name: str | None):
    if not name:
        return timezone.utc
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # an unknown zone name falls back to UTC
        return timezone.utc


def _link_ids(db: Session, data: dict[str, Any], user) -> dict[str, int | None]:
    """The party, lead and opportunity an activity is about, checked against the record rules."""
    from plugins.crm.leads.models import Lead
    from plugins.crm.pipeline.models import Opportunity

    links: dict[str, int | None] = {}
    for key, model, kind in (("lead_id", Lead, "lead"), ("opportunity_id", Opportunity, "opportunity")):
        value = data.get(key)
        if value in (None, ""):
            links[key] = None
            continue
        try:
            record = db.get(model, int(value))
        except (TypeError, ValueError):
            record = None
        if record is None or (user is not None and not may_see(record, kind, user=user)):
            raise KontorError(_("Choose a record you can see."), field=key, status=422)
        links[key] = record.id
        if not data.get("party_id") and getattr(record, "party_id", None):
            links.setdefault("party_id", record.party_id)
    party = data.get("party_id")
    if party not in (None, ""):
        try:
            party = int(party)
        except (TypeError, ValueError):
            raise KontorError(_("Choose a customer."), field="party_id", status=422) from None
        if not 0 < party < 2**31 or db.get(Party, party) is None:
            raise KontorError(_("Choose a customer."), field="party_id", status=422)
        links["party_id"] = party
    links.setdefault("party_id", None)
    if not any(links.values()):
        raise KontorError(_("Link the activity to a customer, a lead or an opportunity."), field="party_id",
                          status=422)
    return links


def _clean(db: Session, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if creating or "kind" in data:
        if data.get("kind") not in KINDS:
            raise KontorError(_("Choose call, meeting, email or task."), field="kind", status=422)
        clean["kind"] = data["kind"]
    if creating or "subject" in data:
        subject = str(data.get("subject") or "").strip()
        if not subject:
            raise KontorError(_("Say what it is about."), field="subject", status=422)
        if len(subject) > 200:
            raise KontorError(_("A subject has at most 200 characters."), field="subject", status=422)
        clean["subject"] = subject
    if "due_at" in data or "due_date" in data:
        raw = data.get("due_at") if data.get("due_at") not in (None, "") else data.get("due_date")
        clean["due_at"] = parse_due(raw, data.get("due_time"), data.get("tz"))
    if creating or "assignee_id" in data:
        clean["assignee_id"] = _user_ok(db, data.get("assignee_id"))
    if "notes" in data:
        notes = str(data.get("notes") or "")
        if len(notes) > 20000:
            raise KontorError(_("Notes have at most 20,000 characters."), field="notes", status=422)
        clean["notes"] = notes
    if "done" in data:
        clean["done"] = data["done"] in (True, 1, "1", "true", "on", "yes")
    return clean


def create_activity(db: Session, data: dict[str, Any], *, user=None) -> Activity:
    """Plan (or log, with ``done``) an activity linked to a party and/or a lead and/or an opportunity.

    ``data``: kind, subject, due_at (or due_date + due_time), assignee_id, notes, done, party_id,
    lead_id, opportunity_id. ``user`` is who creates it (its owner; their record rules apply to the
    links). The assignee must be someone who may see the activity.
    """
    clean = _clean(db, data, creating=True)
    links = _link_ids(db, data, user)
    activity = Activity(**clean, **links, created_by_id=getattr(user, "id", None))
    if activity.done:
        activity.done_at = utcnow()
    activity.notes = activity.notes or ""
    db.add(activity)
    db.flush()
    _assignee_sees(activity)
    return activity


def _assignee_sees(activity: Activity) -> None:
    """Refuse an assignee who could not see the activity (it would vanish from their own lists)."""
    if not may_see_activity(activity, activity.assignee):
        raise KontorError(_("%(name)s may not see what this activity is about; choose someone who may.",
                            name=activity.assignee.full_name or activity.assignee.username),
                          field="assignee_id", status=422)


def refuse_unless_may_change(activity: Activity, user) -> None:
    """Raise a 403 :class:`KontorError` unless ``user`` may change ``activity`` (see :mod:`plugins.crm.access`)."""
    if not may_change_activity(activity, user):
        raise KontorError(_("You may see this activity but not change it."), status=403)


def update_activity(db: Session, activity: Activity, data: dict[str, Any], *, user) -> Activity:
    """Change the fields of ``activity`` given in ``data``, if ``user`` may change it (403 otherwise)."""
    refuse_unless_may_change(activity, user)
    clean = _clean(db, data, creating=False)
    if any(key in data for key in ("party_id", "lead_id", "opportunity_id")):
        merged = {"party_id": activity.party_id, "lead_id": activity.lead_id,
                  "opportunity_id": activity.opportunity_id}
        merged.update({key: data[key] for key in ("party_id", "lead_id", "opportunity_id") if key in data})
        clean.update(_link_ids(db, merged, user))
    done = clean.pop("done", None)
    if "due_at" in clean and clean["due_at"] != activity.due_at:
        activity.due_notified_at = None  # a new due time is reminded of again
    for key, value in clean.items():
        setattr(activity, key, value)
    if done is not None:
        _set_done(activity, done)
    db.flush()
    if "assignee_id" in clean or any(key in clean for key in ("party_id", "lead_id", "opportunity_id")):
        db.expire(activity, ["assignee"])  # the relationship still holds the previous assignee
        _assignee_sees(activity)
    return activity


def _set_done(activity: Activity, done: bool) -> None:
    if bool(activity.done) != bool(done):
        activity.done = bool(done)
        activity.done_at = utcnow() if done else None


def set_done(db: Session, activity: Activity, done: bool = True, *, user) -> Activity:
    """Tick off an activity (or reopen it), if ``user`` may change it (403 otherwise)."""
    refuse_unless_may_change(activity, user)
    _set_done(activity, done)
    db.flush()
    return activity


def delete_activity(db: Session, activity: Activity, *, user) -> None:
    """Remove an activity, if ``user`` may change it (403 otherwise)."""
    refuse_unless_may_change(activity, user)
    db.delete(activity)
    db.flush()


def get_activity(db: Session, activity_id: Any, user) -> Activity:
    """The activity ``user`` may see; :class:`NotFound` otherwise (so that its existence does not show)."""
    try:
        activity_id = int(activity_id)
    except (TypeError, ValueError):
        raise NotFound(_("There is no such activity.")) from None
    if not 0 < activity_id < 2**31:
        raise NotFound(_("There is no such activity."))
    query = visible_activities(select(Activity).where(Activity.id == activity_id), user)
    activity = db.execute(query).unique().scalar()
    if activity is None:
        raise NotFound(_("There is no such activity."))
    return activity


def day_bounds(now: datetime | None = None, tz: str | None = None) -> tuple[datetime, datetime]:
    """Start of today and of tomorrow (in the zone ``tz``), as UTC datetimes."""
    zone = _zone(tz)
    local = (now or utcnow()).astimezone(zone)
    start = datetime.combine(local.date(), time(0, 0), tzinfo=zone)
    return start.astimezone(timezone.utc), (start + timedelta(days=1)).astimezone(timezone.utc)


def activities_query(user, *, view: str = "open", assignee_id: int | None = None, kind: str = "",
                     q: str = "", now: datetime | None = None, tz: str | None = None):
    """A SELECT of the activities ``user`` may see in ``view`` (see :data:`VIEWS`)."""
    query = visible_activities(select(Activity), user)
    if assignee_id:
        # an id no user can have (beyond the column's range) matches no one, rather than failing in SQL
        query = query.where(Activity.assignee_id == assignee_id if 0 < assignee_id < 2**31 else false())
    if kind in KINDS:
        query = query.where(Activity.kind == kind)
    if q:
        query = query.where(func.lower(Activity.subject).contains(q.lower(), autoescape=True))
    now = now or utcnow()
    start, end = day_bounds(now, tz)
    if view == "done":
        query = query.where(Activity.done.is_(True))
    elif view == "overdue":
        query = query.where(Activity.done.is_(False), Activity.due_at < now)
    elif view == "today":
        query = query.where(Activity.done.is_(False), Activity.due_at >= start, Activity.due_at < end)
    elif view == "upcoming":
        query = query.where(Activity.done.is_(False), or_(Activity.due_at >= end, Activity.due_at.is_(None)))
    elif view == "open":
        query = query.where(Activity.done.is_(False))
    return query


def reminders(db: Session, user, *, now: datetime | None = None, tz: str | None = None, limit: int = 10):
    """The user's own activities that are overdue or due today, most urgent first, and their count.

    Only those ``user`` may see: an activity assigned to them about a lead or an opportunity that
    has since gone to someone else is left out.
    """
    now = now or utcnow()
    _start, end = day_bounds(now, tz)
    query = visible_activities(select(Activity).where(Activity.assignee_id == user.id, Activity.done.is_(False),
                                                      Activity.due_at < end), user)
    count = db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = list(db.execute(query.order_by(Activity.due_at, Activity.id).limit(limit)).unique().scalars())
    return rows, count


def open_of_opportunity(db: Session, opportunity_id: int, user, limit: int = 10) -> list[Activity]:
    """The activities still to do about an opportunity, soonest due first (undated last)."""
    query = visible_activities(select(Activity).where(Activity.opportunity_id == opportunity_id,
                                                      Activity.done.is_(False)), user)
    query = query.order_by(Activity.due_at.is_(None), Activity.due_at, Activity.id).limit(limit)
    return list(db.execute(query).unique().scalars())


def recent_of_party(db: Session, party_id: int, user, limit: int = 8) -> list[Activity]:
    """The latest activities about a party that ``user`` may see (open ones first)."""
    query = visible_activities(select(Activity).where(Activity.party_id == party_id), user)
    query = query.order_by(Activity.done, Activity.created_at.desc(), Activity.id.desc()).limit(limit)
    return list(db.execute(query).unique().scalars())


def repoint_party(db: Session, source_id: int, target_id: int) -> None:
    """Move the activities and timeline events of party ``source_id`` to ``target_id``."""
    for model in (Activity, TimelineEvent):
        for row in db.execute(select(model).where(model.party_id == source_id)).unique().scalars():
            row.party_id = target_id
    db.flush()

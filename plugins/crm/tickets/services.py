"""Service tickets: creation, the status workflow, the conversation and the SLA clock.

The SLA clock runs in calendar hours from the moment a ticket is created, around the clock, and
it keeps running while a ticket waits for the customer: due times are fixed on creation (and
worked out again only when the priority changes), so they are the same on every page and report.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import and_, case, false, func, or_, select, update
from sqlalchemy.orm import Session

from core import (current_actor, gettext as _, hooks, keyset_page, KontorError, N_, NotFound, Page, Party,
                  record_id_field, send_mail, User, utcnow)

from plugins.crm.defaults import read_data_csv
from plugins.crm.tickets import notifications
from plugins.crm.tickets.models import (OPEN_STATUSES, PRIORITIES, STATUS_LABELS, STATUSES, SlaPolicy, Ticket,
                                        TicketMessage)


#: Where a ticket may go from each status; "open" from resolved or closed is a reopen.
TRANSITIONS = {
    "new": ("open", "resolved", "closed"),
    "open": ("waiting", "resolved"),
    "waiting": ("open", "resolved"),
    "resolved": ("closed", "open"),
    "closed": ("open",),
}

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: The timeline title of each status a ticket moves into (translated when shown).
STATUS_TITLES = {
    "new": N_("Ticket %(number)s is new"),
    "open": N_("Ticket %(number)s is open"),
    "waiting": N_("Ticket %(number)s is waiting"),
    "resolved": N_("Ticket %(number)s is resolved"),
    "closed": N_("Ticket %(number)s is closed"),
}
SORT_KEYS = {
    "created": Ticket.created_at,
    "number": Ticket.id,
    "subject": Ticket.subject,
    "priority": case({p: rank for rank, p in enumerate(PRIORITIES)}, value=Ticket.priority, else_=0),
    "status": Ticket.status,
    "due": Ticket.resolution_due,
}


# -- SLA policies --


def default_policies() -> dict[str, tuple[int, int]]:
    """The targets loaded on install (``data/sla_policies.csv``), in hours: priority → (first
    response, resolution)."""
    return {row["priority"]: (int(row["response_hours"]), int(row["resolution_hours"]))
            for row in read_data_csv("sla_policies.csv")}


def load_default_policies(db: Session) -> None:
    """Add the default policy of every priority that has none, for the current company (called on
    install for every company, and for a company created later)."""
    existing = set(db.execute(select(SlaPolicy.priority)).scalars())
    defaults = default_policies()
    for priority in PRIORITIES:
        if priority not in existing:
            response, resolution = defaults[priority]
            db.add(SlaPolicy(priority=priority, response_hours=response, resolution_hours=resolution))
    db.flush()


def policies(db: Session) -> list[SlaPolicy]:
    """The SLA policies, from the lowest priority to the highest."""
    rows = {p.priority: p for p in db.execute(select(SlaPolicy)).scalars()}
    return [rows[p] for p in PRIORITIES if p in rows]


def update_policy(db: Session, priority: str, response_hours: Any, resolution_hours: Any) -> SlaPolicy:
    """Set the targets of ``priority``; the hours are whole numbers, response no later than resolution.

    Tickets created before keep their due times.
    """
    if priority not in PRIORITIES:
        raise KontorError(_("Choose a priority."), field="priority", status=422)
    response = _hours(response_hours, f"response_hours_{priority}")
    resolution = _hours(resolution_hours, f"resolution_hours_{priority}")
    if response > resolution:
        raise KontorError(_("The first response cannot be due after the resolution."),
                          field=f"response_hours_{priority}", status=422)
    policy = db.execute(select(SlaPolicy).where(SlaPolicy.priority == priority)).scalar_one_or_none()
    if policy is None:
        policy = SlaPolicy(priority=priority)
        db.add(policy)
    policy.response_hours, policy.resolution_hours = response, resolution
    db.flush()
    return policy


def _hours(value: Any, field: str) -> int:
    try:
        hours = int(str(value).strip())
    except ValueError:
        raise KontorError(_("Enter a whole number of hours."), field=field, status=422) from None
    if not 1 <= hours <= 24 * 365:
        raise KontorError(_("Enter between 1 and 8760 hours."), field=field, status=422)
    return hours


@dataclass(frozen=True)
class DueTimes:
    """When a ticket's first response and resolution are due, and when each is about to breach."""

    response_due: datetime | None
    resolution_due: datetime | None
    response_warn_at: datetime | None
    resolution_warn_at: datetime | None


def due_times(db: Session, priority: str, created_at: datetime, warn_percent: int = 20) -> DueTimes:
    """The due times of a ticket of ``priority`` created at ``created_at``.

    A ticket is about to breach once less than ``warn_percent`` % of a target is left.
    """
    policy = db.execute(select(SlaPolicy).where(SlaPolicy.priority == priority)).scalar_one_or_none()
    if policy is None:
        return DueTimes(None, None, None, None)
    keep = (100 - max(0, min(100, warn_percent))) / 100

    def due(hours: int) -> tuple[datetime, datetime]:
        target = timedelta(hours=hours)
        return created_at + target, created_at + timedelta(seconds=round(target.total_seconds() * keep))

    response_due, response_warn = due(policy.response_hours)
    resolution_due, resolution_warn = due(policy.resolution_hours)
    return DueTimes(response_due, resolution_due, response_warn, resolution_warn)


def _apply_due_times(db: Session, ticket: Ticket, warn_percent: int) -> None:
    times = due_times(db, ticket.priority, ticket.created_at, warn_percent)
    ticket.response_due, ticket.resolution_due = times.response_due, times.resolution_due
    ticket.response_warn_at, ticket.resolution_warn_at = times.response_warn_at, times.resolution_warn_at


# -- the SLA state of a ticket --


@dataclass(frozen=True)
class Sla:
    """Where a ticket stands against its targets at one moment: "met", "breached", "at_risk",
    "pending" (running, not close yet) or "none" (no target)."""

    response: str
    resolution: str

    @property
    def breached(self) -> bool:
        return "breached" in (self.response, self.resolution)

    @property
    def at_risk(self) -> bool:
        return not self.breached and "at_risk" in (self.response, self.resolution)

    @property
    def state(self) -> str:
        """One word for lists: breached, at_risk or ok."""
        return "breached" if self.breached else "at_risk" if self.at_risk else "ok"


def _clock(due: datetime | None, warn_at: datetime | None, done_at: datetime | None, now: datetime) -> str:
    if due is None:
        return "none"
    if done_at is not None:
        return "met" if done_at <= due else "breached"
    if now > due:
        return "breached"
    if warn_at is not None and now >= warn_at:
        return "at_risk"
    return "pending"


def sla_of(ticket: Ticket, now: datetime | None = None) -> Sla:
    """The SLA state of ``ticket`` at ``now`` (default: this moment)."""
    now = now or utcnow()
    return Sla(_clock(ticket.response_due, ticket.response_warn_at, ticket.first_response_at, now),
               _clock(ticket.resolution_due, ticket.resolution_warn_at, ticket.resolved_at, now))


def breached_condition(now: datetime):
    """SQL: tickets that missed a target, by now or for good (never NULL, so it can be negated)."""
    def missed(due, done):
        return and_(due.is_not(None), or_(and_(done.is_(None), due < now), and_(done.is_not(None), done > due)))

    return or_(missed(Ticket.response_due, Ticket.first_response_at), missed(Ticket.resolution_due, Ticket.resolved_at))


def at_risk_condition(now: datetime):
    """SQL: open tickets close to a due time they have not missed yet."""
    response = and_(Ticket.first_response_at.is_(None), Ticket.response_warn_at.is_not(None),
                    Ticket.response_warn_at <= now, Ticket.response_due >= now)
    resolution = and_(Ticket.resolved_at.is_(None), Ticket.resolution_warn_at.is_not(None),
                      Ticket.resolution_warn_at <= now, Ticket.resolution_due >= now)
    return and_(Ticket.status.in_(OPEN_STATUSES), or_(response, resolution), ~breached_condition(now))


# -- tickets --


def get_ticket(db: Session, ticket_id: int) -> Ticket:
    """The ticket with ``ticket_id``; :class:`NotFound` when there is none."""
    ticket = db.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(_("There is no ticket %(id)s.", id=ticket_id))
    return ticket


def ticket_by_number(db: Session, number: str) -> Ticket | None:
    """The ticket numbered ``number`` (T-000123), or None."""
    return db.execute(select(Ticket).where(Ticket.number == number.strip().upper())).scalar_one_or_none()


def _text(data: dict, key: str, limit: int, *, required: bool = False, label: str = "") -> str:
    value = data.get(key)
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise KontorError(_("%(field)s is required.", field=label), field=key, status=422)
    if len(value) > limit:
        raise KontorError(_("At most %(n)s characters.", n=limit), field=key, status=422)
    return value


_RECORD_ID = record_id_field(allow_none=True)


def _record_id(value: Any, field: str) -> int | None:
    """The id ``value`` gives (None when empty); a value that is no record id is refused, naming ``field``."""
    try:
        return _RECORD_ID.deserialize(None if value == "" else value)
    except ValidationError:
        raise KontorError(_("Choose one from the list."), field=field, status=422) from None


def _party(db: Session, party_id: int | None, field: str, ticket: Ticket | None) -> Party | None:
    if party_id is None:
        return None
    party = db.get(Party, party_id)
    kept = ticket is not None and getattr(ticket, field) == party_id  # a party since retired may stay
    if party is None or not (party.active or kept):
        raise KontorError(_("Choose an active party."), field=field, status=422)
    return party


def _assignee(db: Session, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    user = db.get(User, user_id)
    if user is None or not user.active:
        raise KontorError(_("Choose an active user."), field="assignee_id", status=422)
    return user.id


def _clean(db: Session, data: dict, ticket: Ticket | None) -> dict:
    """``data`` checked field by field; the keys absent from ``data`` keep the ticket's values."""
    def given(key):
        return key in data or ticket is None

    clean: dict[str, Any] = {}
    if given("subject"):
        clean["subject"] = _text(data, "subject", 200, required=True, label=_("Subject"))
    if given("description"):
        clean["description"] = _text(data, "description", 20000)
    if given("priority"):
        priority = str(data.get("priority") or "normal").strip()
        if priority not in PRIORITIES:
            raise KontorError(_("Choose low, normal, high or urgent."), field="priority", status=422)
        clean["priority"] = priority
    if given("party_id"):
        party = _party(db, _record_id(data.get("party_id"), "party_id"), "party_id", ticket)
        clean["party_id"] = party.id if party else None
    if given("contact_id"):
        contact = _party(db, _record_id(data.get("contact_id"), "contact_id"), "contact_id", ticket)
        clean["contact_id"] = contact.id if contact else None
    if given("contact_email"):
        email = _text(data, "contact_email", 254)
        if email and not EMAIL.match(email):
            raise KontorError(_("Enter an email address such as name@example.com."), field="contact_email",
                              status=422)
        clean["contact_email"] = email
    if given("assignee_id"):
        clean["assignee_id"] = _assignee(db, _record_id(data.get("assignee_id"), "assignee_id"))

    merged = {key: clean.get(key, getattr(ticket, key, None)) for key in ("party_id", "contact_id", "contact_email")}
    if merged["contact_id"] is not None:
        contact = db.get(Party, merged["contact_id"])
        if contact.kind != "person" or (merged["party_id"] is not None and contact.company_id != merged["party_id"]
                                        and contact.id != merged["party_id"]):
            raise KontorError(_("The contact must be a person of the ticket's company."), field="contact_id",
                              status=422)
    if merged["party_id"] is None and merged["contact_id"] is None and not merged["contact_email"]:
        raise KontorError(_("Choose a party or give the customer's email address."), field="party_id", status=422)
    return clean


def create_ticket(db: Session, data: dict, *, user_id: int | None = None, now: datetime | None = None,
                  warn_percent: int = 20) -> Ticket:
    """Open a ticket from ``data`` (subject, description, priority, party_id, contact_id,
    contact_email, assignee_id); its number and SLA due times are set here. The assignee is
    notified unless they open it themselves (``user_id``, else the acting user)."""
    clean = _clean(db, data, None)
    now = now or utcnow()
    ticket = Ticket(status="new", created_by_id=user_id, created_at=now, updated_at=now, **clean)
    db.add(ticket)
    _apply_due_times(db, ticket, warn_percent)
    db.flush()
    ticket.number = f"T-{ticket.id:06d}"
    db.flush()
    _timeline(db, ticket, N_("Ticket %(number)s opened: %(subject)s"), {"number": ticket.number, "subject": ticket.subject},
              ticket.description, user_id, now)
    notifications.tell_assignee(db, ticket, previous_id=None, by_id=user_id if user_id is not None else _actor_id())
    return ticket


def update_ticket(db: Session, ticket: Ticket, data: dict, *, warn_percent: int = 20) -> Ticket:
    """Change the fields in ``data``; a new priority moves the due times to its policy, a new assignee
    is notified (unless they assigned it to themselves)."""
    clean = _clean(db, data, ticket)
    priority_changed = "priority" in clean and clean["priority"] != ticket.priority
    previous_assignee = ticket.assignee_id
    for key, value in clean.items():
        setattr(ticket, key, value)
    if priority_changed:
        _apply_due_times(db, ticket, warn_percent)
    db.flush()
    notifications.tell_assignee(db, ticket, previous_id=previous_assignee, by_id=_actor_id())
    return ticket


def _actor_id() -> int | None:
    """The id of the user acting (None for the system): who assigns a ticket."""
    actor = current_actor()
    return getattr(actor, "id", None)


def change_status(db: Session, ticket: Ticket, status: str, *, user_id: int | None = None,
                  now: datetime | None = None) -> Ticket:
    """Move ``ticket`` to ``status`` along the workflow; an illegal move is refused.

    Resolving stamps the resolution time and calls the ``crm_ticket_resolved`` hook; reopening a
    resolved or closed ticket clears it (the original due time still counts).
    """
    if status not in STATUSES:
        raise KontorError(_("Choose one of: %(choices)s.", choices=", ".join(STATUSES)), field="status", status=422)
    if status not in TRANSITIONS[ticket.status]:
        raise KontorError(_("A ticket that is %(current)s cannot become %(target)s.",
                            current=str(STATUS_LABELS[ticket.status]).lower(), target=str(STATUS_LABELS[status]).lower()),
                          field="status", status=409)
    now = now or utcnow()
    previous = ticket.status
    ticket.status = status
    if status == "resolved":
        ticket.resolved_at = now
    elif status == "closed":
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif previous in ("resolved", "closed"):
        ticket.resolved_at = None
        ticket.closed_at = None
    db.flush()
    title = N_("Ticket %(number)s reopened") if previous in ("resolved", "closed") else STATUS_TITLES[status]
    _timeline(db, ticket, title, {"number": ticket.number}, "", user_id, now)
    if status == "resolved":
        hooks().crm_ticket_resolved(ticket=ticket, session=db)
    return ticket


def add_message(db: Session, ticket: Ticket, kind: str, body: str, *, user_id: int | None = None,
                now: datetime | None = None) -> TicketMessage:
    """Add a customer-visible ``reply`` or an internal ``note`` to the conversation.

    The first reply is the ticket's first response (for the SLA), and answers a new ticket: it
    becomes open.
    """
    if kind not in ("reply", "note"):
        raise KontorError(_("Choose a reply or an internal note."), field="kind", status=422)
    body = (body or "").strip()
    if not body:
        raise KontorError(_("Write a message."), field="body", status=422)
    if len(body) > 20000:
        raise KontorError(_("At most %(n)s characters.", n=20000), field="body", status=422)
    if ticket.status == "closed":
        raise KontorError(_("Reopen the ticket to add to it."), field="body", status=409)
    now = now or utcnow()
    message = TicketMessage(ticket_id=ticket.id, kind=kind, body=body, author_id=user_id, created_at=now)
    db.add(message)
    if kind == "reply":
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        if ticket.status == "new":
            ticket.status = "open"
        _timeline(db, ticket, N_("Reply on ticket %(number)s"), {"number": ticket.number}, body, user_id, now,
                  kind="reply")
    ticket.updated_at = now
    db.flush()
    db.refresh(ticket, ["messages"])
    return message


def email_reply(db: Session, message: TicketMessage) -> bool:
    """Email a reply to the ticket's customer through the core's mail service: a job sends it, trying
    again while the server puts it off, and the mail log keeps it under ``crm.ticket:<id>``.

    Notes on the reply where it goes, or why it cannot go; returns whether it was handed over. A
    reply that cannot be emailed is kept all the same: the agent sees why and can answer otherwise.
    """
    ticket = message.ticket
    address = ticket.reply_address
    if not message.is_reply or not address:
        return False
    try:
        send_mail(db, address, f"[{ticket.number}] {ticket.subject}", message.body,
                  to_name=ticket.contact.name if ticket.contact else "", record=mail_record(ticket))
    except KontorError as exc:
        message.email_error = exc.message[:500]
        db.flush()
        return False
    message.emailed_to, message.email_error = address, ""
    db.flush()
    return True


def mail_record(ticket: Ticket) -> str:
    """The record name of the mail about ``ticket`` in the core's mail log."""
    return f"crm.ticket:{ticket.id}"


def messages(ticket: Ticket, *, include_notes: bool = True) -> list[TicketMessage]:
    """The ticket's conversation, oldest first; only the replies unless ``include_notes``."""
    return [m for m in ticket.messages if include_notes or m.is_reply]


def _timeline(db: Session, ticket: Ticket, title: str, args: dict, body: str, user_id: int | None, at: datetime,
              kind: str = "ticket") -> None:
    """A timeline event about a ticket; ``title`` is a message marked with N_, shown translated."""
    from plugins.crm import timeline

    event = timeline.record(db, kind, title=title, title_args=args, body=body, party_id=ticket.party_id,
                            ticket_id=ticket.id, user_id=user_id)
    if abs(event.created_at - at) > timedelta(minutes=1):
        event.created_at = at  # an act dated by its caller (the demo, an import) shows when it happened


# -- lists --


@dataclass
class TicketFilters:
    """The filters of a ticket list."""

    q: str = ""
    status: str = ""  # a status, "open" for every open status… see tickets_query
    priority: str = ""
    assignee: str = ""  # a user id, "me" or "none"
    sla: str = ""  # breached | at_risk
    party_id: int | None = None

    def as_args(self) -> dict[str, str]:
        return {k: str(v) for k, v in (("status", self.status), ("priority", self.priority),
                                        ("assignee", self.assignee), ("sla", self.sla),
                                        ("party_id", self.party_id)) if v}


def tickets_query(filters: TicketFilters, *, user_id: int | None = None, now: datetime | None = None):
    """The tickets matching ``filters``; ``status="active"`` means every status before resolved."""
    now = now or utcnow()
    stmt = select(Ticket)
    q = filters.q.strip()
    if q:
        pattern = q.casefold()
        stmt = stmt.outerjoin(Party, Party.id == Ticket.party_id).where(or_(
            func.lower(Ticket.subject).contains(pattern, autoescape=True),
            func.lower(Ticket.number).contains(pattern, autoescape=True),
            func.lower(Ticket.contact_email).contains(pattern, autoescape=True),
            Party.name_key.contains(pattern, autoescape=True),
        ))
    if filters.status == "active":
        stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
    elif filters.status in STATUSES:
        stmt = stmt.where(Ticket.status == filters.status)
    elif filters.status:
        stmt = stmt.where(false())
    if filters.priority in PRIORITIES:
        stmt = stmt.where(Ticket.priority == filters.priority)
    if filters.assignee == "me":
        stmt = stmt.where(Ticket.assignee_id == user_id) if user_id else stmt.where(false())
    elif filters.assignee == "none":
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    elif filters.assignee.isascii() and filters.assignee.isdigit() and len(filters.assignee) < 10:
        stmt = stmt.where(Ticket.assignee_id == int(filters.assignee))
    if filters.sla == "breached":
        stmt = stmt.where(breached_condition(now))
    elif filters.sla == "at_risk":
        stmt = stmt.where(at_risk_condition(now))
    if filters.party_id:
        stmt = stmt.where(or_(Ticket.party_id == filters.party_id, Ticket.contact_id == filters.party_id))
    return stmt


def list_tickets(db: Session, filters: TicketFilters, *, sort: str = "-created", after: str | None = None,
                 limit: int = 25, user_id: int | None = None, now: datetime | None = None) -> Page:
    """One keyset page of tickets (newest first unless ``sort`` says otherwise)."""
    return keyset_page(db, tickets_query(filters, user_id=user_id, now=now), sort_keys=SORT_KEYS,
                       id_column=Ticket.id, sort=sort, cursor=after, size=limit, query=filters.q,
                       filters=filters.as_args())


def all_tickets(db: Session, filters: TicketFilters, *, user_id: int | None = None,
                now: datetime | None = None) -> list[Ticket]:
    """Every ticket matching ``filters``, newest first (for an export)."""
    stmt = tickets_query(filters, user_id=user_id, now=now).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    return list(db.execute(stmt).scalars().unique())


def breached_tickets(db: Session, now: datetime | None = None, *, limit: int | None = None) -> list[Ticket]:
    """Open tickets past a due time they did not meet, the earliest due first."""
    now = now or utcnow()
    stmt = (select(Ticket).where(Ticket.status.in_(OPEN_STATUSES), breached_condition(now))
            .order_by(Ticket.resolution_due, Ticket.id))
    if limit:
        stmt = stmt.limit(limit)
    return list(db.execute(stmt).scalars().unique())


def mark_breaches(db: Session, now: datetime | None = None) -> list[Ticket]:
    """Mark the open tickets that missed a target since the last check, each once, with an event
    on its timeline; returns them (the scheduled SLA check, run per company)."""
    now = now or utcnow()
    stmt = (select(Ticket).where(Ticket.status.in_(OPEN_STATUSES), Ticket.sla_breached_at.is_(None),
                                 breached_condition(now))
            .order_by(Ticket.resolution_due, Ticket.id))
    found = list(db.execute(stmt).scalars().unique())
    for ticket in found:
        ticket.sla_breached_at = now
        _timeline(db, ticket, N_("Ticket %(number)s missed its service level"), {"number": ticket.number}, "",
                  None, now)
    db.flush()
    return found


def at_risk_tickets(db: Session, now: datetime | None = None, *, limit: int | None = None) -> list[Ticket]:
    """Open tickets about to breach a due time, the earliest due first."""
    now = now or utcnow()
    stmt = select(Ticket).where(at_risk_condition(now)).order_by(Ticket.resolution_due, Ticket.id)
    if limit:
        stmt = stmt.limit(limit)
    return list(db.execute(stmt).scalars().unique())


def count_breached(db: Session, now: datetime | None = None) -> int:
    """How many open tickets missed a target."""
    stmt = select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN_STATUSES),
                                                          breached_condition(now or utcnow()))
    return db.execute(stmt).scalar_one()


def count_at_risk(db: Session, now: datetime | None = None) -> int:
    """How many open tickets are about to breach a target."""
    return db.execute(select(func.count()).select_from(Ticket).where(at_risk_condition(now or utcnow()))).scalar_one()


def count_open(db: Session) -> int:
    """How many tickets are not resolved yet."""
    return db.execute(select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN_STATUSES))).scalar_one()


def open_tickets_of_party(db: Session, party_id: int, *, limit: int = 10) -> list[Ticket]:
    """The unresolved tickets of a party (as the customer or as the contact), newest first."""
    stmt = (select(Ticket).where(Ticket.status.in_(OPEN_STATUSES),
                                 or_(Ticket.party_id == party_id, Ticket.contact_id == party_id))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit))
    return list(db.execute(stmt).scalars().unique())


def people_of(db: Session, company: Party) -> list[Party]:
    """The active people of ``company``, by name (the contacts a ticket may name)."""
    stmt = (select(Party).where(Party.company_id == company.id, Party.active.is_(True), Party.kind == "person")
            .order_by(Party.name_key, Party.id))
    return list(db.execute(stmt).scalars())


def users(db: Session) -> list[User]:
    """The active users, for the assignee picker."""
    return list(db.execute(select(User).where(User.active.is_(True)).order_by(User.username)).scalars())


def move_party(db: Session, source_id: int, target_id: int) -> None:
    """Point tickets from party ``source_id`` to ``target_id`` (a party merge)."""
    db.execute(update(Ticket).where(Ticket.party_id == source_id).values(party_id=target_id))
    db.execute(update(Ticket).where(Ticket.contact_id == source_id).values(contact_id=target_id))

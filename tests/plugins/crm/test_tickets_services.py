"""Service tickets: the workflow, the SLA clock, replies and notes, and the crm_ticket_resolved hook.

Times are fixed datetimes handed to the services, so the SLA is checked without waiting.
"""
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import Manifest, hookimpl
from core.errors import KontorError

from plugins.crm.activities.models import TimelineEvent
from plugins.crm.tickets import services
from plugins.crm.tickets.models import STATUS_LABELS, SlaPolicy, Ticket
from plugins.crm.testing import T0, company, person, ticket

# This module is also a tiny plugin that watches the CRM's crm_ticket_resolved hook.
manifest = Manifest(name="crm_ticket_watch", title="Ticket watch", version="1.0",
                    summary="Records resolved tickets (a test plugin).", depends=("crm",))
RESOLVED: list[tuple[str, str]] = []


@hookimpl
def crm_ticket_resolved(ticket, session):
    if ticket.subject == "Refuse me":
        raise KontorError("The survey system is down.", field="status")
    RESOLVED.append((ticket.number, ticket.status))


# -- numbering and input --


def test_a_ticket_gets_a_readable_unique_number_and_starts_new(db):
    first, second = ticket(db), ticket(db, subject="Second")
    assert first.number == f"T-{first.id:06d}"
    assert second.number == f"T-{second.id:06d}" != first.number
    assert first.status == "new"
    assert services.ticket_by_number(db, first.number.lower()) is first


def test_bad_input_names_the_field_and_writes_nothing(db):
    customer = company(db)
    cases = [
        ({"subject": "", "party_id": customer.id}, "subject"),
        ({"subject": "x" * 201, "party_id": customer.id}, "subject"),
        ({"subject": "Help", "priority": "sometime", "party_id": customer.id}, "priority"),
        ({"subject": "Help"}, "party_id"),
        ({"subject": "Help", "contact_email": "not an email"}, "contact_email"),
        ({"subject": "Help", "party_id": 999999}, "party_id"),
        ({"subject": "Help", "party_id": customer.id, "assignee_id": 999999}, "assignee_id"),
    ]
    for data, field in cases:
        with pytest.raises(KontorError) as exc:
            services.create_ticket(db, data, now=T0)
        assert exc.value.field == field, data
    assert db.execute(select(Ticket)).first() is None


def test_the_contact_is_a_person_of_the_customer_or_a_free_address(db):
    customer, other = company(db), company(db, "Other Co")
    mette = person(db, customer)
    stranger = person(db, other, "Jens Hansen", "jens@other.example")
    made = services.create_ticket(db, {"subject": "Help", "party_id": customer.id, "contact_id": mette.id}, now=T0)
    assert made.reply_address == "mette@fjord.example"
    with pytest.raises(KontorError) as exc:
        services.create_ticket(db, {"subject": "Help", "party_id": customer.id, "contact_id": stranger.id}, now=T0)
    assert exc.value.field == "contact_id"
    walk_in = services.create_ticket(db, {"subject": "Help", "contact_email": "someone@example.com"}, now=T0)
    assert walk_in.party_id is None and walk_in.reply_address == "someone@example.com"


def test_a_ticket_keeps_a_retired_customer_but_cannot_get_one(db):
    t = ticket(db)
    retired = company(db, "Closed Down ApS")
    retired.active = False
    t.party.active = False
    db.flush()
    services.update_ticket(db, t, {"party_id": t.party_id, "subject": "Still editable"})
    assert t.subject == "Still editable"
    with pytest.raises(KontorError) as exc:
        services.update_ticket(db, t, {"party_id": retired.id})
    assert exc.value.field == "party_id"


# -- the workflow --


def test_the_workflow_from_new_to_closed_with_a_reopen(db):
    t = ticket(db)
    for status in ("open", "waiting", "open", "resolved", "closed", "open", "resolved"):
        services.change_status(db, t, status, now=T0 + timedelta(hours=1))
        assert t.status == status
    assert t.resolved_at == T0 + timedelta(hours=1)


@pytest.mark.parametrize("start, target", [
    ("new", "waiting"), ("open", "closed"), ("open", "new"), ("closed", "resolved"), ("resolved", "waiting"),
    ("waiting", "closed"),
])
def test_illegal_transitions_are_refused_with_a_clear_error(db, start, target):
    t = ticket(db)
    path = {"new": [], "open": ["open"], "waiting": ["open", "waiting"], "resolved": ["resolved"],
            "closed": ["resolved", "closed"]}[start]
    for step in path:
        services.change_status(db, t, step, now=T0)
    with pytest.raises(KontorError) as exc:
        services.change_status(db, t, target, now=T0)
    assert exc.value.field == "status" and exc.value.status == 409
    assert f"cannot become {str(STATUS_LABELS[target]).lower()}" in exc.value.message
    assert t.status == start


def test_reopening_clears_the_resolution(db):
    t = ticket(db)
    services.change_status(db, t, "resolved", now=T0 + timedelta(hours=2))
    services.change_status(db, t, "closed", now=T0 + timedelta(hours=3))
    assert t.closed_at == T0 + timedelta(hours=3)
    services.change_status(db, t, "open", now=T0 + timedelta(hours=4))
    assert (t.status, t.resolved_at, t.closed_at) == ("open", None, None)


def test_status_changes_and_replies_reach_the_timeline_but_notes_do_not(db):
    t = ticket(db)
    services.add_message(db, t, "note", "Internal: check the warehouse", now=T0)
    services.add_message(db, t, "reply", "We are on it", now=T0)
    services.change_status(db, t, "resolved", now=T0)
    events = db.execute(select(TimelineEvent).where(TimelineEvent.ticket_id == t.id)
                        .order_by(TimelineEvent.id)).scalars().all()
    assert [e.kind for e in events] == ["ticket", "reply", "ticket"]
    assert all(e.party_id == t.party_id for e in events)
    assert not any("warehouse" in (e.body or "") for e in events)


# -- replies and notes --


def test_replies_and_notes_are_kept_apart(db):
    t = ticket(db)
    services.add_message(db, t, "note", "Customer is a key account", now=T0 + timedelta(minutes=5))
    assert t.first_response_at is None and t.status == "new"  # a note answers no one
    services.add_message(db, t, "reply", "Thank you, we will look into it", now=T0 + timedelta(minutes=30))
    assert t.first_response_at == T0 + timedelta(minutes=30)
    assert t.status == "open"  # the first reply opens a new ticket
    services.add_message(db, t, "reply", "A replacement is on its way", now=T0 + timedelta(hours=3))
    assert t.first_response_at == T0 + timedelta(minutes=30)  # only the first reply counts
    assert [m.kind for m in services.messages(t)] == ["note", "reply", "reply"]
    assert [m.body for m in services.messages(t, include_notes=False)] == [
        "Thank you, we will look into it", "A replacement is on its way"]


def test_a_closed_ticket_takes_no_messages_and_an_empty_one_is_refused(db):
    t = ticket(db)
    with pytest.raises(KontorError) as exc:
        services.add_message(db, t, "reply", "   ", now=T0)
    assert exc.value.field == "body"
    with pytest.raises(KontorError) as exc:
        services.add_message(db, t, "shout", "Hello", now=T0)
    assert exc.value.field == "kind"
    services.change_status(db, t, "resolved", now=T0)
    services.change_status(db, t, "closed", now=T0)
    with pytest.raises(KontorError):
        services.add_message(db, t, "reply", "Anything else?", now=T0)


# -- the SLA --


def test_default_policies_are_loaded_on_install(db):
    rows = {p.priority: (p.response_hours, p.resolution_hours) for p in services.policies(db)}
    assert rows == services.default_policies() == {"low": (48, 240), "normal": (24, 120), "high": (8, 48),
                                                   "urgent": (2, 8)}


def test_due_times_are_computed_on_create_from_the_priority_policy(db):
    services.update_policy(db, "high", 4, 24)
    t = ticket(db, priority="high")
    assert t.response_due == T0 + timedelta(hours=4)
    assert t.resolution_due == T0 + timedelta(hours=24)
    # about to breach once less than 20 % of each target is left
    assert t.response_warn_at == T0 + timedelta(hours=3, minutes=12)
    assert t.resolution_warn_at == T0 + timedelta(hours=19, minutes=12)
    fetched = db.execute(select(Ticket.response_due).where(Ticket.id == t.id)).scalar_one()
    assert fetched == T0 + timedelta(hours=4)  # stored, not worked out on the fly


def test_a_policy_change_keeps_old_tickets_due_times_but_a_priority_change_moves_them(db):
    t = ticket(db, priority="normal")
    services.update_policy(db, "normal", 1, 2)
    assert t.response_due == T0 + timedelta(hours=24)
    services.update_ticket(db, t, {"priority": "urgent"})
    assert (t.response_due, t.resolution_due) == (T0 + timedelta(hours=2), T0 + timedelta(hours=8))


def test_policy_input_is_checked(db):
    for response, resolution, field in (("x", 8, "response_hours_low"), (0, 8, "response_hours_low"),
                                        (10, 5, "response_hours_low"), (1, "", "resolution_hours_low")):
        with pytest.raises(KontorError) as exc:
            services.update_policy(db, "low", response, resolution)
        assert exc.value.field == field
    assert db.execute(select(SlaPolicy.response_hours).where(SlaPolicy.priority == "low")).scalar_one() == 48


def test_sla_states_over_time(db):
    t = ticket(db, priority="urgent")  # 2 h to answer, 8 h to resolve
    assert services.sla_of(t, T0 + timedelta(minutes=30)).state == "ok"
    assert services.sla_of(t, T0 + timedelta(minutes=100)).response == "at_risk"
    assert services.sla_of(t, T0 + timedelta(minutes=100)).state == "at_risk"
    assert services.sla_of(t, T0 + timedelta(hours=2, minutes=1)).state == "breached"
    services.add_message(db, t, "reply", "On it", now=T0 + timedelta(hours=1))
    assert services.sla_of(t, T0 + timedelta(hours=3)).response == "met"
    assert services.sla_of(t, T0 + timedelta(hours=3)).state == "ok"
    assert services.sla_of(t, T0 + timedelta(hours=7)).resolution == "at_risk"
    services.change_status(db, t, "resolved", now=T0 + timedelta(hours=9))
    assert services.sla_of(t, T0 + timedelta(days=3)).resolution == "breached"  # resolved late: a breach for good


def test_waiting_does_not_pause_the_clock(db):
    t = ticket(db, priority="urgent")
    services.add_message(db, t, "reply", "Which order is it?", now=T0 + timedelta(minutes=10))
    services.change_status(db, t, "waiting", now=T0 + timedelta(minutes=11))
    assert services.sla_of(t, T0 + timedelta(hours=9)).resolution == "breached"


def test_breached_and_at_risk_listings(db):
    now = T0 + timedelta(hours=10)
    late = ticket(db, priority="urgent", subject="Late", now=T0)  # response due 11:00, resolution 17:00; now is 19:00
    answered_late = ticket(db, priority="urgent", subject="Answered late", now=T0)
    services.add_message(db, answered_late, "reply", "Sorry for the wait", now=T0 + timedelta(hours=3))
    # response due 20:00, about to breach from 18:24
    close = ticket(db, priority="high", subject="Close", now=T0 + timedelta(hours=3))
    on_time = ticket(db, priority="low", subject="On time", now=T0 + timedelta(hours=9))
    done = ticket(db, priority="urgent", subject="Done", now=T0)
    services.change_status(db, done, "resolved", now=T0 + timedelta(hours=30))  # late, but no longer open

    assert [t.subject for t in services.breached_tickets(db, now)] == ["Late", "Answered late"]
    assert [t.subject for t in services.at_risk_tickets(db, now)] == ["Close"]
    breached_filter = services.TicketFilters(sla="breached")
    listed = {t.subject for t in services.all_tickets(db, breached_filter, now=now)}
    assert listed == {"Late", "Answered late", "Done"}  # the list filter includes missed targets of closed ones
    assert on_time not in services.breached_tickets(db, now) + services.at_risk_tickets(db, now)
    assert close.response_warn_at <= now <= close.response_due
    assert (services.sla_of(late, now).response, services.sla_of(late, now).resolution) == ("breached", "breached")


def test_list_filters_search_and_sort(db, app):
    from core.auth.services import create_user

    agent, _ = create_user(db, "agent", password="correct horse battery", roles=["service_agent"])
    db.flush()
    one = ticket(db, subject="Printer jammed", priority="high", assignee_id=agent.id)
    two = ticket(db, subject="Invoice question", priority="low", now=T0 + timedelta(hours=1))
    services.change_status(db, two, "open", now=T0)

    def subjects(**kwargs):
        sort = kwargs.pop("sort", "-created")
        page = services.list_tickets(db, services.TicketFilters(**kwargs), sort=sort, user_id=agent.id,
                                     now=T0 + timedelta(hours=2))
        return [t.subject for t in page.rows]

    assert subjects() == ["Invoice question", "Printer jammed"]
    assert subjects(sort="created") == ["Printer jammed", "Invoice question"]
    assert subjects(q="printer") == ["Printer jammed"]
    assert subjects(q=one.number) == ["Printer jammed"]
    assert subjects(q=one.party.name.upper()) == ["Printer jammed"]
    assert subjects(status="open") == ["Invoice question"]
    assert subjects(status="active") == ["Invoice question", "Printer jammed"]
    assert subjects(priority="high") == ["Printer jammed"]
    assert subjects(assignee="me") == ["Printer jammed"]
    assert subjects(assignee="none") == ["Invoice question"]
    assert subjects(status="bogus") == []
    assert subjects(sort="-priority") == ["Printer jammed", "Invoice question"]  # by rank, not by name
    assert subjects(sort="priority") == ["Invoice question", "Printer jammed"]


def test_keyset_pages_cover_every_ticket_once(db):
    for n in range(7):
        ticket(db, subject=f"Ticket {n}", now=T0 + timedelta(minutes=n), priority=("low", "urgent", "normal")[n % 3])

    def walk(sort):
        seen, cursor = [], None
        while True:
            page = services.list_tickets(db, services.TicketFilters(), sort=sort, after=cursor, limit=3)
            seen += [t.subject for t in page.rows]
            cursor = page.next_cursor
            if not cursor:
                return seen

    assert walk("-created") == [f"Ticket {n}" for n in range(6, -1, -1)]
    assert walk("priority") == ["Ticket 0", "Ticket 3", "Ticket 6", "Ticket 2", "Ticket 5", "Ticket 1", "Ticket 4"]


def test_party_merge_moves_tickets(db, app):
    from core.parties.services import merge_parties

    source, target = company(db, "Old Name ApS"), company(db, "New Name ApS")
    t = ticket(db, party=source)
    merge_parties(db, source, target, on_merging=app.extensions["kontor"].pm.hook.party_merging)
    db.refresh(t)
    assert t.party_id == target.id
    assert services.open_tickets_of_party(db, target.id) == [t]


# -- the hook --


@pytest.fixture
def watched(settings):
    """An app with the test plugin above installed next to the CRM."""
    from tests.contract import install

    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], __name__)
    RESOLVED.clear()
    return install(settings, "crm_ticket_watch")


def test_hook_crm_ticket_resolved(watched):
    from core.db import session

    with watched.app_context():
        t = ticket(session)
        services.change_status(session, t, "open", now=T0)
        assert RESOLVED == []
        services.change_status(session, t, "resolved", now=T0 + timedelta(hours=1))
        assert RESOLVED == [(t.number, "resolved")]
        session.commit()

        # a hook that raises refuses the resolution; the caller rolls back and nothing is kept
        refused = ticket(session, subject="Refuse me")
        services.change_status(session, refused, "open", now=T0)
        session.commit()
        with pytest.raises(KontorError, match="survey system"):
            services.change_status(session, refused, "resolved", now=T0)
        session.rollback()
        assert session.get(Ticket, refused.id).status == "open"

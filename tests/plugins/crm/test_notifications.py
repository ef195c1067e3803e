"""The CRM's notifications: a ticket's new assignee is told (once, never for assigning oneself, never
someone who may not read tickets), and the assignee of an activity is told when it falls due, once
per due time, however often the scheduled job runs."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import Job, Notification, utcnow
from plugins.crm.activities import due
from plugins.crm.activities import services as activities
from plugins.crm.pipeline import services as pipeline
from plugins.crm.testing import company, crm_user, opportunity, planned_activity, signed_in, ticket
from plugins.crm.tickets import services as tickets


def opened_by(db, user, **data):
    """A ticket ``user`` opens on the ticket form (``data`` as the form takes it)."""
    return tickets.create_ticket(db, {"subject": "Help", "party_id": company(db).id, **data}, user_id=user.id)


def inbox(db, user, kind: str) -> list[Notification]:
    """``user``'s notifications of ``kind``, oldest first."""
    return list(db.execute(select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
                           .order_by(Notification.id)).scalars())


# -- a ticket assigned --


def test_a_ticket_opened_for_an_agent_notifies_them_once_with_a_link_to_it(db):
    lise = crm_user(db, "lise", ["service_agent"])
    opened = ticket(db, subject="Pallet arrived wet", assignee_id=lise.id)  # by the system (an import)

    [note] = inbox(db, lise, "crm.ticket_assigned")
    assert note.record == f"crm.ticket:{opened.id}" and note.url == f"/crm/tickets/{opened.id}"
    assert note.params == {"number": opened.number, "subject": "Pallet arrived wet"}

    tickets.update_ticket(db, opened, {"priority": "high", "assignee_id": lise.id})  # still hers
    assert len(inbox(db, lise, "crm.ticket_assigned")) == 1


def test_reassigning_notifies_the_new_assignee_but_not_who_takes_it_themselves(db):
    from core import acting_as

    lise, jonas = crm_user(db, "lise", ["service_agent"]), crm_user(db, "jonas", ["service_agent"])
    opened = opened_by(db, lise, assignee_id=lise.id)
    assert inbox(db, lise, "crm.ticket_assigned") == []  # she opened it for herself

    with acting_as(lise):
        tickets.update_ticket(db, opened, {"assignee_id": jonas.id})
    assert [n.params["number"] for n in inbox(db, jonas, "crm.ticket_assigned")] == [opened.number]

    with acting_as(lise):
        tickets.update_ticket(db, opened, {"assignee_id": lise.id})  # she takes it back
    assert inbox(db, lise, "crm.ticket_assigned") == []
    assert len(inbox(db, jonas, "crm.ticket_assigned")) == 1


def test_an_assignee_who_may_not_read_tickets_is_not_notified(db):
    mads = crm_user(db, "mads", ["salesperson"])  # sells; does not see service tickets
    lise = crm_user(db, "lise", ["service_agent"])
    opened_by(db, lise, assignee_id=mads.id)
    assert inbox(db, mads, "crm.ticket_assigned") == []


def test_assigning_on_the_ticket_form_notifies_the_assignee_in_their_inbox(app, client, db):
    lise, jonas = crm_user(db, "lise", ["service_agent"]), crm_user(db, "jonas", ["service_agent"])
    customer_id = ticket(db).party_id
    db.commit()
    agent = signed_in(client, "lise")
    response = agent.post_form("/crm/tickets/new", {"subject": "Invoice address wrong", "priority": "normal",
                                                   "party_id": str(customer_id), "assignee_id": str(jonas.id)})
    assert response.status_code == 303
    db.expire_all()
    [note] = inbox(db, jonas, "crm.ticket_assigned")
    assert note.params["subject"] == "Invoice address wrong"
    assert inbox(db, lise, "crm.ticket_assigned") == []


# -- an activity due --


def test_due_activities_are_notified_once_across_two_runs(db):
    mads = crm_user(db, "mads", ["salesperson"])
    now = utcnow()
    late = planned_activity(db, mads, "Call Fjord back", due=now - timedelta(minutes=3))
    later = planned_activity(db, mads, "Send the offer", due=now + timedelta(hours=2))
    done = planned_activity(db, mads, "Already done", due=now - timedelta(days=1))
    activities.set_done(db, done, user=mads)

    assert [a.id for a in due.notify_due(db, now)] == [late.id]
    [note] = inbox(db, mads, "crm.activity_due")
    assert note.params == {"subject": "Call Fjord back"} and note.url == f"/crm/activities/{late.id}"
    assert note.record is None  # only about a customer: its assignee always sees it

    assert due.notify_due(db, now + timedelta(minutes=5)) == []  # the next run: nothing new
    assert len(inbox(db, mads, "crm.activity_due")) == 1

    assert [a.id for a in due.notify_due(db, now + timedelta(hours=3))] == [later.id]  # its time came
    assert [n.params["subject"] for n in inbox(db, mads, "crm.activity_due")] == ["Call Fjord back", "Send the offer"]


def test_a_rescheduled_activity_is_reminded_of_again_at_its_new_time(db):
    mads = crm_user(db, "mads", ["salesperson"])
    now = utcnow()
    call = planned_activity(db, mads, "Call Fjord back", due=now - timedelta(minutes=1))
    due.notify_due(db, now)
    activities.update_activity(db, call, {"due_at": (now + timedelta(days=1)).isoformat()}, user=mads)
    assert call.due_notified_at is None
    assert due.notify_due(db, now + timedelta(hours=1)) == []
    assert [a.id for a in due.notify_due(db, now + timedelta(days=1, minutes=1))] == [call.id]
    assert len(inbox(db, mads, "crm.activity_due")) == 2


def test_an_activity_about_a_deal_the_assignee_may_not_see_is_not_notified(db):
    mads, sofie = crm_user(db, "mads", ["salesperson"]), crm_user(db, "sofie", ["salesperson"])
    boss = crm_user(db, "boss", ["sales_manager"])
    deal = opportunity(db, sofie, title="Sofie's deal")
    hers = planned_activity(db, sofie, "Call about the deal", due=utcnow() - timedelta(minutes=1),
                            opportunity_id=deal.id)
    managers = planned_activity(db, sofie, "Check the terms", due=utcnow() - timedelta(minutes=1),
                                opportunity_id=deal.id)
    activities.update_activity(db, managers, {"assignee_id": boss.id}, user=sofie)
    pipeline.update_opportunity(db, deal, {"owner_id": mads.id})  # handed over: Sofie no longer reads it

    assert {a.id for a in due.notify_due(db)} == {hers.id, managers.id}  # both marked, never retried …
    assert inbox(db, sofie, "crm.activity_due") == []  # … and nothing reveals Mads's deal to her
    [note] = inbox(db, boss, "crm.activity_due")  # the manager sees every deal
    assert note.record == f"crm.opportunity:{deal.id}" and note.params == {"subject": "Check the terms"}


def test_the_due_reminder_is_scheduled_per_company_and_a_second_tick_tells_no_one_twice(app):
    from core.db import session
    from core.jobs.scheduler import tick

    [schedule] = [s for s in app.extensions["kontor"].schedules if s.name == "crm.activity_due"]
    assert schedule.kind == "crm.notify_due_activities" and schedule.per_company
    assert schedule.every == timedelta(minutes=5)
    with app.app_context():
        mads = crm_user(session, "mads", ["salesperson"])
        call = planned_activity(session, mads, "Call Fjord back", due=utcnow() - timedelta(minutes=10))
        session.commit()
        mads_id, call_id = mads.id, call.id

    now = utcnow()
    first = tick(app, now)
    second = tick(app, now + timedelta(minutes=5))
    with app.app_context():
        runs = [session.get(Job, i) for i in first + second if session.get(Job, i).kind == schedule.kind]
        assert [(job.status, job.result["notified"]) for job in runs] == [("done", [call_id]), ("done", [])]
        notes = session.execute(select(Notification).where(Notification.user_id == mads_id,
                                                           Notification.kind == "crm.activity_due")).scalars().all()
    assert [n.url for n in notes] == [f"/crm/activities/{call_id}"]

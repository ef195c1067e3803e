"""Activities: planning, views (overdue/today/upcoming/done), reminders, record rules."""
from datetime import datetime, timedelta, timezone

import pytest

from core.errors import KontorError

from plugins.crm.activities import services
from plugins.crm.testing import crm_user as user, opportunity, party, planned_activity as plan

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def test_create_validates(db):
    mads = user(db, "mads", ["salesperson"])
    customer = party(db)
    good = {"kind": "meeting", "subject": "Demo", "assignee_id": mads.id, "party_id": customer.id}
    for change, field in [({"kind": "fax"}, "kind"), ({"subject": " "}, "subject"), ({"assignee_id": 999}, "assignee_id"),
                          ({"party_id": None}, "party_id"), ({"due_date": "24/11/2026"}, "due_at"),
                          ({"party_id": 99999}, "party_id")]:
        with pytest.raises(KontorError) as exc:
            services.create_activity(db, {**good, **change}, user=mads)
        assert exc.value.field == field, change
    made = services.create_activity(db, {**good, "due_date": "2026-11-30", "due_time": "14:30", "tz": "Europe/Copenhagen"},
                                    user=mads)
    assert made.due_at == datetime(2026, 11, 30, 13, 30, tzinfo=timezone.utc)
    assert not made.done and made.created_by_id == mads.id


def test_links_obey_record_rules(db):
    mads = user(db, "mads", ["salesperson"])
    sofie = user(db, "sofie", ["salesperson"])
    theirs = opportunity(db, sofie)
    with pytest.raises(KontorError) as exc:
        services.create_activity(db, {"kind": "task", "subject": "Peek", "assignee_id": mads.id,
                                      "opportunity_id": theirs.id}, user=mads)
    assert exc.value.field == "opportunity_id"
    mine = opportunity(db, mads)
    made = services.create_activity(db, {"kind": "task", "subject": "Quote", "assignee_id": mads.id,
                                         "opportunity_id": mine.id}, user=mads)
    assert made.party_id == mine.party_id  # the party follows the opportunity


def test_views_and_reminders(db):
    mads = user(db, "mads", ["salesperson"])
    overdue = plan(db, mads, "Overdue", NOW - timedelta(days=2))
    today = plan(db, mads, "Today", NOW + timedelta(hours=3))
    later = plan(db, mads, "Later", NOW + timedelta(days=3))
    undated = plan(db, mads, "Someday")
    done = plan(db, mads, "Done", NOW - timedelta(days=1))
    services.set_done(db, done, user=mads)
    assert done.done_at is not None

    def view(name):
        query = services.activities_query(mads, view=name, assignee_id=mads.id, now=NOW)
        return {a.subject for a in db.execute(query).unique().scalars()}

    assert view("overdue") == {"Overdue"}
    assert view("today") == {"Today"}
    assert view("upcoming") == {"Later", "Someday"}
    assert view("done") == {"Done"}
    assert view("open") == {"Overdue", "Today", "Later", "Someday"}
    rows, count = services.reminders(db, mads, now=NOW)
    assert [a.subject for a in rows] == ["Overdue", "Today"] and count == 2
    assert overdue.is_overdue(NOW) and not today.is_overdue(NOW) and not later.is_overdue(NOW)
    assert not undated.is_overdue(NOW)


def test_activities_of_others_opportunities_are_hidden(db):
    mads = user(db, "mads", ["salesperson"])
    sofie = user(db, "sofie", ["salesperson"])
    theirs = opportunity(db, sofie)
    secret = plan(db, sofie, "Sofie's call", opportunity_id=theirs.id)
    query = services.activities_query(mads, view="all")
    assert secret.id not in {a.id for a in db.execute(query).unique().scalars()}
    with pytest.raises(KontorError):
        services.get_activity(db, secret.id, mads)

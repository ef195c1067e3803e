"""Activities: planning, views (overdue/today/upcoming/done), reminders, record rules, API."""
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core.errors import KontorError

from plugins.crm.activities import services
from plugins.crm.activities.models import Activity

from plugins.crm.testing import crm_user as user, opportunity, party, signed_in

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def plan(db, assignee, subject="Call back", due=None, **links):
    links = links or {"party_id": party(db, f"Party {subject}").id}
    return services.create_activity(db, {"kind": "call", "subject": subject, "due_at": due, "assignee_id": assignee.id,
                                         **links}, user=assignee)


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


def test_my_activities_page_highlights_overdue_and_marks_done(db, client):
    mads = user(db, "mads", ["salesperson"])
    late = plan(db, mads, "Overdue call", datetime.now(timezone.utc) - timedelta(days=1))
    plan(db, mads, "Future call", datetime.now(timezone.utc) + timedelta(days=5))
    db.commit()
    signed_in(client, "mads")
    page = client.get("/crm/my-activities").get_data(as_text=True)
    row = re.search(rf'<tr id="activity-{late.id}" class="([^"]*)"', page)
    assert row and "overdue" in row.group(1)
    assert "Future call" in page
    overdue_only = client.get("/crm/my-activities?view=overdue").get_data(as_text=True)
    assert "Overdue call" in overdue_only and "Future call" not in overdue_only
    response = client.htmx("POST", f"/crm/activities/{late.id}/done", data={"done": "1"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<tr") and "done" in re.search(r'class="([^"]*)"', html).group(1)
    db.expire_all()
    assert db.get(Activity, late.id).done
    done_view = client.get("/crm/my-activities?view=done").get_data(as_text=True)
    assert "Overdue call" in done_view
    widget = client.get("/crm/widgets/reminders").get_data(as_text=True)
    assert "Overdue call" not in widget


def test_activity_form(db, client):
    mads = user(db, "mads", ["salesperson"])
    customer = party(db, "Skovbryn ApS")
    db.commit()
    signed_in(client, "mads")
    response = client.post_form("/crm/activities/new", {"kind": "call", "subject": "", "assignee_id": mads.id,
                                                        "party_id": customer.id, "due_date": "", "due_time": ""})
    assert response.status_code == 422
    assert re.search(r'id="e-subject"[^>]*>Say what it is about.', response.get_data(as_text=True))
    response = client.post_form("/crm/activities/new", {"kind": "meeting", "subject": "<b>Demo</b>",
                                                        "assignee_id": mads.id, "party_id": customer.id,
                                                        "due_date": "2026-12-01", "due_time": "10:00",
                                                        "notes": "<img src=x onerror=alert(1)>"})
    assert response.status_code == 303
    made = db.execute(select(Activity)).unique().scalar_one()
    page = client.get(f"/crm/activities/{made.id}").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x" in page and "<b>Demo</b>" not in page
    response = client.post_form(f"/crm/activities/{made.id}/edit", {
        "kind": "meeting", "subject": "Demo moved", "assignee_id": mads.id, "party_id": customer.id,
        "due_date": "2026-12-02", "due_time": "11:00", "notes": ""})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Activity, made.id).subject == "Demo moved"
    export = client.get("/crm/activities?format=csv").get_data(as_text=True)
    assert "Demo moved" in export


def test_activities_api(db, client):
    mads = user(db, "mads", ["salesperson"])
    customer = party(db)
    db.commit()
    from core.auth.tokens import create_token

    _, token = create_token(db, mads, "tests")
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post("/api/v1/crm/activities", headers=headers, json={"kind": "email", "subject": "Send quote",
                                                                            "party_id": customer.id,
                                                                            "due_at": "2026-12-01T09:00:00+01:00"})
    assert response.status_code == 201, response.get_data(as_text=True)
    made = response.get_json()
    assert made["due_at"].startswith("2026-12-01T08:00:00") and made["done"] is False
    response = client.post("/api/v1/crm/activities", headers=headers, json={"kind": "fax", "subject": "x"})
    assert response.status_code == 422 and "kind" in response.get_json()["errors"]
    response = client.patch(f"/api/v1/crm/activities/{made['id']}", headers=headers, json={"done": True})
    assert response.status_code == 200 and response.get_json()["done"] is True
    listed = client.get("/api/v1/crm/activities?view=done", headers=headers).get_json()
    assert [a["id"] for a in listed["items"]] == [made["id"]]
    assert json.loads(client.get("/api/v1/crm/activities?view=overdue", headers=headers).data)["items"] == []


def test_opportunity_page_lists_planned_activities(db, client):
    mads = user(db, "mads", ["salesperson"])
    deal = opportunity(db, mads, title="Heat pumps")
    plan(db, mads, "Send the revised quote", NOW + timedelta(days=400), opportunity_id=deal.id)
    done = plan(db, mads, "Old call", NOW - timedelta(days=3), opportunity_id=deal.id)
    services.set_done(db, done, user=mads)
    db.commit()
    signed_in(client, "mads")
    page = client.get(f"/crm/opportunities/{deal.id}").get_data(as_text=True)
    planned = page[page.index("Planned activities"):page.index("crm-timeline-box")]
    assert "Send the revised quote" in planned and "Old call" not in planned


def test_delete_and_hidden_activities_pages(db, client):
    mads = user(db, "mads", ["salesperson"])
    sofie = user(db, "sofie", ["salesperson"])
    mine = plan(db, mads, "Mine to delete")
    theirs = plan(db, sofie, "Sofie's call", opportunity_id=opportunity(db, sofie).id)
    db.commit()
    signed_in(client, "mads")
    for path in (f"/crm/activities/{theirs.id}", f"/crm/activities/{theirs.id}/edit"):
        assert client.get(path).status_code == 404, path
    assert client.post_form(f"/crm/activities/{theirs.id}/done", {"done": "1"}).status_code == 404
    assert "Sofie's call" not in client.get("/crm/activities").get_data(as_text=True)
    response = client.post_form(f"/crm/activities/{mine.id}/delete", {})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Activity, mine.id) is None and db.get(Activity, theirs.id) is not None

"""Who may see and change activities, on every path: services, pages, exports, API, timeline, widgets.

Sofie and Mads are salespeople who may see customers (staff), Olaf is a salesperson who may not,
and Bo is the sales manager. Sofie owns a lead and an opportunity; every activity about them is
hers to see and change, and no one else's but the manager's. Her activity on a customer alone is
seen by every colleague who may see the customer, and changed only by her, its assignee or Bo.

The timeline: record(), merged entries newest first, lazy paging, notes, record rules, party pages."""
import csv
import io
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.errors import KontorError, NotFound

from plugins.crm import access, timeline
from plugins.crm.activities import services
from plugins.crm.activities.models import Activity, TimelineEvent
from plugins.crm.testing import crm_user as user, opportunity, party, planned_activity as plan, signed_in


NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


PROBLEM = "application/problem+json"


def _plan(db, owner, subject, assignee=None, **links):
    return services.create_activity(db, {"kind": "call", "subject": subject, "notes": f"notes of {subject}",
                                         "due_date": "2020-01-06", "assignee_id": (assignee or owner).id, **links},
                                    user=owner)


def world(db):
    """Three salespeople, a manager, and Sofie's activities of every kind (some overdue)."""
    from plugins.crm.leads.services import create_lead

    w = SimpleNamespace()
    w.sofie = user(db, "sofie", ["salesperson", "staff"])
    w.mads = user(db, "mads", ["salesperson", "staff"])
    w.olaf = user(db, "olaf", ["salesperson"])
    w.bo = user(db, "bo", ["sales_manager"])
    w.customer = party(db, "Fjordhus ApS")
    w.deal = opportunity(db, w.sofie, title="Sofie's deal", customer=w.customer)
    w.lead = create_lead(db, {"name": "Sofie's lead", "email": "lead@example.com"}, user=w.sofie)
    w.on_deal = _plan(db, w.sofie, "Deal call ZQX", opportunity_id=w.deal.id)
    w.on_lead = _plan(db, w.sofie, "Lead call ZQX", lead_id=w.lead.id)
    w.on_customer = _plan(db, w.sofie, "Customer call ZQX", party_id=w.customer.id)
    w.for_mads = _plan(db, w.sofie, "Handover call ZQX", assignee=w.mads, party_id=w.customer.id)
    # Mads planned a call on his own deal, which then went to Sofie: his lists must drop it
    w.handed_deal = opportunity(db, w.mads, title="Handed deal", customer=w.customer)
    w.handed = _plan(db, w.mads, "Handed call ZQX", opportunity_id=w.handed_deal.id)
    w.handed_deal.owner_id = w.sofie.id
    db.commit()
    return w


def forget():
    """Drop the signed-in user and permissions the requests cached in the test's shared ``g``."""
    from flask import g

    for key in ("csrf_token", "_login_user", "kontor_permission_cache"):
        g.pop(key, None)


def ids(db, query):
    return {a.id for a in db.execute(query).unique().scalars()}


def secrets(w):
    """Subjects and notes of the activities only Sofie (and the manager) may see."""
    return [a.subject for a in (w.on_deal, w.on_lead, w.handed)] + [a.notes for a in (w.on_deal, w.on_lead, w.handed)]


def assert_no_secrets(w, text):
    for secret in secrets(w):
        assert secret not in text, secret


# -- The rule itself, in services --


def test_lists_show_each_user_only_what_they_may_see(db):
    w = world(db)
    everything = {w.on_deal.id, w.on_lead.id, w.on_customer.id, w.for_mads.id, w.handed.id}
    assert ids(db, services.activities_query(w.sofie, view="all")) == everything
    assert ids(db, services.activities_query(w.bo, view="all")) == everything
    assert ids(db, services.activities_query(w.mads, view="all")) == {w.on_customer.id, w.for_mads.id}
    assert ids(db, services.activities_query(w.olaf, view="all")) == set()  # may not see customers
    # filters narrow the rule, never widen it
    assert ids(db, services.activities_query(w.mads, view="all", assignee_id=w.sofie.id)) == {w.on_customer.id}
    assert ids(db, services.activities_query(w.mads, view="overdue", q="zqx", kind="call")) == {
        w.on_customer.id, w.for_mads.id}
    # "mine": assigned to Mads, and still his to see
    assert ids(db, services.activities_query(w.mads, view="all", assignee_id=w.mads.id)) == {w.for_mads.id}
    rows, count = services.reminders(db, w.mads)
    assert [a.id for a in rows] == [w.for_mads.id] and count == 1
    assert services.open_of_opportunity(db, w.deal.id, w.mads) == []
    assert [a.id for a in services.open_of_opportunity(db, w.deal.id, w.bo)] == [w.on_deal.id]
    assert {a.id for a in services.recent_of_party(db, w.customer.id, w.mads)} == {w.on_customer.id, w.for_mads.id}
    assert services.recent_of_party(db, w.customer.id, w.olaf) == []


def test_one_record_check_for_see_and_change(db):
    w = world(db)
    expected = {  # user: (may see, may change) for on_deal, on_lead, on_customer, for_mads
        "sofie": [(True, True)] * 4,
        "bo": [(True, True)] * 4,
        "mads": [(False, False), (False, False), (True, False), (True, True)],
        "olaf": [(False, False)] * 4,
    }
    for name, rights in expected.items():
        who = getattr(w, name)
        for activity, (see, change) in zip((w.on_deal, w.on_lead, w.on_customer, w.for_mads), rights):
            assert access.may_see_activity(activity, who) is see, (name, activity.subject)
            assert access.may_change_activity(activity, who) is change, (name, activity.subject)
    # the per-record check and the list filter are one rule
    assert access.allowed_activity_ids(db, [a.id for a in db.execute(select(Activity)).unique().scalars()],
                                       w.mads, "change") == {w.for_mads.id}
    # marketing sees every lead, and so its activities, but plans none (no crm.activity.write)
    marketing = user(db, "mia", ["marketing"])
    assert access.may_see_activity(w.on_lead, marketing) and not access.may_change_activity(w.on_lead, marketing)


def test_services_refuse_hidden_with_not_found_and_read_only_with_403(db):
    w = world(db)
    for hidden in (w.on_deal, w.on_lead, w.handed):
        with pytest.raises(NotFound):
            services.get_activity(db, hidden.id, w.mads)
    with pytest.raises(NotFound):
        services.get_activity(db, w.on_customer.id, w.olaf)
    seen = services.get_activity(db, w.on_customer.id, w.mads)
    for act in (lambda: services.update_activity(db, seen, {"subject": "Taken over"}, user=w.mads),
                lambda: services.set_done(db, seen, user=w.mads),
                lambda: services.delete_activity(db, seen, user=w.mads)):
        with pytest.raises(KontorError) as exc:
            act()
        assert exc.value.status == 403
    db.rollback()
    db.expire_all()
    unchanged = db.get(Activity, w.on_customer.id)
    assert (unchanged.subject, unchanged.done) == ("Customer call ZQX", False)
    # the assignee may tick it off, the manager may change and delete anything
    services.set_done(db, services.get_activity(db, w.for_mads.id, w.mads), user=w.mads)
    services.update_activity(db, services.get_activity(db, w.on_deal.id, w.bo), {"subject": "Checked"}, user=w.bo)
    services.delete_activity(db, services.get_activity(db, w.on_customer.id, w.bo), user=w.bo)
    db.commit()
    assert db.get(Activity, w.for_mads.id).done and db.get(Activity, w.on_deal.id).subject == "Checked"
    assert db.get(Activity, w.on_customer.id) is None


def test_an_assignee_must_be_able_to_see_the_activity(db):
    w = world(db)
    with pytest.raises(KontorError) as exc:
        _plan(db, w.bo, "For Mads on Sofie's deal", assignee=w.mads, opportunity_id=w.deal.id)
    assert exc.value.field == "assignee_id" and exc.value.status == 422
    db.rollback()
    activity = services.get_activity(db, w.on_deal.id, w.sofie)
    with pytest.raises(KontorError) as exc:
        services.update_activity(db, activity, {"assignee_id": w.olaf.id}, user=w.sofie)
    assert exc.value.field == "assignee_id"
    db.rollback()
    assert db.get(Activity, w.on_deal.id).assignee_id == w.sofie.id


def test_timelines_show_only_activities_the_reader_may_see(db):
    w = world(db)
    # Bo links one activity to Mads's own lead *and* Sofie's deal: it follows both records
    from plugins.crm.leads.services import create_lead

    mads_lead = create_lead(db, {"name": "Mads's lead", "email": "m@example.com"}, user=w.mads)
    both = _plan(db, w.bo, "Joint call ZQX", lead_id=mads_lead.id, opportunity_id=w.deal.id)
    db.commit()

    def titles(reader, **target):
        return {e.title for e in timeline.entries(db, user=reader, **target)[0] if e.source == "activity"}

    assert titles(w.mads, party_id=w.customer.id) == {"Customer call ZQX", "Handover call ZQX"}
    assert titles(w.olaf, party_id=w.customer.id) == set()
    assert titles(w.bo, party_id=w.customer.id) == {"Deal call ZQX", "Customer call ZQX", "Handover call ZQX",
                                                    "Handed call ZQX", "Joint call ZQX"}
    assert titles(w.mads, lead_id=mads_lead.id) == set()
    assert titles(w.sofie, opportunity_id=w.deal.id) == {"Deal call ZQX"}  # Mads's lead is not hers to see
    assert titles(w.bo, opportunity_id=w.deal.id) == {"Deal call ZQX", "Joint call ZQX"}
    assert both.id not in ids(db, services.activities_query(w.mads, view="all"))


# -- Pages --


def test_pages_hide_others_activities_and_their_controls(db, client):
    w = world(db)
    signed_in(client, "mads")
    for path in ("/crm/activities", "/crm/activities?view=all", f"/crm/activities?assignee_id={w.sofie.id}",
                 "/crm/activities?view=overdue&q=ZQX&kind=call", "/crm/my-activities?view=all",
                 "/crm/widgets/reminders", f"/crm/timeline?party_id={w.customer.id}", f"/parties/{w.customer.id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_secrets(w, response.get_data(as_text=True))
    listed = client.get("/crm/activities?view=all").get_data(as_text=True)
    assert "Customer call ZQX" in listed and "Handover call ZQX" in listed
    # Done buttons only on the rows Mads may change
    assert f"/crm/activities/{w.for_mads.id}/done" in listed
    assert f"/crm/activities/{w.on_customer.id}/done" not in listed
    mine = client.get("/crm/my-activities?view=all").get_data(as_text=True)
    assert "Handover call ZQX" in mine and "Customer call ZQX" not in mine
    widget = client.get("/crm/widgets/reminders").get_data(as_text=True)
    assert "Handover call ZQX" in widget
    # the detail of a customer's activity shows, without edit, done or delete
    detail = client.get(f"/crm/activities/{w.on_customer.id}")
    assert detail.status_code == 200 and "notes of Customer call ZQX" in detail.get_data(as_text=True)
    for control in ("/edit", "/done", "/delete"):
        assert f"/crm/activities/{w.on_customer.id}{control}" not in detail.get_data(as_text=True)
    own = client.get(f"/crm/activities/{w.for_mads.id}").get_data(as_text=True)
    assert all(f"/crm/activities/{w.for_mads.id}{c}" in own for c in ("/edit", "/done", "/delete"))
    # a manager sees everything, with the controls
    signed_in(client, "bo")
    listed = client.get("/crm/activities?view=all").get_data(as_text=True)
    assert all(secret in listed for secret in [w.on_deal.subject, w.on_lead.subject, w.handed.subject])
    assert f"/crm/activities/{w.on_deal.id}/done" in listed
    assert "Deal call ZQX" in client.get(f"/crm/opportunities/{w.deal.id}").get_data(as_text=True)


def test_pages_refuse_hidden_with_404_and_read_only_with_403(db, client):
    w = world(db)
    signed_in(client, "mads")
    form = {"kind": "call", "subject": "Taken over", "assignee_id": w.mads.id, "party_id": w.customer.id,
            "due_date": "", "due_time": "", "notes": ""}
    for activity, status in ((w.on_deal, 404), (w.on_lead, 404), (w.handed, 404), (w.on_customer, 403)):
        path = f"/crm/activities/{activity.id}"
        if status == 404:
            assert client.get(path).status_code == 404
        assert client.get(f"{path}/edit").status_code == status, path
        assert client.post_form(f"{path}/edit", form).status_code == status, path
        assert client.post_form(f"{path}/done", {"done": "1"}).status_code == status, path
        assert client.htmx("POST", f"{path}/done", data={"done": "1"}).status_code == status, path
        assert client.post_form(f"{path}/delete", {}).status_code == status, path
    for path in ("/crm/activities/99999999999", "/crm/activities/99999999999/edit"):
        assert client.get(path).status_code == 404, path  # beyond the id range: as hidden as any other
    assert client.get("/crm/activities?assignee_id=99999999999").status_code == 200
    signed_in(client, "olaf")
    assert client.get(f"/crm/activities/{w.on_customer.id}").status_code == 404
    assert client.post_form(f"/crm/activities/{w.on_customer.id}/done", {"done": "1"}).status_code == 404
    db.expire_all()
    for activity in (w.on_deal, w.on_lead, w.handed, w.on_customer):
        stored = db.get(Activity, activity.id)
        assert stored is not None and not stored.done and stored.subject == activity.subject
    # what Mads may change, he changes
    signed_in(client, "mads")
    assert client.post_form(f"/crm/activities/{w.for_mads.id}/done", {"done": "1"}).status_code == 303
    db.expire_all()
    assert db.get(Activity, w.for_mads.id).done


def test_exports_follow_the_rule(db, client):
    w = world(db)
    signed_in(client, "mads")
    for path in ("/crm/activities?format=csv&view=all", "/crm/my-activities?format=csv&view=all",
                 f"/crm/activities?format=csv&view=all&assignee_id={w.sofie.id}"):
        text = client.get(path).get_data(as_text=True)
        assert_no_secrets(w, text)
    export = client.get("/crm/activities?format=csv&view=all").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(export)))
    assert {row["ID"] for row in rows} == {str(w.on_customer.id), str(w.for_mads.id)}
    sheet = load_workbook(io.BytesIO(client.get("/crm/activities?format=xlsx&view=all").data)).active
    cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row)
    assert "Customer call ZQX" in cells
    assert_no_secrets(w, cells)
    signed_in(client, "olaf")
    assert len(list(csv.reader(io.StringIO(client.get("/crm/activities?format=csv&view=all")
                                           .get_data(as_text=True))))) == 1  # the header alone


# -- API --


def _token(db, who):
    from core.auth.tokens import create_token

    _, secret = create_token(db, who, "tests")
    db.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_api_follows_the_rule(db, client):
    w = world(db)
    tokens = {name: _token(db, getattr(w, name)) for name in ("mads", "olaf", "bo")}

    def call(name, method, path, **kwargs):
        forget()
        response = client.open(path, method=method, headers=tokens[name], **kwargs)
        forget()
        return response

    listed = call("mads", "GET", "/api/v1/crm/activities?view=all").get_json()
    assert {a["id"] for a in listed["items"]} == {w.on_customer.id, w.for_mads.id}
    assert_no_secrets(w, str(listed))
    filtered = call("mads", "GET", f"/api/v1/crm/activities?view=all&assignee_id={w.sofie.id}&q=zqx").get_json()
    assert {a["id"] for a in filtered["items"]} == {w.on_customer.id}
    assert call("olaf", "GET", "/api/v1/crm/activities?view=all").get_json()["items"] == []

    for activity in (w.on_deal, w.on_lead, w.handed):
        base = f"/api/v1/crm/activities/{activity.id}"
        for method, path, body in (("GET", base, None), ("PATCH", base, {"subject": "Mine now"}),
                                   ("POST", f"{base}/done", {"done": True}), ("DELETE", base, None)):
            response = call("mads", method, path, json=body)
            assert response.status_code == 404 and response.mimetype == PROBLEM, (method, path)
            assert activity.subject not in response.get_data(as_text=True)
    assert call("mads", "GET", "/api/v1/crm/activities/99999999999").status_code == 404
    base = f"/api/v1/crm/activities/{w.on_customer.id}"
    assert call("mads", "GET", base).get_json()["notes"] == "notes of Customer call ZQX"
    assert call("olaf", "GET", base).status_code == 404
    for method, path, body in (("PATCH", base, {"subject": "Mine now"}), ("PATCH", base, {"done": True}),
                               ("POST", f"{base}/done", {}), ("DELETE", base, None)):
        response = call("mads", method, path, json=body)
        assert response.status_code == 403 and response.mimetype == PROBLEM, (method, path)
        assert response.get_json()["status"] == 403
    db.expire_all()
    for activity in (w.on_deal, w.on_lead, w.handed, w.on_customer):
        stored = db.get(Activity, activity.id)
        assert stored is not None and not stored.done and stored.subject == activity.subject

    # the assignee ticks off, the manager changes and deletes
    response = call("mads", "POST", f"/api/v1/crm/activities/{w.for_mads.id}/done", json={})
    assert response.status_code == 200 and response.get_json()["done"] is True
    response = call("mads", "POST", f"/api/v1/crm/activities/{w.for_mads.id}/done", json={"done": False})
    assert response.status_code == 200 and response.get_json()["done"] is False
    assert call("bo", "PATCH", f"/api/v1/crm/activities/{w.on_deal.id}", json={"subject": "Checked"}).status_code == 200
    assert call("bo", "DELETE", base).status_code == 204
    # an assignee who may not see the deal is refused, naming the field
    response = call("bo", "POST", "/api/v1/crm/activities", json={"kind": "task", "subject": "For Mads",
                                                                   "opportunity_id": w.deal.id,
                                                                   "assignee_id": w.mads.id})
    assert response.status_code == 422 and "assignee_id" in response.get_json()["errors"]
    db.expire_all()
    assert db.get(Activity, w.on_deal.id).subject == "Checked" and db.get(Activity, w.on_customer.id) is None


def test_the_manager_permission_is_granted_on_install_and_on_upgrade(db, kontor):
    from core.auth.models import PermissionRecord, Role

    def holders():
        db.expire_all()
        return {role.name for role in db.execute(select(Role)).scalars()
                if "crm.activity.manage_all" in role.permission_names}

    assert holders() == {"admin", "sales_manager"}
    db.delete(db.get(PermissionRecord, "crm.activity.manage_all"))  # as on an installation from before it
    db.commit()
    assert holders() == set()
    db.rollback()  # end the read, so the command may write
    result = kontor("modules", "upgrade", "crm")
    assert result.exit_code == 0, result.output
    assert holders() == {"admin", "sales_manager"}


# -- The acting user, not Flask's --


def test_a_job_acting_as_a_user_gets_the_rows_their_page_shows(db, client):
    """The record rules default to core.current_actor(): a job inside acting_as(user) lists what the page lists."""
    from core import acting_as

    from plugins.crm.leads.models import Lead
    from plugins.crm.pipeline.models import Opportunity

    w = world(db)
    subjects = {a.id: a.subject for a in (w.on_deal, w.on_lead, w.on_customer, w.for_mads, w.handed)}
    for who, expected in ((w.mads, {w.on_customer.id, w.for_mads.id}), (w.sofie, set(subjects))):
        with acting_as(who, "job: reminders"):
            in_job = ids(db, access.visible_activities(select(Activity)))
            leads = set(db.execute(access.visible(select(Lead.id), "lead", Lead.owner_id)).scalars())
            deals = set(db.execute(access.visible(select(Opportunity.id), "opportunity",
                                                  Opportunity.owner_id)).scalars())
            may_see_lead = access.may_see(w.lead, "lead")
        assert in_job == expected
        signed_in(client, who.username)
        page = client.get("/crm/activities?view=all").get_data(as_text=True)
        assert {pk for pk, subject in subjects.items() if subject in page} == in_job
        listed = client.get("/crm/leads").get_data(as_text=True)
        assert (f"/crm/leads/{w.lead.id}\"" in listed) is may_see_lead is (w.lead.id in leads)
        board = client.get("/crm/opportunities").get_data(as_text=True)
        assert {d.id for d in (w.deal, w.handed_deal) if f"/crm/opportunities/{d.id}\"" in board} == deals
    # the system acting (a command without --as) is no one: it sees none of these rows
    assert ids(db, access.visible_activities(select(Activity))) == set()


# -- The timeline: record(), merged entries, lazy paging, notes, record rules, party pages --


T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


def test_record_contract(db):
    customer = party(db)
    event = timeline.record(db, "ticket", title="Ticket #7 opened", body="Printer on fire", party_id=customer.id,
                            ticket_id=7)
    assert (event.kind, event.title, event.ticket_id, event.party_id) == ("ticket", "Ticket #7 opened", 7, customer.id)
    long = timeline.record(db, "campaign", title="x" * 300, party_id=customer.id, campaign_id=3)
    assert len(long.title) == 200 and long.campaign_id == 3
    with pytest.raises(KontorError):
        timeline.record(db, "gossip", title="no", party_id=customer.id)


def test_entries_merge_events_and_activities_newest_first_in_pages(db):
    mads = user(db, "mads", ["salesperson"])
    customer = party(db)
    for minute in range(0, 50, 2):
        timeline.record(db, "note", title=f"note {minute}", party_id=customer.id)
        db.flush()
    events = db.execute(select(TimelineEvent).order_by(TimelineEvent.id)).scalars().all()
    for index, event in enumerate(events):
        event.created_at = T0 + timedelta(minutes=2 * index)
    for minute in range(1, 50, 2):
        db.add(Activity(kind="call", subject=f"call {minute}", assignee_id=mads.id, party_id=customer.id,
                        created_at=T0 + timedelta(minutes=minute), notes=""))
    # two entries at the very same moment: the order still holds across pages
    db.add(Activity(kind="task", subject="same moment", assignee_id=mads.id, party_id=customer.id,
                    created_at=T0 + timedelta(minutes=20), notes=""))
    db.flush()
    seen, cursor = [], None
    while True:
        page, cursor = timeline.entries(db, user=mads, party_id=customer.id, before=cursor, limit=7)
        seen += [entry.title for entry in page]
        if cursor is None:
            break
    assert len(seen) == 51 and len(set(seen)) == 51
    assert seen[0] == "call 49" and seen[1] == "note 48" and seen[-1] == "note 0"
    assert seen.index("note 20") < seen.index("same moment") < seen.index("call 19")


def test_party_timeline_hides_other_salespeoples_deals(db):
    mads = user(db, "mads", ["salesperson"])
    sofie = user(db, "sofie", ["salesperson"])
    boss = user(db, "boss", ["sales_manager"])
    customer = party(db)
    opportunity(db, mads, title="Mads deal", customer=customer)
    opportunity(db, sofie, title="Sofie deal", customer=customer)
    timeline.record(db, "note", title="General note", party_id=customer.id)
    titles = lambda u: " | ".join(e.title for e in timeline.entries(db, user=u, party_id=customer.id)[0])
    assert "General note" in titles(mads) and "Mads deal" not in titles(mads)  # stage events have stage titles
    mads_events = [e for e in timeline.entries(db, user=mads, party_id=customer.id)[0] if e.kind == "stage"]
    boss_events = [e for e in timeline.entries(db, user=boss, party_id=customer.id)[0] if e.kind == "stage"]
    assert len(mads_events) == 1 and len(boss_events) == 2
    assert {e.record.opportunity_id for e in mads_events} < {e.record.opportunity_id for e in boss_events}


def test_timeline_endpoint_and_notes(db, client):
    mads = user(db, "mads", ["salesperson"])
    sofie = user(db, "sofie", ["salesperson"])
    mine = opportunity(db, mads, title="Mine")
    theirs = opportunity(db, sofie, title="Theirs")
    db.commit()
    signed_in(client, "mads")
    assert client.get(f"/crm/timeline?opportunity_id={theirs.id}").status_code == 404
    assert client.get("/crm/timeline").status_code == 404
    assert client.get("/crm/timeline?opportunity_id=abc").status_code == 404
    html = client.get(f"/crm/timeline?opportunity_id={mine.id}").get_data(as_text=True)
    assert "Opportunity opened in New" in html
    response = client.htmx("POST", f"/crm/timeline/notes?opportunity_id={mine.id}",
                           data={"body": "<script>alert(1)</script>\nSecond line"})
    assert response.status_code == 200
    assert 'hx-get="/crm/timeline?opportunity_id=' in response.get_data(as_text=True)
    html = client.get(f"/crm/timeline?opportunity_id={mine.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    note = db.execute(select(TimelineEvent).where(TimelineEvent.kind == "note")).scalar_one()
    assert note.party_id == mine.party_id and note.user_id == mads.id  # it shows on the party too
    response = client.htmx("POST", f"/crm/timeline/notes?opportunity_id={mine.id}", data={"body": "  "})
    assert response.status_code == 422 and re.search(r'id="e-body"[^>]*>Write a note.', response.get_data(as_text=True))
    response = client.post_form(f"/crm/timeline/notes?opportunity_id={theirs.id}", {"body": "sneaky"})
    assert response.status_code == 404


def test_party_page_panels(db, client):
    mads = user(db, "mads", ["salesperson", "staff"])
    sofie = user(db, "sofie", ["salesperson"])
    customer = party(db, "Vindmølle A/S")
    opportunity(db, mads, title="Visible deal", customer=customer)
    opportunity(db, sofie, title="Hidden deal", customer=customer)
    from plugins.crm.activities import services

    services.create_activity(db, {"kind": "call", "subject": "Call the CFO", "assignee_id": mads.id,
                                  "party_id": customer.id}, user=mads)
    db.commit()
    signed_in(client, "mads")
    page = client.get(f"/parties/{customer.id}").get_data(as_text=True)
    assert "Open opportunities" in page and "Visible deal" in page and "Hidden deal" not in page
    assert "Call the CFO" in page
    assert f"/crm/timeline/panel?party_id={customer.id}" in page
    box = client.get(f"/crm/timeline/panel?party_id={customer.id}").get_data(as_text=True)
    assert f'hx-get="/crm/timeline?party_id={customer.id}"' in box and 'hx-trigger="load"' in box


def test_party_merge_repoints_everything(db, app):
    from core.parties.services import merge_parties

    mads = user(db, "mads", ["salesperson"])
    source, target = party(db, "Bølgen ApS"), party(db, "Bolgen ApS")
    deal = opportunity(db, mads, customer=source)
    from plugins.crm.activities import services

    call = services.create_activity(db, {"kind": "call", "subject": "x", "assignee_id": mads.id,
                                         "party_id": source.id}, user=mads)
    note = timeline.record(db, "note", title="n", party_id=source.id)
    merge_parties(db, source, target, on_merging=app.extensions["kontor"].pm.hook.party_merging)
    assert (deal.party_id, call.party_id, note.party_id) == (target.id, target.id, target.id)


def test_a_note_is_titled_by_its_first_line(db):
    customer = party(db)
    note = timeline.add_note(db, body="  Wants a volume discount\nAsk finance first.\n", user_id=None,
                             party_id=customer.id)
    assert (note.kind, note.title, note.body) == ("note", "Wants a volume discount", "Ask finance first.")
    with pytest.raises(KontorError):
        timeline.add_note(db, body="\n  ", user_id=None, party_id=customer.id)
    with pytest.raises(KontorError):
        timeline.add_note(db, body="About nothing", user_id=None)


def test_lead_timelines_obey_the_lead_rules(db, client):
    from plugins.crm.leads.services import create_lead

    mads = user(db, "mads", ["staff", "salesperson"])  # staff see customers, so their timelines
    sofie = user(db, "sofie", ["salesperson"])
    theirs = create_lead(db, {"name": "Hidden Lead", "email": "hidden@example.com"}, user=sofie)
    mine = create_lead(db, {"name": "My Lead", "email": "mine@example.com"}, user=mads)
    customer = party(db)
    timeline.record(db, "lead", title="Secret lead news", lead_id=theirs.id, party_id=customer.id)
    timeline.record(db, "lead", title="My lead news", lead_id=mine.id, party_id=customer.id)
    db.commit()
    signed_in(client, "mads")
    assert client.get(f"/crm/timeline?lead_id={theirs.id}").status_code == 404
    assert "My lead news" in client.get(f"/crm/timeline?lead_id={mine.id}").get_data(as_text=True)
    on_party = client.get(f"/crm/timeline?party_id={customer.id}").get_data(as_text=True)
    assert "My lead news" in on_party and "Secret lead news" not in on_party
    signed_in(client, "sofie")  # sees her own leads, but not the customers
    assert client.get(f"/crm/timeline?party_id={customer.id}").status_code == 404
    assert client.get(f"/crm/timeline/panel?party_id={customer.id}").status_code == 404
    assert "Secret lead news" in client.get(f"/crm/timeline?lead_id={theirs.id}").get_data(as_text=True)


def test_a_system_entry_is_shown_in_the_readers_language_and_a_persons_text_as_written(app, db):
    from flask_babel import force_locale

    customer = party(db)
    system = timeline.record(db, "stage", title="Stage: %(old)s → %(new)s", title_args={"old": "Ny", "new": "Vundet"},
                             party_id=customer.id)
    person = timeline.record(db, "note", title="Stage: %(old)s is what I wrote", party_id=customer.id)
    with app.test_request_context(), force_locale("en"):
        assert timeline.shown_title(system) == "Stage: Ny → Vundet"
        assert timeline.shown_title(person) == "Stage: %(old)s is what I wrote"


# -- My activities, the form, an opportunity's planned activities --


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

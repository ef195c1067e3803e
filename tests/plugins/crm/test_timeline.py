"""The timeline: record(), merged entries newest first, lazy paging, notes, record rules, party pages."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core.errors import KontorError

from plugins.crm import timeline
from plugins.crm.activities.models import Activity, TimelineEvent

from tests.plugins.crm.test_pipeline_services import opportunity, party, user
from tests.plugins.crm.test_pipeline_web import signed_in

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

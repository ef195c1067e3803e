"""The CRM of a group of companies: each company has its own pipeline stages, SLA policies and web
form; a salesperson of one company never sees another company's leads, opportunities, board,
tickets, campaigns, activities or timeline entries, on any path (pages, exports, the API, widgets,
counts); a user working in both sees each company's records after switching, and the API's
``?company=`` names the companies a call reads."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import acting_as, all_companies, in_company, utcnow
from core.testing import factories

from plugins.crm import testing, timeline
from plugins.crm.leads import services as leads
from plugins.crm.leads import webform
from plugins.crm.pipeline import services as pipeline
from plugins.crm.pipeline.models import Stage
from plugins.crm.tickets import services as tickets
from plugins.crm.tickets.models import SlaPolicy

OTHER = "Nordlys Vertrieb GmbH"


def _records(db, company_id: int, owner, suffix: str, customer) -> dict[str, int]:
    """One of each CRM record in ``company_id``, owned by ``owner``, named with ``suffix``."""
    with in_company(company_id):
        lead = testing.lead(db, f"Lead {suffix}", f"lead.{suffix.lower()}@example.com", owner_id=owner.id)
        deal = testing.opportunity(db, owner, title=f"Deal {suffix}", customer=customer)
        ticket = testing.ticket(db, subject=f"Ticket {suffix}", priority="urgent", party=customer,
                                now=utcnow() - timedelta(hours=100))
        segment = testing.segment(db, name=f"Segment {suffix}", tag=f"tag-{suffix.lower()}")
        campaign = testing.campaign(db, segment, name=f"Campaign {suffix}")
        call = testing.planned_activity(db, owner, subject=f"Call {suffix}", party_id=customer.id,
                                        due=utcnow() - timedelta(hours=1))
        timeline.add_note(db, body=f"Note {suffix}", user_id=owner.id, party_id=customer.id)
        db.flush()
        return {"lead": lead.id, "opportunity": deal.id, "ticket": ticket.id, "segment": segment.id,
                "campaign": campaign.id, "activity": call.id}


@pytest.fixture
def group(db):
    """Company A (the default one) and B (German), a customer they share, a salesperson of each
    (``anna`` in A, ``bernd`` in B) and ``mia`` working in both; one of each record per company."""
    home = factories.company(db)
    anna = factories.user(db, "anna", roles=["staff", "salesperson", "marketing"])
    mia = factories.user(db, "mia", roles=["staff", "sales_manager", "marketing", "service_agent"])
    other = factories.group_company(db, OTHER, country="DE", base_currency="EUR", locale="de", members=[mia])
    bernd = factories.user(db, "bernd", roles=["staff", "salesperson", "marketing"], companies=[other.id])
    customer = testing.company(db, "Fjord Logistik ApS", email="info@fjord.example")
    made = {"A": _records(db, home.id, anna, "A", customer), "B": _records(db, other.id, bernd, "B", customer),
            "home": home.id, "other": other.id, "customer": customer.id, "mia": mia.id}
    db.commit()
    return made


def _api(app, username: str) -> dict:
    from core.auth.models import User
    from core.auth.tokens import create_token
    from core.db import session

    with app.app_context():
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        _, secret = create_token(session, user, "tests")
        session.commit()
    return {"Authorization": f"Bearer {secret}"}


PAGES = ("/crm/leads", "/crm/opportunities", "/crm/board", "/crm/tickets", "/crm/campaigns", "/crm/segments",
         "/crm/activities", "/crm/my-activities", "/crm/sla")


# -- Default data per company --


def test_each_company_has_its_own_stages_sla_policies_and_web_form_key_in_its_language(db):
    home = factories.company(db)
    other = factories.group_company(db, OTHER, country="DE", locale="de")
    with in_company(home.id):
        home_stages = pipeline.list_stages(db)
        home_key = webform.settings_of(db)[webform.TOKEN]
        assert db.execute(select(func.count()).select_from(SlaPolicy)).scalar_one() == 4
    with in_company(other.id):
        other_stages = pipeline.list_stages(db)
        other_key = webform.settings_of(db)[webform.TOKEN]
        assert [p.priority for p in tickets.policies(db)] == ["low", "normal", "high", "urgent"]
        assert {s.company_id for s in db.execute(select(Stage)).scalars()} == {other.id}
    assert [s.name for s in home_stages] == ["New", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]
    assert [s.name for s in other_stages][:2] == ["Neu", "Qualifiziert"]
    assert "Gewonnen" in {s.name for s in other_stages}
    assert not {s.id for s in home_stages} & {s.id for s in other_stages}
    assert home_key and other_key and home_key != other_key


def test_a_stage_of_another_company_cannot_take_an_opportunity(db, group):
    from core import NotFound
    from plugins.crm.pipeline.models import Opportunity

    with in_company(group["other"]):
        foreign = pipeline.list_stages(db)[0].id
    with in_company(group["home"]):
        deal = db.execute(select(Opportunity).where(Opportunity.id == group["A"]["opportunity"])).scalar_one()
        with pytest.raises(NotFound) as refused:
            pipeline.change_stage(db, deal, foreign)
        assert refused.value.field == "stage_id"


# -- A salesperson of company A only --


def test_a_salesperson_of_one_company_never_sees_the_other_companys_records_on_a_page(group, client):
    testing.signed_in(client, "anna")
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert " B<" not in html and " B\n" not in html and "Deal B" not in html and "Lead B" not in html, path
    assert "Lead A" in client.get("/crm/leads").get_data(as_text=True)
    assert "Deal A" in client.get("/crm/board").get_data(as_text=True)
    assert "Ticket A" in client.get("/crm/tickets").get_data(as_text=True)
    assert "Campaign A" in client.get("/crm/campaigns").get_data(as_text=True)
    b = group["B"]
    for path in (f"/crm/leads/{b['lead']}", f"/crm/opportunities/{b['opportunity']}", f"/crm/tickets/{b['ticket']}",
                 f"/crm/campaigns/{b['campaign']}", f"/crm/activities/{b['activity']}",
                 f"/crm/timeline?lead_id={b['lead']}", f"/crm/timeline?opportunity_id={b['opportunity']}"):
        assert client.get(path).status_code == 404, path


def test_the_shared_customers_timeline_panels_and_dashboard_show_only_the_own_company(group, client):
    testing.signed_in(client, "anna")
    customer = group["customer"]
    entries = client.get(f"/crm/timeline?party_id={customer}").get_data(as_text=True)
    assert "Note A" in entries and "Call A" in entries
    assert "Note B" not in entries and "Call B" not in entries and "Deal B" not in entries and "Ticket B" not in entries
    party_page = client.get(f"/parties/{customer}").get_data(as_text=True)
    assert "Deal A" in party_page and "Ticket A" in party_page
    assert "Deal B" not in party_page and "Ticket B" not in party_page and "Call B" not in party_page
    assert "Campaign B" not in party_page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Ticket B" not in dashboard
    for widget in ("/crm/widgets/funnel", "/crm/widgets/reminders"):
        html = client.get(widget).get_data(as_text=True)
        assert "Call B" not in html and "Deal B" not in html, widget
    assert "Call A" in client.get("/crm/widgets/reminders").get_data(as_text=True)


def test_exports_and_counts_hold_only_the_own_company(group, client, db):
    testing.signed_in(client, "anna")
    for path, name in (("/crm/leads?format=csv", "Lead"), ("/crm/opportunities?format=csv", "Deal"),
                       ("/crm/tickets?format=csv", "Ticket")):
        response = client.get(path)
        assert response.status_code == 200, path
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        text = "\n".join(",".join(row) for row in rows[1:])
        assert f"{name} A" in text and f"{name} B" not in text, path
    with in_company(group["home"]):
        assert tickets.count_open(db) == 1 and tickets.count_breached(db, utcnow()) == 1
        assert leads.open_lead_count(db, user=None) == 1
    with in_company(group["other"]):
        assert tickets.count_open(db) == 1
        assert [t.subject for t in tickets.breached_tickets(db, utcnow())] == ["Ticket B"]


@pytest.fixture
def anna_api(group, app):
    return _api(app, "anna")


@pytest.mark.parametrize("kind,collection,name", [
    ("lead", "leads", "Lead"), ("opportunity", "opportunities", "Deal"), ("ticket", "tickets", "Ticket"),
    ("campaign", "campaigns", "Campaign"), ("segment", "segments", "Segment"), ("activity", "activities", "Call"),
])
def test_the_api_of_a_salesperson_lists_and_details_only_their_company(group, client, anna_api, kind, collection,
                                                                       name):
    listing = client.get(f"/api/v1/crm/{collection}", headers=anna_api)
    assert listing.status_code == 200, listing.get_data(as_text=True)
    text = listing.get_data(as_text=True)
    assert f"{name} A" in text and f"{name} B" not in text
    assert client.get(f"/api/v1/crm/{collection}/{group['A'][kind]}", headers=anna_api).status_code == 200
    assert client.get(f"/api/v1/crm/{collection}/{group['B'][kind]}", headers=anna_api).status_code == 404
    # naming a company she does not work in reads her own company still
    other = client.get(f"/api/v1/crm/{collection}?company={group['other']}", headers=anna_api)
    assert f"{name} B" not in other.get_data(as_text=True)


# -- A user of both companies --


def test_a_user_of_both_companies_sees_each_after_switching(group, client, db):
    from core.auth.models import User
    from core.company.services import switch_company

    testing.signed_in(client, "mia")
    page = client.get("/crm/leads").get_data(as_text=True)
    assert "Lead A" in page and "Lead B" not in page
    assert client.get(f"/crm/leads/{group['B']['lead']}").status_code == 404
    switch_company(db, db.get(User, group["mia"]), group["other"])
    db.commit()
    for path, mine, theirs in (("/crm/leads", "Lead B", "Lead A"), ("/crm/board", "Deal B", "Deal A"),
                               ("/crm/tickets", "Ticket B", "Ticket A"), ("/crm/campaigns", "Campaign B", "Campaign A"),
                               ("/crm/activities", "Call B", "Call A")):
        html = client.get(path).get_data(as_text=True)
        assert mine in html and theirs not in html, path
    assert client.get(f"/crm/leads/{group['B']['lead']}").status_code == 200
    assert client.get(f"/crm/leads/{group['A']['lead']}").status_code == 404
    board = client.get("/crm/board").get_data(as_text=True)
    assert "Neu" in board and "Qualifiziert" in board  # the German company's own stages


def test_the_api_company_parameter_reads_the_companies_named(group, client, app):
    headers = _api(app, "mia")
    home, other = group["home"], group["other"]
    names = lambda path: {item["name"] for item in client.get(path, headers=headers).get_json()["items"]}  # noqa: E731
    assert names("/api/v1/crm/leads") == {"Lead A"}
    assert names(f"/api/v1/crm/leads?company={other}") == {"Lead B"}
    assert names(f"/api/v1/crm/leads?company={home},{other}") == {"Lead A", "Lead B"}
    assert client.get(f"/api/v1/crm/leads/{group['B']['lead']}?company={other}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/crm/leads/{group['B']['lead']}", headers=headers).status_code == 404


# -- The ownership rule inside a company --


def test_the_ownership_rule_holds_for_each_salesperson_in_turn(db, group):
    from core.auth.models import User
    from plugins.crm.leads.models import Lead
    from plugins.crm.pipeline.models import Opportunity

    anna = db.execute(select(User).where(User.username == "anna")).scalar_one()
    solo = factories.user(db, "solo", roles=["salesperson"])
    with in_company(group["home"]):
        testing.lead(db, "Solo lead", "solo@example.com", owner_id=solo.id)
        testing.opportunity(db, solo, title="Solo deal")
        db.commit()
        for _round in range(2):  # the rule is compiled once and answers for each user
            with acting_as(solo):
                assert [lead.name for lead in db.execute(select(Lead)).scalars()] == ["Solo lead"]
                assert db.execute(select(func.count()).select_from(Lead)).scalar_one() == 1
                assert [o.title for o in db.execute(select(Opportunity)).unique().scalars()] == ["Solo deal"]
            with acting_as(anna):  # marketing sees every lead of her company, and her own deals
                assert {lead.name for lead in db.execute(select(Lead)).scalars()} == {"Lead A", "Solo lead"}
                assert [o.title for o in db.execute(select(Opportunity)).unique().scalars()] == ["Deal A"]
        # the system (a job, the web form) is not narrowed by the ownership rule; the company still is
        assert db.execute(select(func.count()).select_from(Lead)).scalar_one() == 2


# -- The web form --


def test_a_web_form_lands_in_the_company_whose_key_it_sends(group, client, db):
    from plugins.crm.leads.models import Lead

    with in_company(group["other"]):
        key = webform.settings_of(db)[webform.TOKEN]
    form = {"name": "Visitor", "email": "visitor@example.com", "message": "Call me", "token": key}
    sent = client.post("/crm/web-to-lead", data=form)
    assert sent.status_code == 303
    with all_companies():
        found = db.execute(select(Lead.company_id).where(Lead.email == "visitor@example.com")).scalars().all()
    assert found == [group["other"]]
    unknown = client.post("/crm/web-to-lead", data={**form, "token": "nope", "email": "x@example.com"})
    assert unknown.status_code == 422 and "Form key" in unknown.get_data(as_text=True)
    none = client.post("/crm/web-to-lead", data={**{k: v for k, v in form.items() if k != "token"},
                                                 "email": "y@example.com"})
    assert none.status_code == 422


# -- Migration --


def _counts(conn) -> dict[str, int]:
    from sqlalchemy import text

    return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("crm_stage", "crm_lead", "crm_opportunity", "crm_activity", "crm_timeline_event",
                          "crm_sla_policy", "crm_ticket", "crm_ticket_message", "crm_segment", "crm_campaign")}


def test_downgrading_keeps_the_default_companys_records_and_upgrading_gives_them_back_to_it(db, group):
    from pathlib import Path

    from sqlalchemy import inspect, text

    import plugins
    from core.modules import migrate
    from core.modules.lifecycle import migration_connection

    home = group["home"]
    engine = db.get_bind()
    with engine.connect() as conn:
        before = _counts(conn)
        own = {table: conn.execute(text(f"SELECT count(*) FROM {table} WHERE company_id = {home}")).scalar_one()
               for table in before if table != "crm_ticket_message"}
    db.close()
    locations = [Path(plugins.__file__).parent / "crm" / "migrations"]
    with migration_connection(engine) as conn:  # on SQLite, foreign keys checked before the commit
        migrate.downgrade(conn, "crm@crm_0003", locations)
        assert "company_id" not in {c["name"] for c in inspect(conn).get_columns("crm_lead")}
        after = _counts(conn)
        migrate.upgrade(conn, "crm@head", locations)
        again = {table: conn.execute(text(f"SELECT count(*) FROM {table} WHERE company_id = {home}")).scalar_one()
                 for table in own}
    assert before["crm_lead"] == 2 and before["crm_stage"] == 12
    assert {k: v for k, v in after.items() if k != "crm_ticket_message"} == own
    assert again == own


def test_owner_and_assignee_pickers_offer_only_the_people_of_the_company(group, db):
    from core.auth.models import User
    from plugins.crm.leads.services import owner_choices
    from plugins.crm.pipeline.services import user_choices

    names = {u.id: u.username for u in db.execute(select(User)).scalars()}
    mia = db.get(User, group["mia"])
    for company, present, absent in ((group["home"], {"anna", "mia"}, {"bernd"}),
                                     (group["other"], {"bernd", "mia"}, {"anna"})):
        with in_company(company):
            for offered in ({names[i] for i, _ in user_choices(db)}, {names[i] for i, _ in owner_choices(db, user=mia)}):
                assert present <= offered and not absent & offered, (company, offered)

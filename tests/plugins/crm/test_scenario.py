"""From a web enquiry to a won deal, a resolved ticket and a newsletter, end to end, as a user story:
through the pages (forms posted as a browser posts them), the public web form and the JSON API where
a script would use it, with a real SMTP server receiving the mail. Each step checks what people see.

1. Freja fills in the contact form on the company's website: a lead arrives;
2. Mads, the sales manager (new leads from the website reach him), finds it, qualifies it into an opportunity and logs his call;
3. he moves the opportunity through the pipeline to won;
4. a customer writes to support (the support form's script opens a ticket through the API);
5. Sofie, a service agent, replies (the customer gets the mail) and resolves it within its SLA;
6. Lars in marketing builds a segment and sends a campaign to it; every member gets the mail.
"""
from __future__ import annotations

import re

import pytest

from plugins.crm import testing

WEB_FORM = {"name": "Freja Lund", "company": "Nordlys ApS", "email": "freja@nordlys.dk", "phone": "+45 11 22 33 44",
            "message": "Please call me about solar panels."}


def found_id(path: str, html: str) -> int:
    """The id in the first link to ``path``/<id> on a page."""
    return int(re.search(rf"{re.escape(path)}/(\d+)", html).group(1))


@pytest.fixture
def audience(app):
    """Customers tagged for the newsletter: a company and three of its people (one refused by the server)."""
    from core.db import session

    with app.app_context():
        testing.people(session, "newsletter")
        session.commit()


def test_from_a_web_enquiry_to_a_won_deal_a_resolved_ticket_and_a_newsletter(client, client_with, api_with, smtp,
                                                                             audience):
    # 1. The website's contact form: no account, no CSRF token, a thank-you page.
    sent = client.post("/crm/web-to-lead", data=WEB_FORM)
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/crm/web-to-lead/thanks")
    assert "Thank you" in client.get(sent.headers["Location"]).get_data(as_text=True)

    # 2. Mads finds the lead, qualifies it and logs his call.
    mads = client_with(roles=["sales_manager"])
    leads = mads.get("/crm/leads").get_data(as_text=True)
    assert "Freja Lund" in leads and "Nordlys ApS" in leads
    lead_id = found_id("/crm/leads", leads)
    lead_page = mads.get(f"/crm/leads/{lead_id}").get_data(as_text=True)
    assert "Please call me about solar panels." in lead_page
    qualified = mads.post_form(f"/crm/leads/{lead_id}/qualify", {
        "party_choice": "new", "title": "Solar roof for Nordlys", "expected_revenue": "40000", "currency": "DKK"})
    assert qualified.status_code == 303, qualified.get_data(as_text=True)
    lead_page = mads.get(f"/crm/leads/{lead_id}").get_data(as_text=True)
    assert "Solar roof for Nordlys" in lead_page and "Nordlys ApS" in lead_page
    deal_id = found_id("/crm/opportunities", lead_page)
    form = mads.get(f"/crm/activities/new?opportunity_id={deal_id}").get_data(as_text=True)
    assignee = re.search(r'name="assignee_id".*?<option value="(\d+)" selected', form, re.S).group(1)  # himself
    logged = mads.post_form("/crm/activities/new", {"assignee_id": assignee,
        "kind": "call", "subject": "Discovery call with Freja", "due_date": "", "due_time": "", "notes": "Wants 12 kW",
        "opportunity_id": str(deal_id)})
    assert logged.status_code == 303, logged.get_data(as_text=True)
    activities = mads.get("/crm/my-activities").get_data(as_text=True)
    assert "Discovery call with Freja" in activities
    activity_id = found_id("/crm/activities", activities)
    assert mads.post_form(f"/crm/activities/{activity_id}/done", {}).status_code == 303
    assert "Discovery call with Freja" in mads.get(f"/crm/timeline?opportunity_id={deal_id}").get_data(as_text=True)

    # 3. Through the pipeline to won.
    stages = {stage["name"]: stage["id"] for stage in api_with(roles=["sales_manager"]).get(
        "/api/v1/crm/stages").get_json()["items"]}
    for name in ("Proposal", "Won"):
        moved = mads.post_form(f"/crm/opportunities/{deal_id}/stage",
                               {"stage_id": str(stages[name]), "next": f"/crm/opportunities/{deal_id}"})
        assert moved.status_code == 303, moved.get_data(as_text=True)
        assert name in mads.get(f"/crm/opportunities/{deal_id}").get_data(as_text=True)
    board = mads.get("/crm/board").get_data(as_text=True)
    won_column = board[board.index(f'id="column-{stages["Won"]}"'):]
    assert f'id="card-{deal_id}"' in won_column and "40,000.00" in won_column

    # 4. A customer writes to support; the support form's script opens the ticket.
    support_form = api_with(roles=["service_agent"])
    opened = support_form.post("/api/v1/crm/tickets", json={
        "subject": "Inverter shows error 31", "priority": "high", "contact_email": "freja@nordlys.dk",
        "description": "Since this morning the inverter shows error 31."})
    assert opened.status_code == 201, opened.get_json()
    ticket_id = opened.get_json()["id"]

    # 5. Sofie answers (the customer gets the mail) and resolves it within its SLA.
    sofie = client_with(roles=["service_agent"])
    queue = sofie.get("/crm/tickets").get_data(as_text=True)
    assert "Inverter shows error 31" in queue
    replied = sofie.htmx("POST", f"/crm/tickets/{ticket_id}/messages",
                         data={"kind": "reply", "body": "Please restart it; a technician comes tomorrow."})
    assert replied.status_code == 200, replied.get_data(as_text=True)
    assert "a technician comes tomorrow" in smtp.text_for("freja@nordlys.dk")
    assert sofie.post_form(f"/crm/tickets/{ticket_id}/status", {"status": "resolved"}).status_code == 303
    ticket_page = sofie.get(f"/crm/tickets/{ticket_id}").get_data(as_text=True)
    assert "Resolved" in ticket_page and "Met" in ticket_page and "Breached" not in ticket_page

    # 6. Lars sends the newsletter to a segment of the customers tagged for it.
    lars = client_with(roles=["marketing"])
    segment = lars.post_form("/crm/segments/new", {"name": "Newsletter", "include_parties": "1",
                                                   "tags": "newsletter"})
    assert segment.status_code == 303, segment.get_data(as_text=True)
    segment_id = found_id("/crm/segments", segment.headers["Location"])
    assert "Jens Hansen" in lars.get(segment.headers["Location"]).get_data(as_text=True)
    campaign = lars.post_form("/crm/campaigns/new", {"name": "Spring news", "segment_id": str(segment_id),
                                                     "subject": "Spring news for {{name}}",
                                                     "body": "Hello {{name}}!\nUnsubscribe: {{ unsubscribe_url }}"})
    assert campaign.status_code == 303, campaign.get_data(as_text=True)
    campaign_url = campaign.headers["Location"]
    assert lars.post_form(f"{campaign_url}/send", {}).status_code == 303
    campaign_id = found_id("/crm/campaigns", campaign_url)
    status = api_with(roles=["marketing"]).get
    for _ in range(10):  # the progress box asks for the next batch until every address has had its mail
        lars.htmx("POST", f"{campaign_url}/send-batch")
        if status(f"/api/v1/crm/campaigns/{campaign_id}").get_json()["status"] == "sent":
            break
    assert status(f"/api/v1/crm/campaigns/{campaign_id}").get_json()["status"] == "sent"
    received = [m["X-Envelope-To"].lower() for m in smtp.messages if m["Subject"].startswith("Spring news")]
    assert sorted(received) == ["info@fjord.example", "jens@fjord.example", "mette@fjord.example"]
    assert "Hello Jens Hansen!" in smtp.text_for("jens@fjord.example")

"""A service ticket in the browser: open it, answer the customer, note internally, resolve, close;
and a ticket past its service level highlighted in the list and on the SLA page."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import create_parties, scripts_ready, side_menu


@pytest.fixture
def modules():
    """The CRM is installed for these flows."""
    return ("crm",)


@pytest.fixture
def customer(live_server) -> str:
    create_parties(live_server, {"kind": "company", "name": "Fjord Logistik ApS", "email": "info@fjord.example"})
    return "Fjord Logistik ApS"


def test_ticket_lifecycle(logged_in_page: Page, customer):
    page = logged_in_page

    # 1. From the menu to a new ticket for the customer.
    side_menu(page).get_by_role("link", name="Tickets", exact=True).click()
    expect(page.get_by_role("heading", name="Tickets", level=1)).to_be_visible()
    page.get_by_role("button", name="New ticket").click()
    page.get_by_role("textbox", name="Subject").fill("Pallet arrived damaged")
    page.get_by_label("Description").fill("Two boxes were crushed.")
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_label("Customer", exact=True).select_option(label=customer)
    page.get_by_role("button", name="Save", exact=True).click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(re.compile(r"T-\d{6} Pallet arrived damaged"))
    expect(heading).to_contain_text("New")
    expect(page.get_by_role("status")).to_contain_text("is open")

    # 2. An internal note, then a reply to the customer: both appear, marked apart, without a reload.
    scripts_ready(page)
    page.evaluate("window.__marker = 'same page'")
    page.get_by_label("Internal note").check()
    page.get_by_role("textbox", name="Message").fill("Ask the carrier for photos")
    page.get_by_role("button", name="Add to the conversation").click()
    note = page.locator("article[data-kind=note]")
    expect(note).to_contain_text("Internal note")
    expect(note).to_contain_text("Ask the carrier for photos")
    page.get_by_label("Reply to customer").check()
    page.get_by_role("textbox", name="Message").fill("New boxes are on their way.")
    page.get_by_role("button", name="Add to the conversation").click()
    reply = page.locator("article[data-kind=reply]").filter(has_text="New boxes")
    expect(reply).to_contain_text("Reply to customer")
    assert page.evaluate("window.__marker") == "same page"
    # the first reply opened the ticket and met the response target
    expect(page.get_by_role("heading", level=1)).to_contain_text("Open")
    expect(page.locator(".ticket-fields")).to_contain_text("Met")

    # 3. Resolve, then close; a closed ticket offers a reopen and takes no more messages.
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text("is resolved")
    page.get_by_role("button", name="Close").click()
    expect(page.get_by_role("status")).to_contain_text("is closed")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    expect(page.get_by_role("button", name="Add to the conversation")).to_have_count(0)


def test_a_breached_ticket_is_highlighted(logged_in_page: Page, live_server, customer):
    from core.db import session, utcnow
    from core.parties.models import Party
    from plugins.crm.tickets import services
    from sqlalchemy import select

    with live_server.app.app_context():
        party = session.execute(select(Party).where(Party.name == customer)).scalar_one()
        late = services.create_ticket(session, {"subject": "Server down", "priority": "urgent",
                                                "party_id": party.id}, now=utcnow() - timedelta(hours=5))
        services.create_ticket(session, {"subject": "Small question", "priority": "low", "party_id": party.id})
        session.commit()
        number = late.number
    page = logged_in_page
    page.goto("/crm/tickets")
    row = page.get_by_role("row").filter(has_text="Server down")
    expect(row.locator(".sla-breached")).to_have_text("Breached")
    expect(page.get_by_role("row").filter(has_text="Small question").locator(".sla-breached")).to_have_count(0)

    page.get_by_role("button", name="Service levels").click()
    breached = page.locator("#sla-breached")
    expect(breached.get_by_role("link", name=number)).to_be_visible()
    expect(breached).not_to_contain_text("Small question")
    breached.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Breached")

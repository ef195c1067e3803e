"""Approvals in the browser: the admin makes discounts over 10 % need the salesperson's manager's
approval; Mads asks for 15 % and requests approval, which refuses to win the deal until then; Sofie,
his manager, sees the bell, opens the notification and approves on "Awaiting my approval"; Mads sees
the decision (bell and panel) and wins the deal. Screenshots at 1280 and 390 px go to /tmp."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import DESKTOP, PHONE, scripts_ready, sign_in, side_menu

SHOTS = Path("/tmp/approvals-e2e")
PASSWORD = "correct horse battery"
DEAL = "Fleet tracking for Havnefront"


@pytest.fixture
def modules():
    """The CRM is installed for this flow."""
    return ("crm",)


@pytest.fixture
def deal(live_server) -> int:
    """Mads, a salesperson whose manager is Sofie (a sales manager), and his deal of 240,000; its id."""
    from core import create_party, create_user
    from core.auth.managers import set_manager
    from core.db import session
    from plugins.crm.pipeline.services import create_opportunity

    with live_server.app.app_context():
        mads, _ = create_user(session, "mads", password=PASSWORD, full_name="Mads Berg", roles=["salesperson"])
        sofie, _ = create_user(session, "sofie", password=PASSWORD, full_name="Sofie Krag", roles=["sales_manager"])
        set_manager(session, mads, sofie.id)
        customer = create_party(session, {"kind": "company", "name": "Havnefront Logistik ApS"})
        made = create_opportunity(session, party=customer, title=DEAL, owner_id=mads.id, expected_revenue="240000")
        session.commit()
        return made.id


def shoot(page: Page, name: str) -> None:
    """A screenshot of the whole page at desktop width, then at phone width (and back)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("1280", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def signed_in_as(new_context, username: str) -> Page:
    """A page of a browser context of its own, signed in as ``username``."""
    page = new_context().new_page()
    sign_in(page, username, PASSWORD)
    return page


def approval_panel(page: Page):
    """The Approval panel of the record page (loaded by htmx once it is scrolled into view)."""
    page.locator("div.panels").scroll_into_view_if_needed()
    return page.locator(".approval-panel")


def move_to(page: Page, stage: str) -> None:
    """Pick ``stage`` in the opportunity page's stage form and press Move."""
    form = page.locator("form.crm-stage-form")
    form.get_by_label("Stage").select_option(label=stage)
    form.get_by_role("button", name="Move").click()


def test_a_discount_is_requested_notified_approved_and_the_deal_won(logged_in_page: Page, new_context, deal):
    admin = logged_in_page

    # 1. The admin makes discounts over 10 % need the requester's manager's approval.
    side_menu(admin).get_by_role("link", name="Approval rules").click()
    expect(admin.get_by_role("heading", name="Approval rules", level=1)).to_be_visible()
    admin.locator("section#kind-crm-opportunity").get_by_role("button", name="New rule").click()
    admin.get_by_role("textbox", name="Name", exact=True).fill("Discounts over 10%")
    admin.get_by_role("textbox", name="Condition", exact=True).fill("discount > 0.10")
    expect(admin.get_by_label("Approved by")).to_have_value("manager")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("The approval rule Discounts over 10% is saved.")).to_be_visible()
    expect(admin.locator("section#kind-crm-opportunity")).to_contain_text("discount > 0.10")
    shoot(admin, "1-rule")

    # 2. Mads asks for 15 %; the deal cannot be won before approval; he requests it.
    mads = signed_in_as(new_context, "mads")
    mads.goto(f"/crm/opportunities/{deal}/edit")
    mads.get_by_role("textbox", name="Discount requested (%)").fill("15")
    mads.get_by_role("button", name="Save").click()
    expect(mads.get_by_test_id("opportunity-discount")).to_have_text("15 %")
    move_to(mads, "Won")
    expect(mads.locator("p.form-error")).to_contain_text("needs approval before it can be won")
    mads.goto(f"/crm/opportunities/{deal}")
    expect(approval_panel(mads)).to_have_attribute("data-approval-state", "required")
    mads.locator(".page-actions").get_by_role("button", name="Request approval").click()
    expect(mads.get_by_text(f"Approval of {DEAL} is requested.")).to_be_visible()
    expect(approval_panel(mads)).to_have_attribute("data-approval-state", "pending")
    expect(mads.locator(".approval-panel")).to_contain_text("Sofie Krag")
    shoot(mads, "2-requested")

    # 3. Sofie sees the bell, opens the notification, and approves on "Awaiting my approval".
    sofie = signed_in_as(new_context, "sofie")
    bell = sofie.locator("#notification-bell")
    expect(bell).to_have_attribute("aria-label", "Notifications: 1 unread")
    shoot(sofie, "3-bell")
    bell.click()
    notification = sofie.get_by_role("link", name=f"Mads Berg asks you to approve {DEAL}.")
    expect(notification).to_be_visible()
    shoot(sofie, "4-inbox")
    notification.click()
    expect(sofie.get_by_role("heading", level=1)).to_contain_text(DEAL)
    expect(sofie.get_by_test_id("opportunity-discount")).to_have_text("15 %")
    side_menu(sofie).get_by_role("link", name=re.compile(r"^Awaiting my approval")).click()
    row = sofie.locator("table.approvals-awaiting tbody tr").filter(has_text=DEAL)
    expect(row).to_contain_text("Discounts over 10%")
    expect(row).to_contain_text("Mads Berg")
    shoot(sofie, "5-awaiting")
    row.get_by_role("checkbox").check()
    sofie.get_by_role("button", name="Approve the selected").click()
    expect(sofie.get_by_text("Nothing awaits your approval.")).to_be_visible()

    # 4. Mads sees the decision (the bell, the inbox, the panel) and wins the deal.
    mads.goto(f"/crm/opportunities/{deal}")
    scripts_ready(mads)
    expect(mads.locator("#notification-bell")).to_have_attribute("aria-label", "Notifications: 1 unread")
    expect(approval_panel(mads)).to_have_attribute("data-approval-state", "approved")
    expect(mads.locator(".approval-panel")).to_contain_text("Sofie Krag")
    shoot(mads, "6-approved")
    mads.locator("#notification-bell").click()
    expect(mads.get_by_role("link", name=f"{DEAL} is approved.")).to_be_visible()
    mads.get_by_role("link", name=f"{DEAL} is approved.").click()
    move_to(mads, "Won")
    expect(mads.get_by_text(f"{DEAL} moved to Won.")).to_be_visible()
    expect(mads.locator("[data-status]")).to_have_attribute("data-status", "won")
    expect(mads.locator(".crm-timeline")).to_contain_text("Approval requested")
    expect(mads.locator(".crm-timeline")).to_contain_text("Approved")
    expect(approval_panel(mads)).to_have_attribute("data-approval-state", "approved")
    shoot(mads, "7-won")

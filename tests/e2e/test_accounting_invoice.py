"""An invoice in the browser: write it with live totals, post it, take a payment, see what is left
in the aged receivables and on the customer's page."""
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import create_parties, scripts_ready, side_menu

CUSTOMER = "Nordlys Trading ApS"


@pytest.fixture
def modules():
    """The flow needs the accounting module installed."""
    return ("accounting",)


@pytest.fixture
def customer(live_server) -> str:
    create_parties(live_server, {"kind": "company", "name": CUSTOMER, "city": "Aarhus C", "country": "DK",
                                 "vat_id": "DK12345678"})
    return CUSTOMER


def test_invoice_post_pay_and_follow_up(logged_in_page: Page, customer, live_server):
    page = logged_in_page

    # 1. From the menu to a new invoice for the customer.
    side_menu(page).get_by_role("link", name="Invoices", exact=True).click()
    expect(page.get_by_role("heading", name="Customer invoices", level=1)).to_be_visible()
    page.get_by_role("button", name="New invoice").click()
    expect(page.get_by_role("heading", name="New invoice", level=1)).to_be_visible()
    scripts_ready(page)
    page.get_by_role("combobox", name="Customer").select_option(label=customer)
    page.get_by_role("textbox", name="Customer reference").fill("PO-2026-17")

    # 2. The first line; the server computes the totals as the figures change.
    page.get_by_role("textbox", name="Description (line 1)").fill("Design workshop")
    page.get_by_role("textbox", name="Quantity (line 1)").fill("2")
    page.get_by_role("textbox", name="Unit price (line 1)").fill("100.00")
    page.get_by_role("textbox", name="Unit price (line 1)").press("Tab")
    expect(page.get_by_test_id("invoice-total")).to_contain_text("250.00")

    # 3. A second line, added by htmx, with a discount: the total follows.
    page.get_by_role("button", name="Add a line").click()
    page.get_by_role("textbox", name="Description (line 2)").fill("Hosting")
    page.get_by_role("textbox", name="Unit price (line 2)").fill("49.99")
    page.get_by_role("textbox", name="Discount (%) (line 2)").fill("10")
    page.get_by_role("textbox", name="Discount (%) (line 2)").press("Tab")
    expect(page.get_by_test_id("invoice-total")).to_contain_text("306.24")

    # 4. Save the draft, then post it (after the confirm dialog): it gets its number.
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_test_id("invoice-state")).to_have_text("Draft")
    scripts_ready(page)
    page.get_by_role("button", name="Post", exact=True).click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("invoice-state")).to_have_text("Open")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(re.compile(r"SAL/\d{4}/\d{5}"))
    number = re.search(r"SAL/\d{4}/\d{5}", heading.inner_text()).group(0)
    invoice_url = page.url

    # 5. The print view carries the number and the customer.
    page.goto(invoice_url + "/print")
    expect(page.locator(".number")).to_have_text(number)
    expect(page.get_by_text(customer)).to_be_visible()
    page.goto(invoice_url)

    # 6. Register part of it as paid through the payment form the invoice links to.
    page.get_by_role("button", name="Register payment").click()
    expect(page.get_by_role("heading", name="Register payment", level=1)).to_be_visible()
    scripts_ready(page)
    page.get_by_role("textbox", name="Amount").fill("100.00")
    page.get_by_role("textbox", name="Amount").press("Tab")
    expect(page.locator("#allocation").get_by_role("alert")).to_contain_text("more than the payment")
    page.get_by_label(f"Pay now on {number}").fill("100.00")
    page.get_by_label(f"Pay now on {number}").press("Tab")
    expect(page.locator("#allocated")).to_contain_text("100.00")
    expect(page.locator("#shortfall")).to_contain_text("206.24")
    page.get_by_role("button", name="Register and post").click()
    expect(page.get_by_role("status")).to_contain_text("is registered")
    page.goto(invoice_url)
    expect(page.get_by_test_id("invoice-state")).to_have_text("Partly paid")
    expect(page.get_by_test_id("invoice-residual")).to_contain_text("206.24")

    # 7. The aged receivables show what is left, under the customer.
    page.goto("/accounting/reports/aged/receivables")
    row = page.get_by_role("row").filter(has_text=customer)
    expect(row).to_contain_text("206.24")

    # 8. The customer's page shows the open invoice and the balance in the accounting panel.
    page.goto(invoice_url)
    page.get_by_role("link", name=customer).click()
    expect(page.get_by_role("heading", name=customer, level=1)).to_be_visible()
    panel = page.locator("article.panel").filter(has_text="Invoices and bills")
    panel.scroll_into_view_if_needed()
    expect(panel.get_by_test_id("party-receivable")).to_contain_text("206.24")
    expect(panel.get_by_role("link", name=number)).to_be_visible()

"""Two companies of a group in the browser: a user of both switches company in the header and sees
each company's invoices and pipeline only; a user of one company never sees the other's; an
intercompany invoice posted in the Danish company is a draft bill in the German one, and once that is
posted the consolidated profit and loss eliminates the pair."""
import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import scripts_ready, sign_in

PASSWORD = "group password 1"
DK = "Nordlys Handel ApS"
DE = "Nordlys Vertrieb GmbH"


@pytest.fixture
def modules():
    """Accounting and the CRM keep books and pipelines per company."""
    return ("accounting", "crm")


@pytest.fixture
def group(live_server) -> dict:
    """The default company (Danish) and a German one, each with a posted invoice to an outside
    customer and an opportunity; ``lise`` works in both, ``jens`` in the Danish one only."""
    from core import create_party, in_company
    from core.auth.services import create_user
    from core.db import session
    from core.testing import factories
    from plugins.accounting.currencies import services as fx
    from plugins.accounting.invoicing import services as invoicing
    from plugins.accounting.testing import ensure_year
    from plugins.crm.pipeline.services import create_opportunity

    today = date.today()
    with live_server.app.app_context():
        dk = factories.company(session, legal_name=DK)
        dk.party_id = create_party(session, {"kind": "company", "name": DK, "country": "DK"}).id
        de = factories.group_company(session, DE, country="DE", base_currency="EUR", locale="de")
        de.party_id = create_party(session, {"kind": "company", "name": DE, "country": "DE"}).id
        roles = ["bookkeeper", "accounting_viewer", "sales_manager"]
        lise, _ = create_user(session, "lise", password=PASSWORD, roles=roles, companies=[dk.id, de.id],
                              full_name="Lise Holm")
        jens, _ = create_user(session, "jens", password=PASSWORD, roles=roles, companies=[dk.id],
                              full_name="Jens Berg")
        session.flush()
        made = {"dk": dk.id, "de": de.id}
        for key, currency, other, rate, tax, customer in (
                ("dk", "DKK", "EUR", "8.00", "DK-S25", "Fjord Logistik ApS"),
                ("de", "EUR", "DKK", "0.125", "DE-S19", "Hanse Stahl GmbH")):
            with in_company(made[key]):
                ensure_year(session, today)
                fx.set_rate(session, other, today, rate)
                party = create_party(session, {"kind": "company", "name": customer})
                invoice = invoicing.create_invoice(session, "out_invoice", {
                    "party_id": party.id, "invoice_date": today, "currency": currency,
                    "lines": [{"description": f"Advice {key}", "unit_price": "400.00", "taxes": [tax],
                               "account": "4000"}]})
                invoicing.post_invoice(session, invoice)
                made[f"{key}_invoice"] = invoice.number
                made[f"{key}_invoice_id"] = invoice.id
                create_opportunity(session, party=party, title=f"Deal of {key.upper()}", owner_id=lise.id)
        with in_company(dk.id):
            sale = invoicing.create_invoice(session, "out_invoice", {
                "party_id": de.party_id, "invoice_date": today, "currency": "DKK",
                "lines": [{"description": "Steel frames", "quantity": "4", "unit_price": "250.00",
                           "taxes": ["DK-S0EU"], "account": "4500"}]})
            made["sale_id"] = sale.id
        session.commit()
        return made


def switch_to(page: Page, company: str) -> None:
    page.get_by_label("Company you work in").select_option(label=company)
    page.locator(".company-switcher").get_by_role("button", name="Switch").click()
    expect(page.get_by_label("Company you work in")).to_have_value(
        page.get_by_label("Company you work in").locator("option", has_text=company).get_attribute("value"))


def sees_only(page: Page, invoice: str, other_customer: str, deal: str, other_deal: str) -> None:
    """The invoice list shows ``invoice`` (a number or a customer) and not ``other_customer``; the board
    ``deal``, not ``other_deal``."""
    page.goto("/accounting/invoices")
    expect(page.locator("main table")).to_contain_text(invoice)
    expect(page.locator("main")).not_to_contain_text(other_customer)
    page.goto("/crm/board")
    expect(page.locator(".board-card").filter(has_text=deal)).to_have_count(1)
    expect(page.locator(".board-card").filter(has_text=other_deal)).to_have_count(0)


def test_a_user_of_both_companies_switches_and_sees_each_companys_records_only(page: Page, group):
    sign_in(page, "lise", PASSWORD)
    sees_only(page, group["dk_invoice"], "Hanse Stahl GmbH", "Deal of DK", "Deal of DE")

    switch_to(page, DE)
    expect(page.locator(".board-card").filter(has_text="Deal of DE")).to_have_count(1)  # back on the board
    sees_only(page, "Hanse Stahl GmbH", "Fjord Logistik ApS", "Deal of DE", "Deal of DK")

    # The choice is remembered: a new sign-in opens in the German company.
    page.context.clear_cookies()
    sign_in(page, "lise", PASSWORD)
    expect(page.locator(".company-switcher select")).to_have_value(str(group["de"]))


def test_a_user_of_one_company_never_sees_the_others(page: Page, group):
    sign_in(page, "jens", PASSWORD)
    expect(page.locator(".company-switcher")).to_have_count(0)
    expect(page.locator(".company-name")).to_have_text(DK)
    sees_only(page, group["dk_invoice"], "Hanse Stahl GmbH", "Deal of DK", "Deal of DE")
    response = page.goto(f"/accounting/invoices/{group['de_invoice_id']}")
    assert response.status == 404


def test_an_intercompany_invoice_becomes_a_draft_bill_and_the_consolidated_result_eliminates_it(
        page: Page, group):
    sign_in(page, "lise", PASSWORD)
    if page.locator(".company-switcher select").input_value() != str(group["dk"]):
        switch_to(page, DK)

    # 1. Post the sale to the German company in the Danish one.
    page.goto(f"/accounting/invoices/{group['sale_id']}")
    scripts_ready(page)
    page.get_by_role("button", name="Post", exact=True).click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("invoice-state")).to_have_text("Open")
    number = page.get_by_role("heading", level=1).inner_text().split()[-1]

    # 2. In the German company it is a draft bill of the Danish one, with its number as the reference.
    switch_to(page, DE)
    page.goto("/accounting/bills")
    row = page.locator("main table tbody tr").filter(has_text=DK)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Draft")
    row.get_by_role("link").first.click()
    expect(page.get_by_test_id("invoice-state")).to_have_text("Draft")
    expect(page.locator("main")).to_contain_text(number)

    # 3. Post it; the consolidated P&L of both companies eliminates the sale against the purchase.
    scripts_ready(page)
    page.get_by_role("button", name="Post", exact=True).click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("invoice-state")).to_have_text("Open")
    page.goto("/accounting/reports/consolidated/profit-and-loss")
    scripts_ready(page)
    for company in (DK, DE):
        page.get_by_label(company, exact=False).check()
    page.get_by_label("Group currency").select_option("DKK")
    page.get_by_role("button", name="Show").click()
    table = page.locator("#report table")
    sales = table.locator("tr").filter(has_text="4500")
    purchases = table.locator("tr").filter(has_text="5500")
    # columns: account, DK, DE, eliminations, consolidated; every amount in the group currency
    thousand, less, zero = re.compile(r"^DKK\s?1,000\.00$"), re.compile(r"^-DKK\s?1,000\.00$"), re.compile(r"^DKK\s?0\.00$")
    expect(sales.locator("td")).to_have_text(["4500 Intercompany sales (intercompany)", thousand, zero, less, zero])
    expect(purchases.locator("td")).to_have_text(["5500 Intercompany purchases (intercompany)", zero, thousand,
                                                  less, zero])
    expect(page.locator("#report [role=alert]")).to_have_count(0)

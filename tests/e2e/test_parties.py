"""Parties in the browser: create through the form, search the list and edit in place with htmx."""
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import create_parties, scripts_ready, side_menu


@pytest.fixture
def other_party(live_server) -> str:
    """A party that exists before the test starts (so a search has something to leave out)."""
    create_parties(live_server, {"kind": "company", "name": "Bergen Shipping AS", "city": "Bergen", "country": "NO"})
    return "Bergen Shipping AS"


def party_table(page: Page):
    return page.locator("#party-list table")


def test_create_search_and_edit_a_party(logged_in_page: Page, other_party):
    page = logged_in_page

    # 1. The menu leads to the list, which shows the party that is already there.
    side_menu(page).get_by_role("link", name="Parties", exact=True).click()
    expect(page.get_by_role("heading", name="Parties", level=1)).to_be_visible()
    expect(party_table(page).get_by_role("link", name=other_party)).to_be_visible()

    # 2. Create a company through the form; saving leads to its page.
    page.get_by_role("button", name="New company").click()
    expect(page.get_by_role("heading", name="New party", level=1)).to_be_visible()
    page.get_by_role("textbox", name="Name", exact=True).fill("Nordlys Trading ApS")
    page.get_by_role("textbox", name="Email", exact=True).fill("info@nordlys.example")
    page.get_by_role("textbox", name="City", exact=True).fill("Aarhus")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Nordlys Trading ApS", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/parties/\d+$"))
    expect(page.get_by_role("status")).to_have_text("Nordlys Trading ApS is saved.")
    detail_url = page.url

    # 3. Both parties are in the list.
    side_menu(page).get_by_role("link", name="Parties", exact=True).click()
    expect(party_table(page).get_by_role("link", name="Nordlys Trading ApS")).to_be_visible()
    expect(party_table(page).get_by_role("link", name=other_party)).to_be_visible()
    scripts_ready(page)

    # 4. Searching swaps only the table (htmx): the page's own state survives and the URL follows.
    page.evaluate("window.__marker = 'still here'")
    search = page.get_by_role("searchbox", name="Search")
    search.fill("nordlys")
    expect(page).to_have_url(re.compile(r"[?&]q=nordlys"))
    expect(party_table(page).get_by_role("link", name=other_party)).to_have_count(0)
    expect(party_table(page).get_by_role("link", name="Nordlys Trading ApS")).to_be_visible()
    assert page.evaluate("window.__marker") == "still here"
    # whoever is typing keeps the cursor in the box across the swap
    expect(search).to_be_focused()
    expect(search).to_have_value("nordlys")

    page.get_by_role("searchbox", name="Search").fill("no such party")
    expect(party_table(page).get_by_text("Nothing found.")).to_be_visible()
    assert page.evaluate("window.__marker") == "still here"

    # 5. Open the party and edit it in place: a bad email is refused beside the field.
    page.goto(detail_url)
    page.evaluate("window.__marker = 'detail page'")
    page.get_by_role("button", name="Edit").click()
    email = page.get_by_role("textbox", name=re.compile(r"^Email"))
    expect(email).to_have_value("info@nordlys.example")
    email.fill("not an email")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#e-email")).to_have_text("Enter an email address such as name@example.com.")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_attribute("aria-describedby", "e-email")

    # 6. A valid address saves; the fields come back in place, on the same page.
    email.fill("sales@nordlys.example")
    page.get_by_role("textbox", name=re.compile(r"^City")).fill("Aalborg")
    page.get_by_role("button", name="Save", exact=True).click()
    fields = page.locator("#party-fields")
    expect(fields.get_by_role("link", name="sales@nordlys.example")).to_be_visible()
    expect(fields).to_contain_text("Aalborg")
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    assert page.evaluate("window.__marker") == "detail page"
    assert page.url == detail_url

    # 7. The detail page, loaded afresh, shows the change.
    page.reload()
    expect(page.get_by_role("heading", name="Nordlys Trading ApS", level=1)).to_be_visible()
    expect(page.locator("#party-fields").get_by_role("link", name="sales@nordlys.example")).to_be_visible()
    expect(page.locator("#party-fields")).not_to_contain_text("info@nordlys.example")
    expect(page.locator("#party-fields")).to_contain_text("Aalborg")

"""Picking a language: the shell follows the user's choice."""
import re

from playwright.sync_api import Page, expect


def test_language_picker_on_the_login_page(page: Page):
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # Choosing Deutsch submits the picker at once and the page comes back in German.
    page.locator("form.language-picker select").select_option(label="Deutsch")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("form.language-picker select")).to_have_value("de")


def test_language_from_the_profile_is_kept(logged_in_page: Page):
    page = logged_in_page
    page.goto("/profile")
    page.get_by_label("Language").select_option(label="Deutsch")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#f-locale")).to_have_value("de")

    # The choice belongs to the user: the next page is German too.
    page.goto("/dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "de")

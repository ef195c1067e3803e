"""Picking a language: the shell follows the user's choice."""
import re

from playwright.sync_api import Page, expect


def test_language_picker_on_the_login_page(page: Page):
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Sign in to Kontor")).to_be_visible()

    # Choosing Deutsch submits the picker at once and the page comes back in German.
    page.locator("form.language-picker select").select_option(label="Deutsch")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="Bei Kontor anmelden")).to_be_visible()
    expect(page.get_by_role("button", name="Anmelden")).to_be_visible()
    expect(page.locator("form.language-picker select")).to_have_value("de")


def test_language_from_the_profile_is_kept(logged_in_page: Page):
    page = logged_in_page
    page.goto("/profile")
    page.get_by_label("Language").select_option(label="Deutsch")
    page.get_by_role("button", name="Save", exact=True).click()

    # 1. The profile comes back in German, saying so.
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("status")).to_have_text("Ihr Profil ist gespeichert.")
    expect(page.get_by_role("heading", name="Mein Profil", level=1)).to_be_visible()
    expect(page.get_by_label("Sprache")).to_have_value("de")

    # 2. The choice belongs to the user: the shell stays German on the next page.
    page.goto("/dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Übersicht", level=1)).to_be_visible()
    expect(page.get_by_role("complementary", name="Hauptmenü")).to_be_visible()
    page.locator("header").get_by_text("admin", exact=True).click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()

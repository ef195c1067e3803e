"""Signing in and out through the real login form."""
import re

from playwright.sync_api import Page, expect

from tests.e2e.pages import sign_in


def test_wrong_password_is_shown_beside_the_field_then_sign_in_and_out(page: Page, admin):
    username, password = admin

    # 1. A wrong password keeps us on the form, with the error next to the password field.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_role("textbox", name="User name", exact=True).fill(username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    password_field = page.get_by_label("Password")
    expect(password_field).to_have_attribute("aria-invalid", "true")
    error = page.locator("#e-password")
    expect(error).to_have_text("Wrong user name or password.")
    expect(password_field).to_have_attribute("aria-describedby", "e-password")
    expect(page.get_by_role("textbox", name="User name", exact=True)).to_have_value(username)

    # 2. The right password leads to the dashboard, with the user's menu in the header.
    sign_in(page, username, password)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    user_menu = page.locator("header").get_by_text(username, exact=True)
    expect(user_menu).to_be_visible()

    # 3. Signing out returns to the login form with a message; the dashboard is closed again.
    user_menu.click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="Sign in to Kontor")).to_be_visible()

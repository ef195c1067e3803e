"""The side menu: built from the enabled modules, filtered by what the user may see."""
import re

from playwright.sync_api import Page, expect

from tests.e2e.pages import side_menu, sign_in


def test_admin_menu_items_load_their_pages(logged_in_page: Page):
    page = logged_in_page
    menu = side_menu(page)
    expect(menu).to_be_visible()
    expect(menu.get_by_text("Administration", exact=True)).to_be_visible()

    # 1. Each admin item opens its page, which the menu then marks as the current one.
    items = [
        ("Parties", "Parties", "/parties"),
        ("Users", "Users", "/admin/users"),
        ("Roles", "Roles", "/admin/roles"),
        ("Modules", "Modules", "/admin/modules/"),
    ]
    for label, heading, path in items:
        menu.get_by_role("link", name=label, exact=True).click()
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(menu.get_by_role("link", name=label, exact=True)).to_have_attribute("aria-current", "page")

    # 2. The users page lists the administrator.
    menu.get_by_role("link", name="Users", exact=True).click()
    expect(page.get_by_role("cell", name="admin", exact=True).first).to_be_visible()

    # 3. The brand leads back to the dashboard.
    page.get_by_role("link", name="Kontor").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()


def test_staff_user_does_not_see_admin_items(page: Page, staff_user):
    sign_in(page, *staff_user)

    # 1. The menu offers the everyday work: parties, which open.
    menu = side_menu(page)
    expect(menu.get_by_text("Contacts", exact=True)).to_be_visible()
    menu.get_by_role("link", name="Parties", exact=True).click()
    expect(page.get_by_role("heading", name="Parties", level=1)).to_be_visible()

    # 2. No administration section, and no link to the user admin anywhere on the page.
    expect(page.get_by_text("Administration", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Modules", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Users", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Roles", exact=True)).to_have_count(0)

    # 3. Typing the address does not help: the page is refused.
    response = page.goto("/admin/users")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()

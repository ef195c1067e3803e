"""The modules page: installing and disabling a module changes the menu at once."""
import re

from playwright.sync_api import Page, expect

from tests.e2e.pages import scripts_ready, side_menu

MENU_LABEL = "Greetings"  # the example module's menu item (tests/example_plugin/kontor_hello/menus.py)


def module_row(page: Page, name: str):
    return page.get_by_role("row").filter(has_text=f"({name})")


def confirm_dialog(page: Page):
    return page.locator("dialog#confirm-dialog")


def test_install_open_disable_enable_and_purge_a_module(logged_in_page: Page):
    page = logged_in_page
    menu = side_menu(page)
    expect(menu.get_by_role("link", name=MENU_LABEL)).to_have_count(0)

    # 1. The modules page lists the example module as available.
    menu.get_by_role("link", name="Modules", exact=True).click()
    expect(page.get_by_role("heading", name="Modules", level=1)).to_be_visible()
    row = module_row(page, "hello")
    expect(row).to_contain_text("Available")

    # 2. Install it: the page comes back with the module installed and its item in the menu.
    row.get_by_role("button", name="Install").click()
    expect(page.get_by_role("status")).to_have_text("Installed: hello.")
    expect(module_row(page, "hello")).to_contain_text("Installed")
    expect(menu.get_by_role("link", name=MENU_LABEL)).to_be_visible()

    # 3. Its page works, with the greetings it installed.
    menu.get_by_role("link", name=MENU_LABEL).click()
    expect(page).to_have_url(re.compile(r"/hello/$"))
    expect(page.get_by_role("heading", name="Greetings", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name="Hallo", exact=True)).to_be_visible()

    # 3b. The dashboard shows its widget.
    page.get_by_role("link", name="Kontor").click()
    expect(page.get_by_role("link", name=re.compile(r"^\d+ greetings$"))).to_be_visible()

    # 4. Disable it, confirming in the dialog: the menu item disappears and its page is gone.
    menu.get_by_role("link", name="Modules", exact=True).click()
    module_row(page, "hello").get_by_role("button", name="Disable").click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_contain_text("its data is kept")
    confirm.locator("[data-confirm=ok]").click()
    expect(page.get_by_role("status")).to_have_text("Disabled: hello.")
    expect(module_row(page, "hello")).to_contain_text("Disabled")
    expect(menu.get_by_role("link", name=MENU_LABEL)).to_have_count(0)
    assert page.request.get("/hello/").status == 404
    page.get_by_role("link", name="Kontor").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"greetings$"))).to_have_count(0)
    menu.get_by_role("link", name="Modules", exact=True).click()

    # 5. Purging asks first; cancelling the dialog changes nothing.
    scripts_ready(page)
    module_row(page, "hello").get_by_role("button", name="Purge").click()
    dialog = confirm_dialog(page)
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Purge Hello?")
    dialog.locator("[data-confirm=cancel]").click()
    expect(dialog).to_be_hidden()
    expect(module_row(page, "hello")).to_contain_text("Disabled")

    # 6. Enabling brings the menu item back at once.
    module_row(page, "hello").get_by_role("button", name="Enable").click()
    expect(page.get_by_role("status")).to_have_text("Enabled: hello.")
    expect(menu.get_by_role("link", name=MENU_LABEL)).to_be_visible()

    # 7. Purge, confirmed in the dialog: the module is available again and out of the menu.
    scripts_ready(page)
    module_row(page, "hello").get_by_role("button", name="Purge").click()
    expect(dialog).to_be_visible()
    dialog.locator("#confirm-typed").fill("hello")  # a purge asks for the module's name
    dialog.locator("[data-confirm=ok]").click()
    expect(page.get_by_role("status")).to_contain_text("Purged hello")
    expect(module_row(page, "hello")).to_contain_text("Available")
    expect(menu.get_by_role("link", name=MENU_LABEL)).to_have_count(0)

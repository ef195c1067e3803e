"""The shell's confirm dialog in front of a plain (non-htmx) form marked ``data-confirm``, and its
danger form in front of an irreversible act (a purge), which asks for the name to be typed."""
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import scripts_ready


@pytest.fixture
def spare_role(live_server) -> str:
    """A role nobody holds, that may be deleted."""
    from core.auth.services import create_role
    from core.db import session

    with live_server.app.app_context():
        create_role(session, "auditor", "Auditor")
        session.commit()
    return "auditor"


def test_delete_asks_first_and_cancel_keeps_the_row(logged_in_page: Page, spare_role):
    page = logged_in_page
    page.goto("/admin/roles")
    scripts_ready(page)
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=spare_role, exact=True))
    dialog = page.locator("dialog#confirm-dialog")

    # 1. Cancel: the dialog closes and the role stays.
    row.get_by_role("button", name="Delete").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Delete the role {spare_role}?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(row).to_have_count(1)

    # 2. Confirm: the form is sent and the role is gone.
    row.get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text(f"The role {spare_role} is deleted.")
    expect(row).to_have_count(0)


@pytest.fixture
def hello_installed(live_server) -> str:
    """The example module, installed: a module that may be purged."""
    from core.modules.lifecycle import context_from_app, install

    install(context_from_app(live_server.app), ["hello"])
    return "hello"


def test_a_purge_asks_for_the_module_name_typed(logged_in_page: Page, hello_installed):
    page = logged_in_page
    page.goto("/admin/modules/")
    scripts_ready(page)
    row = page.get_by_role("row").filter(has_text=f"({hello_installed})")
    dialog = page.locator("dialog#confirm-dialog")
    typed = dialog.get_by_role("textbox")
    confirm = dialog.get_by_role("button", name="Confirm")

    # 1. The danger form: red, the name to type shown, Confirm disabled until it is typed right.
    row.get_by_role("button", name="Purge").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_have_class("danger")
    expect(dialog).to_contain_text("Purge Hello?")
    expect(dialog.locator("#confirm-expected")).to_have_text(hello_installed)
    expect(confirm).to_be_disabled()
    typed.fill("hell")
    expect(confirm).to_be_disabled()

    # 2. Cancel: nothing happens, and the next time the box is empty again.
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("Installed")
    row.get_by_role("button", name="Purge").click()
    expect(typed).to_have_value("")
    expect(confirm).to_be_disabled()

    # 3. The right name: the purge runs.
    typed.fill(hello_installed)
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(page.get_by_role("status")).to_contain_text(f"Purged {hello_installed}")
    expect(row).to_contain_text("Available")


def test_a_plain_confirm_is_not_a_danger_one(logged_in_page: Page, spare_role):
    page = logged_in_page
    page.goto("/admin/roles")
    scripts_ready(page)
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=spare_role, exact=True))
    dialog = page.locator("dialog#confirm-dialog")
    row.get_by_role("button", name="Delete").click()
    expect(dialog).to_be_visible()
    expect(dialog).not_to_have_class("danger")
    expect(dialog.get_by_role("textbox")).to_be_hidden()
    expect(dialog.get_by_role("button", name="Confirm")).to_be_enabled()
    dialog.get_by_role("button", name="Cancel").click()

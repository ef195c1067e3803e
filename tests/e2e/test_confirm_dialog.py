"""The shell's confirm dialog in front of a plain (non-htmx) form marked ``data-confirm``."""
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import scripts_ready


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

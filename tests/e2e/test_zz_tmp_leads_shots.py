import io
import pytest
from playwright.sync_api import Page
from tests.e2e.conftest import scripts_ready


@pytest.fixture
def modules():
    return ("crm",)


def test_shots(logged_in_page: Page, live_server, admin, tmp_path):
    from core.db import session
    from plugins.crm.leads.services import create_lead
    with live_server.app.app_context():
        create_lead(session, {"name": "Anna Müller", "company_name": "Hanse Kontor GmbH", "email": "anna@hanse.de"}, user=None)
        session.commit()
    page = logged_in_page
    page.goto("/crm/leads/new")
    scripts_ready(page)
    page.get_by_label("Name").first.fill("A. Müller")
    page.get_by_label("Company").fill("Hanse-Kontor AG")
    page.get_by_label("Email").fill("ANNA@hanse.de")
    page.get_by_role("button", name="Save").click()
    page.wait_for_timeout(1000)
    page.screenshot(path="/tmp/shot_dup.png", full_page=True)
    csv = tmp_path / "leads.csv"
    csv.write_text("Navn;Firma;E-mail\nMette;Fjord ApS;mette@fjord.dk\nLars;Havn A/S;nope\n;Nameless;x@y.dk\nAnna M;Hanse Kontor;anna@hanse.de\n")
    page.goto("/crm/leads/import")
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Next: columns").click()
    page.screenshot(path="/tmp/shot_map.png", full_page=True)
    page.get_by_role("button", name="Next: preview").click()
    page.screenshot(path="/tmp/shot_preview.png", full_page=True)

"""A campaign in the browser: sent to a local SMTP server with the progress bar reaching 100 %,
then unsubscribed through the link in a received message (no login), and the address skipped when
the campaign is sent again."""
import pytest
from playwright.sync_api import Page, expect

from core.mail.testing import smtp_server
from plugins.crm.testing import configure_smtp, people
from tests.e2e.pages import scripts_ready


@pytest.fixture
def modules():
    """The CRM is installed for these flows."""
    return ("crm",)


@pytest.fixture
def inbox(live_server):
    """A local SMTP server the campaign settings point at; what it received."""
    from core.db import session

    with smtp_server() as (received, port):
        with live_server.app.app_context():
            configure_smtp(session, port, batch_size=1)
            session.commit()
        yield received


@pytest.fixture
def campaign_id(live_server) -> int:
    from core.db import session
    from plugins.crm.campaigns import services

    with live_server.app.app_context():
        people(session)
        segment = services.create_segment(session, {"name": "Newsletter", "include_parties": True,
                                                    "tags": "newsletter"})
        found = services.create_campaign(session, {"name": "Spring news", "segment_id": segment.id,
                                                   "subject": "News for {{name}}",
                                                   "body": "Hello {{name}}!\nUnsubscribe: {{unsubscribe_url}}"})
        session.commit()
        return found.id


def send_and_wait(page: Page) -> None:
    """Send the campaign on the page and follow the progress bar to the end."""
    scripts_ready(page)
    page.get_by_role("button", name="Send now").click()
    page.locator("dialog#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.locator("#campaign-progress-bar")).to_be_visible()
    expect(page.locator(".progress-percent")).to_have_text("100 %", timeout=30_000)
    expect(page.locator("#campaign-progress")).to_contain_text("The campaign is sent.")


def test_send_unsubscribe_and_send_again(logged_in_page: Page, new_context, live_server, inbox, campaign_id,
                                        job_worker):
    page = logged_in_page

    # 1. Send: the bar fills batch by batch (one message per batch here) up to 100 %.
    page.goto(f"/crm/campaigns/{campaign_id}")
    send_and_wait(page)
    # the server refused ghost@bounce.example; the three others got the message
    assert sorted(inbox.to()) == sorted(["info@fjord.example", "Mette@Fjord.example", "jens@fjord.example"])
    assert inbox.for_address("jens@fjord.example")["Subject"] == "News for Jens Hansen"
    # when the send ends, the page brings in every recipient's outcome by itself
    expect(page.get_by_role("row").filter(has_text="ghost@bounce.example")).to_contain_text("Failed")
    expect(page.get_by_role("row").filter(has_text="jens@fjord.example")).to_contain_text("Sent")

    # 2. Jens opens the link from his message, signed out, and confirms.
    link = inbox.text_for("jens@fjord.example").split("Unsubscribe: ")[1].split()[0]
    assert link.startswith(live_server.url + "/crm/unsubscribe/")
    stranger = new_context().new_page()
    stranger.goto(link)
    expect(stranger.get_by_text("Stop receiving our campaigns at jens@fjord.example?")).to_be_visible()
    stranger.get_by_role("button", name="Unsubscribe").click()
    expect(stranger.get_by_role("status")).to_contain_text("jens@fjord.example is unsubscribed")

    # 3. The campaign again (a copy): Jens is skipped, the others get it.
    inbox.messages.clear()
    scripts_ready(page)
    page.get_by_role("button", name="Duplicate").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Spring news (copy)")
    send_and_wait(page)
    skipped = page.get_by_role("row").filter(has_text="jens@fjord.example")
    expect(skipped).to_contain_text("Skipped")
    expect(skipped).to_contain_text("Unsubscribed")
    assert "jens@fjord.example" not in inbox.to()
    assert sorted(inbox.to()) == sorted(["info@fjord.example", "Mette@Fjord.example"])

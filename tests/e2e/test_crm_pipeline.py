"""The pipeline in the browser: a lead qualified into an opportunity, dragged to Won on the board;
and the same move without a pointer (stage select + Move, by keyboard)."""
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import scripts_ready, side_menu


@pytest.fixture
def modules():
    """The CRM is installed for these flows."""
    return ("crm",)


@pytest.fixture
def lead_id(live_server, admin) -> int:
    """A lead owned by the administrator, created through the leads service."""
    from sqlalchemy import select

    from core.auth.models import User
    from core.db import session
    from plugins.crm.leads.services import create_lead

    with live_server.app.app_context():
        owner = session.execute(select(User).where(User.username == admin[0])).scalar_one()
        lead = create_lead(session, {"name": "Mette Nielsen", "company_name": "Havnefront Logistik ApS",
                                     "email": "mette@havnefront.example", "source": "website"}, user=owner)
        session.commit()
        return lead.id


def board_column(page: Page, stage: str):
    return page.locator("section.board-column").filter(has=page.get_by_role("heading", name=stage, exact=True))


def test_lead_to_won_by_dragging_on_the_board(logged_in_page: Page, lead_id):
    page = logged_in_page

    # 1. Qualify the lead into a new customer and an opportunity.
    page.goto(f"/crm/leads/{lead_id}")
    page.get_by_role("button", name="Qualify", exact=True).click()
    page.get_by_label("Create a new party from this lead").check()
    page.get_by_role("textbox", name="Title").fill("Fleet tracking for Havnefront")
    page.get_by_role("textbox", name="Expected revenue").fill("240000")
    page.get_by_role("button", name="Qualify", exact=True).click()
    expect(page.get_by_text("is qualified")).to_be_visible()

    # 2. The board shows it in the first stage.
    side_menu(page).get_by_role("link", name="Pipeline", exact=True).click()
    expect(page.get_by_role("heading", name="Pipeline", level=1)).to_be_visible()
    scripts_ready(page)
    page.wait_for_function("() => !!window.Sortable && !!document.querySelector('.board-cards[data-sortable]')")
    card = page.locator(".board-card").filter(has_text="Fleet tracking for Havnefront")
    expect(board_column(page, "New").locator(".board-card")).to_contain_text(["Fleet tracking for Havnefront"])
    expect(board_column(page, "New").locator(".board-count")).to_have_text("1 opportunity")

    # 3. Drag the card into Won with real mouse moves; both columns re-render with new totals.
    target = board_column(page, "Won").locator(".board-cards")
    card_box = card.locator(".board-card-party").bounding_box()
    target_box = target.bounding_box()
    page.mouse.move(card_box["x"] + 10, card_box["y"] + 5)
    page.mouse.down()
    for step in range(1, 16):
        page.mouse.move(card_box["x"] + 10 + (target_box["x"] + 30 - card_box["x"] - 10) * step / 15,
                        card_box["y"] + 5 + (target_box["y"] + 20 - card_box["y"] - 5) * step / 15)
    page.mouse.up()
    expect(page.locator("#board-status")).to_contain_text("moved to Won")
    won = board_column(page, "Won")
    expect(won.locator(".board-card")).to_contain_text(["Fleet tracking for Havnefront"])
    expect(won.locator(".board-count")).to_have_text("1 opportunity")
    expect(won.locator(".board-sum")).to_contain_text("240,000.00")
    expect(board_column(page, "New").locator(".board-count")).to_have_text("0 opportunities")

    # 4. The opportunity is won, with the stage change on its timeline.
    won.get_by_role("link", name="Fleet tracking for Havnefront").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Won")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "won")
    expect(page.locator(".crm-timeline")).to_contain_text("Stage: New → Won")


def test_move_by_keyboard_without_a_pointer(logged_in_page: Page, live_server, admin):
    from sqlalchemy import select

    from core.auth.models import User
    from core.db import session
    from core.parties.services import create_party
    from plugins.crm.pipeline.services import create_opportunity

    with live_server.app.app_context():
        owner = session.execute(select(User).where(User.username == admin[0])).scalar_one()
        customer = create_party(session, {"kind": "company", "name": "Skovbryn Design A/S"})
        create_opportunity(session, party=customer, title="Showroom furniture", owner_id=owner.id,
                           expected_revenue="85000")
        session.commit()
    page = logged_in_page
    page.goto("/crm/board")
    scripts_ready(page)
    stage_select = page.get_by_label("Stage of Showroom furniture")
    stage_select.focus()
    stage_select.select_option(label="Negotiation")
    page.keyboard.press("Tab")  # past the (hidden) lost reason, to the Move button
    move = page.locator(".board-card").filter(has_text="Showroom furniture").get_by_role("button", name="Move")
    expect(move).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#board-status")).to_contain_text("moved to Negotiation")
    expect(board_column(page, "Negotiation").locator(".board-card")).to_contain_text(["Showroom furniture"])

    # a lost stage asks for the reason beside the select
    stage_select = page.get_by_label("Stage of Showroom furniture")
    stage_select.select_option(label="Lost")
    reason = page.locator(".board-card").filter(has_text="Showroom furniture").get_by_placeholder(
        re.compile("Lost reason"))
    expect(reason).to_be_visible()
    reason.fill("Went with a cheaper supplier")
    reason.press("Enter")
    expect(page.locator("#board-status")).to_contain_text("moved to Lost")
    expect(board_column(page, "Lost").locator(".board-card")).to_contain_text(["Showroom furniture"])

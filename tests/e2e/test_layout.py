"""The layout at desktop and phone widths: the menu and lists fit without sideways scrolling."""
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, side_menu

PAGES = [
    ("/dashboard", "Dashboard"),
    ("/parties", "Parties"),
    ("/admin/users", "Users"),
    ("/admin/modules/", "Modules"),
]


@pytest.fixture
def some_parties(live_server):
    """A few parties with long names and addresses, so the list has something to lay out."""
    from core.db import session
    from core.parties.services import create_party

    rows = [
        ("company", "Nordlys Trading ApS", "info@nordlys-trading-and-shipping.example", "Aarhus", "DK"),
        ("company", "Kaufhaus Müller-Lüdenscheidt GmbH & Co. KG", "kontakt@mueller-luedenscheidt.example", "Lüdenscheid", "DE"),
        ("company", "Przedsiębiorstwo Handlowe Wiśniewski sp. z o.o.", "biuro@wisniewski.example", "Kraków", "PL"),
        ("person", "Aino Virtanen", "aino.virtanen@example.fi", "Helsinki", "FI"),
        ("person", "Sven Karlsson", "sven@karlsson.example", "Göteborg", "SE"),
    ]
    with live_server.app.app_context():
        for kind, name, email, city, country in rows:
            create_party(session, {"kind": kind, "name": name, "email": email, "city": city, "country": country,
                                   "phone": "+45 12 34 56 78", "tags": ["customer"]})
        session.commit()
    return [row[1] for row in rows]


def page_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_phone_width_shows_menu_and_lists_without_overflow(logged_in_page: Page, some_parties):
    page = logged_in_page
    page.set_viewport_size(PHONE)
    for path, heading in PAGES:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(side_menu(page)).to_be_visible()
        expect(side_menu(page).get_by_role("link", name="Users", exact=True)).to_be_visible()
        assert page_overflow(page) <= 0, f"{path} scrolls sideways at {PHONE['width']} px"
    page.goto("/parties")
    expect(page.get_by_role("link", name=some_parties[1])).to_be_visible()


def test_screenshots_at_desktop_width(logged_in_page: Page, some_parties, tmp_path):
    page = logged_in_page
    assert page.viewport_size == DESKTOP
    for path, heading in PAGES:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        assert page_overflow(page) <= 0, f"{path} scrolls sideways at {DESKTOP['width']} px"
        shot = tmp_path / f"{path.strip('/').replace('/', '-')}.png"
        page.screenshot(path=shot, full_page=True)
        assert shot.stat().st_size > 0

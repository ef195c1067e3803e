"""The layout at desktop and phone widths: the menu and lists fit without sideways scrolling."""
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import DESKTOP, PHONE, create_parties, side_menu

LONG_NAME = "Kaufhaus Müller-Lüdenscheidt GmbH & Co. KG"
#: (path, its heading, a text in its content that must be shown)
PAGES = [
    ("/dashboard", "Dashboard", "Recent changes"),
    ("/parties", "Parties", LONG_NAME),
    ("/admin/users", "Users", "admin"),
    ("/admin/modules/", "Modules", "Hello"),
]


@pytest.fixture
def some_parties(live_server):
    """A few parties with long names and addresses, so the list has something to lay out."""
    rows = [
        ("company", "Nordlys Trading ApS", "info@nordlys-trading-and-shipping.example", "Aarhus", "DK"),
        ("company", LONG_NAME, "kontakt@mueller-luedenscheidt.example", "Lüdenscheid", "DE"),
        ("company", "Przedsiębiorstwo Handlowe Wiśniewski sp. z o.o.", "biuro@wisniewski.example", "Kraków", "PL"),
        ("person", "Aino Virtanen", "aino.virtanen@example.fi", "Helsinki", "FI"),
        ("person", "Sven Karlsson", "sven@karlsson.example", "Göteborg", "SE"),
    ]
    create_parties(live_server, *(
        {"kind": kind, "name": name, "email": email, "city": city, "country": country, "phone": "+45 12 34 56 78",
         "tags": ["customer"]}
        for kind, name, email, city, country in rows
    ))
    return [row[1] for row in rows]


def page_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def open_page(page: Page, path: str, heading: str, shown: str) -> None:
    page.goto(path)
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(page.locator("main").get_by_text(shown).first).to_be_visible()


def test_phone_width_shows_menu_and_lists_without_overflow(logged_in_page: Page, some_parties):
    page = logged_in_page
    page.set_viewport_size(PHONE)
    for path, heading, shown in PAGES:
        open_page(page, path, heading, shown)
        expect(side_menu(page).get_by_role("link", name="Parties", exact=True)).to_be_visible()
        expect(side_menu(page).get_by_role("link", name="Users", exact=True)).to_be_visible()
        assert page_overflow(page) <= 0, f"{path} scrolls sideways at {PHONE['width']} px"


def test_screenshots_at_desktop_width(logged_in_page: Page, some_parties, tmp_path):
    page = logged_in_page
    assert page.viewport_size == DESKTOP
    for path, heading, shown in PAGES:
        open_page(page, path, heading, shown)
        assert page_overflow(page) <= 0, f"{path} scrolls sideways at {DESKTOP['width']} px"
        shot = tmp_path / f"{path.strip('/').replace('/', '-')}.png"
        page.screenshot(path=shot, full_page=True)
        assert shot.stat().st_size > 0

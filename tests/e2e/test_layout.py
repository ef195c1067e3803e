"""The layout at desktop and phone widths: the menu and lists fit without sideways scrolling."""
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, side_menu

PAGES = [
    ("/dashboard", "Dashboard"),
    ("/admin/users", "Users"),
]


def page_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_phone_width_shows_menu_and_lists_without_overflow(logged_in_page: Page):
    page = logged_in_page
    page.set_viewport_size(PHONE)
    for path, heading in PAGES:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(side_menu(page)).to_be_visible()
        expect(side_menu(page).get_by_role("link", name="Users", exact=True)).to_be_visible()
        assert page_overflow(page) <= 0, f"{path} scrolls sideways at {PHONE['width']} px"


def test_screenshots_at_desktop_width(logged_in_page: Page, tmp_path):
    page = logged_in_page
    assert page.viewport_size == DESKTOP
    for path, heading in PAGES:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        assert page_overflow(page) <= 0, f"{path} scrolls sideways at {DESKTOP['width']} px"
        shot = tmp_path / f"{path.strip('/').replace('/', '-')}.png"
        page.screenshot(path=shot, full_page=True)
        assert shot.stat().st_size > 0
